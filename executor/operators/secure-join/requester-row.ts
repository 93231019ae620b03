/**
 * The requester half of row-mode SECURE JOIN (protocol: executor/protocols/psi/ecdh-psi.ts).
 *
 * 1. Reads the gateway side's key columns from its temp table (cast to the aligned key type,
 *    then text), canonicalises them and deduplicates: the party sees each distinct key once.
 * 2. Streams blinded batches H(x)^a (worker pool) to the party while receiving the evaluated
 *    batches back in order and unblinding them into F(x) = H(x)^b; progress notices count keys.
 * 3. Collects the party's sealed records (tag index + one flat buffer), then for each own key
 *    looks up the tag of copy 0, opens it (learning how many rows the party has for that key)
 *    and the remaining copies.
 * 4. Appends (gateway row id, revealed values as text) for every matched pair into a temp
 *    table and builds `stage.table` in SQL: gateway rows [LEFT] JOIN matches, each revealed
 *    value cast back to its declared type.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { SECURE_JOIN_PROTOCOL, type SecureJoinRowParams } from '../../../planner/operators/secure-join.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { KeyNumbering } from '../../protocols/keys/key-numbering.js';
import { BATCH_ELEMENTS, decodePayload, hashDomain, MAX_BATCH_ELEMENTS, securePermutation } from '../../protocols/psi/ecdh-psi.js';
import { DEFAULT_PSI_SUITE, ELEMENT_BYTES, newBlinding } from '../../protocols/psi/group-engine.js';
import { elementsOf, encodeFrame, expectType, FrameType, PsiProtocolError, recordsOf } from '../../protocols/psi/messages.js';
import { openRecord, recordSecrets, TAG_BYTES } from '../../protocols/psi/record-cipher.js';
import { ByteArena } from '../../protocols/psi/byte-arena.js';
import { TagIndex } from '../../protocols/psi/tag-index.js';
import { packMessages, psiWorkerPool } from '../../protocols/psi/worker-pool.js';
import type { OperatorRunContext } from '../registry.js';
import type { PsiJoinRequest } from './protocol-params.js';
import { asSqlError, nextFrame, pipelined, PIPELINE_WINDOW, progressReporter, sessionSignal } from './session-io.js';


/** The gateway side's rows: their ids and distinct canonical keys. */
interface GatewayKeys {
  distinct: ByteArena;
  /** Per distinct key, the first gateway row (index into rowIds) and a chain through `next`. */
  head: Int32Array;
  next: Int32Array;
  rowIds: number[];
}

async function readGatewayKeys(connection: DuckDBConnection, table: string, params: SecureJoinRowParams): Promise<GatewayKeys> {
  const keySql = params.keys.map((k) => {
    const c = quoteIdent(k.gatewayColumn);
    return `CAST(CAST(${c} AS ${k.keyType}) AS VARCHAR)`;
  });
  const rules = params.keys.map((k) => k.normalization as KeyNormalizationRule | undefined);
  const result = await connection.stream(`SELECT rowid, ${keySql.join(', ')} FROM ${quoteIdent(table)}`);
  const numbering = new KeyNumbering();
  const distinct = new ByteArena();
  const rowIds: number[] = [];
  const rowKey: number[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunk.getRows()) {
      const canon = canonicalKeyBytes(row.slice(1).map((v) => (v === null ? null : String(v))), rules);
      if (canon === null) continue;
      const k = numbering.number(canon);
      if (k === distinct.length) distinct.push(canon);
      rowIds.push(Number(row[0]));
      rowKey.push(k);
    }
  }
  const head = new Int32Array(distinct.length).fill(-1);
  const next = new Int32Array(rowIds.length).fill(-1);
  for (let r = rowIds.length - 1; r >= 0; r--) {
    next[r] = head[rowKey[r]];
    head[rowKey[r]] = r;
  }
  return { distinct, head, next, rowIds };
}

/** The party's sealed records, indexed by tag. */
class RecordStore {
  readonly tags: TagIndex;
  private bodies: Uint8Array;
  constructor(readonly count: number, readonly sealed: number) {
    this.tags = new TagIndex(count);
    this.bodies = new Uint8Array(Math.max(1, count) * sealed);
  }
  add(tag: Uint8Array, body: Uint8Array): void {
    const n = this.tags.size;
    if (this.tags.add(tag) !== n) return; // duplicate tag: keep the first record
    this.bodies.set(body, n * this.sealed);
  }
  open(tag: Uint8Array, key: Uint8Array): { copies: number; payload: Uint8Array } | undefined {
    const n = this.tags.get(tag);
    if (n < 0) return undefined;
    return openRecord(key, this.bodies.subarray(n * this.sealed, (n + 1) * this.sealed));
  }
}

export async function runRowSecureJoin(stage: PrivateStage, context: OperatorRunContext): Promise<void> {
  const params = stage.params as SecureJoinRowParams;
  const gatewayTable = stage.gatewayInputs[0].table;
  const partyInput = stage.partyInputs[0];
  const connector = context.connectors.get(params.party);
  if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${params.party}" is not part of this federation`);
  const suite = DEFAULT_PSI_SUITE;
  const pool = psiWorkerPool();
  const { connection } = context;
  const signal = sessionSignal(context.signal);

  const keys = await readGatewayKeys(connection, gatewayTable, params);
  const blinding = newBlinding(suite);
  const dst = hashDomain(suite, params.keys.map((k) => k.keyType), 'row');
  const request: PsiJoinRequest = {
    mode: 'row',
    suite,
    input: { sql: partyInput.sql, uses: partyInput.uses },
    keys: params.keys.map((k) => ({ keyType: k.keyType, ...(k.normalization ? { normalization: k.normalization } : {}) })),
  };
  const channel = await connector.openProtocol({ queryId: context.queryId, protocol: SECURE_JOIN_PROTOCOL, params: request, timeoutMs: context.timeoutMs }, signal);
  const onAbort = () => channel.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  // A party that never answers is declared dead after the timeout (plus a grace period).
  const watchdog = setTimeout(
    () => channel.destroy(new SqlError(SqlState.connectionFailure, `party "${params.party}" did not finish the SECURE JOIN within ${context.timeoutMs + 2_000} ms`)),
    context.timeoutMs + 2_000,
  );
  const batches = Math.ceil(keys.distinct.length / BATCH_ELEMENTS);
  // Our keys go out in a random order too (the party sees blinded elements only, but the order
  // of a table is data: it never leaves unshuffled).
  const sendOrder = securePermutation(keys.distinct.length);
  const oprf = new Uint8Array(keys.distinct.length * ELEMENT_BYTES);
  const progress = progressReporter(keys.distinct.length, (done, total) =>
    context.notice({ severity: 'NOTICE', code: '00000', message: `SECURE JOIN with ${params.party}: ${total === 0 ? 100 : Math.floor((100 * done) / total)}% (${done}/${total} keys)` }),
  );
  try {
    const sending = pipelined(
      batches,
      PIPELINE_WINDOW,
      (b) => {
        const packed = packMessages(Array.from(sendOrder.subarray(b * BATCH_ELEMENTS, (b + 1) * BATCH_ELEMENTS), (k) => keys.distinct.get(k)));
        return pool.run({ op: 'hash_multiply', suite, kind: 'fast', ...packed, dst, scalar: blinding.blind }, signal);
      },
      (b, blinded) => channel.send(encodeFrame(FrameType.Blinded, 0, b, blinded)),
      signal,
    ).then(() => channel.send(encodeFrame(FrameType.BlindedEnd, batches, 1)));
    sending.catch(() => undefined);

    // Receive: evaluated batches (in order), then the party's records.
    let evaluated = 0;
    let unblinded = 0;
    const unblinding: Promise<void>[] = [];
    let store: RecordStore | undefined;
    let records = 0;
    for (;;) {
      const frame = await nextFrame(channel);
      if (frame === null) throw new PsiProtocolError(`party "${params.party}" ended the session early`);
      if (frame.type === FrameType.PartyEnd) break;
      expectType(frame, FrameType.Evaluated, FrameType.RecordsBegin, FrameType.Records);
      if (frame.type === FrameType.Evaluated) {
        const b = frame.b;
        if (b !== evaluated || b >= batches) throw new PsiProtocolError(`evaluated batch ${b} arrived when ${evaluated} was expected`);
        evaluated++;
        const elements = elementsOf(frame, MAX_BATCH_ELEMENTS);
        const size = Math.min(BATCH_ELEMENTS, keys.distinct.length - b * BATCH_ELEMENTS);
        if (elements.byteLength !== size * ELEMENT_BYTES) throw new PsiProtocolError(`evaluated batch ${b} has ${elements.byteLength / ELEMENT_BYTES} elements instead of ${size}`);
        const task = pool.run({ op: 'multiply', suite, kind: 'fast', elements: elements.slice(), scalar: blinding.unblind }, signal).then((out) => {
          for (let i = 0; i < size; i++) {
            const k = sendOrder[b * BATCH_ELEMENTS + i];
            oprf.set(out.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), k * ELEMENT_BYTES);
          }
          unblinded += size;
          progress(unblinded);
        });
        task.catch(() => undefined);
        unblinding.push(task);
        continue;
      }
      if (frame.type === FrameType.RecordsBegin) {
        if (store) throw new PsiProtocolError('records announced twice');
        if (frame.b > 16 * 1024 * 1024) throw new PsiProtocolError(`record length ${frame.b} is out of range`);
        store = new RecordStore(frame.a, frame.b);
        continue;
      }
      if (!store) throw new PsiProtocolError('records before their announcement');
      const { tags, sealed } = recordsOf(frame, store.sealed);
      records += tags.length;
      if (records > store.count) throw new PsiProtocolError(`more records than the ${store.count} announced`);
      for (let i = 0; i < tags.length; i++) store.add(tags[i], sealed[i]);
    }
    await sending;
    await Promise.all(unblinding);
    if (evaluated !== batches) throw new PsiProtocolError(`party "${params.party}" evaluated ${evaluated} of ${batches} batches`);
    if (!store || records !== store.count) throw new PsiProtocolError(`party "${params.party}" sent ${records} of ${store?.count ?? 0} announced records`);
    await channel.end();
    progress(keys.distinct.length);
    await writeResult(stage, params, context, keys, oprf, store);
  } catch (e) {
    channel.destroy(e instanceof Error ? e : new Error(String(e)));
    if (signal.aborted && signal.reason instanceof SqlError) throw signal.reason;
    throw asSqlError(e, `party "${params.party}"`);
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Opens the matched records and materialises the stage's output table. */
async function writeResult(
  stage: PrivateStage,
  params: SecureJoinRowParams,
  context: OperatorRunContext,
  keys: GatewayKeys,
  oprf: Uint8Array,
  store: RecordStore,
): Promise<void> {
  const { connection } = context;
  const matches = `__psi_m${stage.id}`;
  const payloadCols = Array.from({ length: params.partyPayloadColumns }, (_, i) => `p${i}`);
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(matches)} (rid BIGINT${payloadCols.map((c) => `, ${c} VARCHAR`).join('')})`);
  const appender = await connection.createAppender(matches, null, 'temp');
  try {
    for (let k = 0; k < keys.distinct.length; k++) {
      const f = oprf.subarray(k * ELEMENT_BYTES, (k + 1) * ELEMENT_BYTES);
      const first = recordSecrets(f, 0);
      const opened = store.open(first.tag, first.key);
      if (!opened) continue;
      const rows = [decodePayload(opened.payload, params.partyPayloadColumns)];
      for (let i = 1; i < opened.copies; i++) {
        const s = recordSecrets(f, i);
        const more = store.open(s.tag, s.key);
        if (!more) throw new PsiProtocolError(`party "${params.party}" announced ${opened.copies} rows for a key but copy ${i} is missing`);
        rows.push(decodePayload(more.payload, params.partyPayloadColumns));
      }
      for (let r = keys.head[k]; r >= 0; r = keys.next[r]) {
        for (const values of rows) {
          appender.appendBigInt(BigInt(keys.rowIds[r]));
          for (const v of values) {
            if (v === null) appender.appendNull();
            else appender.appendVarchar(v);
          }
          appender.endRow();
        }
      }
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const gateway = new Set(params.gatewayColumns.map((c) => c.name));
  const payload = new Map(params.payload.map((p) => [p.name, p]));
  const select = stage.columns.map((c) => {
    const name = quoteIdent(c.name);
    if (gateway.has(c.name)) return `g.${name} AS ${name}`;
    const p = payload.get(c.name);
    if (!p) throw new SqlError(SqlState.internalError, `SECURE JOIN output column ${c.name} has no source`);
    if (p.source.kind === 'payload') return `CAST(m.p${p.source.index} AS ${p.type}) AS ${name}`;
    return `CASE WHEN m.rid IS NOT NULL THEN CAST(g.${quoteIdent(p.source.column)} AS ${p.type}) END AS ${name}`;
  });
  const join = params.joinType === 'left' ? 'LEFT JOIN' : 'JOIN';
  await connection.run(
    `CREATE TEMP TABLE ${quoteIdent(stage.table)} AS SELECT ${select.join(', ')} FROM ${quoteIdent(stage.gatewayInputs[0].table)} g ${join} ${quoteIdent(matches)} m ON m.rid = g.rowid`,
  );
  await connection.run(`DROP TABLE ${quoteIdent(matches)}`);
}
