/**
 * The party-endpoint HTTP/2 protocol, shared by the server (`server/party-endpoint.ts`) and the
 * client (`connectors/remote.ts`): routes, header names, how a SqlError travels, and the
 * validation of a FragmentRequest body.
 *
 * - `GET  /v1/health`            → 200 JSON `{ status: "ok", party }`
 * - `GET  /v1/catalog`           → 200 JSON PartyCatalog for the requester
 * - `POST /v1/fragment`          → 200 Arrow IPC stream, then trailers
 * - `POST /v1/protocol/<name>?k=v` → 200 length-prefixed frames both ways (see frames.ts), then trailers
 *
 * Errors before the response starts: a 4xx/5xx status with a JSON `WireError` body. Errors
 * after it started: the trailer `veilsql-error` (base64url JSON WireError). A stream that
 * finished cleanly ends with the trailer `veilsql-status: ok`; a stream that ends without
 * either trailer was cut off, and the client reports the party as unreachable rather than
 * returning a silently truncated result.
 */
import type { FragmentRequest } from './connector.js';
import { SqlError, SqlState } from '../parser/errors.js';

export const ROUTE_HEALTH = '/v1/health';
export const ROUTE_CATALOG = '/v1/catalog';
export const ROUTE_FRAGMENT = '/v1/fragment';
export const ROUTE_PROTOCOL_PREFIX = '/v1/protocol/';

export const ERROR_TRAILER = 'veilsql-error';
export const STATUS_TRAILER = 'veilsql-status';
export const ROWS_TRAILER = 'veilsql-rows';
export const JSON_CONTENT_TYPE = 'application/json';
export const FRAMES_CONTENT_TYPE = 'application/vnd.veilsql.frames';

/** Upper bound on a FragmentRequest's timeout: a day; anything longer is a bug upstream. */
const MAX_TIMEOUT_MS = 86_400_000;
const MAX_QUERY_ID_LENGTH = 200;

export interface WireError {
  sqlstate: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: number;
}

/** What the party tells a requester about a failure. Non-SqlErrors become XX000 without internals. */
export function errorToWire(e: unknown): WireError {
  if (e instanceof SqlError) {
    const w: WireError = { sqlstate: e.sqlstate, message: e.message };
    if (e.detail !== undefined) w.detail = e.detail;
    if (e.hint !== undefined) w.hint = e.hint;
    if (e.position !== undefined) w.position = e.position;
    return w;
  }
  // A plain Error here is a bug or a library failure at the party; its message is useful, its
  // stack is not the requester's business.
  const message = e instanceof Error ? e.message : String(e);
  return { sqlstate: SqlState.internalError, message: `internal error: ${message}` };
}

/**
 * The requester-side SqlError for a party's WireError: the party's SQLSTATE, the message
 * prefixed with the party name unless it already names it. The position refers to the fragment
 * text, not the analyst's statement, so it moves into the detail.
 */
export function wireToSqlError(w: WireError, party: string): SqlError {
  const named = w.message.includes(`"${party}"`) || w.message.startsWith(`${party}:`);
  const message = named ? w.message : `party "${party}": ${w.message}`;
  const extra: { detail?: string; hint?: string } = {};
  const details: string[] = [];
  if (w.detail) details.push(w.detail);
  if (typeof w.position === 'number') details.push(`at character ${w.position} of the fragment sent to "${party}"`);
  if (details.length > 0) extra.detail = details.join('\n');
  if (w.hint) extra.hint = w.hint;
  return new SqlError(typeof w.sqlstate === 'string' && /^[0-9A-Z]{5}$/.test(w.sqlstate) ? w.sqlstate : SqlState.internalError, message, extra);
}

/** Parses a WireError from JSON text; anything malformed becomes a protocol violation. */
export function parseWireError(text: string, party: string, status: number): SqlError {
  try {
    const w = JSON.parse(text) as Partial<WireError>;
    if (w && typeof w.message === 'string' && typeof w.sqlstate === 'string') return wireToSqlError(w as WireError, party);
  } catch {
    // fall through
  }
  return new SqlError(SqlState.protocolViolation, `party "${party}" answered HTTP ${status} without a readable error`, {
    detail: text.slice(0, 200),
  });
}

export function encodeErrorTrailer(w: WireError): string {
  return Buffer.from(JSON.stringify(w), 'utf8').toString('base64url');
}

export function decodeErrorTrailer(value: string, party: string): SqlError {
  let text: string;
  try {
    text = Buffer.from(value, 'base64url').toString('utf8');
  } catch {
    text = '';
  }
  return parseWireError(text, party, 200);
}

/** The HTTP status for an error answered before streaming (informative; clients use the body). */
export function httpStatusFor(sqlstate: string): number {
  if (sqlstate === SqlState.insufficientPrivilege || sqlstate.startsWith('28')) return 403;
  if (sqlstate === SqlState.undefinedTable || sqlstate === SqlState.undefinedColumn) return 404;
  if (sqlstate === SqlState.queryCanceled) return 504;
  if (sqlstate === '54000') return 413;
  if (/^(42|22|0A|08P01)/.test(sqlstate)) return 400;
  return 500;
}

/** Validates a decoded FragmentRequest body; SqlError 08P01 naming the bad field otherwise. */
export function validateFragmentRequest(body: unknown): FragmentRequest {
  const bad = (what: string) => new SqlError(SqlState.protocolViolation, `invalid fragment request: ${what}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('expected a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'queryId' && key !== 'sql' && key !== 'timeoutMs') throw bad(`unknown field "${key}"`);
  }
  if (typeof b.queryId !== 'string' || b.queryId.length === 0 || b.queryId.length > MAX_QUERY_ID_LENGTH) {
    throw bad(`queryId must be a non-empty string of at most ${MAX_QUERY_ID_LENGTH} characters`);
  }
  if (typeof b.sql !== 'string' || b.sql.trim() === '') throw bad('sql must be a non-empty string');
  if (typeof b.timeoutMs !== 'number' || !Number.isInteger(b.timeoutMs) || b.timeoutMs <= 0 || b.timeoutMs > MAX_TIMEOUT_MS) {
    throw bad(`timeoutMs must be an integer between 1 and ${MAX_TIMEOUT_MS}`);
  }
  return { queryId: b.queryId, sql: b.sql, timeoutMs: b.timeoutMs };
}
