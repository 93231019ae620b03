/**
 * Length-prefixed binary frames over one byte stream, for the two-party crypto protocols
 * (PSI, PIR, secure aggregation) that run as a session on a single HTTP/2 stream.
 *
 * Wire format: each frame is a 4-byte big-endian unsigned length followed by that many bytes.
 * Zero-length frames are allowed (protocols use them as "end of phase" markers). A frame larger
 * than the negotiated maximum is a protocol violation, detected from the prefix alone so a peer
 * cannot make us buffer an arbitrarily large message before we refuse it.
 *
 * `FrameChannel` is what a protocol implementation sees: `send` resolves once the transport has
 * accepted the frame (so a fast sender is slowed to the pace of the network and the peer), and
 * `receive` pulls the next frame (so a slow receiver stops reading, which lets HTTP/2 flow control
 * stop the sender). The transport (`Duplex`) is an HTTP/2 stream on both the party endpoint and
 * the remote connector, but nothing here depends on HTTP/2.
 */
import type { Duplex } from 'node:stream';
import { SqlError, SqlState } from '../parser/errors.js';

export const FRAME_HEADER_BYTES = 4;
/** Default ceiling for one frame: large enough for a BFV ciphertext bundle, small enough to buffer. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The prefix is a uint32, so no frame can ever be larger than this. */
const ABSOLUTE_MAX_FRAME_BYTES = 0xffff_ffff;

function frameError(message: string): SqlError {
  return new SqlError(SqlState.protocolViolation, message);
}

/** Prefixes `payload` with its length. Returns the two parts so large payloads are not copied. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): [Uint8Array, Uint8Array] {
  if (payload.byteLength > Math.min(maxFrameBytes, ABSOLUTE_MAX_FRAME_BYTES)) {
    throw frameError(`frame of ${payload.byteLength} bytes exceeds the maximum frame size of ${maxFrameBytes} bytes`);
  }
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, payload.byteLength, false);
  return [header, payload];
}

/** Encodes a frame into one contiguous buffer (convenient for small control messages). */
export function encodeFrameContiguous(payload: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  const [header] = encodeFrame(payload, maxFrameBytes);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  out.set(header, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder: feed it arbitrary chunks, get whole frames out. Keeps a list of pending
 * chunks instead of concatenating on every push, so decoding is linear in the bytes received
 * even when frames arrive one byte at a time. A frame that lies within one chunk is returned as a
 * zero-copy view of that chunk.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Length of the frame being assembled, or -1 while its prefix is incomplete. */
  private expected = -1;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds `chunk` and returns every frame it completed, in order. Throws on an oversized prefix. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const header = this.take(FRAME_HEADER_BYTES);
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
        if (length > this.maxFrameBytes) {
          throw frameError(`peer sent a frame of ${length} bytes, more than the maximum frame size of ${this.maxFrameBytes} bytes`);
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  /** Call at end of input: throws if the stream stopped inside a frame. */
  finish(): void {
    if (this.expected >= 0 || this.buffered > 0) {
      const what = this.expected >= 0
        ? `${this.buffered} of ${this.expected} payload bytes`
        : `${this.buffered} of ${FRAME_HEADER_BYTES} length-prefix bytes`;
      throw frameError(`stream ended inside a frame (received ${what})`);
    }
  }

  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0];
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      const need = n - filled;
      if (head.byteLength <= need) {
        out.set(head, filled);
        filled += head.byteLength;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, need), filled);
        this.chunks[0] = head.subarray(need);
        filled += need;
      }
    }
    this.buffered -= n;
    return out;
  }
}

/**
 * A bidirectional session of binary frames. Protocol state machines (executor/protocols) are
 * I/O-free; the operator on the requester side and a registered protocol handler on the party
 * side each drive one state machine through a FrameChannel.
 */
export interface FrameChannel {
  /** Sends one frame; resolves when the transport accepted it (waits for 'drain' when full). */
  send(frame: Uint8Array): Promise<void>;
  /** The next frame, or `null` once the peer has ended its side cleanly. */
  receive(): Promise<Uint8Array | null>;
  /** Ends our sending side; the peer's `receive()` then returns `null`. */
  end(): Promise<void>;
  /** Tears the session down (both directions), e.g. on abort. Idempotent. */
  destroy(error?: Error): void;
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

export interface FrameChannelOptions {
  maxFrameBytes?: number;
  /**
   * Maps the transport's end/error to what `receive()` reports. The HTTP/2 layers use it to turn
   * a stream that ended with an error trailer into the peer's SqlError.
   */
  onEnd?: () => Error | undefined;
  /** Turns a transport error (reset, socket closed) into the error `receive()`/`send()` reject with. */
  mapError?: (error: Error) => Error;
  /** Called with the bytes of every frame sent (prefix included), for traffic accounting. */
  onSend?: (bytes: number) => void;
}

/** Builds a FrameChannel over a duplex byte stream (an HTTP/2 stream on either side). */
export function createFrameChannel(duplex: Duplex, options: FrameChannelOptions = {}): FrameChannel {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const mapError = options.mapError ?? ((e: Error) => e);
  const decoder = new FrameDecoder(maxFrameBytes);
  const ready: Uint8Array[] = [];
  // destroyOnReturn: false — the default iterator destroys the whole duplex once the peer ends
  // its side, which would cut off everything we still have to send.
  const chunks = duplex.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  let ended = false;
  let failure: Error | undefined;

  // Errors are recorded, not thrown from the listener, so a reset never becomes an uncaught error.
  duplex.on('error', (e: Error) => {
    failure ??= mapError(e);
  });

  const receive = async (): Promise<Uint8Array | null> => {
    for (;;) {
      if (ready.length > 0) return ready.shift()!;
      if (failure) throw failure;
      if (ended) return null;
      let step: IteratorResult<Buffer>;
      try {
        step = await chunks.next();
      } catch (e) {
        failure ??= mapError(e as Error);
        throw failure;
      }
      if (step.done) {
        ended = true;
        try {
          decoder.finish();
        } catch (e) {
          failure = e as Error;
          throw failure;
        }
        const endError = options.onEnd?.();
        if (endError) {
          failure = endError;
          throw failure;
        }
        continue;
      }
      try {
        for (const frame of decoder.push(step.value)) ready.push(frame);
      } catch (e) {
        failure = e as Error;
        duplex.destroy(failure);
        throw failure;
      }
    }
  };

  const send = async (frame: Uint8Array): Promise<void> => {
    if (failure) throw failure;
    if (duplex.destroyed || duplex.writableEnded) {
      throw mapError(new Error('the frame channel is closed'));
    }
    const [header, payload] = encodeFrame(frame, maxFrameBytes);
    options.onSend?.(header.byteLength + payload.byteLength);
    duplex.write(header);
    const more = payload.byteLength === 0 ? true : duplex.write(payload);
    if (!more) await waitForDrain(duplex, mapError);
  };

  return {
    send,
    receive,
    end: () =>
      new Promise<void>((resolve) => {
        if (duplex.writableEnded || duplex.destroyed) return resolve();
        duplex.end(() => resolve());
      }),
    destroy(error?: Error) {
      if (!duplex.destroyed) duplex.destroy(error);
    },
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          const frame = await receive();
          return frame === null ? { done: true, value: undefined } : { done: false, value: frame };
        },
        return: async () => {
          duplex.destroy();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Resolves on 'drain'; rejects if the stream errors or closes first (never hangs on a dead peer). */
export function waitForDrain(stream: Duplex | NodeJS.WritableStream, mapError: (e: Error) => Error = (e) => e): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = stream as Duplex;
    if (s.destroyed) return reject(mapError(new Error('stream closed while waiting to send')));
    const cleanup = () => {
      s.off('drain', onDrain);
      s.off('error', onError);
      s.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (e: Error) => {
      cleanup();
      reject(mapError(e));
    };
    const onClose = () => {
      cleanup();
      reject(mapError(new Error('stream closed while waiting to send')));
    };
    s.on('drain', onDrain);
    s.on('error', onError);
    s.on('close', onClose);
  });
}
