/**
 * The Postgres version VeilSQL reports. One fixed 16.x release: psql chooses its catalog SQL by
 * server major version, PgJDBC picks its startup SQL by it, and SQLAlchemy parses `version()`
 * with a `PostgreSQL N.N` regex, so the three values below must agree and never drift. The
 * catalog layer (`version()`, `SHOW server_version`, `server_version_num`) imports them.
 */
export const PG_SERVER_VERSION = '16.4';
export const PG_SERVER_VERSION_NUM = 160004;
export const VEILSQL_VERSION = '0.1.0';
export const PG_VERSION_STRING =
  `PostgreSQL ${PG_SERVER_VERSION} (VeilSQL ${VEILSQL_VERSION}) on x86_64-pc-linux-gnu, ` +
  'compiled by tsc 5.9.3, 64-bit';

/** Protocol 3.0, the only major version any current client speaks. */
export const PROTOCOL_3_0 = 196608;
/** Special "protocol versions" that mark the pre-startup request packets. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
