/**
 * The PostgreSQL 15 reference for integration tests (one import for suites):
 * - `startPostgres()` — a throwaway server on a free loopback port (postgres-server.ts);
 * - `loadDemoIntoPostgres(pg, dir, description)` — the demo federation as one schema per party and
 *   UNION ALL views per federation (postgres-load.ts);
 * - `compareResults(ours, theirs, { ordered })` — type-normalising comparison with a readable diff
 *   (compare-results.ts).
 */
export { findPostgresBinDir, RAW_TYPES, startPostgres } from './postgres-server.js';
export type { PostgresServer } from './postgres-server.js';
export { duckdbToPostgresType, loadDemoIntoPostgres, quoteIdent } from './postgres-load.js';
export type { LoadSummary, PgTarget } from './postgres-load.js';
export { compareResults, expectSameResults, normalizeDecimal } from './compare-results.js';
export type { CompareOptions, CompareResult, Row } from './compare-results.js';
export { copyFromBuffer } from './pg-copy.js';
