/**
 * The party half of secure aggregation (`secure-aggregate-v1`). The party
 * 1. checks the request (it must be one of the named contributors) and runs its protocol input
 *    through its own policy check (`ctx.input`: keys must be revealable, arguments statistics);
 * 2. computes its partials per group (party-partials.ts, or plink-partials.ts for a PLINK-backed
 *    table) — if fewer than two parties besides the requester contribute, the totals would
 *    expose its partials, so it suppresses its own groups below its `min_group` first;
 * 3. announces its keys (and GWAS allele names), receives the slot map, checks every partial
 *    against the declared bound (so the total cannot wrap) and sends its masked vector.
 * A malformed request or frame fails the session with a SqlError; nothing is kept.
 */
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SecureSumContributor, SecureSumProtocolError } from '../../protocols/mpc/secure-sum.js';
import { layoutWidth, perPartyBound, writeValue } from '../../protocols/mpc/ring.js';
import type { SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { createHash } from 'node:crypto';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { decodeKeysRequest, decodeSetup, encodeAnnounce, KEYS, KEYS_REQUEST } from './messages.js';
import { computePartials, type PartyPartials } from './party-partials.js';
import { plinkPartials } from './plink-partials.js';

export interface SecureAggregateRequest {
  spec: SecureAggregateParams;
  input: { sql: string; uses: ColumnUse[] };
}

const USES = new Set<ColumnUse>(['output', 'filter', 'group', 'order', 'statistic', 'value_agg', 'dp', 'secure_key']);

function bad(message: string): never {
  throw new SqlError(SqlState.protocolViolation, `secure aggregation: ${message}`);
}

export function parseRequest(params: unknown): SecureAggregateRequest {
  const p = params as Partial<SecureAggregateRequest> | undefined;
  const spec = p?.spec;
  const input = p?.input;
  if (!spec || !input || typeof input.sql !== 'string' || !Array.isArray(input.uses) || !input.uses.every((u) => USES.has(u))) bad('malformed request');
  if (!Array.isArray(spec.parties) || !spec.parties.every((x) => typeof x === 'string') || !Array.isArray(spec.values) || spec.values.length === 0) bad('malformed spec');
  if (!Number.isInteger(spec.groupCount) || spec.groupCount < 0 || spec.groupCount > input.uses.length) bad('bad group count');
  if (!Number.isInteger(spec.minGroup) || spec.minGroup < 1) bad('bad min_group');
  if (spec.values[spec.countStar]?.op !== 'count_star') bad('the spec has no COUNT(*)');
  for (const v of spec.values) {
    if (!Number.isInteger(v.limbs) || v.limbs < 1 || v.limbs > 4) bad('bad value width');
    const cols = v.op === 'gwas' ? v.columns : v.op === 'count_star' ? [] : [v.column];
    if (cols.some((c) => !Number.isInteger(c) || c < spec.groupCount || c >= input.uses.length)) bad('a value refers to a non-argument column');
    if (v.op === 'gwas' && !(v.part >= 0 && v.part < 8)) bad('bad GWAS part');
  }
  // Keys are revealed to the requester: the party checks them as outputs, never weaker.
  for (let i = 0; i < spec.groupCount; i++) if (input.uses[i] !== 'output') bad('group keys must be declared as revealed outputs');
  return { spec, input };
}

export async function secureAggregatePartyHandler(ctx: PartyProtocolContext): Promise<void> {
  const { spec, input } = parseRequest(ctx.request.params);
  const index = spec.parties.indexOf(ctx.party);
  if (index < 0 || spec.parties.lastIndexOf(ctx.party) !== index) bad(`party "${ctx.party}" is not a contributor of this session`);
  if (new Set(spec.parties).size !== spec.parties.length) bad('a contributor is named twice');
  const others = spec.parties.filter((p) => p !== ctx.requester).length;

  const packed = await plinkPartials(ctx, input, spec);
  const partials = packed ?? (await generalPartials(ctx, input, spec));
  if (others < 2) await suppressSmallGroups(ctx, partials, spec);

  const contributor = new SecureSumContributor(spec.parties.length);
  try {
    const digest = partials.keys.byteLength ? new Uint8Array(createHash('sha256').update(partials.keys).digest()) : new Uint8Array(0);
    await ctx.channel.send(contributor.hello(encodeAnnounce({ rows: partials.rows, keys: digest, alleles: partials.alleles })));
    let frame = await ctx.channel.receive();
    // The requester fetches (slices of) the key list before it can send the slot map.
    while (frame && frame[0] === KEYS_REQUEST) {
      const { first, count } = decodeKeysRequest(frame);
      if (first + count > partials.rows) bad(`keys request for rows ${first}..${first + count} of ${partials.rows}`);
      await ctx.channel.send(await keySlice(partials.keys, first, count));
      frame = await ctx.channel.receive();
    }
    if (!frame) bad('the requester ended the session before SETUP');
    const setup = contributor.acceptSetup(frame);
    if (setup.index !== index) bad(`SETUP gives this party index ${setup.index}, the request ${index}`);
    const layout = spec.values.map((v) => v.limbs);
    if (setup.layout.length !== layout.length || setup.layout.some((l, i) => l !== layout[i])) bad('SETUP layout differs from the request');
    const gwas = spec.values.findIndex((v) => v.op === 'gwas');
    const { slots, flips } = decodeSetup(setup.payload, partials.rows, gwas >= 0);
    const vector = buildVector(partials, spec, slots, flips, gwas, setup.slots);
    for (const f of contributor.maskedFrames(vector)) await ctx.channel.send(f);
    await ctx.channel.end();
    await ctx.audit(`secure aggregation: ${partials.rows} group(s) from ${packed ? 'packed PLINK genotypes' : 'its SQL input'} contributed as contributor ${index + 1}/${spec.parties.length}`);
  } catch (e) {
    if (e instanceof SecureSumProtocolError) bad(e.message);
    throw e;
  }
}

async function generalPartials(ctx: PartyProtocolContext, input: SecureAggregateRequest['input'], spec: SecureAggregateParams): Promise<PartyPartials> {
  const rows = await ctx.input(input.sql, input.uses);
  const connection = await ctx.database();
  try {
    return await computePartials(connection, rows, spec, ctx.signal);
  } finally {
    connection.closeSync();
  }
}

/** Zeroes this party's groups smaller than its own min_group (the tables of its input). */
async function suppressSmallGroups(ctx: PartyProtocolContext, partials: PartyPartials, spec: SecureAggregateParams): Promise<void> {
  const catalog = await ctx.catalog();
  const sql = (ctx.request.params as SecureAggregateRequest).input.sql;
  // Fragments name this party's tables `party.table`.
  const referenced = catalog.tables.filter((t) => sql.includes(`${ctx.party}.${t.name} `) || sql.endsWith(`${ctx.party}.${t.name}`));
  const minGroup = Math.max(spec.minGroup, ...referenced.map((t) => t.minGroup), 1);
  const counts = partials.values[spec.countStar];
  for (let r = 0; r < partials.rows; r++) {
    if (Number(counts[r]) >= minGroup) continue;
    for (const v of partials.values) v[r] = 0;
  }
}

/** The party's vector over the requester's slots, every partial checked against its bound. */
function buildVector(
  partials: PartyPartials,
  spec: SecureAggregateParams,
  slots: Int32Array,
  flips: Uint8Array | undefined,
  gwas: number,
  slotCount: number,
): Uint32Array {
  const layout = spec.values.map((v) => v.limbs);
  const width = layoutWidth(layout);
  const offsets: number[] = [];
  layout.reduce((o, l) => (offsets.push(o), o + l), 0);
  const bounds = layout.map((l) => perPartyBound(l, spec.parties.length));
  // The same bounds as numbers, for the common case of partials that are plain numbers.
  const numberBounds = bounds.map((b) => (b >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(b)));
  const vector = new Uint32Array(slotCount * width);
  const seen = new Uint8Array(slotCount);
  const row = new Array<bigint | number>(layout.length);
  for (let r = 0; r < partials.rows; r++) {
    const slot = slots[r];
    if (!(slot >= 0 && slot < slotCount)) bad(`slot ${slot} of group ${r} is outside the vector`);
    for (let v = 0; v < layout.length; v++) row[v] = partials.values[v][r];
    if (gwas >= 0 && flips && flips[r]) {
      // Count copies of the SNP's first allele by name instead of this party's allele1.
      [row[gwas], row[gwas + 2]] = [row[gwas + 2], row[gwas]];
      [row[gwas + 3], row[gwas + 5]] = [row[gwas + 5], row[gwas + 3]];
      row[gwas + 6] = 2 * Number(row[gwas + 7]) - Number(row[gwas + 6]);
    }
    const base = slot * width;
    for (let v = 0; v < layout.length; v++) {
      const x = row[v];
      const at = base + offsets[v];
      if (!seen[slot] && typeof x === 'number' && x >= 0 && x <= numberBounds[v] && x < 0x1_0000_0000) {
        vector[at] = x;
        continue;
      }
      const big = typeof x === 'bigint' ? x : BigInt(x);
      if (big > bounds[v] || -big > bounds[v]) {
        throw new SqlError('22003', `secure aggregation: a partial of value ${v + 1} exceeds the declared bound of ${bounds[v]} (the total could overflow)`, {
          hint: 'The table grew beyond the bounds the requester planned with; run the query again.',
        });
      }
      if (!seen[slot]) writeValue(vector, at, layout[v], big);
      else writeValue(vector, at, layout[v], readAndAdd(vector, at, layout[v], big));
    }
    seen[slot] = 1;
  }
  return vector;
}

function readAndAdd(vector: Uint32Array, at: number, limbs: number, add: bigint): bigint {
  let x = 0n;
  for (let k = limbs - 1; k >= 0; k--) x = (x << 32n) | BigInt(vector[at + k]);
  return x + add;
}

/** Rows first … first+count−1 of the key list, as a KEYS frame. */
async function keySlice(keys: Uint8Array, first: number, count: number): Promise<Uint8Array> {
  const table = tableFromIPC(keys);
  const ipc = tableToIPC(first === 0 && count === table.numRows ? table : table.slice(first, first + count), 'stream');
  const frame = new Uint8Array(1 + ipc.byteLength);
  frame[0] = KEYS;
  frame.set(ipc, 1);
  return frame;
}
