/**
 * DuckDB type strings → Postgres types as a client sees them in RowDescription and
 * ParameterDescription (OID, typlen, typmod), and Postgres OIDs → DuckDB types for parameter
 * hints. Pure data and functions, imported by the wire layer (`server/pgwire/types.ts`
 * re-exports this module) and by the catalog emulation (`pg_attribute.atttypid` must be the
 * OID the wire layer announces for the same column). The mapping follows
 * research/anchors-pgwire.md §5; anything without a faithful Postgres counterpart (MAP, UNION,
 * ENUM, BIT, fixed-size ARRAY, TIMETZ, nested lists) is sent as `text` so every client can at
 * least display it.
 */

export type PgKind =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'uuid'
  | 'json'
  | 'array';

export interface PgType {
  kind: PgKind;
  oid: number;
  /** pg_type.typlen: fixed width in bytes, or -1 for varlena. */
  typlen: number;
  /** atttypmod as RowDescription carries it: -1 unless the type has modifiers. */
  typmod: number;
  /** Element type for arrays. */
  element?: PgType;
  /** The DuckDB type string this was derived from. */
  duckdb: string;
}

interface ScalarInfo {
  oid: number;
  typlen: number;
  arrayOid: number;
  name: string;
}

/** Postgres scalar types we emit, with their array type OIDs (pg_type.typarray). */
export const PG_SCALARS: Record<Exclude<PgKind, 'array'>, ScalarInfo> = {
  bool: { oid: 16, typlen: 1, arrayOid: 1000, name: 'bool' },
  bytea: { oid: 17, typlen: -1, arrayOid: 1001, name: 'bytea' },
  int8: { oid: 20, typlen: 8, arrayOid: 1016, name: 'int8' },
  int2: { oid: 21, typlen: 2, arrayOid: 1005, name: 'int2' },
  int4: { oid: 23, typlen: 4, arrayOid: 1007, name: 'int4' },
  text: { oid: 25, typlen: -1, arrayOid: 1009, name: 'text' },
  json: { oid: 114, typlen: -1, arrayOid: 199, name: 'json' },
  float4: { oid: 700, typlen: 4, arrayOid: 1021, name: 'float4' },
  float8: { oid: 701, typlen: 8, arrayOid: 1022, name: 'float8' },
  date: { oid: 1082, typlen: 4, arrayOid: 1182, name: 'date' },
  time: { oid: 1083, typlen: 8, arrayOid: 1183, name: 'time' },
  timestamp: { oid: 1114, typlen: 8, arrayOid: 1115, name: 'timestamp' },
  timestamptz: { oid: 1184, typlen: 8, arrayOid: 1185, name: 'timestamptz' },
  interval: { oid: 1186, typlen: 16, arrayOid: 1187, name: 'interval' },
  numeric: { oid: 1700, typlen: -1, arrayOid: 1231, name: 'numeric' },
  uuid: { oid: 2950, typlen: 16, arrayOid: 2951, name: 'uuid' },
};

function scalar(kind: Exclude<PgKind, 'array'>, duckdb: string, typmod = -1): PgType {
  const s = PG_SCALARS[kind];
  return { kind, oid: s.oid, typlen: s.typlen, typmod, duckdb };
}

const SIMPLE: Record<string, Exclude<PgKind, 'array'>> = {
  BOOLEAN: 'bool',
  BOOL: 'bool',
  LOGICAL: 'bool',
  TINYINT: 'int2',
  INT1: 'int2',
  UTINYINT: 'int2',
  SMALLINT: 'int2',
  INT2: 'int2',
  SHORT: 'int2',
  USMALLINT: 'int4',
  INTEGER: 'int4',
  INT4: 'int4',
  INT: 'int4',
  SIGNED: 'int4',
  UINTEGER: 'int8',
  BIGINT: 'int8',
  INT8: 'int8',
  LONG: 'int8',
  UBIGINT: 'numeric',
  HUGEINT: 'numeric',
  INT128: 'numeric',
  UHUGEINT: 'numeric',
  UINT128: 'numeric',
  VARINT: 'numeric',
  BIGNUM: 'numeric',
  FLOAT: 'float4',
  FLOAT4: 'float4',
  REAL: 'float4',
  DOUBLE: 'float8',
  FLOAT8: 'float8',
  VARCHAR: 'text',
  TEXT: 'text',
  STRING: 'text',
  CHAR: 'text',
  BPCHAR: 'text',
  NULL: 'text',
  BLOB: 'bytea',
  BYTEA: 'bytea',
  BINARY: 'bytea',
  VARBINARY: 'bytea',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  DATETIME: 'timestamp',
  TIMESTAMP_US: 'timestamp',
  TIMESTAMP_S: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  TIMESTAMPTZ: 'timestamptz',
  INTERVAL: 'interval',
  UUID: 'uuid',
  JSON: 'json',
};

const cache = new Map<string, PgType>();

/** The Postgres type a column of DuckDB type `duckdb` is presented as. */
export function pgTypeFor(duckdb: string): PgType {
  const hit = cache.get(duckdb);
  if (hit !== undefined) return hit;
  const t = derive(duckdb.trim());
  if (cache.size < 4096) cache.set(duckdb, t);
  return t;
}

function derive(duckdb: string): PgType {
  const upper = duckdb.toUpperCase();
  if (upper.endsWith('[]')) {
    const element = derive(duckdb.slice(0, -2).trim());
    // Postgres arrays are rectangular and typed by their innermost element; DuckDB lists may be
    // ragged, so only one level of list becomes a real array type.
    if (element.kind === 'array' || element.kind === 'text' && !isTextual(element.duckdb)) {
      return scalar('text', duckdb);
    }
    const info = PG_SCALARS[element.kind as Exclude<PgKind, 'array'>];
    return { kind: 'array', oid: info.arrayOid, typlen: -1, typmod: element.typmod, element, duckdb };
  }
  const simple = SIMPLE[upper];
  if (simple !== undefined) return scalar(simple, duckdb);
  const dec = /^(?:DECIMAL|NUMERIC)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(upper);
  if (dec) {
    const p = dec[1] === undefined ? 18 : Number(dec[1]);
    const s = dec[2] === undefined ? (dec[1] === undefined ? 3 : 0) : Number(dec[2]);
    return scalar('numeric', duckdb, ((p << 16) | s) + 4);
  }
  if (/^(VARCHAR|CHAR|BPCHAR|TEXT|STRING)\s*\(/.test(upper)) return scalar('text', duckdb);
  if (/^TIMESTAMP\s*\(\s*\d+\s*\)$/.test(upper)) return scalar('timestamp', duckdb);
  if (upper.startsWith('STRUCT')) return scalar('json', duckdb);
  // MAP, UNION, ENUM, BIT, TIME WITH TIME ZONE, fixed-size ARRAY (`INTEGER[3]`), user types:
  // all travel as DuckDB's VARCHAR cast (arrow-contract.ts) and are shown as text.
  return scalar('text', duckdb);
}

function isTextual(duckdb: string): boolean {
  const u = duckdb.toUpperCase();
  return SIMPLE[u] === 'text' && u !== 'NULL' || /^(VARCHAR|CHAR|BPCHAR|TEXT|STRING|ENUM)\s*\(/.test(u);
}

/** Postgres scalar/array OID → the DuckDB type used as a parameter hint; undefined = unknown. */
const OID_TO_DUCKDB: Record<number, string> = {
  16: 'BOOLEAN',
  17: 'BLOB',
  18: 'VARCHAR',
  19: 'VARCHAR',
  20: 'BIGINT',
  21: 'SMALLINT',
  23: 'INTEGER',
  25: 'VARCHAR',
  26: 'UINTEGER',
  114: 'JSON',
  700: 'FLOAT',
  701: 'DOUBLE',
  1042: 'VARCHAR',
  1043: 'VARCHAR',
  1082: 'DATE',
  1083: 'TIME',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMP WITH TIME ZONE',
  1186: 'INTERVAL',
  // numeric without a typmod has no DuckDB equivalent; plain DECIMAL asks the engine to size
  // it from the value (the text keeps every digit).
  1700: 'DECIMAL',
  2950: 'UUID',
  3802: 'JSON',
  1000: 'BOOLEAN[]',
  1001: 'BLOB[]',
  1005: 'SMALLINT[]',
  1007: 'INTEGER[]',
  1009: 'VARCHAR[]',
  1015: 'VARCHAR[]',
  1016: 'BIGINT[]',
  1021: 'FLOAT[]',
  1022: 'DOUBLE[]',
  1115: 'TIMESTAMP[]',
  1182: 'DATE[]',
  1183: 'TIME[]',
  1185: 'TIMESTAMP WITH TIME ZONE[]',
  1187: 'INTERVAL[]',
  1231: 'DECIMAL[]',
  2951: 'UUID[]',
};

export function duckdbTypeForOid(oid: number): string | undefined {
  return OID_TO_DUCKDB[oid];
}

/** OID for a parameter whose type the engine inferred. */
export function paramOidFor(duckdb: string): number {
  return pgTypeFor(duckdb).oid;
}

/** Scalar kind of a Postgres OID, for decoding binary parameters; undefined if unsupported. */
export function kindForOid(oid: number): { kind: PgKind; element?: PgKind } | undefined {
  switch (oid) {
    case 18:
    case 19:
    case 25:
    case 705:
    case 1042:
    case 1043:
      return { kind: 'text' };
    case 26:
      return { kind: 'int4' }; // oid: unsigned int32, decoded specially
    case 3802:
      return { kind: 'json' };
  }
  for (const [kind, info] of Object.entries(PG_SCALARS) as [Exclude<PgKind, 'array'>, ScalarInfo][]) {
    if (info.oid === oid) return { kind };
    if (info.arrayOid === oid) return { kind: 'array', element: kind };
  }
  if (oid === 1015) return { kind: 'array', element: 'text' };
  return undefined;
}

export function oidName(oid: number): string {
  for (const info of Object.values(PG_SCALARS)) {
    if (info.oid === oid) return info.name;
    if (info.arrayOid === oid) return `${info.name}[]`;
  }
  return String(oid);
}
