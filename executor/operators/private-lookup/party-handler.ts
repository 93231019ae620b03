/**
 * The owner's half of PRIVATE LOOKUP (`private-lookup/3`). Per session:
 * 1. checks the protocol input against its OWN policy for this requester (`ctx.inputSql`: key
 *    columns as `secure_key`, label columns as `lookup_label`), whatever the requester planned;
 * 2. brings its preprocessed table up to date (incremental sync, owner-table.ts) when its input
 *    changed (row count or source files differ from the table's stamp; only then are the input
 *    rows read), else reuses it as is — an unchanged 1M-entry table costs a count, not a scan;
 * 3. answers one OPRF batch (rate-limited per requester), readies the geometry the requester
 *    chose (building the cuckoo geometry on the first batch), and one BFV evaluation per query
 *    unit (one block of every bundle).
 * It learns the padded batch size, the geometry and unit count that follow from it (and, with
 * probability ≤ 2^−30 per batch, that an overflow unit was needed); its audit log records that.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RecordBatch } from 'apache-arrow';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import {
  decodeOprfRequest, decodeQuery, encodeHello, encodeOprfResponse, encodeResult, type OprfRequest, type QueryFrame,
} from '../../protocols/pir/messages.js';
import { ELEMENT_BYTES, loadSodium, OprfKey } from '../../protocols/pir/oprf.js';
import { GEOMETRIES } from '../../protocols/pir/params.js';
import { overflowAllowance, paddedBatchSize, unitsFor } from '../../protocols/pir/query-plan.js';
import { encodeLabel } from './label-codec.js';
import { LookupTable, withTableLock, type SourceRow } from './owner-table.js';
import type { LookupRequestParams } from './protocol-params.js';

/** configuration_limit_exceeded: the requester used up its OPRF evaluations. */
const RATE_LIMITED = '53400';
/** program_limit_exceeded: the table (or a label) is too large for the lookup's parameters. */
const TABLE_TOO_LARGE = '54000';

/** Encoding limits (MAX_BUNDLES, label length) surface as RangeErrors; report them as SQL errors. */
async function withinLimits<T>(party: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RangeError) throw new SqlError(TABLE_TOO_LARGE, `party "${party}" cannot serve PRIVATE LOOKUP on this table: ${e.message}`);
    throw e;
  }
}

export interface LookupOwnerLimits {
  /** OPRF evaluations a requester may ask for per hour (token bucket, refilled continuously). */
  oprfPerHour: number;
  /** Largest padded batch accepted in one session. */
  maxBatch: number;
}

const limits: LookupOwnerLimits = { oprfPerHour: 1_000_000, maxBatch: 65_536 };

/** Changes the owner-side limits of this process (tests, node operators). */
export function configureLookupOwner(update: Partial<LookupOwnerLimits>): LookupOwnerLimits {
  Object.assign(limits, update);
  buckets.clear();
  return { ...limits };
}

const buckets = new Map<string, { tokens: number; at: number }>();

function takeTokens(party: string, requester: string, n: number): void {
  const key = `${party}/${requester}`;
  const now = Date.now();
  const b = buckets.get(key) ?? { tokens: limits.oprfPerHour, at: now };
  b.tokens = Math.min(limits.oprfPerHour, b.tokens + ((now - b.at) / 3_600_000) * limits.oprfPerHour);
  b.at = now;
  if (b.tokens < n) {
    buckets.set(key, b);
    throw new SqlError(RATE_LIMITED, `party "${party}" refuses PRIVATE LOOKUP: requester "${requester}" exceeded its rate of ${limits.oprfPerHour} key evaluations per hour`, {
      hint: 'Wait before looking up more keys, or ask the owner to raise the limit.',
    });
  }
  b.tokens -= n;
  buckets.set(key, b);
}

function violation(message: string): SqlError {
  return new SqlError(SqlState.protocolViolation, `PRIVATE LOOKUP: ${message}`);
}

function parseParams(raw: unknown): LookupRequestParams {
  const p = raw as Partial<LookupRequestParams> | null;
  if (!p || typeof p !== 'object' || typeof p.sql !== 'string' || !Array.isArray(p.uses) || !Array.isArray(p.keySources)) {
    throw violation('malformed request parameters');
  }
  if (!p.uses.every((u) => u === 'secure_key' || u === 'lookup_label')) throw violation('input columns must be keys (secure_key) or labels (lookup_label)');
  const keys = p.uses.filter((u) => u === 'secure_key').length;
  if (keys === 0 || p.keySources.length !== keys) throw violation('the request names no key columns');
  return p as LookupRequestParams;
}

/** Reads the source rows (key columns first by `uses`, labels after) from the input stream. */
async function* sourceRows(stream: AsyncIterable<RecordBatch>, uses: ColumnUse[], rules: (KeyNormalizationRule | undefined)[]): AsyncGenerator<SourceRow[]> {
  const keyCols = uses.flatMap((u, i) => (u === 'secure_key' ? [i] : []));
  const labelCols = uses.flatMap((u, i) => (u === 'lookup_label' ? [i] : []));
  for await (const batch of stream) {
    const columns = uses.map((_, i) => batch.getChildAt(i)!);
    const rows: SourceRow[] = [];
    for (let r = 0; r < batch.numRows; r++) {
      const text = (c: number): string | null => {
        const v = columns[c].get(r);
        return v === null || v === undefined ? null : String(v);
      };
      const key = canonicalKeyBytes(keyCols.map(text), rules);
      if (!key) continue; // NULL keys never match
      rows.push({ key, label: encodeLabel(labelCols.map(text)) });
    }
    if (rows.length) yield rows;
  }
}

/**
 * What the input looks like now (row count of the checked input SQL, source files' size and
 * mtime), run on the owner's own connection: a session whose stamp matches skips the sync
 * without reading a single input row.
 */
async function inputStamp(db: DuckDBConnection, checkedSql: string): Promise<string> {
  const counted = await db.runAndReadAll(`SELECT count(*) AS n FROM (${checkedSql}) AS lookup_input`);
  const count = String(counted.getRows()[0]?.[0] ?? '?');
  const sources = await db.runAndReadAll('SELECT name, size, mtime FROM __veilsql_sources ORDER BY name').catch(() => undefined);
  return JSON.stringify({ count, sources: sources?.getRows().map((r) => r.map(String)) ?? [] });
}

export async function handlePrivateLookup(ctx: PartyProtocolContext): Promise<void> {
  const params = parseParams(ctx.request.params);
  const catalog = await ctx.catalog();
  const rules = params.keySources.map((s) => catalog.tables.find((t) => t.name === s.table)?.columns.find((c) => c.name === s.column)?.normalization);
  // The owner's own policy check of every column's use, before anything else happens. The
  // input rows are only read (a second, identical check) when the table must be synced.
  const checkedSql = await ctx.inputSql(params.sql, params.uses);
  const sodium = await loadSodium();
  const db = await ctx.database();
  try {
    const definition = JSON.stringify({ sql: params.sql, uses: params.uses, rules });
    const { cacheKey } = await LookupTable.key(db, definition);
    await withTableLock(cacheKey, async () => {
      const table = await LookupTable.open(db, definition, () => OprfKey.generate(sodium).secret);
      const stamp = await inputStamp(db, checkedSql);
      if (stamp !== table.stamp) {
        const stream = await ctx.input(params.sql, params.uses);
        const report = await withinLimits(ctx.party, () => table.sync(db, sourceRows(stream, params.uses, rules), stamp));
        await ctx.audit(`lookup table sync: ${report.inserted} inserted, ${report.deleted} deleted, ${report.cellsReloaded} cell(s) re-encoded${report.rebuilt ? ', label capacity rebuilt' : ''}`);
      }
      await serveSession(ctx, table, sodium);
    });
  } finally {
    db.closeSync();
  }
}

async function serveSession(ctx: PartyProtocolContext, table: LookupTable, sodium: Awaited<ReturnType<typeof loadSodium>>): Promise<void> {
  const { channel } = ctx;
  const first = await channel.receive();
  if (first === null) return; // the requester gave up
  let request: OprfRequest;
  try {
    request = decodeOprfRequest(first);
  } catch (e) {
    throw violation((e as Error).message);
  }
  const count = request.blinded.length / ELEMENT_BYTES;
  if (!Number.isInteger(count) || count < 1 || count > limits.maxBatch) throw violation(`a batch has 1…${limits.maxBatch} keys`);
  if (paddedBatchSize(count) !== count) throw violation(`a batch of ${count} keys is not padded to its bucket`);
  const { geometry, units } = request;
  // The unit count is a function of the padded size and geometry; anything else would let a
  // requester's plan depend on its keys (or make the owner work for nothing).
  if (units !== unitsFor(count, geometry)) throw violation(`a batch of ${count} keys in the ${geometry} geometry has ${unitsFor(count, geometry)} query units, not ${units}`);
  takeTokens(ctx.party, ctx.requester, count);
  let evaluated: Uint8Array;
  try {
    evaluated = table.blindEvaluate(sodium, request.blinded);
  } catch (e) {
    throw violation((e as Error).message);
  }
  const prepared = await withinLimits(ctx.party, () => table.prepare(geometry));
  if (prepared.cellsLoaded > 0 && geometry === 'cuckoo') await ctx.audit(`lookup table: ${prepared.cellsLoaded} cuckoo cell(s) encoded`);
  await channel.send(encodeHello({ geometry, shape: prepared.shape, bundles: prepared.bundles }));
  await channel.send(encodeOprfResponse(evaluated));
  await ctx.audit(`lookup batch: ${count} key(s) (padded), ${geometry} geometry, ${units} query unit(s)`);
  const blocks = GEOMETRIES[geometry].blocks;
  const maxUnits = units + overflowAllowance(geometry);
  const seen = new Set<number>();
  for (;;) {
    const frame = await channel.receive();
    if (frame === null) break; // the requester ended its side after its last unit
    let query: QueryFrame;
    try {
      query = decodeQuery(frame);
    } catch (e) {
      throw violation((e as Error).message);
    }
    if (query.unit >= maxUnits || seen.has(query.unit)) throw violation(`unexpected query unit ${query.unit}`);
    if (query.block >= blocks) throw violation(`the ${geometry} geometry has ${blocks} block(s), not block ${query.block}`);
    if (query.powers.length !== prepared.shape.itemsPerBin) throw violation(`a query carries ${prepared.shape.itemsPerBin} powers, not ${query.powers.length}`);
    seen.add(query.unit);
    let results: Uint8Array[][];
    try {
      results = await table.evaluate(geometry, query.block, query.powers);
    } catch (e) {
      throw violation((e as Error).message);
    }
    await channel.send(encodeResult({ unit: query.unit, firstBundle: 0, results }));
  }
  if (seen.size < units) throw violation(`the requester stopped after ${seen.size} of ${units} query units`);
  if (seen.size > units) await ctx.audit(`lookup batch: ${seen.size - units} overflow unit(s)`);
}
