/**
 * SQL types as the planner reasons about them. The source of truth for a column's type is the
 * DuckDB type string its owner publishes (`BIGINT`, `DECIMAL(12,2)`, `VARCHAR[]`, …); this module
 * parses those strings into a small structure, maps Postgres spellings used in casts onto it,
 * and answers the questions the binder asks (is it numeric? what is the common type of a CASE?).
 * It deliberately does not try to replicate every DuckDB typing rule: exact result types come
 * from DuckDB itself (see `planner/shadow-catalog.ts`).
 */

export type TypeId =
  | 'boolean'
  | 'tinyint' | 'smallint' | 'integer' | 'bigint' | 'hugeint'
  | 'utinyint' | 'usmallint' | 'uinteger' | 'ubigint' | 'uhugeint'
  | 'float' | 'double' | 'decimal'
  | 'varchar' | 'blob' | 'uuid' | 'json'
  | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'interval'
  | 'list' | 'struct' | 'map'
  | 'null'
  /** A type the planner does not model; DuckDB decides. */
  | 'unknown';

export interface SqlType {
  id: TypeId;
  precision?: number;
  scale?: number;
  /** Element type of a list. */
  element?: SqlType;
  /** Fields of a struct. */
  fields?: { name: string; type: SqlType }[];
  /** The original DuckDB spelling, when parsed from one. */
  text?: string;
}

export const T = {
  boolean: { id: 'boolean' } as SqlType,
  integer: { id: 'integer' } as SqlType,
  bigint: { id: 'bigint' } as SqlType,
  hugeint: { id: 'hugeint' } as SqlType,
  double: { id: 'double' } as SqlType,
  varchar: { id: 'varchar' } as SqlType,
  date: { id: 'date' } as SqlType,
  timestamp: { id: 'timestamp' } as SqlType,
  timestamptz: { id: 'timestamptz' } as SqlType,
  interval: { id: 'interval' } as SqlType,
  null: { id: 'null' } as SqlType,
  unknown: { id: 'unknown' } as SqlType,
};

const INTEGER_IDS: TypeId[] = ['tinyint', 'smallint', 'integer', 'bigint', 'hugeint', 'utinyint', 'usmallint', 'uinteger', 'ubigint', 'uhugeint'];
const NUMERIC_IDS: TypeId[] = [...INTEGER_IDS, 'float', 'double', 'decimal'];
const TEMPORAL_IDS: TypeId[] = ['date', 'time', 'timestamp', 'timestamptz', 'interval'];

export const isInteger = (t: SqlType): boolean => INTEGER_IDS.includes(t.id);
export const isNumeric = (t: SqlType): boolean => NUMERIC_IDS.includes(t.id);
export const isTemporal = (t: SqlType): boolean => TEMPORAL_IDS.includes(t.id);
export const isText = (t: SqlType): boolean => t.id === 'varchar' || t.id === 'json' || t.id === 'uuid';
/** Types whose category cannot be judged here (NULL literal, parameters, unmodelled types). */
export const isFlexible = (t: SqlType): boolean => t.id === 'null' || t.id === 'unknown';

const SIMPLE_DUCKDB: Record<string, TypeId> = {
  BOOLEAN: 'boolean', BOOL: 'boolean',
  TINYINT: 'tinyint', INT1: 'tinyint', SMALLINT: 'smallint', INT2: 'smallint',
  INTEGER: 'integer', INT: 'integer', INT4: 'integer', BIGINT: 'bigint', INT8: 'bigint',
  HUGEINT: 'hugeint', INT128: 'hugeint',
  UTINYINT: 'utinyint', USMALLINT: 'usmallint', UINTEGER: 'uinteger', UBIGINT: 'ubigint', UHUGEINT: 'uhugeint',
  FLOAT: 'float', REAL: 'float', FLOAT4: 'float', DOUBLE: 'double', FLOAT8: 'double',
  VARCHAR: 'varchar', TEXT: 'varchar', STRING: 'varchar', BLOB: 'blob', BYTEA: 'blob', UUID: 'uuid', JSON: 'json',
  DATE: 'date', TIME: 'time', TIMESTAMP: 'timestamp', DATETIME: 'timestamp',
  TIMESTAMP_S: 'timestamp', TIMESTAMP_MS: 'timestamp', TIMESTAMP_NS: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz', TIMESTAMPTZ: 'timestamptz', INTERVAL: 'interval',
  '"NULL"': 'null', NULL: 'null',
};

/** Parses a DuckDB type string (`DECIMAL(12,2)`, `INTEGER[]`, `STRUCT(a INTEGER, b VARCHAR)`). */
export function parseDuckDBType(text: string): SqlType {
  const s = text.trim();
  if (s.endsWith('[]')) return { id: 'list', element: parseDuckDBType(s.slice(0, -2)), text: s };
  const upper = s.toUpperCase();
  const simple = SIMPLE_DUCKDB[upper];
  if (simple) return { id: simple, text: s };
  const dec = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/i.exec(s);
  if (dec) return { id: 'decimal', precision: Number(dec[1]), scale: Number(dec[2] ?? 0), text: s };
  if (/^(?:DECIMAL|NUMERIC)$/i.test(s)) return { id: 'decimal', precision: 18, scale: 3, text: s };
  if (/^VARCHAR\s*\(\s*\d+\s*\)$/i.test(s)) return { id: 'varchar', text: s };
  if (/^STRUCT\s*\(/i.test(s)) return { id: 'struct', fields: parseStructFields(s.slice(s.indexOf('(') + 1, -1)), text: s };
  if (/^MAP\s*\(/i.test(s)) return { id: 'map', text: s };
  if (/^ENUM\s*\(/i.test(s)) return { id: 'varchar', text: s };
  return { id: 'unknown', text: s };
}

function parseStructFields(inner: string): { name: string; type: SqlType }[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of inner) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((p) => {
    const m = /^\s*("(?:[^"]|"")*"|\S+)\s+(.*)$/s.exec(p);
    if (!m) return { name: p.trim(), type: T.unknown };
    const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1];
    return { name, type: parseDuckDBType(m[2]) };
  });
}

/** Renders a type as DuckDB spells it (used in fragments and the shadow catalog). */
export function formatDuckDBType(t: SqlType): string {
  if (t.text) return t.text;
  switch (t.id) {
    case 'decimal':
      return `DECIMAL(${t.precision ?? 18},${t.scale ?? 3})`;
    case 'list':
      return `${formatDuckDBType(t.element ?? T.unknown)}[]`;
    case 'timestamptz':
      return 'TIMESTAMP WITH TIME ZONE';
    case 'struct':
      return `STRUCT(${(t.fields ?? []).map((f) => `"${f.name.replace(/"/g, '""')}" ${formatDuckDBType(f.type)}`).join(', ')})`;
    case 'null':
      return '"NULL"';
    case 'unknown':
      return 'VARCHAR';
    default:
      return t.id.toUpperCase();
  }
}

/** Postgres/SQL spellings accepted in CAST and typed literals → our type (args = typmods). */
export function typeFromSqlName(name: string, args: number[] = [], arrayDims = 0): SqlType {
  let base: SqlType;
  const n = name.toLowerCase();
  switch (n) {
    case 'bool': case 'boolean': base = T.boolean; break;
    case 'int2': case 'smallint': base = { id: 'smallint' }; break;
    case 'int': case 'int4': case 'integer': case 'serial': base = T.integer; break;
    case 'int8': case 'bigint': case 'bigserial': base = T.bigint; break;
    case 'hugeint': base = T.hugeint; break;
    case 'tinyint': base = { id: 'tinyint' }; break;
    case 'ubigint': base = { id: 'ubigint' }; break;
    case 'uinteger': base = { id: 'uinteger' }; break;
    case 'float4': case 'real': case 'float': base = { id: args[0] !== undefined && args[0] > 24 ? 'double' : 'float' }; break;
    case 'float8': case 'double': case 'double precision': base = T.double; break;
    case 'numeric': case 'decimal':
      base = args.length ? { id: 'decimal', precision: args[0], scale: args[1] ?? 0 } : { id: 'decimal', precision: 18, scale: 3 };
      break;
    case 'text': case 'varchar': case 'character varying': case 'char': case 'character': case 'bpchar':
    case 'name': case 'string': case 'citext':
      base = T.varchar; break;
    case 'bytea': case 'blob': base = { id: 'blob' }; break;
    case 'uuid': base = { id: 'uuid' }; break;
    case 'json': case 'jsonb': base = { id: 'json' }; break;
    case 'date': base = T.date; break;
    case 'time': case 'time without time zone': case 'time with time zone': case 'timetz': base = { id: 'time' }; break;
    case 'timestamp': case 'timestamp without time zone': case 'datetime': base = T.timestamp; break;
    case 'timestamptz': case 'timestamp with time zone': base = T.timestamptz; break;
    case 'interval': base = T.interval; break;
    case 'oid': case 'regclass': case 'regtype': case 'regproc': case 'regnamespace': case 'regprocedure': case 'regoper':
      base = T.bigint; break;
    default: base = T.unknown;
  }
  for (let i = 0; i < arrayDims; i++) base = { id: 'list', element: base };
  return base;
}

const NUMERIC_RANK: Partial<Record<TypeId, number>> = {
  tinyint: 1, utinyint: 1, smallint: 2, usmallint: 2, integer: 3, uinteger: 3, bigint: 4, ubigint: 4,
  hugeint: 5, uhugeint: 5, decimal: 6, float: 7, double: 8,
};

/**
 * The type two values are compared or combined as, or `undefined` when they have no common
 * type (which the binder reports). Untyped string literals are typed `null` by the binder and
 * are flexible, as in Postgres (`'2024-01-01'` compares with a DATE); a text *column* is not.
 */
export function commonType(a: SqlType, b: SqlType): SqlType | undefined {
  if (isFlexible(a)) return b;
  if (isFlexible(b)) return a;
  if (a.id === b.id) return a.id === 'decimal' ? widerDecimal(a, b) : a;
  if (isNumeric(a) && isNumeric(b)) {
    if (a.id === 'decimal' || b.id === 'decimal') {
      const other = a.id === 'decimal' ? b : a;
      if (other.id === 'float' || other.id === 'double') return T.double;
      return a.id === 'decimal' ? a : b;
    }
    return (NUMERIC_RANK[a.id] ?? 0) >= (NUMERIC_RANK[b.id] ?? 0) ? a : b;
  }
  if (isTemporal(a) && isTemporal(b)) {
    if (a.id === 'interval' || b.id === 'interval') return undefined;
    if (a.id === 'time' || b.id === 'time') return undefined;
    return a.id === 'timestamptz' || b.id === 'timestamptz' ? T.timestamptz : T.timestamp;
  }
  if (isText(a) && isText(b)) return T.varchar;
  if (a.id === 'list' && b.id === 'list') {
    const e = commonType(a.element ?? T.unknown, b.element ?? T.unknown);
    return e ? { id: 'list', element: e } : undefined;
  }
  if (a.id === 'unknown' || b.id === 'unknown') return T.unknown;
  return undefined;
}

function widerDecimal(a: SqlType, b: SqlType): SqlType {
  const scale = Math.max(a.scale ?? 0, b.scale ?? 0);
  const intDigits = Math.max((a.precision ?? 18) - (a.scale ?? 0), (b.precision ?? 18) - (b.scale ?? 0));
  return { id: 'decimal', precision: Math.min(38, intDigits + scale), scale };
}

/** A human-readable name for error messages (Postgres-like spelling). */
export function displayType(t: SqlType): string {
  switch (t.id) {
    case 'varchar': return 'text';
    case 'double': return 'double precision';
    case 'float': return 'real';
    case 'decimal': return t.precision !== undefined ? `numeric(${t.precision},${t.scale ?? 0})` : 'numeric';
    case 'timestamptz': return 'timestamp with time zone';
    case 'timestamp': return 'timestamp without time zone';
    case 'list': return `${displayType(t.element ?? T.unknown)}[]`;
    case 'null': return 'unknown';
    default: return t.text?.toLowerCase() ?? t.id;
  }
}
