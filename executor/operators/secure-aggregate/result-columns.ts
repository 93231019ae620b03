/**
 * Typed Arrow columns for the stage rows of secure aggregation (results.ts): values are set by
 * row into typed arrays and a validity bitmap, then handed to DuckDB as one Arrow `Data` per
 * column — no Arrow builder and no per-value boxing, which matters at 100K groups × a dozen
 * GWAS fields. A non-finite number is NULL (plink prints NA there).
 *
 * Types (the DuckDB type of the temp column): BIGINT, INTEGER, DOUBLE, VARCHAR, and HUGEINT,
 * which travels as BIGINT when every value is a safe integer and as exact decimal text otherwise.
 */
import { Field, Float64, Int32, Int64, makeData, Utf8, type Data } from 'apache-arrow';
import { DUCKDB_TYPE_METADATA_KEY } from '../../../connectors/connector.js';

export type Cell = string | number | bigint | null;

export interface ResultColumn {
  set(row: number, value: Cell): void;
  /** The column's field; final once every row is set. */
  readonly field: Field;
  finish(): Data;
}

const fieldOf = (name: string, type: Float64 | Int32 | Int64 | Utf8, duckdb: string) =>
  new Field(name, type, true, new Map([[DUCKDB_TYPE_METADATA_KEY, duckdb]]));

export function resultColumn(name: string, type: string, rows: number): ResultColumn {
  const valid = new Uint8Array((rows + 7) >> 3);
  let nulls = 0;
  const setNull = () => void nulls++;
  const markValid = (r: number) => (valid[r >> 3] |= 1 << (r & 7));
  switch (type) {
    case 'DOUBLE':
    case 'INTEGER': {
      const values = type === 'DOUBLE' ? new Float64Array(rows) : new Int32Array(rows);
      const arrow = type === 'DOUBLE' ? new Float64() : new Int32();
      return {
        set(r, v) {
          const x = typeof v === 'number' ? v : v === null ? Number.NaN : Number(v);
          if (!Number.isFinite(x)) return setNull();
          values[r] = x;
          markValid(r);
        },
        get field() {
          return fieldOf(name, arrow, type);
        },
        finish: () => makeData({ type: arrow, length: rows, nullCount: nulls, nullBitmap: valid, data: values } as never),
      };
    }
    case 'BIGINT':
    case 'HUGEINT': {
      // Exact integers: numbers while they are safe, BigInts (HUGEINT only) beyond.
      const values = new Float64Array(rows);
      let wide: Map<number, bigint> | undefined;
      return {
        set(r, v) {
          if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return setNull();
          if (typeof v === 'number' && Number.isSafeInteger(v)) {
            values[r] = v;
            return markValid(r);
          }
          const n = typeof v === 'bigint' ? v : BigInt(v);
          if (n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= -BigInt(Number.MAX_SAFE_INTEGER)) values[r] = Number(n);
          else (wide ??= new Map()).set(r, n);
          markValid(r);
        },
        get field() {
          return wide ? fieldOf(name, new Utf8(), type) : fieldOf(name, new Int64(), type);
        },
        finish() {
          if (!wide) return makeData({ type: new Int64(), length: rows, nullCount: nulls, nullBitmap: valid, data: int64Of(values) });
          const text = Array.from(values, (x, r) => ((valid[r >> 3] >> (r & 7)) & 1 ? String(wide!.get(r) ?? x) : null));
          return utf8Data(text, rows, nulls, valid);
        },
      };
    }
    default: {
      const values: (string | null)[] = new Array(rows).fill(null);
      return {
        set(r, v) {
          if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return setNull();
          values[r] = String(v);
          markValid(r);
        },
        get field() {
          return fieldOf(name, new Utf8(), type);
        },
        finish: () => utf8Data(values, rows, nulls, valid),
      };
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Safe integers as int64 words, without a BigInt per value where the platform allows. */
function int64Of(values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
    return out;
  }
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    words[2 * i] = x >>> 0; // x mod 2^32
    words[2 * i + 1] = Math.floor(x / 0x1_0000_0000) >>> 0; // two's complement high word
  }
  return out;
}

/** UTF-8 column data; each distinct string (allele names, mostly) is encoded once. */
function utf8Data(values: (string | null)[], rows: number, nulls: number, valid: Uint8Array): Data {
  const encoded = new Map<string, Buffer>();
  const parts: Buffer[] = new Array(rows);
  let bytes = 0;
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (v === null) continue;
    let b = encoded.get(v);
    if (!b) encoded.set(v, (b = Buffer.from(v, 'utf8')));
    parts[r] = b;
    bytes += b.byteLength;
  }
  const offsets = new Int32Array(rows + 1);
  const data = new Uint8Array(bytes);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const b = parts[r];
    if (b) {
      data.set(b, at);
      at += b.byteLength;
    }
    offsets[r + 1] = at;
  }
  return makeData({ type: new Utf8(), length: rows, nullCount: nulls, nullBitmap: valid, valueOffsets: offsets, data });
}
