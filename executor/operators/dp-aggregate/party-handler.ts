/**
 * The party half of a DP aggregate (`dp-aggregate-v2`). The party trusts nothing the requester
 * computed: it validates the public query description, derives every noise parameter itself
 * (`calibrate.ts`), declares the uses of its input columns itself (unit `privacy_unit`, keys
 * `group`, arguments `dp`) for its own policy check, then
 *
 * 1. checks its input against its own policy, then charges the query to the requester's budget
 *    in its ledger (53V01 when exhausted) — before anything derived from its data leaves — and
 *    says so (`charged`): the requester charges the parties one at a time, in name order;
 * 2. bounds, clamps and aggregates its rows (local-aggregate.ts);
 * 3. offers the group keys that pass its own noisy threshold (groups = THRESHOLD);
 * 4. adds its noise share to its partials and sends them masked (the secure sum's HELLO / SETUP /
 *    MASKED with the per-party contribution hook), so no one sees an un-noised total;
 * 5. on `finish`, commits — or refunds what was not released (nothing sent: all; only keys: the
 *    measurements; masked values the requester cannot open alone, on abort: the measurements).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { FragmentStream } from '../../../connectors/connector.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { calibrate, type Calibration } from '../../protocols/dp/calibrate.js';
import { noiseShares, partials, selectKeys } from '../../protocols/dp/contribution.js';
import { decodeControl, encodeControl, keyId, ProtocolError, type GroupKey } from '../../protocols/dp/messages.js';
import { parseDpQuerySpec, SpecError, type DpQuerySpec } from '../../protocols/dp/spec.js';
import { writeValue } from '../../protocols/mpc/ring.js';
import { SecureSumContributor, SecureSumProtocolError } from '../../protocols/mpc/secure-sum.js';
import { type Charge, type Cost, fmt, type PrivacyLedger } from './ledger.js';
import { localGroups } from './local-aggregate.js';
import { dpTestHooks, randomFor } from './test-hooks.js';

export interface DpAggregateRequest {
  version: 1;
  spec: unknown;
  input: { sql: string };
  members: string[];
  /** The declared PUBLIC group keys, canonical text (selection = public). */
  publicKeys?: GroupKey[];
}

/** Every cell travels as a 64-bit two's-complement value (2 limbs of the secure sum's ring). */
const LIMBS = 2;

function violation(message: string): SqlError {
  return new SqlError(SqlState.protocolViolation, `DP aggregate: ${message}`);
}

function parseRequest(raw: unknown): DpAggregateRequest {
  const r = raw as Partial<DpAggregateRequest> | undefined;
  if (!r || r.version !== 1 || typeof r.input?.sql !== 'string' || !Array.isArray(r.members)) throw violation('malformed request');
  if (r.members.length < 1 || r.members.length > 128 || !r.members.every((m) => typeof m === 'string') || new Set(r.members).size !== r.members.length) {
    throw violation('the member list must name 1–128 distinct parties');
  }
  if (r.publicKeys !== undefined && (!Array.isArray(r.publicKeys) || !r.publicKeys.every((k) => Array.isArray(k) && k.every((x) => x === null || typeof x === 'string')))) {
    throw violation('malformed public group keys');
  }
  return r as DpAggregateRequest;
}

/** The parties that add noise: every member except the requester (its own data needs none against itself). */
export function noiseContributors(members: string[], requester: string): string[] {
  const others = members.filter((m) => m !== requester);
  return others.length ? others : [requester];
}

/** The uses this party checks its input against, from the spec alone (never the requester's list). */
export function inputUses(spec: DpQuerySpec): ColumnUse[] {
  const args = spec.measurements.reduce((max, m) => (m.arg !== undefined ? Math.max(max, m.arg) : max), -1);
  const first = (spec.unit ? 1 : 0) + spec.groupColumns;
  const uses: ColumnUse[] = [];
  if (spec.unit) uses.push('privacy_unit');
  for (let i = 0; i < spec.groupColumns; i++) uses.push('group');
  for (let i = first; i <= args; i++) uses.push('dp');
  // A lone COUNT(*) reads one constant column (the planner's stand-in), never a table column.
  if (uses.length === 0) uses.push('dp');
  return uses;
}

/** What stays charged once only the selected keys were released: the selection part. */
function selectionPart(calibration: Calibration): Cost {
  return calibration.selection ? { rho: calibration.cost.rho / calibration.parts, delta: calibration.cost.delta } : { rho: 0, delta: 0 };
}

export async function dpAggregatePartyHandler(ctx: PartyProtocolContext, ledger: PrivacyLedger): Promise<void> {
  const request = parseRequest(ctx.request.params);
  const self = ctx.party;
  const index = request.members.indexOf(self);
  if (index < 0) throw violation(`party "${self}" is not a member of this DP aggregate`);
  let spec: DpQuerySpec;
  let calibration: Calibration;
  const contributors = noiseContributors(request.members, ctx.requester);
  try {
    spec = parseDpQuerySpec(request.spec);
    calibration = calibrate(spec, contributors.length);
  } catch (e) {
    if (e instanceof SpecError) throw new SqlError(SqlState.invalidParameterValue, `DP aggregate: ${e.message}`);
    throw e;
  }
  if (spec.selection === 'public' && !request.publicKeys) throw violation('groups = PUBLIC without the public keys');
  const hooks = dpTestHooks();
  // Negative control only (in-process test hooks): noise for a larger ε than the one charged.
  const noiseCalibration = hooks.epsilonFactor ? calibrate({ ...spec, epsilon: spec.epsilon * hooks.epsilonFactor }, contributors.length) : calibration;
  const isContributor = contributors.includes(self) && hooks.dropShareOf !== self && hooks.replaceRelease === undefined;
  const describe = `ε=${spec.epsilon}, δ=${spec.delta}, ${spec.noise} noise, ${spec.measurements.length} measurement(s)`;

  // The party's own policy check of its input comes first: an illegal request is refused as such
  // (42501) without touching, or revealing, the budget.
  const rows = await ctx.input(request.input.sql, inputUses(spec));
  const db = await ctx.database();
  try {
    const charge = await ledger.charge(db, ctx.requester, ctx.request.queryId, calibration.cost, describe).catch(async (e) => {
      await discard(rows);
      throw e;
    });
    await ctx.audit(`dp-aggregate: charged ρ=${fmt(calibration.cost.rho)}, δ=${fmt(calibration.cost.delta)} (${describe}) to ${ctx.requester}`);
    let released: 'nothing' | 'keys' | 'values' = 'nothing';
    try {
      await ctx.channel.send(encodeControl({ type: 'charged', remaining: charge.remaining })).catch(async (e) => {
        await discard(rows);
        throw e;
      });
      const outcome = await contribute(ctx, db, rows, request, spec, noiseCalibration, calibration, index, isContributor, () => {
        released = spec.selection === 'threshold' ? 'keys' : released;
      }, () => {
        released = 'values';
      });
      let refund: Cost = { rho: 0, delta: 0 };
      // Masked values the requester cannot open without another party's are worthless after an abort.
      const maskedByOthers = request.members.some((m) => m !== self && m !== ctx.requester);
      if (outcome === 'abort' && maskedByOthers) refund = minus(calibration.cost, selectionPart(calibration));
      await settle(ctx, db, ledger, charge, refund, outcome === 'abort' ? 'the requester aborted the query' : '');
    } catch (e) {
      const kept = released === 'nothing' ? { rho: 0, delta: 0 } : released === 'keys' ? selectionPart(calibration) : calibration.cost;
      const refund = minus(calibration.cost, kept);
      await ledger.refund(db, charge, refund, `failed: ${e instanceof Error ? e.message : String(e)}`).catch(() => undefined);
      await ctx.audit(`dp-aggregate: failed after releasing ${released}; refunded ρ=${fmt(refund.rho)}, δ=${fmt(refund.delta)}`).catch(() => undefined);
      throw e;
    }
  } finally {
    db.closeSync();
  }
}

function minus(a: Cost, b: Cost): Cost {
  return { rho: Math.max(0, a.rho - b.rho), delta: Math.max(0, a.delta - b.delta) };
}

async function settle(ctx: PartyProtocolContext, db: DuckDBConnection, ledger: PrivacyLedger, charge: Charge, refund: Cost, reason: string): Promise<void> {
  if (refund.rho > 0 || refund.delta > 0) {
    await ledger.refund(db, charge, refund, reason);
    await ctx.audit(`dp-aggregate: ${reason}; refunded ρ=${fmt(refund.rho)}, δ=${fmt(refund.delta)}`);
  }
  const charged = minus(charge.cost, refund);
  const remaining = { rho: charge.remaining.rho + refund.rho, delta: charge.remaining.delta + refund.delta };
  await ctx.channel.send(encodeControl({ type: 'receipt', charged, refunded: refund.rho > 0 || refund.delta > 0, remaining }));
  await ctx.channel.end();
}

/** Steps 2–4; resolves with the requester's finish outcome. */
/** Ends an input stream that will not be read (its query and connection are released). */
async function discard(rows: FragmentStream): Promise<void> {
  const it = rows[Symbol.asyncIterator]();
  try {
    await it.next();
  } finally {
    await it.return?.();
  }
}

async function contribute(
  ctx: PartyProtocolContext,
  db: DuckDBConnection,
  rows: FragmentStream,
  request: DpAggregateRequest,
  spec: DpQuerySpec,
  noise: Calibration,
  calibration: Calibration,
  index: number,
  isContributor: boolean,
  keysSent: () => void,
  valuesSent: () => void,
): Promise<'commit' | 'abort'> {
  const hooks = dpTestHooks();
  const rng = randomFor(ctx.party, 'dp-aggregate');
  let local;
  try {
    local = await localGroups(db, rows, spec, noise, { salt: rng.below(1n << 64n), skipBounding: hooks.disableBounding, signal: ctx.signal });
  } catch (e) {
    if (e instanceof SqlError && e.sqlstate !== SqlState.internalError) throw e;
    // A DuckDB message could quote a value: the requester gets none of it.
    await ctx.audit(`dp-aggregate: local aggregation failed: ${e instanceof Error ? e.message : String(e)}`).catch(() => undefined);
    throw new SqlError(SqlState.internalError, `party "${ctx.party}" could not compute its DP partials (details are in its audit log)`);
  }
  const offered = spec.selection === 'threshold' ? selectKeys([...local.values()], noise, rng) : [];
  const contributor = new SecureSumContributor(request.members.length);
  try {
    await ctx.channel.send(contributor.hello(encodeControl({ type: 'offer', keys: offered })));
    keysSent();
    const frame = await ctx.channel.receive();
    if (!frame) throw violation('the requester ended the session before SETUP');
    const setup = contributor.acceptSetup(frame);
    if (setup.index !== index) throw violation(`SETUP gives this party index ${setup.index}, the member list ${index}`);
    const cells = calibration.cells.length;
    if (setup.layout.length !== cells || setup.layout.some((l) => l !== LIMBS)) throw violation('SETUP layout differs from the query');
    const keys = decodeControl(setup.payload, 'groups', spec.groupColumns).keys;
    if (setup.slots !== keys.length) throw violation('SETUP slot count differs from its group keys');
    checkKeys(spec, request, keys, offered);
    const vector = toWords(partials(keys, local, calibration), cells);
    const shares = isContributor ? toWords(noiseShares(keys.length, noise, rng), cells) : undefined;
    for (const f of contributor.maskedFrames(vector, shares)) await ctx.channel.send(f);
    valuesSent();
    await ctx.audit(`dp-aggregate: contributed ${keys.length} group(s) × ${cells} cell(s)${isContributor ? ' with its noise share' : ''}`);
    return decodeControl(await ctx.channel.receive(), 'finish').outcome;
  } catch (e) {
    if (e instanceof SecureSumProtocolError || e instanceof ProtocolError) throw violation(e.message);
    throw e;
  }
}

/** The agreed key list must be what the query allows: the declared keys, the one global group, or a union holding ours. */
function checkKeys(spec: DpQuerySpec, request: DpAggregateRequest, keys: GroupKey[], offered: GroupKey[]): void {
  const ids = new Set(keys.map(keyId));
  if (ids.size !== keys.length) throw violation('the group keys repeat a key');
  if (spec.selection === 'single' && (keys.length !== 1 || keys[0].length !== 0)) throw violation('a query without GROUP BY has exactly one group');
  if (spec.selection === 'public') {
    const declared = new Set(request.publicKeys!.map(keyId));
    if (keys.length !== declared.size || keys.some((k) => !declared.has(keyId(k)))) throw violation('the group keys differ from the declared PUBLIC groups');
  }
  if (spec.selection === 'threshold' && offered.some((k) => !ids.has(keyId(k)))) throw violation('the group keys leave out keys this party selected');
}

function toWords(values: bigint[], cells: number): Uint32Array {
  const words = new Uint32Array((values.length / cells) * cells * LIMBS);
  for (let i = 0; i < values.length; i++) writeValue(words, i * LIMBS, LIMBS, values[i]);
  return words;
}
