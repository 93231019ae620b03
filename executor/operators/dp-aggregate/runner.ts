/**
 * The requester half of a DP aggregate: opens one `dp-aggregate-v2` session per member party,
 * one at a time in party-name order, each party charging the requester's budget before the next
 * is opened (so concurrent queries cannot starve each other of the last budget), gathers the keys each party's noisy threshold kept (or uses the declared PUBLIC keys, or the
 * single group of a query without GROUP BY), sends every party the agreed key list through the
 * secure sum's SETUP, adds the masked vectors — partials plus noise shares, so the requester
 * only ever holds noisy totals — and commits. It then releases values and confidence intervals
 * (release.ts) into the stage's temp table and sends a NOTICE with the privacy cost.
 *
 * Any failure (a party's 53V01, a policy refusal, a dead party as 08006) aborts every session:
 * parties that are still listening get `finish: abort` and refund what they did not release;
 * no partial result is written.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FrameChannel } from '../../../connectors/connector.js';
import { quoteIdent, quoteLiteral } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { DP_AGGREGATE_PROTOCOL, type DpStageParams } from '../../../planner/operators/dp-aggregate.js';
import { formatDuckDBType } from '../../../planner/types.js';
import { calibrate, type Calibration } from '../../protocols/dp/calibrate.js';
import { decodeControl, encodeControl, keyId, MAX_GROUPS, ProtocolError, type GroupKey, type ReceiptMessage } from '../../protocols/dp/messages.js';
import { releaseGroup, type ReleasedValue } from '../../protocols/dp/release.js';
import { parseDpQuerySpec, SpecError, type DpQuerySpec } from '../../protocols/dp/spec.js';
import { readSigned } from '../../protocols/mpc/ring.js';
import { SecureSumAggregator, SecureSumProtocolError } from '../../protocols/mpc/secure-sum.js';
import type { OperatorRunContext } from '../registry.js';
import { fmt } from './ledger.js';
import { noiseContributors, type DpAggregateRequest } from './party-handler.js';
import { dpTestHooks } from './test-hooks.js';

const LIMBS = 2;
/** How long a party gets to acknowledge an abort before its session is torn down. */
const ABORT_GRACE_MS = 2_000;
/** Extra time beyond the party's own timeout before a silent party is declared dead. */
const WATCHDOG_GRACE_MS = 2_000;

/**
 * Declares a party dead (08006) when one protocol phase waits on it longer than the party's own
 * timeout plus a grace period: a hung party must not hang the query.
 */
class Watchdog {
  private timer?: NodeJS.Timeout;
  private readonly waiting = new Set<string>();

  constructor(private readonly limitMs: number, private readonly onDead: (error: SqlError) => void) {}

  phase(name: string, parties: string[]): void {
    this.stop();
    parties.forEach((p) => this.waiting.add(p));
    this.timer = setTimeout(() => {
      const party = [...this.waiting][0] ?? parties[0];
      this.onDead(new SqlError(SqlState.connectionFailure, `party "${party}" did not answer within ${this.limitMs} ms (DP aggregate: ${name})`));
    }, this.limitMs);
  }

  done(party: string): void {
    this.waiting.delete(party);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.waiting.clear();
  }
}

export function planCalibration(params: DpStageParams, requester: string): { spec: DpQuerySpec; calibration: Calibration } {
  try {
    const spec = parseDpQuerySpec(params.spec);
    return { spec, calibration: calibrate(spec, noiseContributors(params.members, requester).length) };
  } catch (e) {
    if (e instanceof SpecError) throw new SqlError(SqlState.invalidParameterValue, e.message);
    throw e;
  }
}

function partyError(party: string, e: unknown, signal: AbortSignal): SqlError {
  if (signal.aborted && signal.reason instanceof SqlError) return signal.reason;
  if (e instanceof SqlError) return e;
  if (e instanceof SecureSumProtocolError || e instanceof ProtocolError) return new SqlError(SqlState.protocolViolation, `party "${party}": ${e.message}`);
  return new SqlError(SqlState.connectionFailure, `party "${party}" failed during the DP aggregate: ${e instanceof Error ? e.message : String(e)}`);
}

/** The declared PUBLIC keys as the text DuckDB gives them in the key columns' types (what parties compare). */
async function canonicalKeys(connection: DuckDBConnection, literals: (string | null)[][], types: string[]): Promise<GroupKey[]> {
  if (literals.length === 0) return [];
  // One query for all keys: TRY_CAST marks values that are not of the column's type.
  const rows = literals.map((key) => `(${key.map((v, i) => (v === null ? `CAST(NULL AS ${types[i]})` : `TRY_CAST(${quoteLiteral(v)} AS ${types[i]})`)).join(', ')})`);
  const columns = types.map((_, i) => `CAST(k${i} AS VARCHAR)`).join(', ');
  const r = await connection.runAndReadAll(`SELECT ${columns} FROM (VALUES ${rows.join(', ')}) AS v(${types.map((_, i) => `k${i}`).join(', ')})`);
  const out = new Map<string, GroupKey>();
  r.getRows().forEach((row, n) => {
    const canonical = row.map((v, i) => {
      if (v === null && literals[n][i] !== null) {
        throw new SqlError(SqlState.invalidParameterValue, `groups = PUBLIC: ${quoteLiteral(literals[n][i]!)} is not a value of the group column's type ${types[i]}`);
      }
      return v === null ? null : String(v);
    });
    out.set(keyId(canonical), canonical);
  });
  return [...out.values()];
}

export async function runDpAggregate(stage: PrivateStage, rc: OperatorRunContext): Promise<void> {
  const params = stage.params as DpStageParams;
  const { spec, calibration } = planCalibration(params, rc.requester);
  const members = params.members;
  const cells = calibration.cells.length;
  const publicKeys = spec.selection === 'public' ? await canonicalKeys(rc.connection, params.publicKeys ?? [], params.groupTypes) : undefined;
  const channels: (FrameChannel | undefined)[] = members.map(() => undefined);
  const finished = new Set<number>();
  let dead: SqlError | undefined;
  const watchdog = new Watchdog(rc.timeoutMs + WATCHDOG_GRACE_MS, (error) => {
    dead = error;
    channels.forEach((c) => c?.destroy(error));
  });
  const guard = async <T>(i: number, f: () => Promise<T>): Promise<T> => {
    try {
      const out = await f();
      watchdog.done(members[i]);
      return out;
    } catch (e) {
      throw dead ?? partyError(members[i], e, rc.signal);
    }
  };
  const onAbort = () => channels.forEach((c) => c?.destroy(rc.signal.reason instanceof Error ? rc.signal.reason : new Error('aborted')));
  rc.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // One party at a time, in name order, each charging before the next is asked: two queries
    // racing for the last budget then meet at the first party they share, and the one it admits
    // is admitted everywhere after. Opened all at once, each party could admit a different query
    // and every one of them fail (then be refunded) while budget remains.
    for (const i of chargeOrder(members)) {
      watchdog.phase('charging the privacy budget', [members[i]]);
      await guard(i, async () => {
        const party = members[i];
        const connector = rc.connectors.get(party);
        if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${party}" is not part of this federation`);
        const request: DpAggregateRequest = {
          version: 1,
          spec: params.spec,
          input: { sql: stage.partyInputs[i].sql },
          members,
          ...(publicKeys ? { publicKeys } : {}),
        };
        channels[i] = await connector.openProtocol({ queryId: rc.queryId, protocol: DP_AGGREGATE_PROTOCOL, params: request, timeoutMs: rc.timeoutMs }, rc.signal);
        decodeControl(await channels[i]!.receive(), 'charged');
      });
    }
    const aggregator = new SecureSumAggregator(members.length);
    watchdog.phase('bounding, aggregating and selecting groups', members);
    const offers = await Promise.all(members.map((party, i) => guard(i, async () => {
      const hello = await channels[i]!.receive();
      if (!hello) throw new SqlError(SqlState.protocolViolation, `party "${party}" ended the session before offering its groups`);
      return decodeControl(aggregator.acceptHello(i, hello), 'offer', spec.groupColumns).keys;
    })));
    const keys = agreedKeys(spec, offers, publicKeys);
    aggregator.configure(keys.length, Array.from({ length: cells }, () => LIMBS));
    const setup = encodeControl({ type: 'groups', keys });
    watchdog.phase('adding noise and masking', members);
    await Promise.all(members.map((_, i) => guard(i, () => channels[i]!.send(aggregator.setupFrame(i, setup)))));
    await Promise.all(members.map((party, i) => guard(i, async () => {
      do {
        const frame = await channels[i]!.receive();
        if (!frame) throw new SqlError(SqlState.protocolViolation, `party "${party}" ended the session before sending its values`);
        // A copy: frames from the HTTP/2 transport are Buffer views, and ring.ts's bytesToWords
        // reinterprets an unaligned view's whole pooled buffer (Buffer#slice does not copy).
        aggregator.acceptMasked(i, new Uint8Array(frame));
      } while (!aggregator.complete(i));
    })));
    const words = aggregator.totals();
    watchdog.phase('committing', members);
    // The totals are released: from here on a party that fails to acknowledge does not fail the
    // query (every party charged before sending; nothing would be refunded anyway).
    const receipts = await Promise.all(members.map(async (_, i): Promise<ReceiptMessage | undefined> => {
      try {
        await channels[i]!.send(encodeControl({ type: 'finish', outcome: 'commit' }));
        finished.add(i);
        return decodeControl(await channels[i]!.receive(), 'receipt');
      } catch {
        return undefined;
      } finally {
        watchdog.done(members[i]);
      }
    }));
    watchdog.stop();
    const rows = keys.map((key, g) => {
      const totals = Array.from({ length: cells }, (_, c) => readSigned(words, (g * cells + c) * LIMBS, LIMBS));
      return { key, values: release(spec, calibration, totals) };
    });
    await writeRows(rc.connection, stage, spec, params, rows);
    rc.notice(costNotice(spec, calibration, members, receipts, rows.length));
  } catch (e) {
    watchdog.stop();
    await abortSessions(channels, finished);
    throw e;
  } finally {
    watchdog.stop();
    rc.signal.removeEventListener('abort', onAbort);
    for (const c of channels) {
      if (!c) continue;
      await c.end().catch(() => undefined);
      c.destroy();
    }
  }
}

/** Member indexes by party name: the same order for every query, whichever table it reads. */
export function chargeOrder(members: string[]): number[] {
  return members.map((_, i) => i).sort((a, b) => (members[a] < members[b] ? -1 : members[a] > members[b] ? 1 : 0));
}

function agreedKeys(spec: DpQuerySpec, offers: GroupKey[][], publicKeys: GroupKey[] | undefined): GroupKey[] {
  if (spec.selection === 'single') return [[]];
  if (spec.selection === 'public') return publicKeys!;
  const union = new Map<string, GroupKey>();
  for (const o of offers) for (const k of o) union.set(keyId(k), k);
  if (union.size > MAX_GROUPS) throw new SqlError(SqlState.featureNotSupported, `the DP aggregate would release more than ${MAX_GROUPS} groups`);
  return [...union.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/** The released values, or (negative control hook) a replacement release of the exact sums. */
function release(spec: DpQuerySpec, calibration: Calibration, totals: bigint[]): ReleasedValue[] {
  const values = releaseGroup(spec, calibration, totals);
  const replace = dpTestHooks().replaceRelease;
  if (!replace) return values;
  return values.map((v, i) => (replaced(spec, i) && v.value !== null ? { ...v, value: String(replace(Number(v.value))) } : v));
}

/** Negative control only: the measurements whose release the test hook replaces (counts and sums, as DOUBLE). */
function replaced(spec: DpQuerySpec, measurement: number): boolean {
  return dpTestHooks().replaceRelease !== undefined && spec.measurements[measurement].kind !== 'avg';
}

/** Tells every party still in the protocol that the query failed, so it refunds, then waits briefly for its receipt. */
async function abortSessions(channels: (FrameChannel | undefined)[], finished: Set<number>): Promise<void> {
  await Promise.all(channels.map(async (c, i) => {
    if (!c || finished.has(i)) return;
    try {
      await c.send(encodeControl({ type: 'finish', outcome: 'abort' }));
      await Promise.race([c.receive(), new Promise((r) => setTimeout(r, ABORT_GRACE_MS).unref())]);
    } catch {
      // The party already failed or left: it refunded what it had not released.
    }
  }));
}

async function writeRows(connection: DuckDBConnection, stage: PrivateStage, spec: DpQuerySpec, params: DpStageParams, rows: { key: GroupKey; values: ReleasedValue[] }[]): Promise<void> {
  const groupCount = params.groupTypes.length;
  const types = stage.columns.map((c, i) => {
    const o = params.outputs[i - groupCount];
    return o && o.part === 'value' && replaced(spec, o.measurement) ? 'DOUBLE' : formatDuckDBType(c.type);
  });
  const columns = stage.columns.map((c, i) => `${quoteIdent(c.name)} ${types[i]}`);
  const table = quoteIdent(stage.table);
  await connection.run(`CREATE TEMP TABLE ${table} (${columns.join(', ')})`);
  const groups = params.groupTypes.length;
  const cast = (text: string | null, i: number) => (text === null ? 'NULL' : `CAST(${quoteLiteral(text)} AS ${types[i]})`);
  for (let start = 0; start < rows.length; start += 500) {
    const tuples = rows.slice(start, start + 500).map((row) => {
      const cellsOut = params.outputs.map((o, j) => {
        const v = row.values[o.measurement];
        return cast(o.part === 'value' ? v.value : o.part === 'ci_low' ? v.ciLow : v.ciHigh, groups + j);
      });
      return `(${[...row.key.map((k, i) => cast(k, i)), ...cellsOut].join(', ')})`;
    });
    await connection.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`);
  }
}

function costNotice(spec: DpQuerySpec, calibration: Calibration, members: string[], receipts: (ReceiptMessage | undefined)[], groups: number) {
  const remaining = receipts.map((r, i) => `${members[i]} ρ=${r?.remaining ? fmt(r.remaining.rho) : '?'}`).join(', ');
  return {
    severity: 'NOTICE' as const,
    code: '00000',
    message: `DP query charged ε=${spec.epsilon}, δ=${spec.delta} (ρ=${fmt(calibration.cost.rho)}, δ=${fmt(calibration.cost.delta)}) at ${members.join(', ')}; ${groups} group(s) released`,
    detail: `Remaining budget: ${remaining}.`,
  };
}
