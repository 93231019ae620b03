/**
 * A key holder of the dedupe tables (`role: key_holder`, possibly also a lender): it takes part
 * in generating each epoch's key (it deals a random polynomial to the other holders, over mutual
 * TLS, and keeps the sum of what it received: its share), answers the hub's evaluation requests
 * with λ·share·B for every blinded element B, and destroys an epoch's share when the hub retires
 * the epoch. It accepts evaluations and key-generation orders only from the table's hub, and
 * sub-shares only from the table's other key holders.
 *
 * It sees blinded elements (uniformly random), batch sizes and the hub's choice of holder set —
 * never an ID, a token, or which lender asked (the hub relays every request). Its share lives in
 * its own DuckDB; fewer than t holders together learn nothing about the epoch key.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '../../../connectors/duckdb-session.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { loadSodium } from '../../protocols/pir/oprf.js';
import { combineDealtShares, deal, publicShare, verifyDealtShare } from '../../protocols/toprf/key-generation.js';
import { decodeElements, encodeElements, encodeJson } from '../../protocols/toprf/messages.js';
import { scalarFromBytes, scalarToBytes } from '../../protocols/toprf/scalars.js';
import { holderScalar } from '../../protocols/toprf/threshold-oprf.js';
import { asSqlError, fromHex, parseEvalRequest, parseKeygenRequest, toHex, TOPRF_KEYGEN_PROTOCOL, type KeygenRequest } from './protocol.js';
import type { DedupeNode, DedupeTable } from './services.js';
import { requestJson } from './session-io.js';
import { toprfPool } from './toprf-pool.js';

interface Share {
  x: number;
  share: bigint;
  threshold: number;
  holders: string[];
}

const PENDING = '__toprf_pending';
const SHARES = '__toprf_shares';

async function ensureSchema(db: DuckDBConnection): Promise<void> {
  await db.run(`CREATE TABLE IF NOT EXISTS ${PENDING} (tbl VARCHAR, epoch INTEGER, dealer VARCHAR, share VARCHAR, commitments VARCHAR, PRIMARY KEY (tbl, epoch, dealer))`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${SHARES} (tbl VARCHAR, epoch INTEGER, x INTEGER, share VARCHAR, threshold INTEGER, holders VARCHAR, created_at BIGINT, PRIMARY KEY (tbl, epoch))`);
}

export class KeyHolderService {
  private readonly tables = new Map<string, DedupeTable>();
  private readonly cache = new Map<string, Share>();
  /** Elements evaluated per table (benchmarks report the rate). */
  readonly evaluated = new Map<string, number>();
  /**
   * Key-generation messages arrive concurrently (the hub's order and the other holders' shares);
   * DuckDB refuses concurrent catalog changes and upserts of one table from two connections, so
   * this holder's writes run one at a time.
   */
  private writes: Promise<unknown> = Promise.resolve();
  private schema: Promise<void> | undefined;

  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.writes.catch(() => undefined).then(f);
    this.writes = run;
    return run;
  }

  private ensureSchema(db: DuckDBConnection): Promise<void> {
    this.schema ??= ensureSchema(db).catch((e: unknown) => {
      this.schema = undefined;
      throw e;
    });
    return this.schema;
  }

  constructor(private readonly node: DedupeNode, tables: DedupeTable[]) {
    for (const t of tables) this.tables.set(t.name, t);
  }

  private table(name: string, ctx: PartyProtocolContext): DedupeTable {
    const t = this.tables.get(name);
    if (!t) throw new SqlError(SqlState.undefinedTable, `node "${ctx.party}" holds no key shares for ${name}`);
    return t;
  }

  private requireHub(t: DedupeTable, ctx: PartyProtocolContext, what: string): void {
    if (ctx.requester !== t.settings.hub) {
      throw new SqlError(SqlState.insufficientPrivilege, `key holder "${ctx.party}" accepts ${what} for ${t.name} only from its hub "${t.settings.hub}", not from "${ctx.requester}"`);
    }
  }

  private async share(ctx: PartyProtocolContext, table: string, epoch: number): Promise<Share> {
    const id = `${table}#${epoch}`;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const db = await ctx.database();
    try {
      await this.serialized(() => this.ensureSchema(db));
      const row = (await db.runAndReadAll(`SELECT x, share, threshold, holders FROM ${SHARES} WHERE tbl = ${quoteLiteral(table)} AND epoch = ${epoch}`)).getRows()[0];
      if (!row) throw new SqlError(SqlState.protocolViolation, `key holder "${ctx.party}" has no share for epoch ${epoch} of ${table}`);
      const share: Share = { x: Number(row[0]), share: scalarFromBytes(fromHex(String(row[1]))), threshold: Number(row[2]), holders: JSON.parse(String(row[3])) as string[] };
      this.cache.set(id, share);
      return share;
    } finally {
      db.closeSync();
    }
  }

  /** The party side of `toprf-eval/1`: batches of blinded elements in, λ·share·B out. */
  async evaluate(ctx: PartyProtocolContext): Promise<void> {
    try {
      const request = parseEvalRequest(ctx.request.params);
      const t = this.table(request.table, ctx);
      this.requireHub(t, ctx, 'evaluations');
      const share = await this.share(ctx, t.name, request.epoch);
      if (!request.set.includes(share.x)) throw new SqlError(SqlState.protocolViolation, `key holder "${ctx.party}" (index ${share.x}) is not in the requested set ${request.set.join(', ')}`);
      if (request.set.length < share.threshold || request.set.some((x) => x > share.holders.length)) {
        throw new SqlError(SqlState.protocolViolation, `an evaluation set must name at least ${share.threshold} of the ${share.holders.length} holders of epoch ${request.epoch}`);
      }
      const scalar = holderScalar(share.share, share.x, request.set);
      let total = 0;
      for (;;) {
        const frame = await ctx.channel.receive();
        if (frame === null) break;
        const { epoch, count, elements } = decodeElements(frame);
        if (epoch !== request.epoch) throw new SqlError(SqlState.protocolViolation, `elements for epoch ${epoch} in a session for epoch ${request.epoch}`);
        await ctx.channel.send(encodeElements(epoch, await toprfPool().evaluate(scalar, elements, ctx.signal)));
        total += count;
        this.evaluated.set(t.name, (this.evaluated.get(t.name) ?? 0) + count);
      }
      await ctx.audit(`evaluated ${total} blinded elements for ${t.name} epoch ${request.epoch} (set ${request.set.join(',')}) at the request of ${ctx.requester}`);
    } catch (e) {
      throw asSqlError(e, `key holder "${ctx.party}"`);
    }
  }

  /** The party side of `toprf-keygen/1`. */
  async keygen(ctx: PartyProtocolContext): Promise<void> {
    let request: KeygenRequest;
    try {
      request = parseKeygenRequest(ctx.request.params);
    } catch (e) {
      throw asSqlError(e, `key holder "${ctx.party}"`);
    }
    const t = this.table(request.table, ctx);
    const db = await ctx.database();
    try {
      await this.serialized(() => this.ensureSchema(db));
      let answer: Record<string, unknown>;
      switch (request.op) {
        case 'deal':
          this.requireHub(t, ctx, 'key generation');
          answer = await this.deal(ctx, db, request);
          break;
        case 'share':
          answer = await this.receiveShare(ctx, db, t, request);
          break;
        case 'finalize':
          this.requireHub(t, ctx, 'key generation');
          answer = await this.finalize(ctx, db, request);
          break;
        case 'retire':
          this.requireHub(t, ctx, 'retirements');
          await this.serialized(async () => {
            await db.run(`DELETE FROM ${SHARES} WHERE tbl = ${quoteLiteral(t.name)} AND epoch <= ${request.epoch}`);
            await db.run(`DELETE FROM ${PENDING} WHERE tbl = ${quoteLiteral(t.name)} AND epoch <= ${request.epoch}`);
          });
          for (const k of [...this.cache.keys()]) if (k.startsWith(`${t.name}#`) && Number(k.split('#')[1]) <= request.epoch) this.cache.delete(k);
          await ctx.audit(`destroyed the key shares of ${t.name} up to epoch ${request.epoch}`);
          answer = { ok: true };
          break;
      }
      await ctx.channel.send(encodeJson(answer));
    } finally {
      db.closeSync();
    }
  }

  private indexOf(holders: string[], name: string): number {
    const i = holders.indexOf(name);
    if (i < 0) throw new SqlError(SqlState.protocolViolation, `"${name}" is not among the key holders ${holders.join(', ')}`);
    return i + 1;
  }

  /** Deals this holder's polynomial: sub-shares straight to the other holders, commitments to the hub. */
  private async deal(ctx: PartyProtocolContext, db: DuckDBConnection, r: Extract<KeygenRequest, { op: 'deal' }>): Promise<Record<string, unknown>> {
    const self = this.indexOf(r.holders, ctx.party);
    const sodium = await loadSodium();
    const xs = r.holders.map((_, i) => i + 1);
    const dealing = deal(sodium, r.threshold, xs);
    const commitments = dealing.commitments.map(toHex);
    await Promise.all(r.holders.map(async (holder, i) => {
      if (holder === ctx.party) return;
      await requestJson(this.node.connector(holder), {
        queryId: ctx.request.queryId,
        protocol: TOPRF_KEYGEN_PROTOCOL,
        params: { op: 'share', table: r.table, epoch: r.epoch, threshold: r.threshold, holders: r.holders, share: toHex(scalarToBytes(dealing.shares.get(i + 1)!)), commitments },
        timeoutMs: this.node.sessionTimeoutMs,
      }, ctx.signal);
    }));
    await this.serialized(() => db.run(`INSERT OR REPLACE INTO ${PENDING} VALUES (${quoteLiteral(r.table)}, ${r.epoch}, ${quoteLiteral(ctx.party)}, ${quoteLiteral(toHex(scalarToBytes(dealing.shares.get(self)!)))}, ${quoteLiteral(JSON.stringify(commitments))})`));
    await ctx.audit(`dealt a key contribution for ${r.table} epoch ${r.epoch} to ${r.holders.join(', ')}`);
    return { commitments };
  }

  /** A sub-share from another holder: checked against its dealer's commitments, then kept. */
  private async receiveShare(ctx: PartyProtocolContext, db: DuckDBConnection, t: DedupeTable, r: Extract<KeygenRequest, { op: 'share' }>): Promise<Record<string, unknown>> {
    if (!t.settings.keyHolders.includes(ctx.requester) || !r.holders.includes(ctx.requester) || ctx.requester === ctx.party) {
      throw new SqlError(SqlState.insufficientPrivilege, `key holder "${ctx.party}" accepts key shares for ${t.name} only from its other key holders, not from "${ctx.requester}"`);
    }
    const self = this.indexOf(r.holders, ctx.party);
    let share: bigint;
    try {
      share = scalarFromBytes(fromHex(r.share));
    } catch (e) {
      throw asSqlError(e, `key share from "${ctx.requester}"`);
    }
    if (!verifyDealtShare(await loadSodium(), self, share, r.commitments.map(fromHex))) {
      throw new SqlError(SqlState.protocolViolation, `the key share "${ctx.requester}" dealt to "${ctx.party}" for epoch ${r.epoch} does not match its commitments`);
    }
    await this.serialized(() => db.run(`INSERT OR REPLACE INTO ${PENDING} VALUES (${quoteLiteral(r.table)}, ${r.epoch}, ${quoteLiteral(ctx.requester)}, ${quoteLiteral(r.share)}, ${quoteLiteral(JSON.stringify(r.commitments))})`));
    return { ok: true };
  }

  /** Sums the sub-shares of every dealer into this holder's share of the epoch key. */
  private async finalize(ctx: PartyProtocolContext, db: DuckDBConnection, r: Extract<KeygenRequest, { op: 'finalize' }>): Promise<Record<string, unknown>> {
    const self = this.indexOf(r.holders, ctx.party);
    const rows = (await db.runAndReadAll(`SELECT dealer, share, commitments FROM ${PENDING} WHERE tbl = ${quoteLiteral(r.table)} AND epoch = ${r.epoch}`)).getRows();
    const byDealer = new Map(rows.map((row) => [String(row[0]), { share: String(row[1]), commitments: JSON.parse(String(row[2])) as string[] }]));
    const missing = r.holders.filter((h) => !byDealer.has(h));
    if (missing.length) throw new SqlError(SqlState.protocolViolation, `key holder "${ctx.party}" has no key share from ${missing.join(', ')} for epoch ${r.epoch} of ${r.table}`);
    const threshold = byDealer.get(r.holders[0])!.commitments.length;
    const share = combineDealtShares(r.holders.map((h) => scalarFromBytes(fromHex(byDealer.get(h)!.share))));
    await this.serialized(async () => {
      await db.run('BEGIN TRANSACTION');
      try {
        await db.run(`INSERT OR REPLACE INTO ${SHARES} VALUES (${quoteLiteral(r.table)}, ${r.epoch}, ${self}, ${quoteLiteral(toHex(scalarToBytes(share)))}, ${threshold}, ${quoteLiteral(JSON.stringify(r.holders))}, ${Date.now()})`);
        await db.run(`DELETE FROM ${PENDING} WHERE tbl = ${quoteLiteral(r.table)} AND epoch <= ${r.epoch}`);
        // Shares of epochs two behind are never needed again (the hub keeps at most the active and the next).
        await db.run(`DELETE FROM ${SHARES} WHERE tbl = ${quoteLiteral(r.table)} AND epoch < ${r.epoch - 1}`);
        await db.run('COMMIT');
      } catch (e) {
        await db.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
    this.cache.delete(`${r.table}#${r.epoch}`);
    await ctx.audit(`holds share ${self} of ${r.holders.length} (threshold ${threshold}) of the key of ${r.table} epoch ${r.epoch}`);
    return { publicShare: toHex(publicShare(await loadSodium(), share)) };
  }
}
