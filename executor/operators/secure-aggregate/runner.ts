/**
 * The requester half of secure aggregation: opens one `secure-aggregate-v1` session per party,
 * collects the announcements (public keys, GROUP BY keys, GWAS allele names), assigns slots,
 * aligns SNP alleles by name, sends each party its SETUP, adds the masked vectors and writes the
 * totals of the groups that reach min_group into the stage's temp table. A party that fails,
 * dies or times out fails the query (its error, or 08006 naming it); no partial result is
 * written and every session is torn down.
 */
import { setMaxListeners } from 'node:events';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { FrameChannel } from '../../../connectors/connector.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { SECURE_AGGREGATE_PROTOCOL, type SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import { allele1Code, allele2Code } from '../../../connectors/plink/class-layout.js';
import { SecureSumAggregator, SecureSumProtocolError } from '../../protocols/mpc/secure-sum.js';
import type { OperatorRunContext, PrivateOperatorRunner } from '../registry.js';
import { decodeAnnounce, encodeKeysRequest, encodeSetup, KEYS, type Announce } from './messages.js';
import type { SecureAggregateRequest } from './party-handler.js';
import { writeStageRows, type SnpAlleles } from './results.js';
import { assignSlots, type KeyLists } from './union-keys.js';

export const secureAggregateRunner: Omit<PrivateOperatorRunner, 'name'> = {
  async run(stage, context) {
    await runSecureAggregate(stage, context);
  },
};

/** Bytes each party sent in the last run in this process (also reported in the final NOTICE). */
export const lastRunTraffic = new Map<string, number>();

async function runSecureAggregate(stage: PrivateStage, rc: OperatorRunContext): Promise<void> {
  const params = stage.params as SecureAggregateParams;
  const parties = params.parties;
  const prefix = `__sa${stage.id}`;
  const channels: FrameChannel[] = [];
  const received = new Map<string, number>();
  // One abort listener per party session plus ours: not a leak.
  setMaxListeners(Math.max(32, 4 * parties.length), rc.signal);
  const onAbort = () => channels.forEach((c) => c.destroy(abortError(rc.signal)));
  rc.signal.addEventListener('abort', onAbort, { once: true });
  const guard = async <T>(party: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw partyError(party, e, rc.signal);
    }
  };
  const receive = async (i: number): Promise<Uint8Array | null> => {
    const frame = await guard(parties[i], () => channels[i].receive());
    if (frame) received.set(parties[i], (received.get(parties[i]) ?? 0) + frame.byteLength + 4);
    return frame;
  };
  const __t0 = performance.now(); const __T = (l: string) => process.env.P7TRACE && console.error(`[GW] ${l} ${(performance.now() - __t0).toFixed(0)}`);
  try {
    const opened = await Promise.all(parties.map((party, i) => guard(party, async () => {
      const connector = rc.connectors.get(party);
      if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${party}" is not part of this federation`);
      const input = stage.partyInputs[i];
      const request: SecureAggregateRequest = { spec: params, input: { sql: input.sql, uses: input.uses } };
      return connector.openProtocol({ queryId: rc.queryId, protocol: SECURE_AGGREGATE_PROTOCOL, params: request, timeoutMs: rc.timeoutMs }, rc.signal);
    })));
    channels.push(...opened);

    const aggregator = new SecureSumAggregator(parties.length);
    const announces: Announce[] = await Promise.all(parties.map(async (party, i) => {
      const hello = await receive(i);
      if (!hello) throw new SqlError(SqlState.protocolViolation, `party "${party}" ended the session before announcing its groups`);
      return protocol(party, () => decodeAnnounce(aggregator.acceptHello(i, hello)));
    }));
    __T('announced');
    rc.notice({ severity: 'NOTICE', code: '00000', message: `SECURE AGGREGATE: ${parties.length} part${parties.length === 1 ? 'y' : 'ies'} announced ${announces.reduce((s, a) => s + a.rows, 0)} group(s)` });

    const keys = await fetchKeys(parties, announces, params.groupCount, channels, receive);
    __T('keys fetched');
    const slots = await assignSlots(rc.connection, prefix, parties, announces, keys, params.groupCount);
    const gwas = params.values.some((v) => v.op === 'gwas');
    const { alleles, flips } = gwas ? alignSnps(parties, announces, slots.maps, slots.slotCount) : { alleles: undefined, flips: undefined };

    __T('slots+align');
    aggregator.configure(slots.slotCount, params.values.map((v) => v.limbs));
    await Promise.all(parties.map((party, i) =>
      guard(party, () => channels[i].send(aggregator.setupFrame(i, encodeSetup({ rows: announces[i].rows, slots: slots.maps[i], flips: flips?.[i] })))),
    ));
    let done = 0;
    await Promise.all(parties.map(async (party, i) => {
      for (;;) {
        const frame = await receive(i);
        if (!frame) break;
        protocol(party, () => aggregator.acceptMasked(i, frame));
      }
      if (!aggregator.complete(i)) throw new SqlError(SqlState.protocolViolation, `party "${party}" ended the session before sending its whole vector`);
      done++;
      rc.notice({ severity: 'NOTICE', code: '00000', message: `SECURE AGGREGATE: ${Math.round((100 * done) / parties.length)}% (${done}/${parties.length} parties contributed)` });
    }));
    __T('vectors');
    const totals = aggregator.totals();
    const released = await writeStageRows(rc.connection, stage, prefix, params, totals, slots, alleles);
    __T('written');
    lastRunTraffic.clear();
    for (const [p, b] of received) lastRunTraffic.set(p, b);
    rc.notice({
      severity: 'NOTICE',
      code: '00000',
      message: `SECURE AGGREGATE: ${released} of ${slots.slotCount} group(s) released (min_group ${params.minGroup})`,
      detail: `bytes sent by each party: ${parties.map((p) => `${p}=${received.get(p) ?? 0}`).join(', ')}`,
    });
  } finally {
    rc.signal.removeEventListener('abort', onAbort);
    for (const c of channels) {
      await c.end().catch(() => undefined);
      c.destroy();
    }
  }
}

/**
 * Allele pair of every slot by name, and per party which of its groups count the other allele.
 * Works on dictionary codes: the union of the parties' allele names sorted by name, so that
 * comparing ids compares names ('0' and '' mean "not observed").
 */
function alignSnps(parties: string[], announces: Announce[], maps: (Int32Array | undefined)[], slotCount: number): { alleles: SnpAlleles; flips: Uint8Array[] } {
  announces.forEach((a, i) => {
    if (!a.alleles) throw new SqlError(SqlState.protocolViolation, `party "${parties[i]}" sent no allele names`);
  });
  const names = [...new Set(announces.flatMap((a) => a.alleles!.names))].filter((n) => n && n !== '0').sort();
  const globalId = new Map(names.map((n, i) => [n, i]));
  // Per party: local name index → global id, −1 for "not observed".
  const local = announces.map((a) => Int32Array.from(a.alleles!.names, (n) => globalId.get(n) ?? -1));
  const first = new Int32Array(slotCount).fill(-1);
  const second = new Int32Array(slotCount).fill(-1);
  let conflict: number | undefined;
  const see = (slot: number, g: number) => {
    if (g < 0 || g === first[slot] || g === second[slot]) return;
    if (first[slot] < 0) first[slot] = g;
    else if (second[slot] < 0) second[slot] = g;
    else conflict ??= slot;
  };
  announces.forEach((a, i) => {
    const map = maps[i];
    const ids = local[i];
    for (let r = 0; r < a.rows; r++) {
      const slot = map ? map[r] : r;
      see(slot, ids[allele1Code(a.alleles!, r)]);
      see(slot, ids[allele2Code(a.alleles!, r)]);
    }
  });
  if (conflict !== undefined) {
    const seen = new Set<string>();
    announces.forEach((a, i) => {
      for (let r = 0; r < a.rows; r++) {
        if ((maps[i] ? maps[i]![r] : r) !== conflict) continue;
        for (const c of [allele1Code(a.alleles!, r), allele2Code(a.alleles!, r)]) if (local[i][c] >= 0) seen.add(names[local[i][c]]);
      }
    });
    throw new SqlError(SqlState.invalidParameterValue, `GWAS: a SNP has more than two alleles across parties (${[...seen].sort().join(', ')}); only biallelic SNPs can be tested`, {
      hint: 'Exclude multi-allelic SNPs, or fix the allele names of the parties that disagree.',
    });
  }
  // X < Y by name; a single observed allele is Y with X = '0' (alignAlleles in association.ts).
  const xId = new Int32Array(slotCount);
  const x: string[] = new Array(slotCount);
  const y: string[] = new Array(slotCount);
  for (let s = 0; s < slotCount; s++) {
    const [p, q] = [first[s], second[s]];
    const lo = p >= 0 && q >= 0 ? Math.min(p, q) : -1;
    const hi = p >= 0 && q >= 0 ? Math.max(p, q) : Math.max(p, q);
    xId[s] = lo;
    x[s] = lo >= 0 ? names[lo] : '0';
    y[s] = hi >= 0 ? names[hi] : '0';
  }
  // flipFor in association.ts: by allele1 when observed, else by allele2.
  const flips = announces.map((a, i) => {
    const out = new Uint8Array(a.rows);
    const map = maps[i];
    const ids = local[i];
    for (let r = 0; r < a.rows; r++) {
      const slotX = xId[map ? map[r] : r];
      const g1 = ids[allele1Code(a.alleles!, r)];
      const g2 = ids[allele2Code(a.alleles!, r)];
      out[r] = g1 >= 0 ? (g1 === slotX ? 0 : 1) : g2 >= 0 ? (g2 === slotX ? 1 : 0) : 0;
    }
    return out;
  });
  return { alleles: { x, y }, flips };
}

function protocol<T>(party: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SecureSumProtocolError) throw new SqlError(SqlState.protocolViolation, `party "${party}": ${e.message}`);
    throw e;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
}

function partyError(party: string, e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return abortError(signal);
  if (e instanceof SqlError) return e;
  return new SqlError(SqlState.connectionFailure, `party "${party}" failed during secure aggregation: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * The parties' key lists: when every party announced the same digest, each party sends a 1/n
 * slice of the (common) list; otherwise each sends its whole list.
 */
async function fetchKeys(
  parties: string[],
  announces: Announce[],
  groupCount: number,
  channels: FrameChannel[],
  receive: (i: number) => Promise<Uint8Array | null>,
): Promise<KeyLists> {
  if (groupCount === 0) return { kind: 'none' };
  const fetch = async (i: number, first: number, count: number): Promise<Uint8Array> => {
    await channels[i].send(encodeKeysRequest(first, count));
    const frame = await receive(i);
    if (!frame || frame[0] !== KEYS) throw new SqlError(SqlState.protocolViolation, `party "${parties[i]}" did not send its keys`);
    return frame.subarray(1);
  };
  const same = announces.every((a) => a.rows === announces[0].rows && Buffer.compare(a.keys, announces[0].keys) === 0);
  if (same) {
    const rows = announces[0].rows;
    const per = Math.ceil(rows / parties.length);
    const ranges = parties.map((_, i) => [Math.min(rows, i * per), Math.min(rows, (i + 1) * per)] as const);
    const slices = await Promise.all(ranges.map(([a, b], i) => (b > a || i === 0 ? fetch(i, a, b - a) : Promise.resolve(undefined))));
    return { kind: 'shared', rows, slices: slices.filter((x): x is Uint8Array => x !== undefined) };
  }
  return { kind: 'each', lists: await Promise.all(announces.map((a, i) => fetch(i, 0, a.rows))) };
}
