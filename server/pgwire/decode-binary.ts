/**
 * Binary Bind parameters (the `*recv` formats) → the canonical text that ParamValue carries, so
 * the engine sees one representation whatever format the client chose. Drivers send binary for
 * common types (PgJDBC: int2/4/8, float4/8, numeric, bytea; psycopg 3: int2, timestamp), so
 * every scalar and one-dimensional array we emit can also be read back.
 */
import { SqlError } from '../../parser/errors.js';
import { ProtocolViolation } from './errors.js';
import {
  PG_EPOCH_DAYS,
  PG_EPOCH_US,
  PG_INT64_MIN,
  formatDate,
  formatInterval,
  formatTime,
  formatTimestamp,
  DUCKDB_DATE_INF,
  DUCKDB_DATE_NINF,
  DUCKDB_TS_INF,
  DUCKDB_TS_NINF,
} from './datetime.js';
import { arrayText, byteaText } from './encode-text.js';
import { TimeZone } from './datetime.js';
import { float4Text, float8Text } from './float-text.js';
import { numericTextFromBinary } from './numeric.js';
import { kindForOid, oidName, type PgKind } from './types.js';

const INT64_MAX = 9_223_372_036_854_775_807n;

/** Thrown for malformed binary values; Postgres' SQLSTATE 22P03 invalid_binary_representation. */
export function badBinary(paramIndex: number): SqlError {
  return new SqlError('22P03', `incorrect binary data format in bind parameter ${paramIndex + 1}`);
}

/** Too few bytes is a protocol error in Postgres (pq_getmsg*), too many a format error. */
function expect(buf: Buffer, n: number, paramIndex: number): void {
  if (buf.length < n) throw new ProtocolViolation('insufficient data left in message', false);
  if (buf.length > n) throw badBinary(paramIndex);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function scalarText(kind: PgKind, buf: Buffer, oid: number, paramIndex: number): string {
  switch (kind) {
    case 'bool':
      expect(buf, 1, paramIndex);
      return buf[0] !== 0 ? 't' : 'f';
    case 'int2':
      expect(buf, 2, paramIndex);
      return String(buf.readInt16BE(0));
    case 'int4':
      expect(buf, 4, paramIndex);
      return String(oid === 26 ? buf.readUInt32BE(0) : buf.readInt32BE(0));
    case 'int8':
      expect(buf, 8, paramIndex);
      return buf.readBigInt64BE(0).toString();
    case 'float4':
      expect(buf, 4, paramIndex);
      return float4Text(buf.readFloatBE(0));
    case 'float8':
      expect(buf, 8, paramIndex);
      return float8Text(buf.readDoubleBE(0));
    case 'numeric':
      try {
        return numericTextFromBinary(buf);
      } catch {
        throw badBinary(paramIndex);
      }
    case 'bytea':
      return byteaText(buf);
    case 'date': {
      expect(buf, 4, paramIndex);
      const d = buf.readInt32BE(0);
      if (d === 0x7fffffff) return formatDate(DUCKDB_DATE_INF);
      if (d === -0x80000000) return formatDate(DUCKDB_DATE_NINF);
      return formatDate(d + PG_EPOCH_DAYS);
    }
    case 'time': {
      expect(buf, 8, paramIndex);
      return formatTime(buf.readBigInt64BE(0));
    }
    case 'timestamp':
    case 'timestamptz': {
      expect(buf, 8, paramIndex);
      const v = buf.readBigInt64BE(0);
      const us = v === INT64_MAX ? DUCKDB_TS_INF : v === PG_INT64_MIN ? DUCKDB_TS_NINF : v + PG_EPOCH_US;
      const text = formatTimestamp(us);
      if (kind === 'timestamp' || text.endsWith('infinity')) return text;
      // An instant: written in UTC with an explicit offset so no session zone is involved.
      return text.endsWith(' BC') ? `${text.slice(0, -3)}+00 BC` : `${text}+00`;
    }
    case 'interval': {
      expect(buf, 16, paramIndex);
      return formatInterval(buf.readInt32BE(12), buf.readInt32BE(8), buf.readBigInt64BE(0));
    }
    case 'uuid': {
      expect(buf, 16, paramIndex);
      const h = buf.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'json':
      // jsonb's binary form is a version byte (1) followed by the text.
      if (oid === 3802) {
        if (buf.length < 1 || buf[0] !== 1) throw badBinary(paramIndex);
        return decodeUtf8(buf.subarray(1), paramIndex);
      }
      return decodeUtf8(buf, paramIndex);
    case 'text':
    default:
      return decodeUtf8(buf, paramIndex);
  }
}

function decodeUtf8(buf: Uint8Array, paramIndex: number): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new SqlError('22021', `invalid byte sequence for encoding "UTF8" in bind parameter ${paramIndex + 1}`);
  }
}

/** Decodes one binary parameter of type `oid` into canonical text. */
export function decodeBinaryParam(oid: number, buf: Buffer, paramIndex: number): string {
  const k = kindForOid(oid);
  if (k === undefined) {
    if (oid === 0) return decodeUtf8(buf, paramIndex);
    throw new SqlError('42883', `no binary input function available for type ${oidName(oid)}`);
  }
  if (k.kind !== 'array') return scalarText(k.kind, buf, oid, paramIndex);
  return arrayFromBinary(k.element ?? 'text', buf, paramIndex);
}

/** array_recv for one-dimensional arrays (multi-dimensional ones are not produced by drivers' setArray of scalars). */
function arrayFromBinary(element: PgKind, buf: Buffer, paramIndex: number): string {
  if (buf.length < 12) throw badBinary(paramIndex);
  const ndim = buf.readInt32BE(0);
  const elemOid = buf.readUInt32BE(8);
  if (ndim === 0) return '{}';
  if (ndim !== 1 || buf.length < 20) {
    if (ndim > 1) throw new SqlError('0A000', 'multi-dimensional array parameters are not supported');
    throw badBinary(paramIndex);
  }
  const n = buf.readInt32BE(12);
  let pos = 20;
  const items: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    if (pos + 4 > buf.length) throw badBinary(paramIndex);
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len === -1) {
      items.push(null);
      continue;
    }
    if (len < 0 || pos + len > buf.length) throw badBinary(paramIndex);
    const k = kindForOid(elemOid);
    items.push(scalarText(k?.kind === undefined || k.kind === 'array' ? element : k.kind, buf.subarray(pos, pos + len), elemOid, paramIndex));
    pos += len;
  }
  if (pos !== buf.length) throw badBinary(paramIndex);
  const elementType = { kind: 'text' as const, oid: 25, typlen: -1, typmod: -1, duckdb: 'VARCHAR' };
  return arrayText({ list: items, element: elementType }, { timeZone: TimeZone.UTC });
}
