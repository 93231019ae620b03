/**
 * Postgres binary send formats (the `*send` functions) from Arrow cells: network byte order,
 * dates as int32 days and timestamps as int64 µs since 2000-01-01, numeric in its base-10000
 * layout, interval as µs/days/months, uuid as 16 bytes, arrays with the ndim/hasnull/elemtype
 * header. Values whose cell shape cannot be sent in binary raise 0A000 rather than corrupting
 * the stream.
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import type { Cell, CellList, DecimalCell, IntervalCell } from './arrow-read.js';
import {
  DUCKDB_DATE_INF,
  DUCKDB_DATE_NINF,
  DUCKDB_TS_INF,
  DUCKDB_TS_NINF,
  PG_EPOCH_DAYS,
  PG_EPOCH_US,
  PG_INT64_MIN,
} from './datetime.js';
import { cellText, type EncodeEnv } from './encode-text.js';
import { numericBinaryFromScaled, numericBinaryFromText } from './numeric.js';
import { PG_SCALARS, type PgType } from './types.js';
import type { MessageWriter } from './writer.js';

const INT64_MAX = 9_223_372_036_854_775_807n;

function unsupported(pg: PgType): never {
  throw new SqlError(SqlState.featureNotSupported, `cannot send a ${pg.duckdb} value in binary format`);
}

function asBigInt(c: Cell, pg: PgType): bigint {
  if (typeof c === 'bigint') return c;
  if (typeof c === 'number' && Number.isInteger(c)) return BigInt(c);
  if (typeof c === 'string' && /^-?\d+$/.test(c)) return BigInt(c);
  return unsupported(pg);
}

/** Writes the binary payload (without the length prefix) of a non-null cell. */
export function writeBinaryValue(w: MessageWriter, c: Cell, pg: PgType, env: EncodeEnv): void {
  switch (pg.kind) {
    case 'bool':
      if (typeof c !== 'boolean') unsupported(pg);
      w.int8(c ? 1 : 0);
      return;
    case 'int2':
      w.int16(Number(asBigInt(c, pg)));
      return;
    case 'int4':
      w.int32(Number(asBigInt(c, pg)));
      return;
    case 'int8':
      w.int64(asBigInt(c, pg));
      return;
    case 'float4':
      if (typeof c !== 'number') unsupported(pg);
      w.float32(c);
      return;
    case 'float8':
      if (typeof c !== 'number') unsupported(pg);
      w.float64(c);
      return;
    case 'numeric': {
      if (typeof c === 'object' && c !== null && 'unscaled' in c) {
        const d = c as DecimalCell;
        w.bytes(numericBinaryFromScaled(d.unscaled, d.scale));
      } else if (typeof c === 'string' || typeof c === 'bigint') {
        w.bytes(numericBinaryFromText(String(c)));
      } else if (typeof c === 'number') {
        w.bytes(numericBinaryFromText(Number.isNaN(c) ? 'NaN' : String(c)));
      } else unsupported(pg);
      return;
    }
    case 'bytea':
      if (c instanceof Uint8Array) w.bytes(c);
      else if (typeof c === 'string') w.text(c);
      else unsupported(pg);
      return;
    case 'date': {
      if (typeof c !== 'number') unsupported(pg);
      w.int32(c >= DUCKDB_DATE_INF ? 0x7fffffff : c <= DUCKDB_DATE_NINF ? -0x80000000 : c - PG_EPOCH_DAYS);
      return;
    }
    case 'time':
      if (typeof c !== 'bigint') unsupported(pg);
      w.int64(c);
      return;
    case 'timestamp':
    case 'timestamptz': {
      if (typeof c !== 'bigint') unsupported(pg);
      w.int64(c >= DUCKDB_TS_INF ? INT64_MAX : c <= DUCKDB_TS_NINF ? PG_INT64_MIN : c - PG_EPOCH_US);
      return;
    }
    case 'interval': {
      if (typeof c !== 'object' || c === null || !('months' in c)) unsupported(pg);
      const iv = c as IntervalCell;
      w.int64(iv.micros).int32(iv.days).int32(iv.months);
      return;
    }
    case 'uuid': {
      if (typeof c === 'string') {
        const hex = c.replace(/-/g, '');
        if (!/^[0-9a-fA-F]{32}$/.test(hex)) unsupported(pg);
        w.bytes(Buffer.from(hex, 'hex'));
      } else if (c instanceof Uint8Array && c.length === 16) w.bytes(c);
      else unsupported(pg);
      return;
    }
    case 'array':
      if (typeof c !== 'object' || c === null || !('list' in c)) unsupported(pg);
      writeArray(w, c as CellList, pg, env);
      return;
    case 'text':
    case 'json':
    default:
      // text, varchar and json send their UTF-8 text; nested values their text rendering.
      w.text(cellText(c, pg, env));
      return;
  }
}

/** array_send: ndim, has-null flag, element OID, then (size, lower bound 1) per dim, elements. */
function writeArray(w: MessageWriter, c: CellList, pg: PgType, env: EncodeEnv): void {
  const el = pg.element ?? c.element;
  const elemOid = el.kind === 'array' ? el.oid : PG_SCALARS[el.kind].oid;
  const hasNull = c.list.some((e) => e === null);
  if (c.list.length === 0) {
    w.int32(0).int32(0).uint32(elemOid);
    return;
  }
  w.int32(1).int32(hasNull ? 1 : 0).uint32(elemOid).int32(c.list.length).int32(1);
  for (const e of c.list) {
    if (e === null) {
      w.int32(-1);
      continue;
    }
    const at = w.reserveLength();
    writeBinaryValue(w, e, el, env);
    w.patchLength(at);
  }
}
