/**
 * The requester half of aggregate-mode SECURE JOIN (PSI-sum; protocol and leakage in
 * executor/protocols/psi/psi-sum.ts):
 *
 * 1. reads the group values (as text) and keys of the gateway side, and forms *classes*: the
 *    distinct keys of one group with one multiplicity w (how many of the group's rows carry it);
 * 2. sends each class blinded; gets it back evaluated and shuffled; unblinds and indexes the
 *    tags of F(x) with the class's (group, w) — never linked to an x;
 * 3. for each block of the party's (tags, ciphertext), accumulates ct ⊙ weights per group;
 * 4. sends one flooded, masked ciphertext per group with matches, unmasks the decrypted totals
 *    and writes one row per group (join-row count, per value column COUNT/SUM/AVG).
 */
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { SECURE_JOIN_PROTOCOL } from '../../../planner/operators/secure-join.js';
import type { SecureJoinAggregateParams } from '../../../planner/operators/secure-join-aggregate.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { keyId } from '../../protocols/keys/key-numbering.js';
import { BATCH_ELEMENTS, hashDomain, MAX_BATCH_ELEMENTS } from '../../protocols/psi/ecdh-psi.js';
import { DEFAULT_PSI_SUITE, ELEMENT_BYTES, newBlinding } from '../../protocols/psi/group-engine.js';
import { elementsOf, encodeFrame, expectType, FrameType, PsiProtocolError } from '../../protocols/psi/messages.js';
import { aggregateTag, LIMBS, PsiSumAggregator, sumFromLimbs } from '../../protocols/psi/psi-sum.js';
import { TAG_BYTES } from '../../protocols/psi/record-cipher.js';
import { TagIndex } from '../../protocols/psi/tag-index.js';
import { packMessages, psiWorkerPool } from '../../protocols/psi/worker-pool.js';
import type { OperatorRunContext } from '../registry.js';
import type { PsiJoinRequest } from './protocol-params.js';
import { asSqlError, nextFrame, pipelined, PIPELINE_WINDOW, progressReporter, sessionSignal } from './session-io.js';


interface KeyClass {
  group: number;
  weight: number;
  keys: Uint8Array[];
}

interface GatewayGroups {
  /** Representative gateway row of each group (for its values), −1 for the global group. */
  representative: number[];
  classes: KeyClass[];
  keyCount: number;
}

async function readGroups(stage: PrivateStage, params: SecureJoinAggregateParams, context: OperatorRunContext): Promise<GatewayGroups> {
  const table = quoteIdent(stage.gatewayInputs[0].table);
  const groupSql = params.groupColumns.map((g) => `CAST(${quoteIdent(g)} AS VARCHAR)`);
  const keySql = params.keys.map((k) => `CAST(CAST(${quoteIdent(k.gatewayColumn)} AS ${k.keyType}) AS VARCHAR)`);
  const rules = params.keys.map((k) => k.normalization as KeyNormalizationRule | undefined);
  const result = await context.connection.stream(`SELECT rowid, ${[...groupSql, ...keySql].join(', ')} FROM ${table}`);
  const groups = new Map<string, number>();
  const representative: number[] = [];
  if (params.groupColumns.length === 0) {
    groups.set('[]', 0);
    representative.push(-1);
  }
  const weights = new Map<string, { group: number; key: Uint8Array; weight: number }>();
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunk.getRows()) {
      const g = params.groupColumns.length;
      const groupId = JSON.stringify(row.slice(1, 1 + g).map((v) => (v === null ? null : String(v))));
      let group = groups.get(groupId);
      if (group === undefined) {
        group = representative.length;
        groups.set(groupId, group);
        representative.push(Number(row[0]));
      }
      const canon = canonicalKeyBytes(row.slice(1 + g).map((v) => (v === null ? null : String(v))), rules);
      if (canon === null) continue;
      const id = `${group}|${keyId(canon)}`;
      const entry = weights.get(id);
      if (entry) entry.weight++;
      else weights.set(id, { group, key: canon, weight: 1 });
    }
  }
  const classes = new Map<string, KeyClass>();
  for (const { group, key, weight } of weights.values()) {
    const id = `${group}|${weight}`;
    let c = classes.get(id);
    if (!c) {
      c = { group, weight, keys: [] };
      classes.set(id, c);
    }
    c.keys.push(key);
  }
  return { representative, classes: [...classes.values()], keyCount: weights.size };
}

/** Per matched tag: the (group, weight) contributions of the requester's classes. */
class Contributions {
  readonly index = new TagIndex(1024);
  readonly entries: number[][] = [];
  add(tag: Uint8Array, group: number, weight: number): void {
    const n = this.index.add(tag);
    (this.entries[n] ??= []).push(group, weight);
  }
}

export async function runAggregateSecureJoin(stage: PrivateStage, context: OperatorRunContext): Promise<void> {
  const params = stage.params as SecureJoinAggregateParams;
  const connector = context.connectors.get(params.party);
  if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${params.party}" is not part of this federation`);
  const suite = DEFAULT_PSI_SUITE;
  const pool = psiWorkerPool();
  const signal = sessionSignal(context.signal);
  const gw = await readGroups(stage, params, context);
  const blinding = newBlinding(suite);
  const dst = hashDomain(suite, params.keys.map((k) => k.keyType), 'aggregate');
  const request: PsiJoinRequest = {
    mode: 'aggregate',
    suite,
    input: { sql: stage.partyInputs[0].sql, uses: stage.partyInputs[0].uses },
    keys: params.keys.map((k) => ({ keyType: k.keyType, ...(k.normalization ? { normalization: k.normalization } : {}) })),
    values: params.values,
  };
  const channel = await connector.openProtocol({ queryId: context.queryId, protocol: SECURE_JOIN_PROTOCOL, params: request, timeoutMs: context.timeoutMs }, signal);
  const onAbort = () => channel.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  const watchdog = setTimeout(
    () => channel.destroy(new SqlError(SqlState.connectionFailure, `party "${params.party}" did not finish the SECURE JOIN within ${context.timeoutMs + 2_000} ms`)),
    context.timeoutMs + 2_000,
  );
  const progress = progressReporter(gw.keyCount, (done, total) =>
    context.notice({ severity: 'NOTICE', code: '00000', message: `SECURE JOIN (aggregate) with ${params.party}: ${total === 0 ? 100 : Math.floor((100 * done) / total)}% (${done}/${total} keys)` }),
  );
  let aggregator: PsiSumAggregator | undefined;
  try {
    // Send every class blinded, batch by batch.
    const jobs: { cls: number; from: number }[] = [];
    gw.classes.forEach((c, cls) => {
      for (let from = 0; from < c.keys.length; from += BATCH_ELEMENTS) jobs.push({ cls, from });
    });
    const sending = pipelined(
      jobs.length,
      PIPELINE_WINDOW,
      (j) => {
        const { cls, from } = jobs[j];
        const packed = packMessages(gw.classes[cls].keys.slice(from, from + BATCH_ELEMENTS));
        return pool.run({ op: 'hash_multiply', suite, kind: 'fast', ...packed, dst, scalar: blinding.blind }, signal);
      },
      (j, blinded) => channel.send(encodeFrame(FrameType.Blinded, jobs[j].cls, j, blinded)),
      signal,
    ).then(() => channel.send(encodeFrame(FrameType.BlindedEnd, jobs.length, gw.classes.length)));
    sending.catch(() => undefined);

    const contributions = new Contributions();
    const received = new Array<number>(gw.classes.length).fill(0);
    const unblinding: Promise<void>[] = [];
    let unblinded = 0;
    let header: { keys: number; blocks: number; revealCounts: boolean } | undefined;
    let tags: Uint8Array | undefined;
    let blocksSeen = 0;
    for (;;) {
      const frame = await nextFrame(channel);
      if (frame === null) throw new PsiProtocolError(`party "${params.party}" ended the session early`);
      if (frame.type === FrameType.Evaluated) {
        const cls = gw.classes[frame.a];
        if (!cls || header) throw new PsiProtocolError(`unexpected evaluated batch for class ${frame.a}`);
        const elements = elementsOf(frame, MAX_BATCH_ELEMENTS).slice();
        received[frame.a] += elements.byteLength / ELEMENT_BYTES;
        if (received[frame.a] > cls.keys.length) throw new PsiProtocolError(`class ${frame.a} came back with more elements than were sent`);
        const task = pool.run({ op: 'multiply', suite, kind: 'fast', elements, scalar: blinding.unblind }, signal).then((out) => {
          for (let i = 0; i < out.byteLength / ELEMENT_BYTES; i++) contributions.add(aggregateTag(out.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)), cls.group, cls.weight);
          unblinded += out.byteLength / ELEMENT_BYTES;
          progress(unblinded);
        });
        task.catch(() => undefined);
        unblinding.push(task);
        continue;
      }
      expectType(frame, FrameType.AggregateSetup, FrameType.AggregateTags, FrameType.AggregateValues);
      if (frame.type === FrameType.AggregateSetup) {
        if (header) throw new PsiProtocolError('setup sent twice');
        await sending;
        await Promise.all(unblinding);
        if (received.some((n, i) => n !== gw.classes[i].keys.length)) throw new PsiProtocolError('a class came back incomplete');
        const view = new DataView(frame.body.buffer, frame.body.byteOffset, frame.body.byteLength);
        const length = view.getUint32(0, false);
        if (length + 4 > frame.body.byteLength) throw new PsiProtocolError('malformed setup');
        header = JSON.parse(new TextDecoder().decode(frame.body.subarray(4, 4 + length)));
        if (!header || !Number.isInteger(header.blocks) || frame.b !== params.values.length) throw new PsiProtocolError('malformed setup');
        aggregator = await PsiSumAggregator.create(frame.body.subarray(4 + length), params.values.length);
        if (header.blocks === 0) break;
        continue;
      }
      if (!header || !aggregator) throw new PsiProtocolError('blocks before setup');
      if (frame.type === FrameType.AggregateTags) {
        if (frame.a !== blocksSeen || tags) throw new PsiProtocolError(`tags of block ${frame.a} out of order`);
        if (frame.b > aggregator.layout.e || frame.body.byteLength !== frame.b * TAG_BYTES) throw new PsiProtocolError('malformed tags');
        tags = frame.body;
        continue;
      }
      if (!tags || frame.a !== blocksSeen) throw new PsiProtocolError(`values of block ${frame.a} out of order`);
      // Weights per group with a match in this block.
      const perGroup = new Map<number, Uint32Array>();
      const count = tags.byteLength / TAG_BYTES;
      for (let i = 0; i < count; i++) {
        const n = contributions.index.get(tags.subarray(i * TAG_BYTES, (i + 1) * TAG_BYTES));
        if (n < 0) continue;
        const list = contributions.entries[n];
        for (let c = 0; c < list.length; c += 2) {
          let w = perGroup.get(list[c]);
          if (!w) {
            w = new Uint32Array(count);
            perGroup.set(list[c], w);
          }
          w[i] += list[c + 1];
        }
      }
      if (perGroup.size > 0) {
        const ct = aggregator.loadBlock(frame.body);
        try {
          for (const [group, weights] of perGroup) aggregator.accumulate(group, ct, weights);
        } finally {
          aggregator.release(ct);
        }
      }
      tags = undefined;
      if (++blocksSeen === header.blocks) break;
    }
    await sending;
    await Promise.all(unblinding);
    if (!header || !aggregator) throw new PsiProtocolError(`party "${params.party}" sent no aggregate setup`);

    // Masked results per group with matches; the party decrypts the slot sums.
    const offsets = new Map<number, bigint[]>();
    const groupsWithMatches = aggregator.groups();
    for (const group of groupsWithMatches) {
      const { ciphertext, offsets: rho } = aggregator.finish(group, header.revealCounts);
      offsets.set(group, rho);
      await channel.send(encodeFrame(FrameType.AggregateResult, group, 0, ciphertext));
    }
    await channel.send(encodeFrame(FrameType.AggregateResultsEnd, groupsWithMatches.length, 0));
    const totalsFrame = await nextFrame(channel);
    if (!totalsFrame) throw new PsiProtocolError(`party "${params.party}" ended the session before its totals`);
    expectType(totalsFrame, FrameType.AggregateTotals);
    const results = JSON.parse(new TextDecoder().decode(totalsFrame.body)) as { group: number; totals: string[] | null }[];
    const end = await nextFrame(channel);
    if (!end || end.type !== FrameType.PartyEnd) throw new PsiProtocolError(`party "${params.party}" did not end the session properly`);
    await channel.end();
    progress(gw.keyCount);

    const exact = new Map<number, bigint[] | null>();
    for (const r of results) {
      const rho = offsets.get(r.group);
      if (!rho) throw new PsiProtocolError(`totals for group ${r.group}, which was not sent`);
      if (r.totals !== null && r.totals.length !== rho.length) throw new PsiProtocolError('malformed totals');
      exact.set(r.group, r.totals === null ? null : aggregator.unmask(r.totals.map((t) => BigInt(t)), rho));
    }
    await writeAggregateResult(stage, params, context, gw, exact);
  } catch (e) {
    channel.destroy(e instanceof Error ? e : new Error(String(e)));
    if (signal.aborted && signal.reason instanceof SqlError) throw signal.reason;
    throw asSqlError(e, `party "${params.party}"`);
  } finally {
    aggregator?.delete();
    clearTimeout(watchdog);
    signal.removeEventListener('abort', onAbort);
  }
}

function decimalText(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

async function writeAggregateResult(
  stage: PrivateStage,
  params: SecureJoinAggregateParams,
  context: OperatorRunContext,
  gw: GatewayGroups,
  exact: Map<number, bigint[] | null>,
): Promise<void> {
  const { connection } = context;
  const table = `__psi_a${stage.id}`;
  const aggregates = params.outputs.filter((o) => 'fn' in o);
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(table)} (rep BIGINT${aggregates.map((_, i) => `, o${i} VARCHAR`).join('')})`);
  const appender = await connection.createAppender(table, null, 'temp');
  try {
    for (let group = 0; group < gw.representative.length; group++) {
      const totals = exact.get(group);
      if (totals === null) continue; // withheld by the party (its min_group)
      const count = totals ? totals[0] : 0n;
      // GROUP BY emits only groups with rows; a global aggregate always has its one row.
      if (count === 0n && params.groupColumns.length > 0) continue;
      const rep = gw.representative[group];
      if (rep < 0) appender.appendNull();
      else appender.appendBigInt(BigInt(rep));
      for (const o of aggregates) {
        if (!('fn' in o)) continue;
        const base = o.value === undefined ? 0 : 1 + o.value * (1 + LIMBS);
        const nonNull = totals && o.value !== undefined ? totals[base] : 0n;
        const sum = totals && o.value !== undefined ? sumFromLimbs(totals.slice(base + 1, base + 1 + LIMBS)) : 0n;
        const scale = o.value === undefined ? 0 : params.values[o.value].scale;
        let text: string | null;
        if (o.fn === 'count_star') text = count.toString();
        else if (o.fn === 'count') text = nonNull.toString();
        else if (nonNull === 0n) text = null;
        else if (o.fn === 'sum') text = decimalText(sum, scale);
        else text = `${decimalText(sum, scale)}/${nonNull}`;
        if (text === null) appender.appendNull();
        else appender.appendVarchar(text);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  let a = 0;
  const select = params.outputs.map((o) => {
    const name = quoteIdent(o.name);
    if ('group' in o) return `g.${quoteIdent(params.groupColumns[o.group])} AS ${name}`;
    const col = `r.o${a++}`;
    if (o.fn === 'avg') return `CAST(CAST(split_part(${col}, '/', 1) AS DOUBLE) / CAST(split_part(${col}, '/', 2) AS DOUBLE) AS ${o.type}) AS ${name}`;
    return `CAST(${col} AS ${o.type}) AS ${name}`;
  });
  await connection.run(
    `CREATE TEMP TABLE ${quoteIdent(stage.table)} AS SELECT ${select.join(', ')} FROM ${quoteIdent(table)} r LEFT JOIN ${quoteIdent(stage.gatewayInputs[0].table)} g ON g.rowid = r.rep`,
  );
  await connection.run(`DROP TABLE ${quoteIdent(table)}`);
}
