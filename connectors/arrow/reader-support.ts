/**
 * Shared plumbing of the DuckDB → Arrow column builders: the builder interface, growable
 * buffers, typed views over DuckDB vector memory, and Arrow validity built from DuckDB masks.
 */
import duckdb from '@duckdb/node-bindings';
import type { Data } from 'apache-arrow';

export interface ColumnBuilder {
  /** Rows appended since the last flush. */
  readonly length: number;
  /** Approximate bytes buffered since the last flush (for the batch size target). */
  readonly byteLength: number;
  /** Appends rows [offset, offset + count) of a flat vector holding `size` rows. */
  append(vector: duckdb.Vector, size: number, offset: number, count: number): void;
  /** The Arrow data appended since the last flush; the builder starts over with new buffers. */
  flush(): Data;
}

/** Creates the builder for a DuckDB column whose Arrow type (per the contract) is `arrowType`. */

export function grow<T extends Uint8Array>(buf: T, needed: number): T {
  if (needed <= buf.byteLength) return buf;
  const next = new Uint8Array(Math.max(needed, buf.byteLength * 2, 64)) as T;
  next.set(buf);
  return next;
}

export function growInt32(buf: Int32Array, needed: number): Int32Array {
  if (needed <= buf.length) return buf;
  const next = new Int32Array(Math.max(needed, buf.length * 2, 64));
  next.set(buf);
  return next;
}

/** The vector's data, as bytes, covering its first `size` values of `width` bytes each. */
export function vectorBytes(vector: duckdb.Vector, size: number, width: number): Uint8Array {
  return duckdb.vector_get_data(vector, size * width);
}

/** A typed view of `bytes`; copies first when DuckDB's buffer is not aligned for the view. */
export function alignedView<T>(bytes: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  const w = Ctor.BYTES_PER_ELEMENT;
  const n = Math.floor(bytes.byteLength / w);
  if (bytes.byteOffset % w === 0) return new Ctor(bytes.buffer, bytes.byteOffset, n);
  return new Ctor(bytes.slice().buffer, 0, n);
}

/**
 * Arrow validity for one column. The bitmap is only materialised once a NULL shows up, so
 * columns without NULLs cost nothing here and ship without a bitmap.
 */
export class ValidityBuilder {
  private bits: Uint8Array | null = null;
  nullCount = 0;
  length = 0;

  /** Appends the validity of rows [offset, offset+count); returns DuckDB's mask (null = all valid). */
  append(vector: duckdb.Vector, size: number, offset: number, count: number): Uint8Array | null {
    const mask = duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null;
    if (!mask || mask.byteLength === 0) {
      this.appendValid(count);
      return null;
    }
    let firstNull = -1;
    for (let i = 0; i < count; i++) {
      const s = offset + i;
      if ((mask[s >> 3] & (1 << (s & 7))) === 0) {
        firstNull = i;
        break;
      }
    }
    if (firstNull < 0) {
      this.appendValid(count);
      return null;
    }
    const bits = this.materialise(this.length + count);
    let nulls = 0;
    for (let i = 0; i < count; i++) {
      const s = offset + i;
      const d = this.length + i;
      if ((mask[s >> 3] & (1 << (s & 7))) !== 0) bits[d >> 3] |= 1 << (d & 7);
      else nulls++;
    }
    this.nullCount += nulls;
    this.length += count;
    return mask;
  }

  appendValid(count: number): void {
    if (this.bits) {
      const bits = this.materialise(this.length + count);
      for (let d = this.length, end = this.length + count; d < end; d++) bits[d >> 3] |= 1 << (d & 7);
    }
    this.length += count;
  }

  appendNull(): void {
    this.materialise(this.length + 1);
    this.nullCount++;
    this.length++;
  }

  private materialise(rows: number): Uint8Array {
    const bytes = (rows + 7) >> 3;
    if (!this.bits) {
      this.bits = new Uint8Array(Math.max(bytes, 256));
      // Everything before the first NULL was valid.
      for (let d = 0; d < this.length; d++) this.bits[d >> 3] |= 1 << (d & 7);
    } else {
      this.bits = grow(this.bits, bytes);
    }
    return this.bits;
  }

  /** The bitmap for a flush (undefined when there were no NULLs); resets. */
  take(): { nullBitmap: Uint8Array | undefined; nullCount: number } {
    const out = { nullBitmap: this.nullCount > 0 && this.bits ? this.bits.subarray(0, (this.length + 7) >> 3) : undefined, nullCount: this.nullCount };
    this.bits = null;
    this.nullCount = 0;
    this.length = 0;
    return out;
  }
}

export function isValid(mask: Uint8Array | null, row: number): boolean {
  return mask === null || (mask[row >> 3] & (1 << (row & 7))) !== 0;
}

