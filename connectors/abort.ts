/**
 * What an aborted AbortSignal turns into at the connector layer. The executor aborts with a
 * SqlError when it knows why (another party failed, the statement timed out) and that reason is
 * kept; a bare `abort()` (DOMException AbortError) becomes Postgres' "query canceled".
 */
import { SqlError, SqlState } from '../parser/errors.js';

export function abortReason(signal: AbortSignal): SqlError {
  const reason: unknown = signal.reason;
  if (reason instanceof SqlError) return reason;
  return new SqlError(SqlState.queryCanceled, 'canceling statement due to user request', { cause: reason });
}
