/**
 * DuckDB → Arrow builders for variable-width output (Utf8 / Binary): VARCHAR, BLOB and JSON
 * copied byte-for-byte from DuckDB's string heaps, and the types the contract sends as text
 * (UUID, HUGEINT/UHUGEINT, ENUM, and the VARCHAR-cast fallback), written straight into the Arrow
 * value buffer.
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBTypeId, DuckDBVector, type DuckDBType } from '@duckdb/node-api';
import { makeData, type Data, type DataType } from 'apache-arrow';
import { alignedView, grow, growInt32, isValid, ValidityBuilder, vectorBytes, type ColumnBuilder } from './reader-support.js';

/**
 * Appends the text/bytes of row `row` at `ctx.pos` (growing `ctx.out` through `ensure`) and
 * advances `ctx.pos`. Only called for valid rows. `width` is the byte width of the vector's
 * values that `ctx.data` must cover (0: the writer reads the vector another way).
 */
export interface ValueWriter {
  width: number;
  write(ctx: BytesContext, row: number): void;
}

export interface BytesContext {
  /** The vector's data for this append (`size * width` bytes). */
  data: Uint8Array;
  vector: duckdb.Vector;
  size: number;
  out: Uint8Array;
  pos: number;
  ensure(extra: number): void;
}

export class BytesBuilder implements ColumnBuilder {
  private offsets: Int32Array = new Int32Array(0);
  private readonly validity = new ValidityBuilder();
  length = 0;
  private readonly ctx: BytesContext;

  constructor(private readonly type: DataType, private readonly initialRows: number, private readonly writer: ValueWriter) {
    const ctx: BytesContext = {
      data: new Uint8Array(0),
      vector: undefined as unknown as duckdb.Vector,
      size: 0,
      out: new Uint8Array(0),
      pos: 0,
      ensure(extra: number) {
        if (ctx.pos + extra > ctx.out.byteLength) ctx.out = grow(ctx.out, ctx.pos + extra);
      },
    };
    this.ctx = ctx;
  }

  get byteLength(): number {
    return this.ctx.pos + this.length * 4;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    const mask = this.validity.append(vector, size, offset, count);
    const ctx = this.ctx;
    ctx.vector = vector;
    ctx.size = size;
    if (this.writer.width > 0) ctx.data = vectorBytes(vector, size, this.writer.width);
    if (this.offsets.length === 0) {
      this.offsets = new Int32Array(Math.max(this.initialRows, count) + 1);
      ctx.out = new Uint8Array(Math.max(this.initialRows * 8, 1024));
    }
    this.offsets = growInt32(this.offsets, this.length + count + 1);
    const offsets = this.offsets;
    for (let i = 0; i < count; i++) {
      const row = offset + i;
      if (isValid(mask, row)) this.writer.write(ctx, row);
      offsets[this.length + i + 1] = ctx.pos;
    }
    this.length += count;
  }

  flush(): Data {
    const length = this.length;
    const valueOffsets = length === 0 ? new Int32Array(1) : this.offsets.subarray(0, length + 1);
    const data = makeData({ type: this.type as never, length, valueOffsets, data: this.ctx.out.subarray(0, this.ctx.pos) as never, ...this.validity.take() });
    this.offsets = new Int32Array(0);
    this.ctx.out = new Uint8Array(0);
    this.ctx.pos = 0;
    this.length = 0;
    return data;
  }
}

const HEX = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** UUIDs are stored as a hugeint with the top bit flipped; canonical text is big-endian hex 8-4-4-4-12. */
export const writeUuid: ValueWriter = { width: 16, write(ctx, row) {
  ctx.ensure(36);
  const data = ctx.data;
  const out = ctx.out;
  let pos = ctx.pos;
  const base = row * 16;
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) out[pos++] = 45; // '-'
    // Big-endian byte k of the 128-bit value lives at little-endian offset 15 - k.
    let b = data[base + 15 - k];
    if (k === 0) b ^= 0x80;
    out[pos++] = HEX[b >> 4];
    out[pos++] = HEX[b & 15];
  }
  ctx.pos = pos;
} };

function writeAscii(ctx: BytesContext, text: string): void {
  ctx.ensure(text.length);
  const out = ctx.out;
  let pos = ctx.pos;
  for (let k = 0; k < text.length; k++) out[pos++] = text.charCodeAt(k);
  ctx.pos = pos;
}

function hugeintAt(data: Uint8Array, row: number, signed: boolean): bigint {
  const view = new DataView(data.buffer, data.byteOffset + row * 16, 16);
  const lower = view.getBigUint64(0, true);
  const upper = signed ? view.getBigInt64(8, true) : view.getBigUint64(8, true);
  return (upper << 64n) | lower;
}

export const writeHugeint: ValueWriter = { width: 16, write: (ctx, row) => writeAscii(ctx, hugeintAt(ctx.data, row, true).toString()) };
export const writeUHugeint: ValueWriter = { width: 16, write: (ctx, row) => writeAscii(ctx, hugeintAt(ctx.data, row, false).toString()) };

/** ENUM: dictionary index (u8/u16/u32 by dictionary size) → the member's UTF-8, encoded once. */
export function enumWriter(values: readonly string[], internalTypeId: DuckDBTypeId): ValueWriter {
  const encoder = new TextEncoder();
  const dictionary = values.map((v) => encoder.encode(v));
  const width = internalTypeId === DuckDBTypeId.UTINYINT ? 1 : internalTypeId === DuckDBTypeId.USMALLINT ? 2 : 4;
  return {
    width,
    write(ctx, row) {
      const d = ctx.data;
      const at = row * width;
      const index = width === 1 ? d[at] : width === 2 ? d[at] | (d[at + 1] << 8) : (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16)) + d[at + 3] * 0x100_0000;
      const bytes = dictionary[index];
      ctx.ensure(bytes.byteLength);
      ctx.out.set(bytes, ctx.pos);
      ctx.pos += bytes.byteLength;
    },
  };
}

/**
 * Types without their own Arrow mapping travel as text. `queryToArrow` casts them to VARCHAR in
 * DuckDB first (exactly DuckDB's cast); this path only runs for results that were not produced
 * that way, and uses node-api's formatting of the value.
 */
export function textFallbackWriter(type: DuckDBType): ValueWriter {
  const encoder = new TextEncoder();
  let cachedVector: duckdb.Vector | undefined;
  let cached: DuckDBVector | undefined;
  const write = (ctx: BytesContext, row: number) => {
    if (cachedVector !== ctx.vector || !cached || cached.itemCount !== ctx.size) {
      cached = DuckDBVector.create(ctx.vector, ctx.size, type);
      cachedVector = ctx.vector;
    }
    const item = cached.getItem(row);
    const bytes = encoder.encode(item === null ? '' : String(item));
    ctx.ensure(bytes.byteLength);
    ctx.out.set(bytes, ctx.pos);
    ctx.pos += bytes.byteLength;
  };
  return { width: 0, write };
}

/**
 * VARCHAR / BLOB / JSON. DuckDB's string_t is 16 bytes: u32 length, then ≤ 12 bytes inline, or a
 * 4-byte prefix and a pointer into a string heap. Fetching each heap string through the binding
 * costs ~1.5 µs per call, but DuckDB's heaps hold consecutive strings back to back, so we fetch
 * each run of adjacent strings with one call and slice it (a run never spans memory that is not
 * string bytes, so nothing outside DuckDB's strings is read).
 */
export class StringBuilder implements ColumnBuilder {
  private offsets: Int32Array = new Int32Array(0);
  private out = new Uint8Array(0);
  private pos = 0;
  private readonly validity = new ValidityBuilder();
  length = 0;
  // Pending run: the string_t slot holding its first pointer, its byte length, and where each
  // piece goes in `out` (pairs of outPos, len).
  private runSlot = -1;
  private runBytes = 0;
  private runNext = 0;
  private readonly pieces: number[] = [];

  constructor(private readonly type: DataType, private readonly initialRows: number) {}

  get byteLength(): number {
    return this.pos + this.length * 4;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    const mask = this.validity.append(vector, size, offset, count);
    const data = vectorBytes(vector, size, 16);
    const words = alignedView(data, Uint32Array);
    if (this.offsets.length === 0) this.offsets = new Int32Array(Math.max(this.initialRows, count) + 1);
    this.offsets = growInt32(this.offsets, this.length + count + 1);
    // Reserve the exact bytes first so `out` is never reallocated while pieces are pending.
    let needed = 0;
    for (let i = 0; i < count; i++) if (isValid(mask, offset + i)) needed += words[(offset + i) * 4];
    if (this.pos + needed > this.out.byteLength) {
      this.out = grow(this.out, Math.max(this.pos + needed, this.initialRows * 16));
    }
    const out = this.out;
    const offsets = this.offsets;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      const row = offset + i;
      if (isValid(mask, row)) {
        const w = row * 4;
        const n = words[w];
        if (n <= 12) {
          const at = row * 16 + 4;
          for (let k = 0; k < n; k++) out[pos + k] = data[at + k];
        } else {
          const ptr = words[w + 2] + words[w + 3] * 0x1_0000_0000;
          if (this.runSlot < 0 || ptr !== this.runNext) {
            this.fetchRun(data);
            this.runSlot = row;
            this.runNext = ptr;
          }
          this.pieces.push(pos, n);
          this.runBytes += n;
          this.runNext += n;
        }
        pos += n;
      }
      offsets[this.length + i + 1] = pos;
    }
    this.fetchRun(data);
    this.pos = pos;
    this.length += count;
  }

  private fetchRun(data: Uint8Array): void {
    if (this.runSlot < 0) return;
    const bytes = duckdb.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + this.runSlot * 16 + 8, this.runBytes);
    const pieces = this.pieces;
    if (pieces.length === 2 || pieces[pieces.length - 2] - pieces[0] === this.runBytes - pieces[pieces.length - 1]) {
      // The run is contiguous in the output too (no inline strings in between): one copy.
      this.out.set(bytes, pieces[0]);
    } else {
      let src = 0;
      for (let k = 0; k < pieces.length; k += 2) {
        this.out.set(bytes.subarray(src, src + pieces[k + 1]), pieces[k]);
        src += pieces[k + 1];
      }
    }
    pieces.length = 0;
    this.runSlot = -1;
    this.runBytes = 0;
  }

  flush(): Data {
    const length = this.length;
    const valueOffsets = length === 0 ? new Int32Array(1) : this.offsets.subarray(0, length + 1);
    const data = makeData({ type: this.type as never, length, valueOffsets, data: this.out.subarray(0, this.pos) as never, ...this.validity.take() });
    this.offsets = new Int32Array(0);
    this.out = new Uint8Array(0);
    this.pos = 0;
    this.length = 0;
    return data;
  }
}

