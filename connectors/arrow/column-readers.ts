/**
 * Column builders that copy DuckDB vectors into Arrow buffers. They work on the raw vector
 * memory of `@duckdb/node-bindings` (the C API), one data chunk (≤ 2048 rows) at a time:
 * fixed-width values are copied as bytes, validity as bits, strings by copying their bytes
 * (never decoding them to JS strings). Only the rare types that become text (HUGEINT, the text
 * fallback) allocate per value.
 *
 * Every builder hands out freshly allocated buffers on `flush()` and never touches them again,
 * because the Arrow batch it produced may still be queued in a socket when the next batch is
 * being built.
 *
 * DuckDB's C API gives flat vectors for result chunks; list entries may point anywhere in the
 * child vector, so lists copy the child ranges their entries name (coalescing contiguous runs).
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { makeData, type Data, type DataType, type Struct } from 'apache-arrow';
import { decimalStorageWidth, fixedWidth, valueKind } from './duckdb-types.js';
import { alignedView, grow, growInt32, isValid, ValidityBuilder, vectorBytes, type ColumnBuilder } from './reader-support.js';
import { BytesBuilder, enumWriter, StringBuilder, textFallbackWriter, writeHugeint, writeUHugeint, writeUuid } from './text-readers.js';

export type { ColumnBuilder } from './reader-support.js';

export function createColumnBuilder(type: DuckDBType, arrowType: DataType, initialRows: number): ColumnBuilder {
  switch (valueKind(type)) {
    case 'fixed':
      return new FixedBuilder(arrowType, fixedWidth(type.typeId), initialRows);
    case 'bool':
      return new BoolBuilder(arrowType, initialRows);
    case 'decimal':
      if (type.typeId !== DuckDBTypeId.DECIMAL) break;
      return new DecimalBuilder(arrowType, decimalStorageWidth(type.width), initialRows);
    case 'timestamp_scaled':
      return new ScaledTimestampBuilder(arrowType, type.typeId, initialRows);
    case 'string':
      return new StringBuilder(arrowType, initialRows);
    case 'uuid':
      return new BytesBuilder(arrowType, initialRows, writeUuid);
    case 'hugeint':
      return new BytesBuilder(arrowType, initialRows, type.typeId === DuckDBTypeId.UHUGEINT ? writeUHugeint : writeHugeint);
    case 'enum':
      if (type.typeId !== DuckDBTypeId.ENUM) break;
      return new BytesBuilder(arrowType, initialRows, enumWriter(type.values, type.internalTypeId));
    case 'interval':
      return new IntervalBuilder(arrowType as Struct, initialRows);
    case 'list':
      if (type.typeId !== DuckDBTypeId.LIST) break;
      return new ListBuilder(arrowType, createColumnBuilder(type.valueType, arrowType.children[0].type, initialRows), initialRows);
    case 'struct':
      if (type.typeId !== DuckDBTypeId.STRUCT) break;
      return new StructBuilder(
        arrowType,
        type.entryTypes.map((t, i) => createColumnBuilder(t, arrowType.children[i].type, initialRows)),
        initialRows,
      );
    case 'text_fallback':
      return new BytesBuilder(arrowType, initialRows, textFallbackWriter(type));
  }
  throw new Error(`no Arrow builder for DuckDB type ${type.toString()}`);
}

// ---------------------------------------------------------------------------------------------
// fixed width: same bytes in DuckDB and Arrow

class FixedBuilder implements ColumnBuilder {
  private bytes: Uint8Array;
  private readonly validity = new ValidityBuilder();
  length = 0;

  constructor(private readonly type: DataType, private readonly width: number, private readonly initialRows: number) {
    this.bytes = new Uint8Array(0);
  }

  get byteLength(): number {
    return this.length * this.width;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    this.validity.append(vector, size, offset, count);
    const src = vectorBytes(vector, size, this.width);
    const w = this.width;
    if (this.bytes.byteLength < (this.length + count) * w) {
      this.bytes = grow(this.bytes, Math.max((this.length + count) * w, this.initialRows * w));
    }
    this.bytes.set(src.subarray(offset * w, (offset + count) * w), this.length * w);
    this.length += count;
  }

  flush(): Data {
    const Ctor = (this.type as unknown as { ArrayType: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<unknown> }).ArrayType;
    const values = new Ctor(this.bytes.buffer, 0, this.length);
    const data = makeData({ type: this.type as never, length: this.length, data: values as never, ...this.validity.take() });
    this.bytes = new Uint8Array(0);
    this.length = 0;
    return data;
  }
}

class BoolBuilder implements ColumnBuilder {
  private bits = new Uint8Array(0);
  private readonly validity = new ValidityBuilder();
  length = 0;

  constructor(private readonly type: DataType, private readonly initialRows: number) {}

  get byteLength(): number {
    return this.length >> 3;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    this.validity.append(vector, size, offset, count);
    const src = vectorBytes(vector, size, 1);
    this.bits = grow(this.bits, Math.max((this.length + count + 7) >> 3, this.initialRows >> 3));
    const bits = this.bits;
    for (let i = 0; i < count; i++) {
      if (src[offset + i] !== 0) {
        const d = this.length + i;
        bits[d >> 3] |= 1 << (d & 7);
      }
    }
    this.length += count;
  }

  flush(): Data {
    const data = makeData({ type: this.type as never, length: this.length, data: this.bits.subarray(0, (this.length + 7) >> 3) as never, ...this.validity.take() });
    this.bits = new Uint8Array(0);
    this.length = 0;
    return data;
  }
}

/** DECIMAL(p,s) stored in 2/4/8/16 bytes → Arrow Decimal128 (four little-endian uint32 words). */
class DecimalBuilder implements ColumnBuilder {
  private words = new Uint32Array(0);
  private readonly validity = new ValidityBuilder();
  length = 0;

  constructor(private readonly type: DataType, private readonly width: 2 | 4 | 8 | 16, private readonly initialRows: number) {}

  get byteLength(): number {
    return this.length * 16;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    this.validity.append(vector, size, offset, count);
    const src = vectorBytes(vector, size, this.width);
    if (this.words.length < (this.length + count) * 4) {
      const next = new Uint32Array(Math.max((this.length + count) * 4, this.words.length * 2, this.initialRows * 4));
      next.set(this.words);
      this.words = next;
    }
    const out = this.words;
    const base = this.length * 4;
    if (this.width === 16) {
      new Uint8Array(out.buffer, base * 4, count * 16).set(src.subarray(offset * 16, (offset + count) * 16));
    } else if (this.width === 8) {
      const s = alignedView(src, Int32Array);
      for (let i = 0; i < count; i++) {
        const lo = s[(offset + i) * 2];
        const hi = s[(offset + i) * 2 + 1];
        const sign = hi >> 31;
        const o = base + i * 4;
        out[o] = lo;
        out[o + 1] = hi;
        out[o + 2] = sign;
        out[o + 3] = sign;
      }
    } else {
      const s = this.width === 4 ? alignedView(src, Int32Array) : alignedView(src, Int16Array);
      for (let i = 0; i < count; i++) {
        const v = s[offset + i];
        const sign = v >> 31;
        const o = base + i * 4;
        out[o] = v;
        out[o + 1] = sign;
        out[o + 2] = sign;
        out[o + 3] = sign;
      }
    }
    this.length += count;
  }

  flush(): Data {
    const data = makeData({ type: this.type as never, length: this.length, data: this.words.subarray(0, this.length * 4) as never, ...this.validity.take() });
    this.words = new Uint32Array(0);
    this.length = 0;
    return data;
  }
}

const INT64_MAX = 0x7fff_ffff_ffff_ffffn;

/** TIMESTAMP_S/_MS/_NS → µs. ±infinity (±INT64_MAX) stays infinity instead of overflowing. */
class ScaledTimestampBuilder implements ColumnBuilder {
  private values = new BigInt64Array(0);
  private readonly validity = new ValidityBuilder();
  length = 0;
  private readonly mul: bigint;
  private readonly div: bigint;

  constructor(private readonly type: DataType, typeId: DuckDBTypeId, private readonly initialRows: number) {
    this.mul = typeId === DuckDBTypeId.TIMESTAMP_S ? 1_000_000n : typeId === DuckDBTypeId.TIMESTAMP_MS ? 1000n : 1n;
    this.div = typeId === DuckDBTypeId.TIMESTAMP_NS ? 1000n : 1n;
  }

  get byteLength(): number {
    return this.length * 8;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    const mask = this.validity.append(vector, size, offset, count);
    const src = alignedView(vectorBytes(vector, size, 8), BigInt64Array);
    if (this.values.length < this.length + count) {
      const next = new BigInt64Array(Math.max(this.length + count, this.values.length * 2, this.initialRows));
      next.set(this.values);
      this.values = next;
    }
    for (let i = 0; i < count; i++) {
      if (!isValid(mask, offset + i)) continue;
      const v = src[offset + i];
      let us: bigint;
      if (v === INT64_MAX || v === -INT64_MAX) us = v;
      else if (this.div !== 1n) us = v >= 0n ? v / this.div : -((-v + this.div - 1n) / this.div);
      else us = v * this.mul;
      this.values[this.length + i] = us;
    }
    this.length += count;
  }

  flush(): Data {
    const data = makeData({ type: this.type as never, length: this.length, data: this.values.subarray(0, this.length) as never, ...this.validity.take() });
    this.values = new BigInt64Array(0);
    this.length = 0;
    return data;
  }
}

/** INTERVAL {int32 months, int32 days, int64 micros} → Struct<months, days, micros>. */
class IntervalBuilder implements ColumnBuilder {
  private months: Int32Array = new Int32Array(0);
  private days: Int32Array = new Int32Array(0);
  private micros: Int32Array = new Int32Array(0); // int64 as (lo, hi) pairs: no BigInt per value
  private readonly validity = new ValidityBuilder();
  length = 0;

  constructor(private readonly type: Struct, private readonly initialRows: number) {}

  get byteLength(): number {
    return this.length * 16;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    this.validity.append(vector, size, offset, count);
    const src = alignedView(vectorBytes(vector, size, 16), Int32Array);
    const n = Math.max(this.length + count, this.initialRows);
    this.months = growInt32(this.months, n);
    this.days = growInt32(this.days, n);
    this.micros = growInt32(this.micros, n * 2);
    for (let i = 0; i < count; i++) {
      const s = (offset + i) * 4;
      const d = this.length + i;
      this.months[d] = src[s];
      this.days[d] = src[s + 1];
      this.micros[d * 2] = src[s + 2];
      this.micros[d * 2 + 1] = src[s + 3];
    }
    this.length += count;
  }

  flush(): Data {
    const [mf, df, uf] = this.type.children;
    const length = this.length;
    const children = [
      makeData({ type: mf.type as never, length, data: this.months.subarray(0, length) as never }),
      makeData({ type: df.type as never, length, data: this.days.subarray(0, length) as never }),
      makeData({ type: uf.type as never, length, data: new BigInt64Array(this.micros.buffer, 0, length) as never }),
    ];
    const data = makeData({ type: this.type, length, children, ...this.validity.take() });
    this.months = new Int32Array(0);
    this.days = new Int32Array(0);
    this.micros = new Int32Array(0);
    this.length = 0;
    return data;
  }
}

// ---------------------------------------------------------------------------------------------
// nested

class ListBuilder implements ColumnBuilder {
  private offsets: Int32Array = new Int32Array(0);
  private readonly validity = new ValidityBuilder();
  length = 0;
  private childLength = 0;

  constructor(private readonly type: DataType, private readonly child: ColumnBuilder, private readonly initialRows: number) {}

  get byteLength(): number {
    return this.length * 4 + this.child.byteLength;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    const mask = this.validity.append(vector, size, offset, count);
    const entries = alignedView(vectorBytes(vector, size, 16), Uint32Array);
    const childVector = duckdb.list_vector_get_child(vector);
    const childSize = duckdb.list_vector_get_size(vector);
    if (this.offsets.length === 0) this.offsets = new Int32Array(Math.max(this.initialRows, count) + 1);
    this.offsets = growInt32(this.offsets, this.length + count + 1);
    const offsets = this.offsets;
    // Coalesce contiguous entries into one child copy (the common layout is fully contiguous).
    let runStart = 0;
    let runEnd = 0;
    for (let i = 0; i < count; i++) {
      const e = (offset + i) * 4;
      if (isValid(mask, offset + i)) {
        const start = entries[e] + entries[e + 1] * 0x1_0000_0000;
        const len = entries[e + 2] + entries[e + 3] * 0x1_0000_0000;
        if (len > 0) {
          if (start !== runEnd || runEnd === runStart) {
            if (runEnd > runStart) this.child.append(childVector, childSize, runStart, runEnd - runStart);
            runStart = start;
            runEnd = start;
          }
          runEnd += len;
          this.childLength += len;
        }
      }
      offsets[this.length + i + 1] = this.childLength;
    }
    if (runEnd > runStart) this.child.append(childVector, childSize, runStart, runEnd - runStart);
    this.length += count;
  }

  flush(): Data {
    const length = this.length;
    const valueOffsets = length === 0 ? new Int32Array(1) : this.offsets.subarray(0, length + 1);
    const data = makeData({ type: this.type as never, length, valueOffsets, child: this.child.flush(), ...this.validity.take() });
    this.offsets = new Int32Array(0);
    this.length = 0;
    this.childLength = 0;
    return data;
  }
}

class StructBuilder implements ColumnBuilder {
  private readonly validity = new ValidityBuilder();
  length = 0;

  constructor(private readonly type: DataType, private readonly children: ColumnBuilder[], _initialRows: number) {}

  get byteLength(): number {
    let n = 0;
    for (const c of this.children) n += c.byteLength;
    return n;
  }

  append(vector: duckdb.Vector, size: number, offset: number, count: number): void {
    this.validity.append(vector, size, offset, count);
    for (let j = 0; j < this.children.length; j++) {
      this.children[j].append(duckdb.struct_vector_get_child(vector, j), size, offset, count);
    }
    this.length += count;
  }

  flush(): Data {
    const data = makeData({ type: this.type as never, length: this.length, children: this.children.map((c) => c.flush()), ...this.validity.take() });
    this.length = 0;
    return data;
  }
}

