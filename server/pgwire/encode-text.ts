/**
 * Postgres text output format for every type we emit, from Arrow cells. The strings must equal
 * what PostgreSQL 16 prints (the pgwire differential test compares bytes): `t`/`f`, shortest
 * round-trip floats, numerics with their full scale, ISO dates with ` BC`, timestamptz in the
 * session TimeZone, postgres-style intervals, hex bytea, `{…}` arrays with Postgres quoting.
 */
import type { Cell, CellList, CellStruct, DecimalCell, IntervalCell } from './arrow-read.js';
import { formatDate, formatInterval, formatTime, formatTimestamp, formatTimestamptz, type TimeZone } from './datetime.js';
import { float4Text, float8Text } from './float-text.js';
import { scaledToText } from './numeric.js';
import type { PgType } from './types.js';

export interface EncodeEnv {
  timeZone: TimeZone;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function byteaText(bytes: Uint8Array): string {
  let s = '\\x';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function isDecimal(c: Cell): c is DecimalCell {
  return typeof c === 'object' && c !== null && 'unscaled' in c;
}

function isInterval(c: Cell): c is IntervalCell {
  return typeof c === 'object' && c !== null && 'months' in c;
}

function isList(c: Cell): c is CellList {
  return typeof c === 'object' && c !== null && 'list' in c;
}

function isStruct(c: Cell): c is CellStruct {
  return typeof c === 'object' && c !== null && 'fields' in c;
}

/** Text of a non-null cell presented as Postgres type `pg`. */
export function cellText(c: Cell, pg: PgType, env: EncodeEnv): string {
  if (typeof c === 'string') return c;
  switch (pg.kind) {
    case 'bool':
      return c === true ? 't' : c === false ? 'f' : genericText(c, env);
    case 'int2':
    case 'int4':
    case 'int8':
      return typeof c === 'number' || typeof c === 'bigint' ? String(c) : genericText(c, env);
    case 'float4':
      return typeof c === 'number' ? float4Text(c) : genericText(c, env);
    case 'float8':
      return typeof c === 'number' ? float8Text(c) : genericText(c, env);
    case 'numeric':
      if (isDecimal(c)) return scaledToText(c.unscaled, c.scale);
      if (typeof c === 'number') return Number.isNaN(c) ? 'NaN' : String(c);
      return genericText(c, env);
    case 'bytea':
      return c instanceof Uint8Array ? byteaText(c) : genericText(c, env);
    case 'date':
      return typeof c === 'number' ? formatDate(c) : genericText(c, env);
    case 'time':
      return typeof c === 'bigint' ? formatTime(c) : genericText(c, env);
    case 'timestamp':
      return typeof c === 'bigint' ? formatTimestamp(c) : genericText(c, env);
    case 'timestamptz':
      return typeof c === 'bigint' ? formatTimestamptz(c, env.timeZone) : genericText(c, env);
    case 'interval':
      return isInterval(c) ? formatInterval(c.months, c.days, c.micros) : genericText(c, env);
    case 'json':
      return jsonText(c, pg, env);
    case 'array':
      return isList(c) ? arrayText(c, env) : genericText(c, env);
    default:
      return genericText(c, env);
  }
}

/** Text of a cell shown as `text`: nested lists in array syntax, structs as JSON. */
function genericText(c: Cell, env: EncodeEnv): string {
  if (typeof c === 'string') return c;
  if (typeof c === 'boolean') return c ? 't' : 'f';
  if (typeof c === 'number') return float8Text(c);
  if (typeof c === 'bigint') return c.toString();
  if (c instanceof Uint8Array) return byteaText(c);
  if (isDecimal(c)) return scaledToText(c.unscaled, c.scale);
  if (isInterval(c)) return formatInterval(c.months, c.days, c.micros);
  if (isList(c)) return arrayText(c, env);
  if (isStruct(c)) return structJson(c, env);
  return String(c);
}

/** array_out: elements quoted when empty, `NULL`-like, or containing `{}",\` or whitespace. */
export function arrayText(c: CellList, env: EncodeEnv): string {
  let s = '{';
  for (let i = 0; i < c.list.length; i++) {
    if (i > 0) s += ',';
    const e = c.list[i];
    if (e === null) {
      s += 'NULL';
      continue;
    }
    if (isList(e)) {
      s += arrayText(e, env);
      continue;
    }
    const t = cellText(e, c.element, env);
    s += needsQuote(t) ? `"${t.replace(/(["\\])/g, '\\$1')}"` : t;
  }
  return s + '}';
}

function needsQuote(t: string): boolean {
  if (t.length === 0) return true;
  if (t.length === 4 && t.toUpperCase() === 'NULL') return true;
  return /[{}",\\\s]/.test(t);
}

function jsonText(c: Cell, pg: PgType, env: EncodeEnv): string {
  if (isStruct(c)) return structJson(c, env);
  if (isList(c)) return listJson(c, env);
  return genericText(c, env);
}

function structJson(c: CellStruct, env: EncodeEnv): string {
  const parts = c.fields.map(([name, v, t]) => `${JSON.stringify(name)}:${jsonValue(v, t, env)}`);
  return `{${parts.join(',')}}`;
}

function listJson(c: CellList, env: EncodeEnv): string {
  return `[${c.list.map((v) => jsonValue(v, c.element, env)).join(',')}]`;
}

/** A nested value as JSON: numbers and booleans bare, containers recursive, the rest strings. */
function jsonValue(v: Cell | null, t: PgType, env: EncodeEnv): string {
  if (v === null) return 'null';
  if (isStruct(v)) return structJson(v, env);
  if (isList(v)) return listJson(v, env);
  if (t.kind === 'json' && typeof v === 'string') return v;
  const text = cellText(v, t, env);
  switch (t.kind) {
    case 'bool':
      return v === true ? 'true' : v === false ? 'false' : JSON.stringify(text);
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float4':
    case 'float8':
      return /^-?\d+(\.\d+)?(e[+-]\d+)?$/.test(text) ? text : JSON.stringify(text);
    default:
      return JSON.stringify(text);
  }
}
