/**
 * The type half of `arrow-contract.ts`: DuckDB type → Arrow field (with `veilsql.type`
 * metadata), Arrow field → the DuckDB type its buffers are written as, and which DuckDB types
 * travel as text. Kept apart from the value converters so the mapping can be read (and checked
 * against the contract table) in one place.
 */
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Type,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
} from 'apache-arrow';
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBTypeId,
  FLOAT,
  INTEGER,
  INTERVAL,
  LIST,
  SMALLINT,
  STRUCT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
  type DuckDBType,
} from '@duckdb/node-api';
import { DUCKDB_TYPE_METADATA_KEY } from '../arrow-contract.js';
import { SqlError, SqlState } from '../../parser/errors.js';

/** Which converter moves a DuckDB column into Arrow (see the contract table). */
export type ValueKind =
  | 'fixed' // same bytes on both sides: integers, floats, DATE, TIME, TIMESTAMP(TZ) µs
  | 'bool'
  | 'decimal'
  | 'timestamp_scaled' // TIMESTAMP_S / _MS / _NS → µs
  | 'hugeint' // HUGEINT / UHUGEINT → decimal text
  | 'uuid'
  | 'enum'
  | 'string' // VARCHAR, JSON, BLOB (string_t storage)
  | 'interval'
  | 'list'
  | 'struct'
  | 'text_fallback'; // everything else: DuckDB's VARCHAR cast

export function valueKind(type: DuckDBType): ValueKind {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'fixed';
    case DuckDBTypeId.DECIMAL:
      return 'decimal';
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp_scaled';
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'hugeint';
    case DuckDBTypeId.UUID:
      return 'uuid';
    case DuckDBTypeId.ENUM:
      return 'enum';
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BLOB:
      return 'string';
    case DuckDBTypeId.INTERVAL:
      return 'interval';
    case DuckDBTypeId.LIST:
      return 'list';
    case DuckDBTypeId.STRUCT:
      return 'struct';
    default:
      return 'text_fallback';
  }
}

/** Byte width of a 'fixed' DuckDB type's storage (equal to its Arrow width). */
export function fixedWidth(typeId: DuckDBTypeId): number {
  switch (typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.UTINYINT:
      return 1;
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.USMALLINT:
      return 2;
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DATE:
      return 4;
    default:
      return 8;
  }
}

/** DuckDB stores DECIMAL(p,s) in 2, 4, 8 or 16 bytes depending on p. */
export function decimalStorageWidth(precision: number): 2 | 4 | 8 | 16 {
  return precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16;
}

/**
 * The DuckDB type as DuckDB would print it in DDL. Like node-api's `toString()`, except that an
 * alias (JSON, or a user type) wins, at any depth, because the alias is the SQL type.
 */
export function duckdbTypeString(type: DuckDBType): string {
  if (type.alias) return type.alias;
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
      return `${duckdbTypeString(type.valueType)}[]`;
    case DuckDBTypeId.ARRAY:
      return `${duckdbTypeString(type.valueType)}[${type.length}]`;
    case DuckDBTypeId.STRUCT:
      return `STRUCT(${type.entryNames.map((n, i) => `${quoteIdentifier(n)} ${duckdbTypeString(type.entryTypes[i])}`).join(', ')})`;
    case DuckDBTypeId.MAP:
      return `MAP(${duckdbTypeString(type.keyType)}, ${duckdbTypeString(type.valueType)})`;
    case DuckDBTypeId.UNION:
      return `UNION(${type.memberTags.map((n, i) => `${quoteIdentifier(n)} ${duckdbTypeString(type.memberTypes[i])}`).join(', ')})`;
    default:
      return type.toString();
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function metadataFor(type: DuckDBType): Map<string, string> {
  return new Map([[DUCKDB_TYPE_METADATA_KEY, duckdbTypeString(type)]]);
}

/** The Arrow field for a DuckDB column, per the contract; nested fields carry metadata too. */
export function arrowFieldFor(name: string, type: DuckDBType): Field {
  return new Field(name, arrowTypeFor(type), true, metadataFor(type));
}

export function arrowTypeFor(type: DuckDBType): DataType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return new Bool();
    case DuckDBTypeId.TINYINT: return new Int8();
    case DuckDBTypeId.SMALLINT: return new Int16();
    case DuckDBTypeId.INTEGER: return new Int32();
    case DuckDBTypeId.BIGINT: return new Int64();
    case DuckDBTypeId.UTINYINT: return new Uint8();
    case DuckDBTypeId.USMALLINT: return new Uint16();
    case DuckDBTypeId.UINTEGER: return new Uint32();
    case DuckDBTypeId.UBIGINT: return new Uint64();
    case DuckDBTypeId.FLOAT: return new Float32();
    case DuckDBTypeId.DOUBLE: return new Float64();
    case DuckDBTypeId.DECIMAL: return new Decimal(type.scale, type.width, 128);
    case DuckDBTypeId.BLOB: return new Binary();
    case DuckDBTypeId.DATE: return new DateDay();
    case DuckDBTypeId.TIME: return new TimeMicrosecond();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return new TimestampMicrosecond();
    case DuckDBTypeId.TIMESTAMP_TZ: return new TimestampMicrosecond('UTC');
    case DuckDBTypeId.INTERVAL: return intervalArrowType();
    case DuckDBTypeId.LIST: return new List(arrowFieldFor('item', type.valueType));
    case DuckDBTypeId.STRUCT:
      return new Struct(type.entryNames.map((n, i) => arrowFieldFor(n, type.entryTypes[i])));
    default:
      // VARCHAR, JSON, ENUM, UUID, HUGEINT, UHUGEINT and every type without its own row.
      return new Utf8();
  }
}

export function intervalArrowType(): Struct {
  return new Struct([
    new Field('months', new Int32(), false),
    new Field('days', new Int32(), false),
    new Field('micros', new Int64(), false),
  ]);
}

/**
 * The type to CAST a column to before reading it, so that every value that the contract sends
 * as "DuckDB's VARCHAR cast" really is DuckDB's cast (node-api's own formatting differs, e.g.
 * for MAP). Undefined when the column can be read as is.
 */
export function textCastType(type: DuckDBType): DuckDBType | undefined {
  switch (valueKind(type)) {
    case 'text_fallback':
      return VARCHAR;
    case 'list': {
      if (type.typeId !== DuckDBTypeId.LIST) return undefined;
      const child = textCastType(type.valueType);
      return child ? LIST(child) : undefined;
    }
    case 'struct': {
      if (type.typeId !== DuckDBTypeId.STRUCT) return undefined;
      const children = type.entryTypes.map((t) => textCastType(t));
      if (children.every((c) => c === undefined)) return undefined;
      const entries: Record<string, DuckDBType> = {};
      type.entryNames.forEach((n, i) => (entries[n] = children[i] ?? type.entryTypes[i]));
      return STRUCT(entries);
    }
    default:
      return undefined;
  }
}

/** True when the Arrow field is an INTERVAL carried as Struct<months, days, micros>. */
export function isIntervalField(field: Field): boolean {
  if (field.metadata.get(DUCKDB_TYPE_METADATA_KEY) === 'INTERVAL') return true;
  const t = field.type;
  return (
    t.typeId === Type.Struct &&
    field.metadata.get(DUCKDB_TYPE_METADATA_KEY) === undefined &&
    t.children.length === 3 &&
    t.children[0].name === 'months' &&
    t.children[1].name === 'days' &&
    t.children[2].name === 'micros'
  );
}

/**
 * The DuckDB type whose storage matches an Arrow field's buffers, i.e. what the loader writes
 * into its data chunks; the table's declared type (from metadata) may differ and DuckDB casts
 * on append (VARCHAR → HUGEINT/UUID/ENUM/MAP…, TIMESTAMP → TIMESTAMP_NS, …).
 */
export function storageTypeForField(field: Field, path: string): DuckDBType {
  const t = field.type;
  switch (t.typeId) {
    case Type.Bool: return BOOLEAN;
    case Type.Int: {
      const bits = (t as Int8).bitWidth;
      const signed = (t as Int8).isSigned;
      if (bits === 8) return signed ? TINYINT : UTINYINT;
      if (bits === 16) return signed ? SMALLINT : USMALLINT;
      if (bits === 32) return signed ? INTEGER : UINTEGER;
      return signed ? BIGINT : UBIGINT;
    }
    case Type.Float: {
      const precision = (t as Float32).precision;
      if (precision === 1) return FLOAT;
      if (precision === 2) return DOUBLE;
      break;
    }
    case Type.Decimal: {
      const d = t as Decimal;
      if (d.bitWidth === 128 && d.precision >= 1 && d.precision <= 38) return DECIMAL(d.precision, d.scale);
      break;
    }
    case Type.Utf8: return VARCHAR;
    case Type.Binary: return BLOB;
    case Type.Date: if ((t as DateDay).unit === 0) return DATE; break;
    case Type.Time: if ((t as TimeMicrosecond).unit === 2) return TIME; break;
    case Type.Timestamp: {
      const ts = t as TimestampMicrosecond;
      if (ts.unit === 2) return ts.timezone ? TIMESTAMPTZ : TIMESTAMP;
      break;
    }
    case Type.List: {
      const child = (t as List).children[0];
      return LIST(storageTypeForField(child, `${path}[]`));
    }
    case Type.Struct: {
      if (isIntervalField(field)) return INTERVAL;
      const entries: Record<string, DuckDBType> = {};
      for (const child of (t as Struct).children) entries[child.name] = storageTypeForField(child, `${path}.${child.name}`);
      return STRUCT(entries);
    }
  }
  throw new SqlError(SqlState.featureNotSupported, `cannot load Arrow type ${String(t)} of column "${path}" into DuckDB`);
}

/** The DuckDB type for a table column: the metadata when present, else the storage type. */
export function declaredTypeForField(field: Field): string {
  const declared = field.metadata.get(DUCKDB_TYPE_METADATA_KEY);
  // A bare NULL literal has type "NULL", which no table column can have.
  if (declared !== undefined && declared !== 'NULL' && declared !== '"NULL"') return declared;
  if (declared !== undefined) return 'VARCHAR';
  return duckdbTypeString(storageTypeForField(field, field.name));
}
