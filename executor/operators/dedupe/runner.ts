/**
 * The requester's half of the dedupe operator (planner/operators/dedupe.ts), run by a lender's
 * gateway:
 *
 * 1. groups its own rows (the gateway input) in DuckDB: per group, the distinct key texts;
 * 2. turns the distinct canonical keys into tokens of the hub's active epoch — blinded, evaluated
 *    by t key holders through the hub, unblinded here (one evaluation per distinct key);
 * 3. sends the tokens grouped, with the bucket range and the lenders to count, and gets back
 *    per group the number of distinct lenders (or only the over-threshold flag);
 *    — and, before the first counts, which of those lenders have not uploaded under that epoch
 *    (a WARNING notice to the analyst: the answer stands but misses their applications);
 * 4. writes one row per group with a match (inner-join semantics; a global aggregate always
 *    has its one row) into the stage's temp table.
 *
 * The hub learns that this lender asked, its tokens and their grouping, the range and the
 * counts; the key holders learn only the number of blinded elements; nobody learns an ID.
 */
import { DuckDBListValue } from '@duckdb/node-api';
import type { PartyConnector } from '../../../connectors/connector.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { DedupeParams } from '../../../planner/operators/dedupe.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { KeyNumbering } from '../../protocols/keys/key-numbering.js';
import { decodeAnswers, decodeCounts, decodeJson, encodeElements, encodeGroups, expectFrame, FrameType, MAX_QUERY_TOKENS } from '../../protocols/toprf/messages.js';
import { TOKEN_BYTES } from '../../protocols/toprf/threshold-oprf.js';
import type { OperatorRunContext } from '../registry.js';
import { asSqlError, DEDUPE_HUB_PROTOCOL, type HubQueryRequest } from './protocol.js';
import { dedupeNode } from './services.js';
import { finishSession } from './session-io.js';
import { bucketRange } from './time-range.js';
import { toprfPool } from './toprf-pool.js';
import { parseUploadStatus, uploadStatusNotice } from './upload-status.js';

const EVAL_BATCH = 8192;

interface Groups {
  /** Distinct canonical keys over all groups. */
  keys: Uint8Array[];
  /** Per group (by gid), the indices of its distinct keys. */
  members: number[][];
}

async function readGroups(context: OperatorRunContext, table: string, rule: KeyNormalizationRule | undefined): Promise<Groups> {
  const keys: Uint8Array[] = [];
  const numbering = new KeyNumbering();
  const members: number[][] = [];
  const result = await context.connection.stream(`SELECT gid, keys FROM ${quoteIdent(table)} ORDER BY gid`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const [gid, list] of chunk.getRows()) {
      const own = new Set<number>();
      for (const item of list instanceof DuckDBListValue ? list.items : []) {
        const canon = canonicalKeyBytes([item === null ? null : String(item)], [rule]);
        if (canon === null) continue;
        const k = numbering.number(canon);
        if (k === keys.length) keys.push(canon);
        own.add(k);
      }
      members[Number(gid)] = [...own];
    }
  }
  return { keys, members };
}

export async function runDedupe(stage: PrivateStage, context: OperatorRunContext): Promise<void> {
  const params = stage.params as DedupeParams;
  const node = dedupeNode(context.requester);
  if (!node) {
    throw new SqlError('55000', `node "${context.requester}" runs no multi-lender dedupe service, so its gateway cannot reach the hub of ${params.table}`, {
      hint: 'Nodes started with `veilsql node` run it when federation.yaml gives a federated table a dedupe section.',
    });
  }
  const c = context.connection;
  const input = quoteIdent(stage.gatewayInputs[0].table);
  const groupsTable = `__dd_groups_${stage.id}`;
  const countsTable = `__dd_counts_${stage.id}`;
  const cols = params.groupColumns.map(quoteIdent);
  const key = quoteIdent(params.keyColumn);
  const keyList = `list(DISTINCT ${key}) FILTER (WHERE ${key} IS NOT NULL)`;
  try {
    const range = await bucketRange(c, params, `${params.table.split('.')[1]}.time`);
    await c.run(
      cols.length
        ? `CREATE TEMP TABLE ${quoteIdent(groupsTable)} AS SELECT (row_number() OVER ()) - 1 AS gid, * FROM (SELECT ${cols.join(', ')}, ${keyList} AS keys FROM ${input} GROUP BY ${cols.join(', ')})`
        : `CREATE TEMP TABLE ${quoteIdent(groupsTable)} AS SELECT 0 AS gid, ${keyList} AS keys FROM ${input}`,
    );
    const groups = await readGroups(context, groupsTable, params.normalization as KeyNormalizationRule | undefined);
    const counts = groups.keys.length === 0 || range.empty || params.lenders.length === 0
      ? new Uint32Array(groups.members.length)
      : await askHub(node.connector(params.hub), params, range, groups, context);

    // Rows of groups with a match (count mode) or over the threshold (flag mode).
    await c.run(`CREATE TEMP TABLE ${quoteIdent(countsTable)} (gid BIGINT, n BIGINT)`);
    const kept: string[] = [];
    counts.forEach((n, gid) => {
      if (n > 0 || params.global) kept.push(`(${gid}, ${n})`);
    });
    for (let i = 0; i < kept.length; i += 5000) await c.run(`INSERT INTO ${quoteIdent(countsTable)} VALUES ${kept.slice(i, i + 5000).join(', ')}`);
    const select = params.core.map((col) => {
      const value = 'group' in col.source
        ? `g.${quoteIdent(params.groupColumns[col.source.group])}`
        : params.mode === 'flag' ? 'NULL' : 'k.n';
      return `CAST(${value} AS ${col.type}) AS ${quoteIdent(col.name)}`;
    });
    // Flag mode keeps only flagged groups (the global one included): the count is never known.
    const where = params.mode === 'flag' ? 'WHERE k.n = 1' : params.global ? '' : 'WHERE k.n > 0';
    const core = `SELECT ${select.join(', ')} FROM ${quoteIdent(groupsTable)} g JOIN ${quoteIdent(countsTable)} k ON g.gid = k.gid ${where}`;
    if (params.projection) {
      await c.run(`CREATE TEMP TABLE ${quoteIdent(params.projection.coreTable)} AS ${core}`);
      await c.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS ${params.projection.sql}`);
    } else {
      await c.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS ${core}`);
    }
  } catch (e) {
    throw asSqlError(e, `dedupe query on ${params.table}`);
  } finally {
    for (const t of [groupsTable, countsTable, params.projection?.coreTable]) {
      if (t) await c.run(`DROP TABLE IF EXISTS ${quoteIdent(t)}`).catch(() => undefined);
    }
  }
}

async function askHub(
  hub: PartyConnector,
  params: DedupeParams,
  range: { lo: number | null; hi: number | null },
  groups: Groups,
  context: OperatorRunContext,
): Promise<Uint32Array> {
  const request: HubQueryRequest = {
    op: 'query',
    table: params.table,
    lenders: params.lenders,
    lo: range.lo,
    hi: range.hi,
    mode: params.mode,
    ...(params.threshold !== undefined ? { threshold: params.threshold } : {}),
    status: true,
  };
  const { signal } = context;
  const channel = await hub.openProtocol({ queryId: context.queryId, protocol: DEDUPE_HUB_PROTOCOL, params: request, timeoutMs: context.timeoutMs }, signal);
  const onAbort = () => channel.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // 1. Tokens of the distinct keys (the first batch fixes the epoch: the hub's active one).
    const pool = toprfPool();
    const tokens = new Uint8Array(groups.keys.length * TOKEN_BYTES);
    let epoch = 0;
    const report = groups.keys.length >= 20_000;
    for (let at = 0; at < groups.keys.length; at += EVAL_BATCH) {
      const inputs = groups.keys.slice(at, at + EVAL_BATCH);
      const { blinded, unblinds } = await pool.blind(inputs, signal);
      await channel.send(encodeElements(epoch, blinded));
      const answer = decodeAnswers(await channel.receive(), inputs.length);
      epoch = answer.epoch;
      tokens.set(await pool.finalize(inputs, unblinds, answer.answers, signal), at * TOKEN_BYTES);
      if (report) context.notice({ severity: 'NOTICE', code: '00000', message: `DEDUPE: ${Math.floor((100 * (at + inputs.length)) / groups.keys.length)}% (${at + inputs.length}/${groups.keys.length} keys tokenised)` });
    }
    // 2. Counts per group, in frames of at most MAX_QUERY_TOKENS tokens.
    const counts = new Uint32Array(groups.members.length);
    let g = 0;
    while (g < groups.members.length) {
      const start = g;
      let n = 0;
      while (g < groups.members.length && (n + (groups.members[g]?.length ?? 0) <= MAX_QUERY_TOKENS || g === start)) n += groups.members[g++]?.length ?? 0;
      const frameTokens = new Uint8Array(n * TOKEN_BYTES);
      const offsets = new Uint32Array(g - start + 1);
      let at = 0;
      for (let i = start; i < g; i++) {
        for (const k of groups.members[i] ?? []) frameTokens.set(tokens.subarray(k * TOKEN_BYTES, (k + 1) * TOKEN_BYTES), (at++) * TOKEN_BYTES);
        offsets[i - start + 1] = at;
      }
      await channel.send(encodeGroups(epoch, frameTokens, offsets));
      let frame = await channel.receive();
      // The upload status precedes the first COUNTS (a hub predating it sends COUNTS only).
      if (start === 0 && expectFrame(frame, FrameType.Json, FrameType.Counts) === FrameType.Json) {
        const notice = uploadStatusNotice(params.table, parseUploadStatus(decodeJson(frame), epoch, params.lenders), params.lenders.length);
        if (notice) context.notice(notice);
        frame = await channel.receive();
      }
      counts.set(decodeCounts(frame, g - start), start);
    }
    finishSession(channel);
    return counts;
  } catch (e) {
    channel.destroy();
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
