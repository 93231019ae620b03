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
import { alignAlleles, flipFor } from '../../gwas/association.js';
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
    rc.notice({ severity: 'NOTICE', code: '00000', message: `SECURE AGGREGATE: ${parties.length} part${parties.length === 1 ? 'y' : 'ies'} announced ${announces.reduce((s, a) => s + a.rows, 0)} group(s)` });

    const keys = await fetchKeys(parties, announces, params.groupCount, channels, receive);
    const slots = await assignSlots(rc.connection, prefix, parties, announces, keys, params.groupCount);
    const gwas = params.values.some((v) => v.op === 'gwas');
    const { alleles, flips } = gwas ? alignSnps(parties, announces, slots.maps, slots.slotCount) : { alleles: undefined, flips: undefined };

    aggregator.configure(slots.slotCount, params.values.map((v) => v.limbs));
    await Promise.all(parties.map((party, i) =>
      guard(party, () => channels[i].send(aggregator.setupFrame(i, encodeSetup({ slots: slots.maps[i], flips: flips?.[i] })))),
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
    const totals = aggregator.totals();
    const released = await writeStageRows(rc.connection, stage, prefix, params, totals, slots, alleles);
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

/** Allele pair of every slot by name, and per party which of its groups count the other allele. */
function alignSnps(parties: string[], announces: Announce[], maps: Int32Array[], slotCount: number): { alleles: SnpAlleles; flips: Uint8Array[] } {
  announces.forEach((a, i) => {
    if (!a.alleles) throw new SqlError(SqlState.protocolViolation, `party "${parties[i]}" sent no allele names`);
  });
  // Per slot, the distinct (allele1, allele2) pairs reported (usually the same one everywhere).
  const first: ([string, string] | undefined)[] = new Array(slotCount);
  const others = new Map<number, [string, string][]>();
  announces.forEach((a, i) => a.alleles!.forEach((pair, r) => {
    const slot = maps[i][r];
    const f = first[slot];
    if (!f) first[slot] = pair;
    else if (f[0] !== pair[0] || f[1] !== pair[1]) {
      const list = others.get(slot) ?? [];
      if (!list.some((q) => q[0] === pair[0] && q[1] === pair[1])) list.push(pair);
      others.set(slot, list);
    }
  }));
  const x: string[] = new Array(slotCount);
  const y: string[] = new Array(slotCount);
  for (let s = 0; s < slotCount; s++) {
    const aligned = alignAlleles(first[s] ? [first[s]!, ...(others.get(s) ?? [])] : []);
    if ('conflict' in aligned) {
      throw new SqlError(SqlState.invalidParameterValue, `GWAS: a SNP has more than two alleles across parties (${aligned.conflict.join(', ')}); only biallelic SNPs can be tested`, {
        hint: 'Exclude multi-allelic SNPs, or fix the allele names of the parties that disagree.',
      });
    }
    x[s] = aligned.x;
    y[s] = aligned.y;
  }
  const flips = announces.map((a, i) => Uint8Array.from(a.alleles!, ([a1, a2], r) => flipFor(a1, a2, x[maps[i][r]], y[maps[i][r]])));
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
