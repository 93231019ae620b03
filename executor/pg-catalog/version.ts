/**
 * The Postgres version VeilSQL reports. One fixed 16.x release: psql chooses its catalog SQL by
 * server major version, PgJDBC picks its startup SQL by it, and SQLAlchemy parses `version()`
 * with a `PostgreSQL N.N` regex, so the values below must agree and never drift. The wire layer
 * (ParameterStatus `server_version`, via `server/pgwire/version.ts`) and the engine (`version()`,
 * `SHOW server_version`, `server_version_num`, pg_settings) both import them from here.
 */
export const PG_SERVER_VERSION = '16.4';
export const PG_SERVER_VERSION_NUM = 160004;
export const VEILSQL_VERSION = '0.1.0';
export const PG_VERSION_STRING =
  `PostgreSQL ${PG_SERVER_VERSION} (VeilSQL ${VEILSQL_VERSION}) on x86_64-pc-linux-gnu, ` +
  'compiled by tsc 5.9.3, 64-bit';
