/**
 * TEST-ONLY DuckDB → Arrow converter for the pgwire test engine. It follows
 * connectors/arrow-contract.ts closely enough to exercise every wire encoder, but it is not the
 * production converter (that one lives in connectors/ and is written separately); it converts
 * through DuckDB's JS values cell by cell, which is simple rather than fast.
 */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  RecordBatch,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { DuckDBDataChunk, DuckDBType } from '@duckdb/node-api';
import { DuckDBTypeId } from '@duckdb/node-api';

export const DUCKDB_TYPE_KEY = 'veilsql.type';

/** The type string the engine reports (aliases such as JSON win over the physical type). */
export function duckdbTypeString(t: DuckDBType): string {
  return t.alias ?? t.toString();
}

function validity(values: unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  });
  return { bitmap, nullCount };
}

type Obj = Record<string, unknown>;

function arrowType(t: DuckDBType): DataType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.TINYINT:
      return new Int8();
    case DuckDBTypeId.SMALLINT:
      return new Int16();
    case DuckDBTypeId.INTEGER:
      return new Int32();
    case DuckDBTypeId.BIGINT:
      return new Int64();
    case DuckDBTypeId.UTINYINT:
      return new Uint8();
    case DuckDBTypeId.USMALLINT:
      return new Uint16();
    case DuckDBTypeId.UINTEGER:
      return new Uint32();
    case DuckDBTypeId.UBIGINT:
      return new Uint64();
    case DuckDBTypeId.FLOAT:
      return new Float32();
    case DuckDBTypeId.DOUBLE:
      return new Float64();
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return new Decimal(d.scale, d.width, 128);
    }
    case DuckDBTypeId.BLOB:
      return new Binary();
    case DuckDBTypeId.DATE:
      return new DateDay();
    case DuckDBTypeId.TIME:
      return new TimeMicrosecond();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return new TimestampMicrosecond();
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new TimestampMicrosecond('UTC');
    case DuckDBTypeId.INTERVAL:
      return new Struct([
        new Field('months', new Int32(), false),
        new Field('days', new Int32(), false),
        new Field('micros', new Int64(), false),
      ]);
    case DuckDBTypeId.LIST: {
      const l = t as unknown as { valueType: DuckDBType };
      return new List(new Field('item', arrowType(l.valueType), true));
    }
    case DuckDBTypeId.STRUCT: {
      const s = t as unknown as { entryNames: string[]; entryTypes: DuckDBType[] };
      return new Struct(s.entryNames.map((n, i) => new Field(n, arrowType(s.entryTypes[i]), true)));
    }
    default:
      // VARCHAR, ENUM, UUID, JSON, HUGEINT (decimal text) and everything else: Utf8.
      return new Utf8();
  }
}

function timestampMicros(v: Obj): bigint {
  if ('micros' in v) return v['micros'] as bigint;
  if ('seconds' in v) return (v['seconds'] as bigint) * 1_000_000n;
  if ('millis' in v) return (v['millis'] as bigint) * 1000n;
  const nanos = v['nanos'] as bigint;
  return nanos >= 0n ? nanos / 1000n : -((-nanos + 999n) / 1000n);
}

function buildData(t: DuckDBType, type: DataType, values: unknown[]): Data {
  const n = values.length;
  const { bitmap, nullCount } = validity(values);
  const base = { type, length: n, nullCount, nullBitmap: bitmap } as const;
  const map = <T>(f: (v: never) => T, fill: T): T[] => values.map((v) => (v === null || v === undefined ? fill : f(v as never)));
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN: {
      const bits = new Uint8Array(Math.ceil(n / 8));
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3] |= 1 << (i & 7);
      });
      return makeData({ ...base, type: type as Bool, data: bits });
    }
    case DuckDBTypeId.TINYINT:
      return makeData({ ...base, type: type as Int8, data: Int8Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.SMALLINT:
      return makeData({ ...base, type: type as Int16, data: Int16Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.INTEGER:
      return makeData({ ...base, type: type as Int32, data: Int32Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.BIGINT:
      return makeData({ ...base, type: type as Int64, data: BigInt64Array.from(map((v: bigint) => v, 0n)) });
    case DuckDBTypeId.UTINYINT:
      return makeData({ ...base, type: type as Uint8, data: Uint8Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.USMALLINT:
      return makeData({ ...base, type: type as Uint16, data: Uint16Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.UINTEGER:
      return makeData({ ...base, type: type as Uint32, data: Uint32Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.UBIGINT:
      return makeData({ ...base, type: type as Uint64, data: BigUint64Array.from(map((v: bigint) => v, 0n)) });
    case DuckDBTypeId.FLOAT:
      return makeData({ ...base, type: type as Float32, data: Float32Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.DOUBLE:
      return makeData({ ...base, type: type as Float64, data: Float64Array.from(map((v: number) => v, 0)) });
    case DuckDBTypeId.DECIMAL: {
      const words = new Uint32Array(n * 4);
      values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        let x = BigInt.asUintN(128, (v as Obj)['value'] as bigint);
        for (let k = 0; k < 4; k++) {
          words[i * 4 + k] = Number(x & 0xffffffffn);
          x >>= 32n;
        }
      });
      return makeData({ ...base, type: type as Decimal, data: words });
    }
    case DuckDBTypeId.DATE:
      return makeData({ ...base, type: type as DateDay, data: Int32Array.from(map((v: Obj) => v['days'] as number, 0)) });
    case DuckDBTypeId.TIME:
      return makeData({ ...base, type: type as TimeMicrosecond, data: BigInt64Array.from(map((v: Obj) => v['micros'] as bigint, 0n)) });
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return makeData({ ...base, type: type as TimestampMicrosecond, data: BigInt64Array.from(map((v: Obj) => timestampMicros(v), 0n)) });
    case DuckDBTypeId.INTERVAL: {
      const st = type as Struct;
      const months = makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(map((v: Obj) => v['months'] as number, 0)) });
      const days = makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(map((v: Obj) => v['days'] as number, 0)) });
      const micros = makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(map((v: Obj) => v['micros'] as bigint, 0n)) });
      return makeData({ ...base, type: st, children: [months, days, micros] });
    }
    case DuckDBTypeId.BLOB: {
      const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array(0) : ((v as Obj)['bytes'] as Uint8Array)));
      return variable(base, type as Binary, parts);
    }
    case DuckDBTypeId.LIST: {
      const l = t as unknown as { valueType: DuckDBType };
      const offsets = new Int32Array(n + 1);
      const flat: unknown[] = [];
      values.forEach((v, i) => {
        if (v !== null && v !== undefined) flat.push(...((v as Obj)['items'] as unknown[]));
        offsets[i + 1] = flat.length;
      });
      const lt = type as List;
      const child = buildData(l.valueType, lt.children[0].type, flat);
      return makeData({ ...base, type: lt, valueOffsets: offsets, child });
    }
    case DuckDBTypeId.STRUCT: {
      const s = t as unknown as { entryNames: string[]; entryTypes: DuckDBType[] };
      const st = type as Struct;
      const children = s.entryNames.map((name, k) =>
        buildData(
          s.entryTypes[k],
          st.children[k].type,
          values.map((v) => (v === null || v === undefined ? null : ((v as Obj)['entries'] as Obj)[name])),
        ),
      );
      return makeData({ ...base, type: st, children });
    }
    default: {
      const enc = new TextEncoder();
      const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array(0) : enc.encode(typeof v === 'string' ? v : String(v))));
      return variable(base, type as Utf8, parts);
    }
  }
}

function variable<T extends Utf8 | Binary>(
  base: { length: number; nullCount: number; nullBitmap: Uint8Array },
  type: T,
  parts: Uint8Array[],
): Data<T> {
  const offsets = new Int32Array(parts.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    total += p.length;
    offsets[i + 1] = total;
  });
  const bytes = new Uint8Array(total);
  parts.forEach((p, i) => bytes.set(p, offsets[i]));
  return makeData({ ...base, type, valueOffsets: offsets, data: bytes } as never) as unknown as Data<T>;
}

/** Builds the Arrow schema for a DuckDB result, each field tagged with its DuckDB type. */
export function arrowSchema(names: string[], types: DuckDBType[]): Schema {
  return new Schema(
    names.map((name, i) => new Field(name, arrowType(types[i]), true, new Map([[DUCKDB_TYPE_KEY, duckdbTypeString(types[i])]]))),
  );
}

/** Converts one DuckDB data chunk into an Arrow record batch with `schema`. */
export function chunkToBatch(schema: Schema, types: DuckDBType[], chunk: DuckDBDataChunk): RecordBatch {
  const n = chunk.rowCount;
  const children = types.map((t, c) => buildData(t, schema.fields[c].type, chunk.getColumnValues(c) as unknown[]));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}
