/**
 * Two connected in-memory FrameChannels: what an embedded party and its requester use for
 * protocol sessions, with the same semantics as a channel over HTTP/2 — ordered frames, a
 * bounded number in flight (so a fast sender waits for a slow receiver), `end()` seen by the
 * peer as `null` after the frames before it, and `destroy(error)` failing both sides.
 */
import type { FrameChannel } from './frames.js';

interface Side {
  queue: Uint8Array[];
  ended: boolean;
  /** Receivers waiting for a frame. */
  readers: { resolve: (f: Uint8Array | null) => void; reject: (e: Error) => void }[];
  /** Senders waiting for room in the queue. */
  writers: (() => void)[];
}

export function createFrameChannelPair(maxInFlight = 16): [FrameChannel, FrameChannel] {
  const a: Side = { queue: [], ended: false, readers: [], writers: [] };
  const b: Side = { queue: [], ended: false, readers: [], writers: [] };
  let failure: Error | undefined;

  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    for (const side of [a, b]) {
      for (const r of side.readers.splice(0)) r.reject(error);
      for (const w of side.writers.splice(0)) w();
    }
  };

  // `inbox` is what this end reads; `outbox` is the peer's inbox.
  const channel = (inbox: Side, outbox: Side): FrameChannel => {
    const receive = async (): Promise<Uint8Array | null> => {
      if (failure) throw failure;
      const frame = inbox.queue.shift();
      if (frame) {
        inbox.writers.shift()?.();
        return frame;
      }
      if (inbox.ended) return null;
      return new Promise((resolve, reject) => inbox.readers.push({ resolve, reject }));
    };
    return {
      async send(frame) {
        if (failure) throw failure;
        if (outbox.ended) throw new Error('frame channel: send after end');
        const reader = outbox.readers.shift();
        if (reader) {
          reader.resolve(frame);
          return;
        }
        outbox.queue.push(frame);
        if (outbox.queue.length > maxInFlight) await new Promise<void>((r) => outbox.writers.push(r));
        if (failure) throw failure;
      },
      receive,
      async end() {
        if (outbox.ended) return;
        outbox.ended = true;
        for (const r of outbox.readers.splice(0)) r.resolve(null);
      },
      destroy(error) {
        fail(error ?? new Error('frame channel destroyed'));
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const f = await receive();
          if (f === null) return;
          yield f;
        }
      },
    };
  };
  return [channel(a, b), channel(b, a)];
}
