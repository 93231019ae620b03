/** Public surface of the Postgres wire gateway. */
export { startPgGateway, type PgGateway, type PgGatewayOptions, type PgUserConfig } from './server.js';
export { PG_SERVER_VERSION, PG_SERVER_VERSION_NUM, PG_VERSION_STRING, VEILSQL_VERSION } from './version.js';
export { makeVerifier, formatVerifier, parseVerifier, type ScramVerifier } from './scram.js';
export { pgTypeFor, duckdbTypeForOid, PG_SCALARS, type PgType, type PgKind } from './types.js';
export type { WireLogger } from './wire-session.js';
