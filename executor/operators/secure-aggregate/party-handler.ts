/**
 * The party half of secure aggregation (`secure-aggregate-v1`). The party
 * 1. checks the request (it must be one of the named contributors) and runs its protocol input
 *    through its own policy check (`ctx.inputSql`: keys must be revealable, arguments statistics);
 * 2. computes its partials per group in place in its own DuckDB (party-partials.ts, or
 *    plink-partials.ts for a PLINK-backed table) — if fewer than two parties besides the
 *    requester contribute, the totals would expose its partials, so it suppresses its own
 *    groups below its `min_group` first;
 * 3. announces its keys (and GWAS allele names), receives the slot map, checks every partial
 *    against the declared bound (so the total cannot wrap) and sends its masked vector.
 * A malformed request or frame fails the session with a SqlError; nothing is kept.
 */
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { SecureSumContributor, SecureSumProtocolError } from '../../protocols/mpc/secure-sum.js';
import { layoutWidth, perPartyBound, readSigned, writeValue } from '../../protocols/mpc/ring.js';
import { gwasPartCount, type SecureAggregateParams } from '../../../planner/operators/secure-aggregate-spec.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { decodeKeysRequest, decodeSetup, encodeAnnounce, KEYS, KEYS_REQUEST } from './messages.js';
import { flipOf } from './gwas-values.js';
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
    if (v.op === 'gwas' && !((v.counts === 'genotypes' || v.counts === 'alleles') && Number.isInteger(v.part) && v.part >= 0 && v.part < gwasPartCount(v.counts))) bad('bad GWAS part');
  }
  // GWAS blocks are whole: parts 0…k−1 of one kind, consecutive (flips read sibling parts).
  spec.values.forEach((v, i) => {
    if (v.op !== 'gwas') return;
    const base = i - v.part;
    for (let p = 0; p < gwasPartCount(v.counts); p++) {
      const w = spec.values[base + p];
      if (w?.op !== 'gwas' || w.part !== p || w.counts !== v.counts) bad('an incomplete GWAS value block');
    }
  });
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

  // One private connection for the session: the partials' temp table and key list live on it.
  const connection = await ctx.database();
  const interrupt = () => connection.interrupt();
  ctx.signal.addEventListener('abort', interrupt, { once: true });
  try {
    const partials = (await plinkPartials(ctx, connection, input, spec))
      ?? (await computePartials(connection, await ctx.inputSql(input.sql, input.uses), input.uses.length, spec, ctx.signal));
    if (others < 2) await suppressSmallGroups(ctx, partials, spec);
    await contribute(ctx, partials, spec, index);
  } catch (e) {
    if (e instanceof SecureSumProtocolError) bad(e.message);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', interrupt);
    connection.closeSync();
  }
}

/** HELLO (announce), key slices on request, SETUP, then the masked vector. */
async function contribute(ctx: PartyProtocolContext, partials: PartyPartials, spec: SecureAggregateParams, index: number): Promise<void> {
  const contributor = new SecureSumContributor(spec.parties.length);
  await ctx.channel.send(contributor.hello(encodeAnnounce({ rows: partials.rows, keys: partials.keys.digest, alleles: partials.alleles })));
  let frame = await ctx.channel.receive();
  // The requester fetches (slices of) the key list before it can send the slot map.
  while (frame && frame[0] === KEYS_REQUEST) {
    const { first, count } = decodeKeysRequest(frame);
    if (first + count > partials.rows) bad(`keys request for rows ${first}..${first + count} of ${partials.rows}`);
    const ipc = await partials.keys.slice(first, count);
    const reply = new Uint8Array(1 + ipc.byteLength);
    reply[0] = KEYS;
    reply.set(ipc, 1);
    await ctx.channel.send(reply);
    frame = await ctx.channel.receive();
  }
  if (!frame) bad('the requester ended the session before SETUP');
  const setup = contributor.acceptSetup(frame);
  if (setup.index !== index) bad(`SETUP gives this party index ${setup.index}, the request ${index}`);
  const layout = spec.values.map((v) => v.limbs);
  if (setup.layout.length !== layout.length || setup.layout.some((l, i) => l !== layout[i])) bad('SETUP layout differs from the request');
  const { slots, flips } = decodeSetup(setup.payload, partials.rows, spec.values.some((v) => v.op === 'gwas'));
  const vector = buildVector(partials, spec, slots, flips, setup.slots);
  for (const f of contributor.maskedFrames(vector)) await ctx.channel.send(f);
  await ctx.channel.end();
  await ctx.audit(`secure aggregation: ${partials.rows} group(s) from ${partials.source} contributed as contributor ${index + 1}/${spec.parties.length}`);
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

/** Writes a safe integer modulo 2^(32·limbs) at word `at` (two's complement for negatives). */
function writeNumber(target: Uint32Array, at: number, limbs: number, x: number): void {
  target[at] = x >>> 0; // ToUint32 is x mod 2^32 for every integer
  if (limbs === 1) return;
  target[at + 1] = Math.floor(x / 0x1_0000_0000) >>> 0;
  for (let k = 2; k < limbs; k++) target[at + k] = x < 0 ? 0xffff_ffff : 0;
}

/**
 * The party's vector over the requester's slots (`slots` undefined: slot = row), every partial
 * checked against its per-party bound so the signed total cannot wrap. GWAS rows whose allele1
 * is the SNP's second allele by name are re-oriented (flips) before they are written.
 */
function buildVector(partials: PartyPartials, spec: SecureAggregateParams, slots: Int32Array | undefined, flips: Uint8Array | undefined, slotCount: number): Uint32Array {
  const layout = spec.values.map((v) => v.limbs);
  const width = layoutWidth(layout);
  const offsets: number[] = [];
  layout.reduce((o, l) => (offsets.push(o), o + l), 0);
  const rows = partials.rows;
  // Two groups of this party in one slot (keys equal under the requester's SQL semantics) must be
  // added up instead of overwritten: detected once, handled by the exact slow path.
  let shared = false;
  if (slots) {
    const seen = new Uint8Array(slotCount);
    for (let r = 0; r < rows; r++) {
      const slot = slots[r];
      if (!(slot >= 0 && slot < slotCount)) bad(`slot ${slot} of group ${r} is outside the vector`);
      if (seen[slot]) shared = true;
      seen[slot] = 1;
    }
  } else if (rows > slotCount) bad(`${rows} groups do not fit ${slotCount} slots`);
  const vector = new Uint32Array(slotCount * width);
  spec.values.forEach((v, i) => {
    const limbs = layout[i];
    const bound = perPartyBound(limbs, spec.parties.length);
    const numberBound = bound >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(bound);
    const column = partials.values[i];
    // A flipped GWAS row reads another part of its own block (see gwas-values.ts).
    const flip = v.op === 'gwas' && flips ? flipOf(v.counts, v.part) : undefined;
    const base = v.op === 'gwas' ? i - v.part : i;
    const from = flip ? partials.values[base + flip.from] : column;
    const complement = flip?.complementOf !== undefined ? partials.values[base + flip.complementOf] : undefined;
    const overflow = (x: bigint | number): never => {
      throw new SqlError('22003', `secure aggregation: a partial of value ${i + 1} exceeds the declared bound of ${bound} (${x}; the total could overflow)`, {
        hint: 'The table grew beyond the bounds the requester planned with; run the query again.',
      });
    };
    for (let r = 0; r < rows; r++) {
      let x: bigint | number;
      if (flip && flips![r]) x = complement ? 2 * Number(complement[r]) - Number(from[r]) : from[r];
      else x = column[r];
      const at = (slots ? slots[r] : r) * width + offsets[i];
      if (typeof x === 'number' && !shared) {
        if (x > numberBound || -x > numberBound) overflow(x);
        writeNumber(vector, at, limbs, x);
        continue;
      }
      const big = BigInt(x);
      if (big > bound || -big > bound) overflow(big);
      writeValue(vector, at, limbs, shared ? readSigned(vector, at, limbs) + big : big);
    }
  });
  return vector;
}
