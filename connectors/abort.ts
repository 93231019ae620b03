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

/** Rejects with the signal's reason as soon as it aborts, whatever `promise` is doing. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
