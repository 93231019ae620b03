/**
 * The hub's line to the key holders. A `HolderRelay` serves one lender session: it takes t
 * evaluation sessions (`toprf-eval/1`, one per holder of a set the hub picks) and sends every
 * batch of blinded elements to all of them. A holder that fails is replaced by another — the
 * batch is redone with the new set, whose Lagrange weights differ — while t remain; otherwise
 * the lender gets 08006 naming the unreachable holders.
 *
 * Sessions are pooled across lender sessions (`HolderSessionPool`): a single-applicant query
 * then costs one round trip to the holders instead of opening streams (and the holders write
 * one audit entry per pooled session, with the number of elements it evaluated, rather than
 * one per query). Idle sessions close after 20 s; none is reused after 10 minutes.
 */
import type { FrameChannel } from '../../../connectors/connector.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { decodeElements, encodeElements } from '../../protocols/toprf/messages.js';
import type { EpochRecord } from './hub-store.js';
import { TOPRF_EVAL_PROTOCOL } from './protocol.js';
import type { DedupeNode, DedupeTable } from './services.js';
import { finishSession } from './session-io.js';

const IDLE_MS = 20_000;
const MAX_AGE_MS = 10 * 60_000;
/** Pooled sessions live longer than any lender session; the holder's timeout must allow it. */
const POOLED_SESSION_TIMEOUT_MS = 15 * 60_000;

interface HolderSet {
  holders: string[];
  channels: FrameChannel[];
  opened: number;
  lastUsed: number;
}

export interface RelayHost {
  readonly dedupeNode: DedupeNode;
  /** t holders of the epoch, avoiding `exclude` and recently failed ones; undefined if too few. */
  pickHolders(epoch: EpochRecord, exclude: Set<string>): string[] | undefined;
  markHolderDown(holder: string): void;
  isHolderDown(holder: string): boolean;
}

export class HolderSessionPool {
  private readonly idle = new Map<string, HolderSet[]>();
  private timer: NodeJS.Timeout | undefined;

  take(table: string, epoch: number, usable: (holders: string[]) => boolean): HolderSet | undefined {
    const list = this.idle.get(`${table}#${epoch}`) ?? [];
    const now = Date.now();
    for (let i = list.length - 1; i >= 0; i--) {
      const s = list[i];
      if (now - s.opened > MAX_AGE_MS) {
        list.splice(i, 1);
        close(s);
      } else if (usable(s.holders)) {
        list.splice(i, 1);
        return s;
      }
    }
    return undefined;
  }

  give(table: string, epoch: number, set: HolderSet): void {
    set.lastUsed = Date.now();
    const key = `${table}#${epoch}`;
    this.idle.set(key, [...(this.idle.get(key) ?? []), set]);
    this.timer ??= setInterval(() => this.sweep(), IDLE_MS / 2);
    this.timer.unref();
  }

  /** Closes the idle sessions of an epoch (retired) or, without arguments, all of them. */
  close(table?: string, epoch?: number): void {
    for (const [key, list] of this.idle) {
      if (table !== undefined && key !== `${table}#${epoch}`) continue;
      for (const s of list) close(s);
      this.idle.delete(key);
    }
    if (table === undefined && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, list] of this.idle) {
      const keep = list.filter((s) => now - s.lastUsed < IDLE_MS && now - s.opened < MAX_AGE_MS);
      for (const s of list) if (!keep.includes(s)) close(s);
      if (keep.length) this.idle.set(key, keep);
      else this.idle.delete(key);
    }
  }
}

function close(set: HolderSet): void {
  for (const c of set.channels) finishSession(c);
}

export class HolderRelay {
  private current: HolderSet | undefined;
  /** A batch is out at the holders: the sessions must not go back to the pool now. */
  private busy = false;
  private readonly failed = new Map<string, string>();

  constructor(
    private readonly host: RelayHost,
    private readonly pool: HolderSessionPool,
    private readonly t: DedupeTable,
    private readonly epoch: EpochRecord,
    private readonly signal: AbortSignal,
  ) {}

  /** The t holders' answers to one batch of blinded elements. */
  async evaluate(elements: Uint8Array): Promise<Uint8Array[]> {
    for (;;) {
      if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new SqlError(SqlState.queryCanceled, 'canceled');
      const { set, reused } = await this.acquire();
      this.busy = true;
      try {
        await Promise.all(set.channels.map((c) => c.send(encodeElements(this.epoch.epoch, elements))));
        const answers = await Promise.all(set.channels.map(async (c, i) => {
          const answer = decodeElements(await c.receive());
          if (answer.epoch !== this.epoch.epoch || answer.elements.length !== elements.length) {
            throw new SqlError(SqlState.protocolViolation, `key holder "${set.holders[i]}" answered ${answer.count} elements of epoch ${answer.epoch}`);
          }
          return answer.elements;
        }));
        this.busy = false;
        return answers;
      } catch (e) {
        this.busy = false;
        for (const c of set.channels) c.destroy();
        this.current = undefined;
        const down = e instanceof SqlError && (e.sqlstate === SqlState.connectionFailure || e.sqlstate === SqlState.queryCanceled);
        if (!down || this.signal.aborted) throw e;
        // A pooled session may simply have expired at the holder: retry on fresh sessions first.
        if (reused) continue;
        const holder = set.holders.find((h) => (e as Error).message.includes(`"${h}"`)) ?? set.holders[0];
        this.failed.set(holder, (e as Error).message);
        this.host.markHolderDown(holder);
      }
    }
  }

  private async acquire(): Promise<{ set: HolderSet; reused: boolean }> {
    if (this.current) return { set: this.current, reused: false };
    const pooled = this.pool.take(this.t.name, this.epoch.epoch, (hs) => hs.every((h) => !this.failed.has(h) && !this.host.isHolderDown(h)));
    if (pooled) {
      this.current = pooled;
      return { set: pooled, reused: true };
    }
    const node = this.host.dedupeNode;
    for (;;) {
      const holders = this.host.pickHolders(this.epoch, new Set(this.failed.keys()));
      if (!holders) {
        const reasons = [...this.failed].map(([h, why]) => `${h} (${why})`).join('; ');
        throw new SqlError(SqlState.connectionFailure, `too few key holders of ${this.t.name} are reachable: ${this.epoch.threshold} of ${this.epoch.holders.length} are needed; unreachable: ${reasons}`);
      }
      const indices = holders.map((h) => this.epoch.holders.indexOf(h) + 1);
      // Pooled sessions belong to the hub, not to this lender's session: the hub's own signal.
      const opened = await Promise.allSettled(holders.map((h) =>
        node.connector(h).openProtocol(
          { queryId: `eval-${this.t.name}-${this.epoch.epoch}`, protocol: TOPRF_EVAL_PROTOCOL, params: { table: this.t.name, epoch: this.epoch.epoch, set: indices }, timeoutMs: POOLED_SESSION_TIMEOUT_MS },
          node.signal,
        ),
      ));
      const ok = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (ok.length === holders.length) {
        this.current = { holders, channels: ok, opened: Date.now(), lastUsed: Date.now() };
        return { set: this.current, reused: false };
      }
      for (const c of ok) c.destroy();
      for (const [i, r] of opened.entries()) {
        if (r.status === 'fulfilled') continue;
        const down = r.reason instanceof SqlError && r.reason.sqlstate === SqlState.connectionFailure;
        if (!down) throw r.reason;
        this.failed.set(holders[i], r.reason instanceof Error ? r.reason.message : String(r.reason));
        this.host.markHolderDown(holders[i]);
      }
    }
  }

  /** Returns healthy sessions to the pool (the lender session is over). */
  release(): void {
    if (this.current && !this.busy) this.pool.give(this.t.name, this.epoch.epoch, this.current);
    else if (this.current) for (const c of this.current.channels) c.destroy();
    this.current = undefined;
  }
}
