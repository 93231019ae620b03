/**
 * Secure summation of per-party vectors (the core of secure aggregation), as two I/O-free
 * state machines over byte frames: a `SecureSumContributor` at each party and a
 * `SecureSumAggregator` at the requester, which relays the public keys (star topology: parties
 * never talk to each other directly).
 *
 *   contributor i → aggregator   HELLO  { ephemeral X25519 public key, announce payload }
 *   aggregator → contributor i   SETUP  { session, n, i, all n public keys, slots, layout, payload }
 *   contributor i → aggregator   MASKED { slot range, x_i + Σ_{j>i} PRG(s_ij) − Σ_{j<i} PRG(s_ij) } …
 *
 * The announce and setup payloads are opaque here (the operator uses them for group keys and
 * slot maps). Every value of a slot lives in its own ring Z/2^(32·L) (see ring.ts); the sum of
 * all masked vectors is the sum of the partials because the pairwise masks cancel.
 *
 * Reveals — to the aggregator: each contributor's public key and announce payload, the vector
 * sizes and, after all n vectors arrived, the totals. A single masked vector is uniformly random,
 * so the aggregator learns no partial unless it colludes with all other n − 2 contributors or
 * n = 1 (then the "total" is that party's partial: the operator treats that case specially).
 * To the contributors: the other contributors' public keys and the vector size.
 * Security: semi-honest; the aggregator is trusted to relay public keys faithfully (keys are not
 * signed; a malicious relay could substitute its own). No dropout recovery: a missing
 * contributor fails the whole computation, nothing is revealed.
 * Cost per contributor: one HELLO (≈ 40 bytes + payload), the vector once (4·words bytes, in
 * frames of ≤ 4 MiB), n − 1 X25519 agreements and n − 1 keystreams of the vector's size.
 * Aggregator: n vector additions.
 *
 * Hook for other operators (e.g. DP noise shares): `maskedFrames(vector, contribution)` adds a
 * per-party contribution vector before masking, so only the sum of all contributions is visible.
 */
import { randomBytes } from 'node:crypto';
import { applyMasks, generateMaskKeyPair, pairSeed, PUBLIC_KEY_BYTES, type MaskKeyPair } from './pairwise-masks.js';
import { addInto, bytesToWords, layoutWidth, MAX_LIMBS, type Layout } from './ring.js';

const HELLO = 1;
const SETUP = 2;
const MASKED = 3;

export const SESSION_BYTES = 16;
/** Frames of masked words stay below this size. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/** Refuse vectors beyond this many words (2 GiB): a requester may not make a party allocate more. */
export const MAX_WORDS = 1 << 29;

export class SecureSumProtocolError extends Error {}

function fail(message: string): never {
  throw new SecureSumProtocolError(message);
}

function view(frame: Uint8Array): DataView {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
}

export interface SetupInfo {
  index: number;
  contributors: number;
  slots: number;
  layout: Layout;
  /** The operator's payload for this contributor. */
  payload: Uint8Array;
}

export class SecureSumContributor {
  private readonly keys: MaskKeyPair;
  private setup?: SetupInfo & { seeds: (Uint8Array | undefined)[] };
  private sent = false;

  /**
   * @param expectedContributors how many contributors the session must have (from the
   *   request, checked against the setup so a relay cannot silently drop the others).
   * @param secret test hook: the ephemeral X25519 secret (default: `crypto.randomBytes`).
   */
  constructor(private readonly expectedContributors: number, secret?: Uint8Array) {
    this.keys = generateMaskKeyPair(secret);
  }

  hello(announce: Uint8Array): Uint8Array {
    const frame = new Uint8Array(1 + PUBLIC_KEY_BYTES + announce.byteLength);
    frame[0] = HELLO;
    frame.set(this.keys.publicKey, 1);
    frame.set(announce, 1 + PUBLIC_KEY_BYTES);
    return frame;
  }

  acceptSetup(frame: Uint8Array): SetupInfo {
    if (this.setup) fail('a second SETUP frame');
    if (frame.byteLength < 1 + SESSION_BYTES + 4 || frame[0] !== SETUP) fail('expected a SETUP frame');
    const dv = view(frame);
    let o = 1;
    const session = frame.slice(o, o + SESSION_BYTES);
    o += SESSION_BYTES;
    const n = dv.getUint16(o);
    const index = dv.getUint16(o + 2);
    o += 4;
    if (n !== this.expectedContributors) fail(`SETUP names ${n} contributors, the request announced ${this.expectedContributors}`);
    if (index >= n) fail(`SETUP gives index ${index} of ${n}`);
    if (frame.byteLength < o + n * PUBLIC_KEY_BYTES + 5) fail('truncated SETUP frame');
    const publicKeys: Uint8Array[] = [];
    for (let j = 0; j < n; j++, o += PUBLIC_KEY_BYTES) publicKeys.push(frame.subarray(o, o + PUBLIC_KEY_BYTES));
    if (!equalBytes(publicKeys[index], this.keys.publicKey)) fail('SETUP does not carry this contributor\'s public key at its index');
    const distinct = new Set(publicKeys.map((k) => Buffer.from(k).toString('hex')));
    if (distinct.size !== n) fail('SETUP repeats a public key');
    const slots = dv.getUint32(o);
    const layoutLength = frame[o + 4];
    o += 5;
    if (layoutLength === 0 || frame.byteLength < o + layoutLength) fail('SETUP has no valid layout');
    const layout = Array.from(frame.subarray(o, o + layoutLength));
    o += layoutLength;
    if (layout.some((l) => l < 1 || l > MAX_LIMBS)) fail('SETUP layout has a value wider than 128 bits');
    if (slots * layoutWidth(layout) > MAX_WORDS) fail(`SETUP asks for ${slots} slots, more than this party accepts`);
    const seeds = publicKeys.map((k, j) => (j === index ? undefined : pairSeed(this.keys, index, k, j, session)));
    const info: SetupInfo = { index, contributors: n, slots, layout, payload: frame.slice(o) };
    this.setup = { ...info, seeds };
    return info;
  }

  /**
   * The masked vector as MASKED frames. `vector` has `slots × width(layout)` words and is
   * consumed (masked in place); `contribution`, if given, is added before masking.
   */
  maskedFrames(vector: Uint32Array, contribution?: Uint32Array): Uint8Array[] {
    const s = this.setup ?? fail('MASKED before SETUP');
    if (this.sent) fail('the vector was already sent');
    const width = layoutWidth(s.layout);
    if (vector.length !== s.slots * width) fail(`vector has ${vector.length} words, the setup needs ${s.slots * width}`);
    if (contribution) addInto(vector, contribution, s.layout);
    applyMasks(vector, s.layout, s.index, s.seeds);
    this.sent = true;
    const slotsPerFrame = Math.max(1, Math.floor(CHUNK_BYTES / (4 * width)));
    const frames: Uint8Array[] = [];
    for (let first = 0; first < s.slots || (first === 0 && s.slots === 0); first += slotsPerFrame) {
      const count = Math.min(slotsPerFrame, s.slots - first);
      const frame = new Uint8Array(9 + count * width * 4);
      frame[0] = MASKED;
      view(frame).setUint32(1, first);
      view(frame).setUint32(5, count);
      frame.set(new Uint8Array(vector.buffer, vector.byteOffset + first * width * 4, count * width * 4), 9);
      frames.push(frame);
      if (s.slots === 0) break;
    }
    return frames;
  }
}

export class SecureSumAggregator {
  private readonly publicKeys: (Uint8Array | undefined)[];
  private readonly session = new Uint8Array(randomBytes(SESSION_BYTES));
  private slots = -1;
  private layout: Layout = [];
  private total?: Uint32Array;
  /** Next slot expected from each contributor (frames arrive in order). */
  private readonly next: number[];

  constructor(readonly contributors: number) {
    if (!Number.isInteger(contributors) || contributors < 1 || contributors > 0xffff) throw new RangeError(`bad contributor count ${contributors}`);
    this.publicKeys = new Array(contributors).fill(undefined);
    this.next = new Array(contributors).fill(-1);
  }

  /** Records contributor i's HELLO and returns its announce payload. */
  acceptHello(i: number, frame: Uint8Array): Uint8Array {
    if (frame.byteLength < 1 + PUBLIC_KEY_BYTES || frame[0] !== HELLO) fail(`contributor ${i} did not start with HELLO`);
    if (this.publicKeys[i]) fail(`contributor ${i} sent HELLO twice`);
    this.publicKeys[i] = frame.slice(1, 1 + PUBLIC_KEY_BYTES);
    return frame.subarray(1 + PUBLIC_KEY_BYTES);
  }

  /** Fixes the vector shape (same for every contributor). */
  configure(slots: number, layout: Layout): void {
    if (this.slots >= 0) fail('the vector shape is already fixed');
    if (!Number.isInteger(slots) || slots < 0 || slots * layoutWidth(layout) > MAX_WORDS) fail(`bad slot count ${slots}`);
    this.slots = slots;
    this.layout = [...layout];
    this.total = new Uint32Array(slots * layoutWidth(layout));
    this.next.fill(0);
  }

  setupFrame(i: number, payload: Uint8Array): Uint8Array {
    if (this.slots < 0) fail('configure() before setupFrame()');
    const keys = this.publicKeys;
    if (keys.some((k) => !k)) fail('SETUP before every contributor said HELLO');
    const n = this.contributors;
    const frame = new Uint8Array(1 + SESSION_BYTES + 4 + n * PUBLIC_KEY_BYTES + 5 + this.layout.length + payload.byteLength);
    const dv = view(frame);
    frame[0] = SETUP;
    let o = 1;
    frame.set(this.session, o);
    o += SESSION_BYTES;
    dv.setUint16(o, n);
    dv.setUint16(o + 2, i);
    o += 4;
    for (const k of keys) {
      frame.set(k!, o);
      o += PUBLIC_KEY_BYTES;
    }
    dv.setUint32(o, this.slots);
    frame[o + 4] = this.layout.length;
    o += 5;
    frame.set(this.layout, o);
    o += this.layout.length;
    frame.set(payload, o);
    return frame;
  }

  acceptMasked(i: number, frame: Uint8Array): void {
    const total = this.total ?? fail('MASKED before configure()');
    if (frame.byteLength < 9 || frame[0] !== MASKED) fail(`contributor ${i} sent an unexpected frame`);
    const dv = view(frame);
    const first = dv.getUint32(1);
    const count = dv.getUint32(5);
    const width = layoutWidth(this.layout);
    if (first !== this.next[i] || first + count > this.slots) fail(`contributor ${i} sent slots ${first}..${first + count} out of order`);
    if (frame.byteLength !== 9 + count * width * 4) fail(`contributor ${i} sent a MASKED frame of the wrong size`);
    const words = bytesToWords(frame.subarray(9));
    addInto(total.subarray(first * width, (first + count) * width), words, this.layout);
    this.next[i] = first + count;
  }

  /** True once contributor i sent its whole vector. */
  complete(i: number): boolean {
    return this.slots >= 0 && this.next[i] === this.slots && (this.slots > 0 || this.next[i] === 0);
  }

  /** The sum of all contributors' vectors; only once every contributor sent everything. */
  totals(): Uint32Array {
    const total = this.total ?? fail('no vector shape');
    for (let i = 0; i < this.contributors; i++) if (this.next[i] !== this.slots) fail(`contributor ${i} has not sent its whole vector`);
    return total;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}
