/**
 * The hub of a dedupe table (`role: hub`): it relays every threshold-OPRF evaluation to the key
 * holders (so they never learn which lender asks), stores the tokens lenders upload as
 * (token, lender, bucket) per key epoch — in its DuckDB and in an in-memory index — and answers
 * per-group counts of distinct lenders. It orchestrates the key epochs: the first key at start,
 * a fresh jointly generated key every `epoch`, a filling period while lenders re-tokenise under
 * the new key, then the switch and the destruction of the old key's shares and tokens.
 *
 * What the hub sees is exactly what EXPLAIN states: blinded elements and the holders' blinded
 * answers, tokens with the uploading lender and bucket, and for a query the requester, its
 * grouped tokens, the bucket range and the lenders counted — never an ID or a plain hash.
 * What a requester sees besides its counts: which of the lenders it counts have not uploaded
 * under the query's epoch and when the hub last heard from them (upload-status.ts) — already
 * public to alliance members operationally, as the epoch switch waits for those uploads.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { loadSodium } from '../../protocols/pir/oprf.js';
import { checkPublicShares, sumCommitments } from '../../protocols/toprf/key-generation.js';
import {
  decodeCommit, decodeElements, decodeGroups, decodeJson, decodeRows, encodeAnswers, encodeCounts, encodeElements, encodeJson,
  expectFrame, FrameType, rowBucket, rowToken, UPLOAD_ADD,
} from '../../protocols/toprf/messages.js';
import { TokenIndex } from './hub-index.js';
import { applyUpload, dropEpochTokens, ensureHubSchema, loadEpochs, loadTokens, markFilled, saveEpoch, type EpochRecord } from './hub-store.js';
import {
  asSqlError, fromHex, parseHubRequest, toHex, TOPRF_EVAL_PROTOCOL, TOPRF_KEYGEN_PROTOCOL,
  type HubQueryRequest,
} from './protocol.js';
import { HolderRelay, HolderSessionPool, type RelayHost } from './holder-relay.js';
import type { DedupeNode, DedupeTable } from './services.js';
import { requestJson } from './session-io.js';
import { uploadStatus } from './upload-status.js';

/** A holder that failed is skipped for this long before it is tried again. */
const HOLDER_RETRY_MS = 30_000;
/** Rows a lender may upload in one session (bounds the hub's buffer). */
const MAX_UPLOAD_ROWS = 20_000_000;

const key = (table: string, epoch: number) => `${table}#${epoch}`;

export interface HubEpochStatus {
  epoch: number;
  state: EpochRecord['state'];
  rows: number;
  filled: string[];
}

export class HubService implements RelayHost {
  private readonly tables = new Map<string, DedupeTable>();
  private readonly epochs = new Map<string, EpochRecord[]>();
  private readonly indexes = new Map<string, TokenIndex>();
  private readonly lenderLocks = new Map<string, Promise<unknown>>();
  private readonly holderDownUntil = new Map<string, number>();
  /** When each lender's last sync session began, per table (in memory: "since the hub started"). */
  private readonly lastHeard = new Map<string, number>();
  private roundRobin = 0;
  private readonly sessions = new HolderSessionPool();
  private ticking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly node: DedupeNode, tables: DedupeTable[]) {
    for (const t of tables) this.tables.set(t.name, t);
  }

  /** Loads epochs and the token index of every live epoch from the hub's database. */
  async load(): Promise<void> {
    await this.node.local('hub: load token index', async (ctx) => {
      const db = await ctx.database();
      try {
        await ensureHubSchema(db);
        for (const e of await loadEpochs(db)) {
          const t = this.tables.get(e.table);
          if (!t || e.state === 'retired') continue;
          const list = this.epochs.get(e.table) ?? [];
          list.push(e);
          this.epochs.set(e.table, list);
          const index = new TokenIndex(t.def.parties.length);
          const rows = await loadTokens(db, e.table, e.epoch, index);
          this.indexes.set(key(e.table, e.epoch), index);
          this.node.logger.info(`${this.node.name}: dedupe ${e.table} epoch ${e.epoch} (${e.state}): ${rows} token rows loaded`);
        }
      } finally {
        db.closeSync();
      }
    });
  }

  startTimer(): void {
    const every = Math.min(5, ...[...this.tables.values()].map((t) => t.settings.syncSeconds)) * 1000;
    const run = () => {
      this.tick().catch((e: unknown) => this.node.logger.warn(`${this.node.name}: dedupe epoch bookkeeping failed: ${e instanceof Error ? e.message : String(e)}`));
    };
    run();
    this.timer = setInterval(run, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sessions.close();
  }

  /** The live epochs of a table (for tests, benchmarks and SHOW-style status). */
  status(table: string): HubEpochStatus[] {
    return (this.epochs.get(table) ?? []).map((e) => ({ epoch: e.epoch, state: e.state, rows: this.indexes.get(key(table, e.epoch))?.size ?? 0, filled: [...e.filled] }));
  }

  /** The index of a live epoch (tests and audits: what the hub holds). */
  index(table: string, epoch: number): TokenIndex | undefined {
    return this.indexes.get(key(table, epoch));
  }

  private active(table: string): EpochRecord | undefined {
    return this.epochs.get(table)?.find((e) => e.state === 'active');
  }

  private filling(table: string): EpochRecord | undefined {
    return this.epochs.get(table)?.find((e) => e.state === 'filling');
  }

  // ---- epochs --------------------------------------------------------------------------------

  /**
   * One round of epoch bookkeeping for every table: generate the first key, start a new epoch
   * when the active one is `epoch` old, switch to a filled epoch (every lender uploaded, or the
   * grace period passed). `rotate` starts a new epoch now (operators, tests).
   */
  tick(options: { rotate?: boolean; now?: number } = {}): Promise<void> {
    const run = async () => {
      for (const t of this.tables.values()) await this.tickTable(t, options.rotate ?? false, options.now ?? Date.now());
    };
    const next = (this.ticking ?? Promise.resolve()).catch(() => undefined).then(run);
    this.ticking = next;
    return next;
  }

  private async tickTable(t: DedupeTable, rotate: boolean, now: number): Promise<void> {
    const active = this.active(t.name);
    const filling = this.filling(t.name);
    const last = Math.max(0, ...(this.epochs.get(t.name) ?? []).map((e) => e.epoch));
    if (!active && !filling) {
      // A new alliance: its first key is active at once (there is nothing to replace).
      await this.createEpoch(t, last + 1, 'active', now);
      return;
    }
    if (filling) {
      const complete = t.def.parties.every((p) => filling.filled.has(p));
      if (!active || complete || now - filling.createdAt >= t.settings.graceSeconds * 1000) await this.activate(t, filling, active, now);
      return;
    }
    if (active && (rotate || now - (active.activatedAt ?? active.createdAt) >= t.settings.epochSeconds * 1000)) {
      await this.createEpoch(t, last + 1, 'filling', now);
    }
  }

  /** Jointly generates the key of `epoch` at the key holders and records the epoch. */
  private async createEpoch(t: DedupeTable, epoch: number, state: 'active' | 'filling', now: number): Promise<void> {
    const holders = [...t.settings.keyHolders];
    const threshold = t.settings.threshold;
    const signal = this.node.signal;
    const ask = (holder: string, params: unknown) =>
      requestJson(this.node.connector(holder), { queryId: `keygen-${t.name}-${epoch}`, protocol: TOPRF_KEYGEN_PROTOCOL, params, timeoutMs: this.node.sessionTimeoutMs }, signal);
    // 1. Every holder deals (its sub-shares go to the other holders directly, not through us).
    const dealt = await Promise.all(holders.map((h) => ask(h, { op: 'deal', table: t.name, epoch, threshold, holders })));
    const sodium = await loadSodium();
    const commitments = dealt.map((d, i) => {
      const c = d.commitments;
      if (!Array.isArray(c) || c.length !== threshold || !c.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x))) {
        throw new SqlError(SqlState.protocolViolation, `key holder "${holders[i]}" returned malformed commitments for epoch ${epoch} of ${t.name}`);
      }
      return (c as string[]).map(fromHex);
    });
    const joint = sumCommitments(sodium, commitments);
    // 2. Every holder sums what it received; its public share must lie on the joint polynomial.
    const finalized = await Promise.all(holders.map((h) => ask(h, { op: 'finalize', table: t.name, epoch, holders })));
    const shares = finalized.map((f, i) => {
      if (typeof f.publicShare !== 'string' || !/^[0-9a-f]{64}$/.test(f.publicShare)) throw new SqlError(SqlState.protocolViolation, `key holder "${holders[i]}" returned a malformed public share`);
      return { x: i + 1, publicShare: fromHex(f.publicShare) };
    });
    const bad = checkPublicShares(sodium, joint, shares);
    if (bad.length) throw new SqlError(SqlState.protocolViolation, `key generation of epoch ${epoch} for ${t.name}: the shares of ${bad.map((x) => holders[Number(x) - 1]).join(', ')} do not match the dealt commitments`);
    const record: EpochRecord = {
      table: t.name,
      epoch,
      state,
      threshold,
      holders,
      publicKey: toHex(joint[0]),
      createdAt: now,
      ...(state === 'active' ? { activatedAt: now } : {}),
      filled: new Set(),
    };
    await this.withDatabase(`hub: epoch ${epoch} of ${t.name}`, (db) => saveEpoch(db, record));
    this.indexes.set(key(t.name, epoch), new TokenIndex(t.def.parties.length));
    this.epochs.set(t.name, [...(this.epochs.get(t.name) ?? []), record]);
    this.node.logger.info(`${this.node.name}: dedupe ${t.name}: epoch ${epoch} key generated by ${holders.join(', ')} (${threshold}-of-${holders.length}), ${state}`);
  }

  private async activate(t: DedupeTable, next: EpochRecord, previous: EpochRecord | undefined, now: number): Promise<void> {
    next.state = 'active';
    next.activatedAt = now;
    await this.withDatabase(`hub: activate epoch ${next.epoch} of ${t.name}`, async (db) => {
      await saveEpoch(db, next);
      if (previous) {
        previous.state = 'retired';
        await saveEpoch(db, previous);
        await dropEpochTokens(db, t.name, previous.epoch);
      }
    });
    if (previous) {
      this.indexes.delete(key(t.name, previous.epoch));
      this.sessions.close(t.name, previous.epoch);
      this.epochs.set(t.name, (this.epochs.get(t.name) ?? []).filter((e) => e !== previous));
      // The old key's shares are destroyed: its tokens can no longer be linked to anything new.
      await Promise.all(previous.holders.map(async (h) => {
        try {
          await requestJson(this.node.connector(h), { queryId: `retire-${t.name}-${previous.epoch}`, protocol: TOPRF_KEYGEN_PROTOCOL, params: { op: 'retire', table: t.name, epoch: previous.epoch }, timeoutMs: this.node.sessionTimeoutMs }, this.node.signal);
        } catch (e) {
          this.node.logger.warn(`${this.node.name}: key holder ${h} did not confirm deleting epoch ${previous.epoch} of ${t.name} (it deletes it at its next key generation): ${e instanceof Error ? e.message : String(e)}`);
        }
      }));
    }
    this.node.logger.info(`${this.node.name}: dedupe ${t.name}: epoch ${next.epoch} active (${next.filled.size}/${t.def.parties.length} lenders uploaded)${previous ? `, epoch ${previous.epoch} retired` : ''}`);
  }

  private async withDatabase<T>(what: string, f: (db: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.node.local(what, async (ctx) => {
      const db = await ctx.database();
      try {
        return await f(db);
      } finally {
        db.closeSync();
      }
    });
  }

  // ---- sessions ------------------------------------------------------------------------------

  /** The party side of `dedupe-hub/1`. */
  async session(ctx: PartyProtocolContext): Promise<void> {
    const request = parseHubRequest(ctx.request.params);
    const t = this.tables.get(request.table);
    if (!t) throw new SqlError(SqlState.undefinedTable, `hub "${ctx.party}" keeps no dedupe tokens for ${request.table}`);
    const lender = t.def.parties.indexOf(ctx.requester);
    if (lender < 0) throw new SqlError(SqlState.insufficientPrivilege, `hub "${ctx.party}" serves only the lenders of ${t.name}; "${ctx.requester}" is not one of them`);
    try {
      if (request.op === 'sync') await this.sync(ctx, t, lender);
      else await this.query(ctx, t, request);
    } catch (e) {
      throw asSqlError(e, `dedupe hub session of ${ctx.requester}`);
    }
  }

  private relay(t: DedupeTable, epoch: EpochRecord, signal: AbortSignal): HolderRelay {
    return new HolderRelay(this, this.sessions, t, epoch, signal);
  }

  /** Picks t holders of an epoch, skipping recently failed ones, rotating for load balance. */
  pickHolders(epoch: EpochRecord, exclude: Set<string>): string[] | undefined {
    const now = Date.now();
    const n = epoch.holders.length;
    const start = this.roundRobin++ % n;
    const order = Array.from({ length: n }, (_, i) => epoch.holders[(start + i) % n]).filter((h) => !exclude.has(h));
    const healthy = order.filter((h) => (this.holderDownUntil.get(h) ?? 0) <= now);
    const chosen = [...healthy, ...order.filter((h) => !healthy.includes(h))].slice(0, epoch.threshold);
    return chosen.length === epoch.threshold ? chosen : undefined;
  }

  markHolderDown(holder: string): void {
    this.holderDownUntil.set(holder, Date.now() + HOLDER_RETRY_MS);
  }

  isHolderDown(holder: string): boolean {
    return (this.holderDownUntil.get(holder) ?? 0) > Date.now();
  }

  get dedupeNode(): DedupeNode {
    return this.node;
  }

  private liveEpoch(t: DedupeTable, epoch: number): EpochRecord {
    const e = (this.epochs.get(t.name) ?? []).find((x) => x.epoch === epoch && x.state !== 'retired');
    if (!e) throw new SqlError(SqlState.protocolViolation, `epoch ${epoch} of ${t.name} is not live at the hub`);
    return e;
  }

  /** A lender's sync: evaluations for its new keys, then its row changes per epoch. */
  private async sync(ctx: PartyProtocolContext, t: DedupeTable, lender: number): Promise<void> {
    this.lastHeard.set(`${t.name}#${ctx.requester}`, Date.now());
    const live = (this.epochs.get(t.name) ?? []).filter((e) => e.state !== 'retired');
    await ctx.channel.send(encodeJson({
      epochs: live.map((e) => ({ epoch: e.epoch, state: e.state, rows: this.indexes.get(key(t.name, e.epoch))?.rowsOf(lender) ?? 0, filled: e.filled.has(ctx.requester) })),
    }));
    const relays = new Map<number, HolderRelay>();
    const pending = new Map<number, { adds: Uint8Array[]; removes: Uint8Array[]; rows: number }>();
    let evaluated = 0;
    try {
      for (;;) {
        const frame = await ctx.channel.receive();
        if (frame === null) break;
        const type = expectFrame(frame, FrameType.Elements, FrameType.Rows, FrameType.Commit);
        if (type === FrameType.Elements) {
          const { epoch, count, elements } = decodeElements(frame);
          const e = this.liveEpoch(t, epoch);
          let relay = relays.get(epoch);
          if (!relay) relays.set(epoch, (relay = this.relay(t, e, ctx.signal)));
          await ctx.channel.send(encodeAnswers(epoch, await relay.evaluate(elements)));
          evaluated += count;
        } else if (type === FrameType.Rows) {
          const rows = decodeRows(frame);
          this.liveEpoch(t, rows.epoch);
          const p = pending.get(rows.epoch) ?? { adds: [], removes: [], rows: 0 };
          p.rows += rows.count;
          if (p.rows > MAX_UPLOAD_ROWS) throw new SqlError('54000', `upload of more than ${MAX_UPLOAD_ROWS} rows in one session`);
          (rows.op === UPLOAD_ADD ? p.adds : p.removes).push(rows.rows);
          pending.set(rows.epoch, p);
        } else {
          const { epoch, replace } = decodeCommit(frame);
          const e = this.liveEpoch(t, epoch);
          const p = pending.get(epoch) ?? { adds: [], removes: [], rows: 0 };
          pending.delete(epoch);
          const stored = await this.commit(ctx, t, e, lender, p.adds, p.removes, replace);
          await ctx.channel.send(encodeJson({ epoch, rows: stored }));
        }
      }
      // Rows without their COMMIT are dropped: an interrupted upload leaves nothing behind.
      if (pending.size) throw new SqlError(SqlState.protocolViolation, `upload of ${ctx.requester} ended without COMMIT for epoch ${[...pending.keys()].join(', ')}`);
    } finally {
      for (const r of relays.values()) r.release();
    }
    if (evaluated) await ctx.audit(`relayed ${evaluated} blinded evaluations of ${ctx.requester} to the key holders (${t.name})`);
  }

  /** Applies one lender's upload for one epoch: database first, then the index. */
  private async commit(ctx: PartyProtocolContext, t: DedupeTable, e: EpochRecord, lender: number, adds: Uint8Array[], removes: Uint8Array[], replace: boolean): Promise<number> {
    const lockKey = `${key(t.name, e.epoch)}#${lender}`;
    const previous = this.lenderLocks.get(lockKey) ?? Promise.resolve();
    const work = previous.catch(() => undefined).then(async () => {
      const index = this.indexes.get(key(t.name, e.epoch));
      if (!index) throw new SqlError(SqlState.protocolViolation, `epoch ${e.epoch} of ${t.name} was retired during the upload`);
      const rowsOf = (frames: Uint8Array[]) => frames.flatMap((f) => Array.from({ length: f.length / 20 }, (_, i) => ({ token: rowToken(f, i), bucket: rowBucket(f, i) })));
      // Only real changes reach the database (the index knows what is stored): uploads are idempotent.
      const seen = new Set<string>();
      const dedupe = (r: { token: Uint8Array; bucket: number }) => {
        const id = `${Buffer.from(r.token).toString('latin1')}|${r.bucket}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      };
      const has = (r: { token: Uint8Array; bucket: number }) => index.has(r.token, lender, r.bucket);
      const addRows = rowsOf(adds).filter(dedupe).filter((r) => replace || !has(r));
      const removeRows = replace ? [] : rowsOf(removes).filter(dedupe).filter(has);
      // A replacement of nothing (a lender's first upload) needs no scan of the stored rows.
      const clear = replace && index.rowsOf(lender) > 0;
      const db = await ctx.database();
      try {
        await applyUpload(db, t.name, e.epoch, lender, { adds: addRows, removes: removeRows, replace: clear });
        if (!e.filled.has(ctx.requester)) {
          await markFilled(db, t.name, e.epoch, ctx.requester);
        }
      } finally {
        db.closeSync();
      }
      if (clear) index.removeLender(lender);
      for (const r of removeRows) index.remove(r.token, lender, r.bucket);
      for (const r of addRows) index.add(r.token, lender, r.bucket);
      e.filled.add(ctx.requester);
      await ctx.audit(`upload of ${ctx.requester} for ${t.name} epoch ${e.epoch}: +${addRows.length} −${removeRows.length}${replace ? ' (full replacement)' : ''} token rows`);
      return index.rowsOf(lender);
    });
    this.lenderLocks.set(lockKey, work);
    try {
      return await work;
    } finally {
      if (this.lenderLocks.get(lockKey) === work) this.lenderLocks.delete(lockKey);
    }
  }

  /** A query: evaluations of the requester's keys under the active epoch, then counts per group. */
  private async query(ctx: PartyProtocolContext, t: DedupeTable, request: HubQueryRequest): Promise<void> {
    const allowed = new Uint8Array(t.def.parties.length);
    for (const l of request.lenders) {
      const i = t.def.parties.indexOf(l);
      if (i < 0) throw new SqlError(SqlState.protocolViolation, `"${l}" is not a lender of ${t.name}`);
      allowed[i] = 1;
    }
    const lo = request.lo ?? -0x8000_0000;
    const hi = request.hi ?? 0x7fff_ffff;
    let relay: HolderRelay | undefined;
    let epoch: EpochRecord | undefined;
    let keys = 0;
    let groups = 0;
    let statusSent = false;
    try {
      for (;;) {
        const frame = await ctx.channel.receive();
        if (frame === null) break;
        const type = expectFrame(frame, FrameType.Elements, FrameType.Groups);
        if (type === FrameType.Elements) {
          const { epoch: asked, count, elements } = decodeElements(frame);
          // Epoch 0 = "the active one"; a query keeps the epoch it started with.
          epoch ??= asked === 0 ? this.active(t.name) : this.liveEpoch(t, asked);
          if (!epoch) throw new SqlError('55000', `the dedupe hub of ${t.name} has no active key epoch yet`, { hint: 'The first key is generated when the hub starts and its key holders are reachable; retry shortly.' });
          relay ??= this.relay(t, epoch, ctx.signal);
          await ctx.channel.send(encodeAnswers(epoch.epoch, await relay.evaluate(elements)));
          keys += count;
        } else {
          const q = decodeGroups(frame);
          const index = this.indexes.get(key(t.name, q.epoch));
          if (!index || (epoch && epoch.epoch !== q.epoch)) throw new SqlError(SqlState.protocolViolation, `GROUPS for epoch ${q.epoch}, which this query did not evaluate under`);
          if (request.status && !statusSent) {
            // Once per query, before its first counts (a lender uploading meanwhile is counted yet
            // still listed: the warning errs on the cautious side).
            const e = epoch ?? this.liveEpoch(t, q.epoch);
            await ctx.channel.send(encodeJson(uploadStatus(e.epoch, request.lenders, e.filled, (l) => this.lastHeard.get(`${t.name}#${l}`), Date.now())));
            statusSent = true;
          }
          const g = q.offsets.length - 1;
          const counts = new Uint32Array(g);
          for (let i = 0; i < g; i++) {
            const n = index.countLenders(q.tokens, q.offsets[i], q.offsets[i + 1], lo, hi, allowed);
            counts[i] = request.mode === 'flag' ? (n >= request.threshold! ? 1 : 0) : n;
          }
          await ctx.channel.send(encodeCounts(counts));
          groups += g;
        }
      }
    } finally {
      relay?.release();
    }
    // Appended to the hash chain now, written with the session's closing record in one group
    // commit: a query does not wait for a commit of its own.
    void ctx.audit(`dedupe query of ${ctx.requester} on ${t.name}: ${keys} keys, ${groups} groups, buckets [${request.lo ?? '-inf'}, ${request.hi ?? 'inf'}), ${request.lenders.length} lenders counted, ${request.mode}${request.mode === 'flag' ? ` >= ${request.threshold}` : ''}`).catch(() => undefined);
  }
}
