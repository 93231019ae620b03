/**
 * Which of the lenders a dedupe query counts have not uploaded tokens under the key epoch the
 * query uses — so the analyst learns that an answer is incomplete (right after an alliance
 * starts, or after a lender was down through a key rotation) instead of reading 0 as "no match".
 *
 * Wire: a requester that understands it sets `status: true` in its `dedupe-hub/1` query request;
 * the hub then answers the first GROUPS frame with one JSON frame `{ epoch, missing: [{ lender,
 * heardSecondsAgo }] }` before its COUNTS frame. An older hub ignores the flag and sends COUNTS
 * at once; an older requester never sets it — either way nothing breaks. The requester checks the
 * frame strictly (a malformed one fails the session with 08P01).
 *
 * Reveals which lenders have uploaded under an epoch and when the hub last heard from them:
 * alliance members already know this operationally (the hub's epoch switch waits for them).
 */
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { Notice } from '../../session-types.js';

export interface MissingLender {
  lender: string;
  /** Seconds since the lender's last sync session at the hub; null: none since the hub started. */
  heardSecondsAgo: number | null;
}

export interface UploadStatus {
  epoch: number;
  missing: MissingLender[];
}

/** Names listed in the notice; the rest are counted only (the detail has up to this many more). */
const LISTED = 10;
const DETAILED = 50;

/** The status frame's body: `lenders` (the query's) that have not uploaded under `epoch`. */
export function uploadStatus(epoch: number, lenders: readonly string[], filled: ReadonlySet<string>, lastHeard: (lender: string) => number | undefined, now: number): UploadStatus {
  const missing = [...new Set(lenders)].filter((l) => !filled.has(l)).map((lender) => {
    const at = lastHeard(lender);
    return { lender, heardSecondsAgo: at === undefined ? null : Math.max(0, Math.floor((now - at) / 1000)) };
  });
  return { epoch, missing };
}

function bad(message: string): never {
  throw new SqlError(SqlState.protocolViolation, `dedupe hub upload status: ${message}`);
}

/** Checks a status frame (already decoded as a JSON object) against the query that asked for it. */
export function parseUploadStatus(value: Record<string, unknown>, epoch: number, lenders: readonly string[]): UploadStatus {
  if (value.epoch !== epoch) bad(`for epoch ${JSON.stringify(value.epoch)}, the query uses epoch ${epoch}`);
  const list = value.missing;
  if (!Array.isArray(list) || list.length > lenders.length) bad('missing must be a list of at most the lenders counted');
  const asked = new Set(lenders);
  const seen = new Set<string>();
  const missing = list.map((m: unknown): MissingLender => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) bad('every missing entry must be an object');
    const { lender, heardSecondsAgo } = m as Record<string, unknown>;
    if (typeof lender !== 'string' || !asked.has(lender)) bad(`${JSON.stringify(lender)} is not a lender this query counts`);
    if (seen.has(lender)) bad(`${lender} is listed twice`);
    seen.add(lender);
    if (heardSecondsAgo !== null && !(Number.isInteger(heardSecondsAgo) && (heardSecondsAgo as number) >= 0)) bad(`heardSecondsAgo of ${lender} must be a non-negative integer or null`);
    return { lender, heardSecondsAgo: heardSecondsAgo as number | null };
  });
  return { epoch, missing };
}

function ago(seconds: number | null): string {
  if (seconds === null) return 'not since the hub started';
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

/** The analyst's warning (01000): the answer stands, but these lenders' applications are not in it. */
export function uploadStatusNotice(table: string, status: UploadStatus, counted: number): Notice | undefined {
  const { missing } = status;
  if (missing.length === 0) return undefined;
  const names = missing.slice(0, LISTED).map((m) => m.lender).join(', ') + (missing.length > LISTED ? ', …' : '');
  const have = missing.length === 1 ? 'has' : 'have';
  const their = missing.length === 1 ? 'its' : 'their';
  const heard = missing.slice(0, DETAILED).map((m) => `${m.lender} ${ago(m.heardSecondsAgo)}`).join(', ') + (missing.length > DETAILED ? `, and ${missing.length - DETAILED} more` : '');
  return {
    severity: 'WARNING',
    code: '01000',
    message: `DEDUPE: ${table}: ${missing.length} of ${counted} lenders counted ${have} not uploaded tokens under the current key epoch yet (${names}); ${their} applications are not counted`,
    detail: `Key epoch ${status.epoch}. The hub last heard from: ${heard}.`,
    hint: 'Lenders upload at their sync interval and after every key rotation; repeat the query once they have.',
  };
}
