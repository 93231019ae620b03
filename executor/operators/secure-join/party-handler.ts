/**
 * The party half of SECURE JOIN (`psi-join-v1`, row mode; protocol in
 * executor/protocols/psi/ecdh-psi.ts). The party:
 *
 * 1. reads its protocol input through `ctx.input(sql, uses)` — the party's own policy check of
 *    every column's use (keys `secure_key`, revealed columns `output`);
 * 2. evaluates the requester's blinded batches with a fresh OPRF key b, in order, while it
 *    hashes and exponentiates its own distinct keys on the worker pool;
 * 3. seals one record per row (tag from F(y) and the copy number, payload padded to the
 *    session's longest), shuffles all records with a CSPRNG permutation and streams them.
 *
 * It never learns which records the requester could open. Every failure reaches the requester
 * as this party's SqlError; nothing persists (all state is per session, in memory).
 */
import { setMaxListeners } from 'node:events';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { KeyNumbering } from '../../protocols/keys/key-numbering.js';
import { BATCH_ELEMENTS, encodePayload, hashDomain, MAX_BATCH_ELEMENTS, RECORDS_PER_FRAME, securePermutation } from '../../protocols/psi/ecdh-psi.js';
import { ELEMENT_BYTES, newPsiKey } from '../../protocols/psi/group-engine.js';
import { elementsOf, encodeFrame, expectType, FrameType, PsiProtocolError } from '../../protocols/psi/messages.js';
import { recordSecrets, sealedLength, sealRecord, TAG_BYTES } from '../../protocols/psi/record-cipher.js';
import { ByteArena, IntList } from '../../protocols/psi/byte-arena.js';
import { packMessages, psiWorkerPool } from '../../protocols/psi/worker-pool.js';
import { aggregatePartyHandler } from './party-aggregate.js';
import { parsePsiJoinRequest } from './protocol-params.js';
import { asSqlError, nextFrame, pipelined, PIPELINE_WINDOW } from './session-io.js';


function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  // The requester casts every column to text; anything else is rendered conservatively.
  return typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export async function secureJoinPartyHandler(ctx: PartyProtocolContext): Promise<void> {
  const request = parsePsiJoinRequest(ctx.request.params, ctx.party);
  if (request.mode === 'aggregate') return aggregatePartyHandler(ctx, request);
  const pool = psiWorkerPool();
  const key = newPsiKey(request.suite);
  const keyCount = request.keys.length;
  const rules = request.keys.map((k) => k.normalization as KeyNormalizationRule | undefined);
  const dst = hashDomain(request.suite, request.keys.map((k) => k.keyType), 'row');
  // Stops our own work as soon as the session fails (the requester died or gave up).
  const local = new AbortController();
  const stop = () => local.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', stop, { once: true });
  // (ctx.signal belongs to this session only: its listener goes away with it.)
  const signal = local.signal;
  // Every in-flight worker batch listens for the abort: more than Node's default of 10.
  setMaxListeners(0, signal);

  // Evaluate the requester's batches as they arrive (concurrently with reading our own rows).
  const evaluation = (async () => {
    let expected = 0;
    let evaluated = 0;
    const pending: Promise<Uint8Array>[] = [];
    const flush = async (all: boolean) => {
      while (pending.length > (all ? 0 : PIPELINE_WINDOW)) {
        const out = await pending.shift()!;
        await ctx.channel.send(encodeFrame(FrameType.Evaluated, 0, evaluated++, out));
      }
    };
    for (;;) {
      const frame = await nextFrame(ctx.channel);
      if (frame === null) throw new PsiProtocolError('the requester ended the session before its last batch');
      expectType(frame, FrameType.Blinded, FrameType.BlindedEnd);
      if (frame.type === FrameType.BlindedEnd) {
        if (frame.a !== expected) throw new PsiProtocolError(`the requester announced ${frame.a} batches but sent ${expected}`);
        await flush(true);
        return expected;
      }
      if (frame.b !== expected) throw new PsiProtocolError(`blinded batch ${frame.b} arrived when ${expected} was expected`);
      expected++;
      const elements = elementsOf(frame, MAX_BATCH_ELEMENTS);
      const task = pool.run({ op: 'multiply', suite: request.suite, kind: 'fast', elements: elements.slice(), scalar: key }, signal);
      task.catch(() => undefined);
      pending.push(task);
      await flush(false);
    }
  })();
  evaluation.catch((e: unknown) => local.abort(e));

  // Our own rows: canonical keys (deduplicated), copy numbers, payloads.
  const numbering = new KeyNumbering();
  // Flat storage: a million rows as a million small objects would cost more than the data.
  const distinct = new ByteArena();
  const copies = new IntList();
  const rowKey = new IntList();
  const rowCopy = new IntList();
  const payloads = new ByteArena();
  let longest = 0;
  const input = await ctx.input(request.input.sql, request.input.uses);
  const columns = input.schema.fields.length;
  if (columns !== request.input.uses.length) throw new SqlError(SqlState.protocolViolation, `party "${ctx.party}": protocol input has ${columns} columns for ${request.input.uses.length} uses`);
  for await (const batch of input) {
    if (signal.aborted) throw signal.reason;
    const vectors = input.schema.fields.map((_, i) => batch.getChildAt(i)!);
    for (let r = 0; r < batch.numRows; r++) {
      const parts = vectors.slice(0, keyCount).map((v) => cellText(v.get(r)));
      const canon = canonicalKeyBytes(parts, rules);
      if (canon === null) continue; // NULL keys never match: nothing to send
      const k = numbering.number(canon);
      if (k === distinct.length) {
        distinct.push(canon);
        copies.push(0);
      }
      rowKey.push(k);
      rowCopy.push(copies.get(k));
      copies.set(k, copies.get(k) + 1);
      const payload = encodePayload(vectors.slice(keyCount).map((v) => cellText(v.get(r))));
      if (payload.byteLength > longest) longest = payload.byteLength;
      payloads.push(payload);
    }
  }
  numbering.clear();

  // F(y) for our distinct keys, batch by batch on the pool.
  const oprf = new Uint8Array(distinct.length * ELEMENT_BYTES);
  const batches = Math.ceil(distinct.length / BATCH_ELEMENTS);
  await pipelined(
    batches,
    PIPELINE_WINDOW,
    (b) => {
      const packed = packMessages(distinct.slice(b * BATCH_ELEMENTS, (b + 1) * BATCH_ELEMENTS));
      return pool.run({ op: 'hash_multiply', suite: request.suite, kind: 'fast', ...packed, dst, scalar: key }, signal);
    },
    (b, out) => oprf.set(out, b * BATCH_ELEMENTS * ELEMENT_BYTES),
    signal,
  );
  const distinctCount = distinct.length;
  await evaluation;

  // One sealed record per row, in a uniformly random order.
  const sealed = sealedLength(longest);
  const recordBytes = TAG_BYTES + sealed;
  const order = securePermutation(payloads.length);
  await ctx.channel.send(encodeFrame(FrameType.RecordsBegin, payloads.length, sealed));
  for (let start = 0; start < order.length; start += RECORDS_PER_FRAME) {
    const end = Math.min(order.length, start + RECORDS_PER_FRAME);
    const body = new Uint8Array((end - start) * recordBytes);
    for (let i = start; i < end; i++) {
      const r = order[i];
      const k = rowKey.get(r);
      const secrets = recordSecrets(oprf.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES), rowCopy.get(r));
      const at = (i - start) * recordBytes;
      body.set(secrets.tag, at);
      sealRecord(secrets.key, copies.get(k), payloads.get(r), longest, body.subarray(at + TAG_BYTES, at + recordBytes));
    }
    if (signal.aborted) throw signal.reason;
    await ctx.channel.send(encodeFrame(FrameType.Records, end - start, 0, body));
  }
  await ctx.channel.send(encodeFrame(FrameType.PartyEnd, payloads.length, 0));
  await ctx.audit(`SECURE JOIN row mode: evaluated the requester's blinded keys, sent ${payloads.length} sealed records (${distinctCount} distinct keys)`);
}

/** The handler with errors mapped to SqlErrors naming this party. */
export async function secureJoinPartyProtocol(ctx: PartyProtocolContext): Promise<void> {
  try {
    await secureJoinPartyHandler(ctx);
  } catch (e) {
    throw asSqlError(e, 'the requester');
  }
}
