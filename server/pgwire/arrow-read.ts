/**
 * Reads values out of Arrow `Data` exactly as connectors/arrow-contract.ts lays them out,
 * straight from the buffers (no `Vector.get`, which turns timestamps into float milliseconds
 * and decimals into objects). Indexing follows Arrow JS: value buffers are already sliced to the
 * Data's first row, bitmaps (validity, booleans) are indexed from `data.offset`.
 */
import { Type, makeVector, type Data, type DataType, type Field } from 'apache-arrow';
import { decimal128At } from './numeric.js';
import { pgTypeFor, type PgType } from './types.js';

const DUCKDB_TYPE_KEY = 'veilsql.type';

export interface DecimalCell {
  unscaled: bigint;
  scale: number;
}

export interface IntervalCell {
  months: number;
  days: number;
  micros: bigint;
}

/**
 * One value in a form the encoders understand: number (small ints, floats, date days),
 * bigint (int64, µs for time/timestamp), string, Uint8Array (bytes), boolean, decimals,
 * intervals, lists and structs.
 */
export type Cell =
  | number
  | bigint
  | string
  | boolean
  | Uint8Array
  | DecimalCell
  | IntervalCell
  | CellList
  | CellStruct;

export interface CellList {
  list: (Cell | null)[];
  element: PgType;
}

export interface CellStruct {
  fields: [string, Cell | null, PgType][];
}

export type CellReader = (row: number) => Cell | null;

export function isValid(data: Data, row: number): boolean {
  if (data.nullCount === 0) return true;
  const bitmap = data.nullBitmap;
  if (bitmap === undefined || bitmap.length === 0) return true;
  const i = data.offset + row;
  return (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
}

const utf8 = new TextDecoder('utf-8');

/** Scale factor from an Arrow TimeUnit (0 s, 1 ms, 2 µs, 3 ns) to microseconds. */
function toMicros(unit: number): (v: bigint) => bigint {
  switch (unit) {
    case 0:
      return (v) => v * 1_000_000n;
    case 1:
      return (v) => v * 1000n;
    case 3:
      // Floor, so pre-1970 nanosecond values round toward -infinity like Postgres' truncation.
      return (v) => (v >= 0n ? v / 1000n : -((-v + 999n) / 1000n));
    default:
      return (v) => v;
  }
}

export function cellReader(data: Data, pg: PgType): CellReader {
  const type = data.type as DataType & Record<string, unknown>;
  const v = data.values as ArrayLike<unknown> & { [i: number]: unknown };
  const read = rawReader(data, pg, type, v);
  if (data.nullCount === 0) return read;
  return (row) => (isValid(data, row) ? read(row) : null);
}

function rawReader(data: Data, pg: PgType, type: DataType & Record<string, unknown>, v: { [i: number]: unknown }): CellReader {
  switch (data.typeId) {
    case Type.Null:
      return () => null;
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const off = data.offset;
      return (row) => {
        const i = off + row;
        return (bits[i >> 3] & (1 << (i & 7))) !== 0;
      };
    }
    case Type.Int:
    case Type.Float:
      return (row) => v[row] as number | bigint;
    case Type.Decimal: {
      const words = data.values as Uint32Array;
      const scale = type['scale'] as number;
      const bitWidth = (type['bitWidth'] as number | undefined) ?? 128;
      if (bitWidth === 128) return (row) => ({ unscaled: decimal128At(words, row), scale });
      const stride = bitWidth / 32;
      return (row) => {
        let x = 0n;
        for (let k = stride - 1; k >= 0; k--) x = (x << 32n) | BigInt(words[row * stride + k]);
        return { unscaled: BigInt.asIntN(bitWidth, x), scale };
      };
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = data.values as Uint8Array;
      const offs = data.valueOffsets as Int32Array | BigInt64Array;
      return (row) => utf8.decode(bytes.subarray(Number(offs[row]), Number(offs[row + 1])));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const bytes = data.values as Uint8Array;
      const offs = data.valueOffsets as Int32Array | BigInt64Array;
      return (row) => bytes.subarray(Number(offs[row]), Number(offs[row + 1]));
    }
    case Type.FixedSizeBinary: {
      const bytes = data.values as Uint8Array;
      const width = type['byteWidth'] as number;
      return (row) => bytes.subarray(row * width, (row + 1) * width);
    }
    case Type.Date: {
      if ((type['unit'] as number) === 0) return (row) => v[row] as number;
      // DateMillisecond: int64 ms since epoch, whole days.
      return (row) => Number(BigInt(v[row] as bigint) / 86_400_000n);
    }
    case Type.Time: {
      const scale = toMicros(type['unit'] as number);
      return (row) => scale(BigInt(v[row] as number | bigint));
    }
    case Type.Timestamp: {
      const scale = toMicros(type['unit'] as number);
      return (row) => scale(v[row] as bigint);
    }
    case Type.Struct: {
      const children = data.children;
      const names = (type['children'] as { name: string }[]).map((f) => f.name);
      if (pg.kind === 'interval') {
        const idx = (n: string, fallback: number) => {
          const i = names.indexOf(n);
          return i < 0 ? fallback : i;
        };
        const months = children[idx('months', 0)];
        const days = children[idx('days', 1)];
        const micros = children[idx('micros', 2)];
        const mv = months.values as Int32Array;
        const dv = days.values as Int32Array;
        const uv = micros.values as BigInt64Array;
        return (row) => ({ months: mv[row], days: dv[row], micros: BigInt(uv[row]) });
      }
      const fields = type['children'] as Field[];
      const types = fields.map(pgTypeOfField);
      const readers = children.map((c, i) => cellReader(c, types[i]));
      return (row) => ({ fields: readers.map((r, i) => [names[i], r(row), types[i]] as [string, Cell | null, PgType]) });
    }
    case Type.List:
    case Type.LargeList: {
      const child = data.children[0];
      const offs = data.valueOffsets as Int32Array | BigInt64Array;
      const element = pg.kind === 'array' && pg.element !== undefined ? pg.element : pgTypeOfField((type['children'] as Field[])[0]);
      const readChild = cellReader(child, element);
      return (row) => {
        const begin = Number(offs[row]);
        const end = Number(offs[row + 1]);
        const list: (Cell | null)[] = new Array(end - begin);
        for (let i = begin; i < end; i++) list[i - begin] = readChild(i);
        return { list, element };
      };
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      const size = type['listSize'] as number;
      const element = pg.kind === 'array' && pg.element !== undefined ? pg.element : pgTypeOfField((type['children'] as Field[])[0]);
      const readChild = cellReader(child, element);
      return (row) => {
        const list: (Cell | null)[] = new Array(size);
        for (let i = 0; i < size; i++) list[i] = readChild(row * size + i);
        return { list, element };
      };
    }
    default: {
      // Arrow types outside the contract: Arrow JS's own conversion, shown as text.
      const vec = makeVector(data);
      return (row) => String(vec.get(row));
    }
  }
}

/**
 * The Postgres type of a nested field (struct child, list element). Top-level columns carry
 * their DuckDB type in metadata; nested fields may not, so the Arrow type decides.
 */
export function pgTypeOfField(field: Field): PgType {
  const meta = field.metadata.get(DUCKDB_TYPE_KEY);
  if (meta !== undefined) return pgTypeFor(meta);
  return pgTypeFor(duckdbTypeOfArrow(field.type as DataType & Record<string, unknown>));
}

function duckdbTypeOfArrow(t: DataType & Record<string, unknown>): string {
  switch (t.typeId) {
    case Type.Bool:
      return 'BOOLEAN';
    case Type.Int: {
      const w = t['bitWidth'] as number;
      const signed = t['isSigned'] as boolean;
      if (w === 64) return signed ? 'BIGINT' : 'UBIGINT';
      if (w === 32) return signed ? 'INTEGER' : 'UINTEGER';
      if (w === 16) return signed ? 'SMALLINT' : 'USMALLINT';
      return signed ? 'TINYINT' : 'UTINYINT';
    }
    case Type.Float:
      return (t['precision'] as number) === 2 ? 'DOUBLE' : 'FLOAT';
    case Type.Decimal:
      return `DECIMAL(${t['precision'] as number},${t['scale'] as number})`;
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return 'BLOB';
    case Type.Date:
      return 'DATE';
    case Type.Time:
      return 'TIME';
    case Type.Timestamp:
      return t['timezone'] ? 'TIMESTAMP WITH TIME ZONE' : 'TIMESTAMP';
    case Type.Struct: {
      const names = (t['children'] as Field[]).map((f) => f.name).join(',');
      return names === 'months,days,micros' ? 'INTERVAL' : 'STRUCT(…)';
    }
    case Type.List:
    case Type.LargeList: {
      const child = (t['children'] as Field[])[0];
      return `${duckdbTypeOfArrow(child.type as DataType & Record<string, unknown>)}[]`;
    }
    default:
      return 'VARCHAR';
  }
}
