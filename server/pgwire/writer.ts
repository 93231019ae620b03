/**
 * Outbound side of the backend protocol: one growable buffer per connection into which every
 * backend message is serialised, flushed to the socket in large writes. Batching matters for
 * throughput (a `SELECT 1` answer is five messages) and for backpressure: the connection flushes
 * when the buffer passes a threshold and waits for 'drain' when the socket says it is full.
 */
import type { Notice } from '../../executor/session-types.js';

const INITIAL_CAPACITY = 16 * 1024;

export class MessageWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private pos = 0;
  /** Offset of the current message's length field, or -1 outside a message. */
  private lengthAt = -1;

  get size(): number {
    return this.pos;
  }

  /** Hands back everything written so far and starts over. */
  take(): Buffer {
    // The socket may keep a reference to what it is given, so the buffer cannot simply be
    // reused: small answers (the common case) are copied out, large ones handed over whole.
    if (this.pos <= 4096) {
      const out = Buffer.from(this.buf.subarray(0, this.pos));
      this.pos = 0;
      return out;
    }
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY, Math.min(this.buf.length, 1 << 20)));
    this.pos = 0;
    return out;
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Starts a typed message; its length is patched by `end()`. */
  begin(type: string): this {
    this.ensure(5);
    this.buf[this.pos] = type.charCodeAt(0);
    this.lengthAt = this.pos + 1;
    this.pos += 5;
    return this;
  }

  end(): void {
    this.buf.writeInt32BE(this.pos - this.lengthAt, this.lengthAt);
    this.lengthAt = -1;
  }

  /** A single raw byte outside any message (the 'S'/'N' answer to SSLRequest). */
  rawByte(byte: string): void {
    this.ensure(1);
    this.buf[this.pos++] = byte.charCodeAt(0);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  float32(v: number): this {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.pos);
    this.pos += 4;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A NUL-terminated UTF-8 string. NUL bytes inside would corrupt framing, so they are dropped. */
  cstring(s: string): this {
    const clean = s.includes('\0') ? s.replaceAll('\0', '') : s;
    this.ensure(clean.length * 3 + 1);
    this.pos += this.buf.write(clean, this.pos, 'utf8');
    this.buf[this.pos++] = 0;
    return this;
  }

  /** UTF-8 text prefixed by its int32 byte length (a DataRow field or CopyData payload). */
  lengthPrefixedText(s: string): this {
    this.ensure(4 + s.length * 3);
    const at = this.pos;
    this.pos += 4;
    const n = this.buf.write(s, this.pos, 'utf8');
    this.buf.writeInt32BE(n, at);
    this.pos += n;
    return this;
  }

  /** Reserves an int32 length slot and returns its offset, for fields written piecewise. */
  reserveLength(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  /** Patches the slot from `reserveLength` with the number of bytes written since. */
  patchLength(at: number): void {
    this.buf.writeInt32BE(this.pos - at - 4, at);
  }

  /** Unchecked text append (caller has called `ensure`). */
  text(s: string): this {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  // ---- whole messages -------------------------------------------------------------------

  authenticationOk(): void {
    this.begin('R').int32(0).end();
  }

  authenticationSasl(mechanisms: string[]): void {
    this.begin('R').int32(10);
    for (const m of mechanisms) this.cstring(m);
    this.int8(0).end();
  }

  authenticationSaslContinue(data: string): void {
    this.begin('R').int32(11).bytes(Buffer.from(data, 'utf8')).end();
  }

  authenticationSaslFinal(data: string): void {
    this.begin('R').int32(12).bytes(Buffer.from(data, 'utf8')).end();
  }

  parameterStatus(name: string, value: string): void {
    this.begin('S').cstring(name).cstring(value).end();
  }

  backendKeyData(pid: number, secret: number): void {
    this.begin('K').int32(pid).int32(secret).end();
  }

  negotiateProtocolVersion(newestMinor: number, unsupported: string[]): void {
    this.begin('v').int32(0x30000 | newestMinor).int32(unsupported.length);
    for (const o of unsupported) this.cstring(o);
    this.end();
  }

  readyForQuery(status: 'I' | 'T' | 'E'): void {
    this.begin('Z').int8(status.charCodeAt(0)).end();
  }

  commandComplete(tag: string): void {
    this.begin('C').cstring(tag).end();
  }

  emptyQueryResponse(): void {
    this.begin('I').end();
  }

  parseComplete(): void {
    this.begin('1').end();
  }

  bindComplete(): void {
    this.begin('2').end();
  }

  closeComplete(): void {
    this.begin('3').end();
  }

  noData(): void {
    this.begin('n').end();
  }

  portalSuspended(): void {
    this.begin('s').end();
  }

  parameterDescription(oids: number[]): void {
    this.begin('t').int16(oids.length);
    for (const o of oids) this.uint32(o);
    this.end();
  }

  /** ErrorResponse ('E') or NoticeResponse ('N'): typed fields, each a code byte + cstring. */
  fields(type: 'E' | 'N', fields: [string, string][]): void {
    this.begin(type);
    for (const [code, value] of fields) this.int8(code.charCodeAt(0)).cstring(value);
    this.int8(0).end();
  }

  notice(n: Notice): void {
    const f: [string, string][] = [
      ['S', n.severity],
      ['V', n.severity],
      ['C', n.code],
      ['M', n.message],
    ];
    if (n.detail !== undefined) f.push(['D', n.detail]);
    if (n.hint !== undefined) f.push(['H', n.hint]);
    this.fields('N', f);
  }

  copyOutResponse(columns: number, format: 0 | 1): void {
    this.begin('H').int8(format).int16(columns);
    for (let i = 0; i < columns; i++) this.int16(format);
    this.end();
  }

  copyDone(): void {
    this.begin('c').end();
  }
}
