/**
 * Plumbing shared by both halves of the SECURE JOIN operator: reading the protocol's frames off
 * a FrameChannel with validation, mapping protocol and worker failures to SqlErrors, and
 * bounded pipelining of worker-pool batches (so every core stays busy while memory holds only a
 * few batches in flight).
 */
import { setMaxListeners } from 'node:events';
import type { FrameChannel } from '../../../connectors/connector.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { decodeFrame, PsiProtocolError, type Frame } from '../../protocols/psi/messages.js';

/** The next frame of the session, or null when the peer ended its side. */
export async function nextFrame(channel: FrameChannel): Promise<Frame | null> {
  const bytes = await channel.receive();
  return bytes === null ? null : decodeFrame(bytes);
}

/** Maps an error from the protocol layer to what the analyst (or the peer) sees. */
export function asSqlError(e: unknown, who: string): SqlError {
  if (e instanceof SqlError) return e;
  if (e instanceof PsiProtocolError) return new SqlError(SqlState.protocolViolation, `SECURE JOIN protocol violation by ${who}: ${e.message}`);
  return new SqlError(SqlState.internalError, `SECURE JOIN failed: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * Runs `tasks` (each producing a promise) with at most `window` in flight and hands results to
 * `sink` in order. Stops at the first failure (the rest are not started).
 */
export async function pipelined<T>(
  count: number,
  window: number,
  start: (i: number) => Promise<T>,
  sink: (i: number, value: T) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<void> {
  const inFlight: Promise<T>[] = [];
  let next = 0;
  const fill = () => {
    while (next < count && inFlight.length < window) {
      const p = start(next++);
      p.catch(() => undefined); // observed below, in order
      inFlight.push(p);
    }
  };
  fill();
  for (let i = 0; i < count; i++) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const value = await inFlight.shift()!;
    fill();
    await sink(i, value);
  }
}

/** A few batches per core keep workers busy without buffering the whole set. */
export const PIPELINE_WINDOW = 6;

/** Rate-limited progress reporting: at most one notice per `ms` and per 10 % step. */
export function progressReporter(total: number, report: (done: number, total: number) => void, ms = 1_000): (done: number) => void {
  let lastAt = 0;
  let lastPct = -1;
  return (done) => {
    const pct = total === 0 ? 100 : Math.floor((100 * done) / total);
    const now = Date.now();
    if (done < total && (now - lastAt < ms || pct < lastPct + 10)) return;
    if (pct === lastPct) return;
    lastAt = now;
    lastPct = pct;
    report(done, total);
  };
}

/**
 * A signal that follows `parent` and may carry one listener per in-flight worker batch (more
 * than Node's default warning threshold of 10); `parent` itself is left untouched.
 */
export function sessionSignal(parent: AbortSignal): AbortSignal {
  const local = new AbortController();
  setMaxListeners(0, local.signal);
  if (parent.aborted) local.abort(parent.reason);
  else parent.addEventListener('abort', () => local.abort(parent.reason), { once: true });
  return local.signal;
}
