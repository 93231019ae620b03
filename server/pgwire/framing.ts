/**
 * Inbound framing: turns the byte stream into whole messages, with hard limits so a hostile or
 * broken client cannot make the server buffer unbounded data. Before startup completes messages
 * have no type byte (`int32 length` + payload); after it every message is `byte type` +
 * `int32 length` + payload. `PayloadReader` then reads fields with bounds checks, so a message
 * whose fields overrun its declared length is a protocol violation, not an exception from Buffer.
 */
import { ProtocolViolation } from './errors.js';

/** Postgres' MAX_STARTUP_PACKET_LENGTH. */
export const MAX_STARTUP_PACKET = 10_000;
export const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

export interface Frame {
  /** Message type byte as a one-character string; '' for untyped startup-phase packets. */
  type: string;
  payload: Buffer;
}

/** Frontend message types that the backend understands after startup. */
const KNOWN_TYPES = new Set(['Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'X', 'd', 'c', 'f', 'F', 'p']);
/** Types whose payload is empty; Postgres rejects anything else as an invalid message length. */
const EMPTY_TYPES = new Set(['S', 'H', 'X', 'c']);

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** True until the startup packet (or SSL/GSS/cancel request) has been consumed. */
  startupPhase = true;

  constructor(private readonly maxMessage: number = DEFAULT_MAX_MESSAGE) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Returns the next whole message, or null when more bytes are needed. Throws ProtocolViolation. */
  next(): Frame | null {
    const header = this.startupPhase ? 4 : 5;
    if (this.buffered < header) return null;
    const head = this.peek(header);
    if (this.startupPhase) {
      const len = head.readInt32BE(0);
      if (len < 8 || len > MAX_STARTUP_PACKET) throw new ProtocolViolation('invalid length of startup packet');
      if (this.buffered < len) return null;
      const all = this.consume(len);
      return { type: '', payload: all.subarray(4) };
    }
    const type = String.fromCharCode(head[0]);
    if (!KNOWN_TYPES.has(type)) {
      throw new ProtocolViolation(`invalid frontend message type ${head[0]}`);
    }
    const len = head.readInt32BE(1);
    if (len < 4 || len - 4 > this.maxMessage || (EMPTY_TYPES.has(type) && len !== 4)) {
      throw new ProtocolViolation(`invalid message length ${len} for message type "${type}"`);
    }
    if (this.buffered < len + 1) return null;
    const all = this.consume(len + 1);
    return { type, payload: all.subarray(5) };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return this.coalesce().subarray(0, n);
  }

  private coalesce(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0];
  }

  private consume(n: number): Buffer {
    let first = this.chunks[0];
    if (first.length < n) first = this.coalesce();
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** Bounds-checked field reader over one message payload. */
export class PayloadReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProtocolViolation('insufficient data left in message');
    }
  }

  int8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolViolation('invalid string in message');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /** Postgres rejects messages with trailing bytes ("invalid message format"). */
  end(): void {
    if (this.pos !== this.buf.length) throw new ProtocolViolation('invalid message format');
  }
}
