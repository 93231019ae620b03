/**
 * The Postgres version VeilSQL reports (defined once in `executor/pg-catalog/version.ts`, so the
 * ParameterStatus the wire layer sends and what `version()` / `SHOW server_version` answer can
 * never drift apart) and the protocol codes of the startup phase.
 */
export { PG_SERVER_VERSION, PG_SERVER_VERSION_NUM, PG_VERSION_STRING, VEILSQL_VERSION } from '../../executor/pg-catalog/version.js';

/** Protocol 3.0, the only major version any current client speaks. */
export const PROTOCOL_3_0 = 196608;
/** Special "protocol versions" that mark the pre-startup request packets. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
