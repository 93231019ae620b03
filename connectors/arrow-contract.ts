/**
 * How DuckDB values travel as Apache Arrow between nodes and from the engine to the wire
 * gateway. Producers (`arrow-codec` from DuckDB results) and consumers (the gateway's DuckDB
 * loader, the Postgres wire encoders) both follow this table, so values stay exact end to end:
 *
 * | DuckDB type                 | Arrow type                                   | notes                                   |
 * |-----------------------------|----------------------------------------------|-----------------------------------------|
 * | BOOLEAN                     | Bool                                         |                                         |
 * | TINYINT/SMALLINT/INTEGER    | Int8/Int16/Int32                             |                                         |
 * | BIGINT                      | Int64                                        | read as bigint, never number            |
 * | UTINYINT/USMALLINT/UINTEGER | Uint8/Uint16/Uint32                          |                                         |
 * | UBIGINT                     | Uint64                                       |                                         |
 * | HUGEINT/UHUGEINT            | Utf8 (decimal text)                          | metadata keeps the DuckDB type          |
 * | FLOAT/DOUBLE                | Float32/Float64                              |                                         |
 * | DECIMAL(p,s)                | Decimal(scale s, precision p, bitWidth 128)  | 4 little-endian uint32 words, 2's compl.|
 * | VARCHAR, ENUM, UUID, JSON   | Utf8                                         | UUID in canonical 8-4-4-4-12 text       |
 * | BLOB                        | Binary                                       |                                         |
 * | DATE                        | DateDay                                      | int32 days since 1970-01-01             |
 * | TIME                        | TimeMicrosecond                              | int64 µs since midnight                 |
 * | TIMESTAMP (any precision)   | TimestampMicrosecond, no time zone           | int64 µs since epoch                    |
 * | TIMESTAMP WITH TIME ZONE    | TimestampMicrosecond, time zone 'UTC'        | int64 µs since epoch (UTC instant)      |
 * | INTERVAL                    | Struct<months: Int32, days: Int32, micros: Int64> |                                    |
 * | T[] (LIST)                  | List<T>                                      | element mapped recursively              |
 * | STRUCT(…)                   | Struct<…>                                    | children mapped recursively             |
 * | anything else (MAP, UNION, BIT, VARINT, …) | Utf8 (DuckDB's VARCHAR cast)  |                                         |
 *
 * Every field carries metadata `veilsql.type` = the DuckDB type string (e.g. `DECIMAL(12,2)`,
 * `UUID`, `JSON`, `INTEGER[]`), which is the source of truth for the column's SQL type.
 */
export { DUCKDB_TYPE_METADATA_KEY } from './connector.js';
