/**
 * A lender's side of the dedupe: keeps the hub's copy of its applications — (token, bucket)
 * rows for every live key epoch — equal to its table, incrementally. Each sync (every `sync`
 * interval, after reloading a changed source file, or on demand):
 *
 * 1. checks its OWN policy as published to the hub: the key column must be usable as a key
 *    (`join_key`/`public`), the time column must be `public` (its bucket reaches the hub);
 * 2. reads (key, bucket) of its applications from its own table;
 * 3. tokenises keys it has no token for in that epoch (blinded, evaluated by t key holders
 *    through the hub; cached locally per epoch, so an application costs one evaluation per
 *    epoch, and a fresh applicant exactly one);
 * 4. uploads only the difference from what the hub holds (or everything, if the hub's row count
 *    for this lender disagrees with its own record — after a crash or a lost answer), then
 *    records what the hub acknowledged.
 *
 * What leaves the lender: blinded elements (to the key holders, through the hub) and
 * (token, bucket) rows (to the hub). Its IDs never do, nor any plain hash of them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBBlobValue } from '@duckdb/node-api';
import type { FrameChannel } from '../../../connectors/connector.js';
import { quoteIdent, quoteLiteral } from '../../../connectors/duckdb-session.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { keyId } from '../../protocols/keys/key-numbering.js';
import {
  decodeAnswers, decodeJson, encodeCommit, encodeElements, encodeRows, MAX_ROWS_PER_FRAME, putRow, ROW_BYTES, UPLOAD_ADD, UPLOAD_REMOVE,
} from '../../protocols/toprf/messages.js';
import { TOKEN_BYTES } from '../../protocols/toprf/threshold-oprf.js';
import { DEDUPE_HUB_PROTOCOL } from './protocol.js';
import type { DedupeNode, DedupeTable } from './services.js';
import { finishSession } from './session-io.js';
import { toprfPool } from './toprf-pool.js';

/** Keys per evaluation batch (one ELEMENTS frame): 128 KiB up, t × 128 KiB down. */
const EVAL_BATCH = 4096;

export interface LenderEpochReport {
  epoch: number;
  /** Keys tokenised (evaluations requested) in this sync. */
  evaluated: number;
  added: number;
  removed: number;
  replaced: boolean;
  /** Rows the hub holds for this lender after the sync. */
  rows: number;
}

export interface LenderSyncReport {
  table: string;
  /** Applications read (with a key and a time). */
  applications: number;
  epochs: LenderEpochReport[];
}

const TOKENS = '__dedupe_lender_tokens';
const ROWS = '__dedupe_lender_rows';

async function ensureSchema(db: DuckDBConnection): Promise<void> {
  await db.run(`CREATE TABLE IF NOT EXISTS ${TOKENS} (tbl VARCHAR, epoch INTEGER, key BLOB, token BLOB)`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${ROWS} (tbl VARCHAR, epoch INTEGER, token BLOB, bucket INTEGER)`);
}

export class LenderService {
  private readonly tables = new Map<string, DedupeTable>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<LenderSyncReport[]> | undefined;

  constructor(private readonly node: DedupeNode, tables: DedupeTable[]) {
    for (const t of tables) this.tables.set(t.name, t);
  }

  startTimer(): void {
    const every = Math.min(...[...this.tables.values()].map((t) => t.settings.syncSeconds)) * 1000;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.syncAll().catch((e: unknown) => this.node.logger.warn(`${this.node.name}: dedupe upload failed: ${e instanceof Error ? e.message : String(e)}`));
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Syncs every dedupe table of this lender (one at a time; concurrent callers share the run). */
  syncAll(): Promise<LenderSyncReport[]> {
    this.running ??= (async () => {
      try {
        // New applications arrive as a changed source file: reload it first.
        await this.node.party.refresh();
        const reports: LenderSyncReport[] = [];
        for (const t of this.tables.values()) reports.push(await this.node.local(`lender: upload ${t.name} tokens`, (ctx) => this.sync(ctx, t)));
        return reports;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async sync(ctx: PartyProtocolContext, t: DedupeTable): Promise<LenderSyncReport> {
    const { settings, def } = t;
    // 1. Our own policy, as we publish it to the hub, must allow what the upload reveals.
    const published = (await this.node.party.catalogFor(settings.hub)).tables.find((x) => x.name === def.table);
    const column = (name: string) => published?.columns.find((c) => c.name === name);
    const keyCol = column(settings.keyColumn);
    const timeCol = column(settings.timeColumn);
    if (!published || !keyCol || !timeCol) {
      throw new SqlError(SqlState.undefinedTable, `lender "${ctx.party}" has no table ${def.table} with columns ${settings.keyColumn} and ${settings.timeColumn} for ${t.name}`);
    }
    if (keyCol.policy !== 'join_key' && keyCol.policy !== 'public') {
      throw new SqlError(SqlState.insufficientPrivilege, `policy of lender "${ctx.party}" forbids uploading tokens of ${def.table}.${settings.keyColumn}: level ${keyCol.policy} does not allow its use as a key`);
    }
    if (timeCol.policy !== 'public') {
      throw new SqlError(SqlState.insufficientPrivilege, `policy of lender "${ctx.party}" forbids uploading ${def.table}.${settings.timeColumn} buckets to hub "${settings.hub}": level ${timeCol.policy} (must be public)`);
    }
    const rule = keyCol.normalization as KeyNormalizationRule | undefined;
    const type = timeCol.type.toUpperCase();
    const time = quoteIdent(settings.timeColumn);
    const instant = type === 'DATE' ? `CAST(${time} AS TIMESTAMP)` : time;

    // 2. (key, bucket) of every application.
    const key = quoteIdent(settings.keyColumn);
    const sql = `SELECT CAST(${key} AS VARCHAR) AS k, CAST(floor(epoch_ms(${instant}) / ${settings.bucketSeconds * 1000}.0) AS BIGINT) AS b FROM ${quoteIdent(def.table)} WHERE ${key} IS NOT NULL AND ${time} IS NOT NULL`;
    const keys = new Map<string, { bytes: Uint8Array; buckets: Set<number> }>();
    let applications = 0;
    for await (const batch of await ctx.input(sql, ['secure_key', 'output'])) {
      const k = batch.getChildAt(0)!;
      const b = batch.getChildAt(1)!;
      for (let i = 0; i < batch.numRows; i++) {
        const canon = canonicalKeyBytes([k.get(i) as string | null], [rule]);
        if (canon === null) continue;
        const id = keyId(canon);
        let entry = keys.get(id);
        if (!entry) keys.set(id, (entry = { bytes: canon, buckets: new Set() }));
        entry.buckets.add(Number(b.get(i)));
        applications++;
      }
    }

    // 3–4. Per live epoch: tokenise what is new, upload the difference.
    const channel = await this.node.connector(settings.hub).openProtocol(
      { queryId: ctx.request.queryId, protocol: DEDUPE_HUB_PROTOCOL, params: { op: 'sync', table: t.name }, timeoutMs: this.node.sessionTimeoutMs * 10 },
      ctx.signal,
    );
    const reports: LenderEpochReport[] = [];
    const db = await ctx.database();
    try {
      await ensureSchema(db);
      const hello = decodeJson(await channel.receive());
      const epochs = Array.isArray(hello.epochs) ? (hello.epochs as { epoch: number; rows: number; filled: boolean }[]) : [];
      const live = epochs.map((e) => e.epoch).filter((e) => Number.isInteger(e));
      const liveList = live.length ? live.join(', ') : '-1';
      await db.run(`DELETE FROM ${TOKENS} WHERE tbl = ${quoteLiteral(t.name)} AND epoch NOT IN (${liveList})`);
      await db.run(`DELETE FROM ${ROWS} WHERE tbl = ${quoteLiteral(t.name)} AND epoch NOT IN (${liveList})`);
      for (const e of epochs) reports.push(await this.syncEpoch(ctx, db, channel, t, e, keys));
      finishSession(channel);
    } catch (e) {
      channel.destroy();
      throw e;
    } finally {
      db.closeSync();
    }
    const summary = reports.map((r) => `epoch ${r.epoch}: ${r.evaluated} tokenised, +${r.added} −${r.removed}${r.replaced ? ' (full)' : ''}, ${r.rows} rows at the hub`).join('; ');
    await ctx.audit(`dedupe upload of ${t.name} to hub ${settings.hub}: ${applications} applications; ${summary || 'no live epoch'}`);
    return { table: t.name, applications, epochs: reports };
  }

  private async syncEpoch(
    ctx: PartyProtocolContext,
    db: DuckDBConnection,
    channel: FrameChannel,
    t: DedupeTable,
    hubEpoch: { epoch: number; rows: number; filled: boolean },
    keys: Map<string, { bytes: Uint8Array; buckets: Set<number> }>,
  ): Promise<LenderEpochReport> {
    const epoch = hubEpoch.epoch;
    const where = `tbl = ${quoteLiteral(t.name)} AND epoch = ${epoch}`;
    const tokens = new Map<string, Uint8Array>();
    for (const r of (await db.runAndReadAll(`SELECT key, token FROM ${TOKENS} WHERE ${where}`)).getRows()) {
      tokens.set(keyId((r[0] as DuckDBBlobValue).bytes), (r[1] as DuckDBBlobValue).bytes);
    }
    const uploaded = new Set<string>();
    for (const r of (await db.runAndReadAll(`SELECT token, bucket FROM ${ROWS} WHERE ${where}`)).getRows()) {
      uploaded.add(`${keyId((r[0] as DuckDBBlobValue).bytes)}|${Number(r[1])}`);
    }

    // Tokenise the keys this epoch has no token for yet (two batches in flight).
    const missing = [...keys.entries()].filter(([id]) => !tokens.has(id));
    const fresh: [string, Uint8Array, Uint8Array][] = [];
    const pool = toprfPool();
    const batches: [string, { bytes: Uint8Array }][][] = [];
    for (let i = 0; i < missing.length; i += EVAL_BATCH) batches.push(missing.slice(i, i + EVAL_BATCH));
    const blinded = batches.map((b) => pool.blind(b.map(([, v]) => v.bytes), ctx.signal));
    blinded.forEach((p) => p.catch(() => undefined));
    let sent = 0;
    const send = async (i: number) => channel.send(encodeElements(epoch, (await blinded[i]).blinded));
    if (batches.length) await send(sent++);
    for (let i = 0; i < batches.length; i++) {
      if (sent < batches.length) await send(sent++);
      const inputs = batches[i].map(([, v]) => v.bytes);
      const { answers, epoch: answered } = decodeAnswers(await channel.receive(), inputs.length);
      if (answered !== epoch) throw new SqlError(SqlState.protocolViolation, `the hub answered for epoch ${answered}, not ${epoch}`);
      const out = await pool.finalize(inputs, (await blinded[i]).unblinds, answers, ctx.signal);
      batches[i].forEach(([id, v], j) => {
        const token = out.slice(j * TOKEN_BYTES, (j + 1) * TOKEN_BYTES);
        tokens.set(id, token);
        fresh.push([id, v.bytes, token]);
      });
    }

    // The rows the hub should hold, and the difference from what it acknowledged last time.
    const desired = new Map<string, { token: Uint8Array; bucket: number }>();
    for (const [id, v] of keys) {
      const token = tokens.get(id)!;
      for (const bucket of v.buckets) desired.set(`${keyId(token)}|${bucket}`, { token, bucket });
    }
    const replace = hubEpoch.rows !== uploaded.size;
    const adds = replace ? [...desired.values()] : [...desired].filter(([id]) => !uploaded.has(id)).map(([, r]) => r);
    const removes = replace ? [] : [...uploaded].filter((id) => !desired.has(id)).map((id) => {
      const cut = id.lastIndexOf('|');
      return { token: new Uint8Array(Buffer.from(id.slice(0, cut), 'latin1')), bucket: Number(id.slice(cut + 1)) };
    });
    let rows = hubEpoch.rows;
    if (replace || adds.length || removes.length || !hubEpoch.filled) {
      for (const [op, list] of [[UPLOAD_REMOVE, removes], [UPLOAD_ADD, adds]] as const) {
        for (let i = 0; i < list.length; i += MAX_ROWS_PER_FRAME) {
          const chunk = list.slice(i, i + MAX_ROWS_PER_FRAME);
          const bytes = new Uint8Array(chunk.length * ROW_BYTES);
          chunk.forEach((r, j) => putRow(bytes, j, r.token, r.bucket));
          await channel.send(encodeRows(epoch, op, bytes));
        }
      }
      await channel.send(encodeCommit(epoch, replace));
      const ack = decodeJson(await channel.receive());
      rows = Number(ack.rows);
      if (ack.epoch !== epoch || rows !== desired.size) {
        this.node.logger.warn(`${ctx.party}: hub holds ${rows} rows of ${t.name} epoch ${epoch} for us, ${desired.size} expected; the next sync re-uploads everything`);
      }
      await this.record(db, t, epoch, fresh, desired, replace ? undefined : { adds, removes });
    } else if (fresh.length) {
      await this.record(db, t, epoch, fresh, desired, { adds: [], removes: [] });
    }
    return { epoch, evaluated: fresh.length, added: adds.length, removed: removes.length, replaced: replace, rows };
  }

  /** Records new tokens and what the hub now holds, in one transaction. */
  private async record(
    db: DuckDBConnection,
    t: DedupeTable,
    epoch: number,
    fresh: [string, Uint8Array, Uint8Array][],
    desired: Map<string, { token: Uint8Array; bucket: number }>,
    delta: { adds: { token: Uint8Array; bucket: number }[]; removes: { token: Uint8Array; bucket: number }[] } | undefined,
  ): Promise<void> {
    const where = `tbl = ${quoteLiteral(t.name)} AND epoch = ${epoch}`;
    await db.run('BEGIN TRANSACTION');
    try {
      if (!delta) await db.run(`DELETE FROM ${ROWS} WHERE ${where}`);
      for (let i = 0; i < (delta?.removes.length ?? 0); i += 1000) {
        const values = delta!.removes.slice(i, i + 1000).map((r) => `(from_hex('${Buffer.from(r.token).toString('hex')}'), ${r.bucket})`);
        await db.run(`DELETE FROM ${ROWS} USING (VALUES ${values.join(', ')}) AS v(token, bucket) WHERE ${ROWS}.tbl = ${quoteLiteral(t.name)} AND ${ROWS}.epoch = ${epoch} AND ${ROWS}.token = v.token AND ${ROWS}.bucket = v.bucket`);
      }
      const appendRows = delta ? delta.adds : [...desired.values()];
      if (appendRows.length) {
        const a = await db.createAppender(ROWS);
        for (const r of appendRows) {
          a.appendVarchar(t.name);
          a.appendInteger(epoch);
          a.appendBlob(r.token);
          a.appendInteger(r.bucket);
          a.endRow();
        }
        a.flushSync();
        a.closeSync();
      }
      if (fresh.length) {
        const a = await db.createAppender(TOKENS);
        for (const [, keyBytes, token] of fresh) {
          a.appendVarchar(t.name);
          a.appendInteger(epoch);
          a.appendBlob(keyBytes);
          a.appendBlob(token);
          a.endRow();
        }
        a.flushSync();
        a.closeSync();
      }
      await db.run('COMMIT');
    } catch (e) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}
