/**
 * The party half of aggregate-mode SECURE JOIN (PSI-sum; protocol and leakage in
 * executor/protocols/psi/psi-sum.ts). The party:
 *
 * 1. evaluates each of the requester's key classes with a fresh OPRF key b and returns it
 *    shuffled (so the requester cannot tell which of its keys matched);
 * 2. groups its own input by canonical key (row count; per value column the non-NULL count
 *    and the exact sum as a scaled integer), computes tags from F(y), shuffles the keys and
 *    streams tags and BFV-encrypted component blocks under its own fresh key;
 * 3. decrypts the requester's masked per-group results, and — when the input aggregates one of
 *    its `aggregate`-level columns — withholds every group whose join-row count is below its
 *    own min_group (defence in depth: it checks the threshold itself, from its own catalog).
 */
import { setMaxListeners } from 'node:events';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { parseStatement, type Query } from '../../../parser/index.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { bindQuery } from '../../../planner/binder/index.js';
import { Catalog } from '../../../planner/catalog.js';
import { nodeExpressions, referencedColumns, walkPlan } from '../../../planner/logical-plan.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { KeyNumbering } from '../../protocols/keys/key-numbering.js';
import { BATCH_ELEMENTS, hashDomain, MAX_BATCH_ELEMENTS, securePermutation } from '../../protocols/psi/ecdh-psi.js';
import { ELEMENT_BYTES, newPsiKey } from '../../protocols/psi/group-engine.js';
import { elementsOf, encodeFrame, expectType, FrameType, PsiProtocolError } from '../../protocols/psi/messages.js';
import { aggregateTag, layoutFor, limbsOf, PsiSumValueOwner } from '../../protocols/psi/psi-sum.js';
import { TAG_BYTES } from '../../protocols/psi/record-cipher.js';
import { packMessages, psiWorkerPool } from '../../protocols/psi/worker-pool.js';
import type { PsiJoinRequest } from './protocol-params.js';
import { nextFrame, pipelined, PIPELINE_WINDOW } from './session-io.js';


/** Parses the text of an exact number into an integer scaled by 10^scale. */
export function parseScaled(text: string, scale: number): bigint {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new SqlError(SqlState.invalidTextRepresentation, `"${text}" is not an exact number`);
  const fraction = m[3] ?? '';
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) throw new SqlError(SqlState.protocolViolation, `"${text}" has more than ${scale} decimal places`);
  const digits = `${m[2] || '0'}${fraction.slice(0, scale).padEnd(scale, '0')}`;
  const v = BigInt(digits);
  return m[1] === '-' ? -v : v;
}

/**
 * The party's own min_group for this input: the largest min_group of the tables whose
 * `aggregate`-level columns the input uses (found by binding the input against this party's
 * catalog, as its policy check does — not from anything the requester says).
 */
async function ownMinGroup(ctx: PartyProtocolContext, sql: string): Promise<number> {
  const catalog = await ctx.catalog();
  const bound = bindQuery(parseStatement(sql) as Query, new Catalog(ctx.requester, [catalog]));
  const used = new Set<string>();
  walkPlan(bound.plan, (node) => {
    for (const e of nodeExpressions(node)) referencedColumns(e, used);
  });
  let min = 0;
  for (const name of used) {
    const origin = bound.ctx.origins.get(name);
    if (origin?.level === 'aggregate' && origin.party === ctx.party) min = Math.max(min, origin.minGroup);
  }
  return min;
}

function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

export async function aggregatePartyHandler(ctx: PartyProtocolContext, request: PsiJoinRequest): Promise<void> {
  const pool = psiWorkerPool();
  const key = newPsiKey(request.suite);
  const keyCount = request.keys.length;
  const values = request.values ?? [];
  const rules = request.keys.map((k) => k.normalization as KeyNormalizationRule | undefined);
  const dst = hashDomain(request.suite, request.keys.map((k) => k.keyType), 'aggregate');
  const minGroup = await ownMinGroup(ctx, request.input.sql);
  // Stops our own work as soon as the session fails (the requester died or gave up).
  const local = new AbortController();
  const stop = () => local.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', stop, { once: true });
  // (ctx.signal belongs to this session only: its listener goes away with it.)
  const signal = local.signal;
  // Every in-flight worker batch listens for the abort: more than Node's default of 10.
  setMaxListeners(0, signal);

  // 1. The requester's classes, evaluated and kept until each can be shuffled whole.
  const classes = new Map<number, Uint8Array[]>();
  const evaluation = (async () => {
    let batches = 0;
    const pending: Promise<void>[] = [];
    for (;;) {
      const frame = await nextFrame(ctx.channel);
      if (frame === null) throw new PsiProtocolError('the requester ended the session before its last batch');
      expectType(frame, FrameType.Blinded, FrameType.BlindedEnd);
      if (frame.type === FrameType.BlindedEnd) {
        if (frame.a !== batches || frame.b !== classes.size) throw new PsiProtocolError(`the requester announced ${frame.a} batches in ${frame.b} classes but sent ${batches} in ${classes.size}`);
        await Promise.all(pending);
        return;
      }
      batches++;
      if (classes.size > 1_000_000 && !classes.has(frame.a)) throw new PsiProtocolError('too many key classes');
      const list = classes.get(frame.a) ?? [];
      classes.set(frame.a, list);
      const at = list.length;
      list.push(new Uint8Array(0));
      const elements = elementsOf(frame, MAX_BATCH_ELEMENTS).slice();
      const task = pool.run({ op: 'multiply', suite: request.suite, kind: 'fast', elements, scalar: key }, signal).then((out) => {
        list[at] = out;
      });
      task.catch(() => undefined);
      pending.push(task);
      if (pending.length > PIPELINE_WINDOW * 4) await pending.shift();
    }
  })();
  evaluation.catch((e: unknown) => local.abort(e));

  // 2. Our keys with their row counts and per-column non-NULL counts and sums.
  const numbering = new KeyNumbering();
  const distinct: Uint8Array[] = [];
  const counts: number[] = [];
  const nonNull: number[][] = values.map(() => []);
  const sums: bigint[][] = values.map(() => []);
  const input = await ctx.input(request.input.sql, request.input.uses);
  if (input.schema.fields.length !== request.input.uses.length) throw new SqlError(SqlState.protocolViolation, `party "${ctx.party}": protocol input has ${input.schema.fields.length} columns for ${request.input.uses.length} uses`);
  for await (const batch of input) {
    if (signal.aborted) throw signal.reason;
    const vectors = input.schema.fields.map((_, i) => batch.getChildAt(i)!);
    for (let r = 0; r < batch.numRows; r++) {
      const canon = canonicalKeyBytes(vectors.slice(0, keyCount).map((v) => cellText(v.get(r))), rules);
      if (canon === null) continue;
      const k = numbering.number(canon);
      if (k === distinct.length) {
        distinct.push(canon);
        counts.push(0);
        for (let v = 0; v < values.length; v++) {
          nonNull[v].push(0);
          sums[v].push(0n);
        }
      }
      counts[k]++;
      for (let v = 0; v < values.length; v++) {
        const text = cellText(vectors[keyCount + v].get(r));
        if (text === null) continue;
        nonNull[v][k]++;
        // COUNT(col) needs only the non-NULL count: the value is never parsed (any type).
        if (!values[v].countOnly) sums[v][k] += parseScaled(text, values[v].scale);
      }
    }
  }
  numbering.clear();
  const oprf = new Uint8Array(distinct.length * ELEMENT_BYTES);
  await pipelined(
    Math.ceil(distinct.length / BATCH_ELEMENTS),
    PIPELINE_WINDOW,
    (b) => pool.run({ op: 'hash_multiply', suite: request.suite, kind: 'fast', ...packMessages(distinct.slice(b * BATCH_ELEMENTS, (b + 1) * BATCH_ELEMENTS)), dst, scalar: key }, signal),
    (b, out) => oprf.set(out, b * BATCH_ELEMENTS * ELEMENT_BYTES),
    signal,
  );
  await evaluation;

  // 3. Return every class shuffled as a whole.
  for (const [cls, batches] of classes) {
    const all = new Uint8Array(batches.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of batches) {
      all.set(b, at);
      at += b.byteLength;
    }
    const n = all.byteLength / ELEMENT_BYTES;
    const order = securePermutation(n);
    for (let start = 0; start < n; start += MAX_BATCH_ELEMENTS) {
      const end = Math.min(n, start + MAX_BATCH_ELEMENTS);
      const body = new Uint8Array((end - start) * ELEMENT_BYTES);
      for (let i = start; i < end; i++) body.set(all.subarray(order[i] * ELEMENT_BYTES, (order[i] + 1) * ELEMENT_BYTES), (i - start) * ELEMENT_BYTES);
      await ctx.channel.send(encodeFrame(FrameType.Evaluated, cls, n, body));
    }
  }
  classes.clear();

  // 4. Our tags and encrypted components, in a random order of our keys.
  const owner = await PsiSumValueOwner.create(values.length);
  try {
    const layout = layoutFor(values.length);
    const order = securePermutation(distinct.length);
    const blocks = Math.ceil(distinct.length / layout.e);
    const header = new TextEncoder().encode(JSON.stringify({ keys: distinct.length, blocks, revealCounts: minGroup > 1, minGroup }));
    const pk = owner.publicKeyBytes();
    const setup = new Uint8Array(4 + header.byteLength + pk.byteLength);
    new DataView(setup.buffer).setUint32(0, header.byteLength, false);
    setup.set(header, 4);
    setup.set(pk, 4 + header.byteLength);
    await ctx.channel.send(encodeFrame(FrameType.AggregateSetup, blocks, values.length, setup));
    for (let b = 0; b < blocks; b++) {
      const members = Array.from(order.subarray(b * layout.e, Math.min(distinct.length, (b + 1) * layout.e)));
      const tags = new Uint8Array(members.length * TAG_BYTES);
      members.forEach((k, i) => tags.set(aggregateTag(oprf.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES)), i * TAG_BYTES));
      await ctx.channel.send(encodeFrame(FrameType.AggregateTags, b, members.length, tags));
      const components = members.map((k) => [BigInt(counts[k]), ...values.flatMap((_, v) => [BigInt(nonNull[v][k]), ...limbsOf(sums[v][k])])]);
      await ctx.channel.send(encodeFrame(FrameType.AggregateValues, b, members.length, owner.encryptBlock(components)));
      if (signal.aborted) throw signal.reason;
    }

    // 5. Decrypt the requester's masked results; enforce our own min_group.
    const results: { group: number; totals: string[] | null }[] = [];
    let suppressed = 0;
    for (;;) {
      const frame = await nextFrame(ctx.channel);
      if (frame === null) throw new PsiProtocolError('the requester ended the session before sending its results');
      expectType(frame, FrameType.AggregateResult, FrameType.AggregateResultsEnd);
      if (frame.type === FrameType.AggregateResultsEnd) {
        if (frame.a !== results.length) throw new PsiProtocolError(`the requester announced ${frame.a} results but sent ${results.length}`);
        break;
      }
      if (results.length >= 1_000_000) throw new PsiProtocolError('too many groups');
      const totals = owner.decryptTotals(frame.body);
      if (minGroup > 1 && totals[0] < BigInt(minGroup)) {
        suppressed++;
        results.push({ group: frame.a, totals: null });
      } else results.push({ group: frame.a, totals: totals.map(String) });
    }
    await ctx.channel.send(encodeFrame(FrameType.AggregateTotals, results.length, 0, new TextEncoder().encode(JSON.stringify(results))));
    await ctx.channel.send(encodeFrame(FrameType.PartyEnd, 0, 0));
    await ctx.audit(`SECURE JOIN aggregate mode (PSI-sum): ${distinct.length} own keys, ${results.length} group results decrypted${minGroup > 1 ? `, ${suppressed} withheld below min_group ${minGroup}` : ''}`);
  } finally {
    owner.delete();
  }
}
