/**
 * The DuckDB ↔ Postgres type mapping of the wire layer. It lives in
 * `executor/pg-catalog/pg-types.ts` because the catalog emulation (pg_attribute, pg_type,
 * format_type) must announce exactly the OIDs the wire layer encodes with; imports flow
 * server → executor, so the pure mapping sits below both.
 */
export * from '../../executor/pg-catalog/pg-types.js';
