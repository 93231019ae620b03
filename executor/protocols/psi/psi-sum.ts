/**
 * PSI-sum for aggregate-only SECURE JOIN queries, in the style of Private Join and Compute with
 * BFV (node-seal 6.0.3) instead of Paillier. Roles: the *requester* R holds the groups
 * (GROUP BY columns of its side) and its keys; the *party* P holds its keys, the values to
 * aggregate and the BFV secret key.
 *
 *   R: for each class (group g, multiplicity w of the key among g's rows) the blinded H(x)^a
 *   P: returns each class's H(x)^ab *shuffled within the class* (R cannot link them back to x)
 *   R: unblinds → the set {F(x)} of each class, F = H(·)^b, unlinked to x
 *   P: per distinct own key y, in a shuffled order j: tag_j = SHA-512("veilsql/psi-agg/1" ‖ F(y))[0..16)
 *      and, BFV-packed (K components per key, E keys per ciphertext), Enc(c_j, nn_j(v), limbs of Σv …)
 *   R: per group g, mask m_g[j] = Σ w over g's classes whose F matches tag_j;
 *      acc_g = Σ_blocks ct ⊙ m_g + Enc_pk(0)·p1·p2 (noise flooding) + R_g (random slot mask whose
 *      per-component slot sums are random offsets ρ_{g,k} — or 0 for the count when P enforces
 *      its min_group)
 *   P: decrypts acc_g, sums the slots of each component, returns the (masked) totals
 *   R: subtracts ρ → exact Σ (join-row count, per value column non-NULL count and 80-bit sums)
 *
 * What each side learns (semi-honest):
 * - R learns the aggregates per group and, per group, how many of its distinct keys (per
 *   multiplicity class) matched *some* key of P — not which; it learns P's number of distinct
 *   non-NULL keys. Matches are never linked to R's rows (P's per-class shuffle) nor to P's rows
 *   (P's order is a CSPRNG permutation and the values are encrypted).
 * - P learns the number of R's classes and their sizes (how many distinct keys each of R's
 *   groups has per multiplicity — not the group values), the number of groups with at least one
 *   match, and, only when it must enforce its own min_group (an `aggregate`-level column is
 *   summed), each such group's join-row count. Everything else it decrypts is uniformly masked.
 *   Circuit privacy: the flooding term (≈2^120 noise vs ≈2^70 from the computation, one
 *   public-key encryption of zero times two uniformly random plaintexts) hides R's masks from
 *   the decryptor's view of the noise heuristically; this is not a proof-carrying bound.
 * Cost: P encrypts ⌈|Y|/E⌉ ciphertexts (n = 8192, ~200 KB each, E = ⌊8192/K⌋); R does one
 * plaintext multiplication per (group with matches in the block, block) and one flooding term
 * per group; P decrypts one ciphertext per group. EC work as in row mode.
 *
 * Every SEAL object is deleted on every path. I/O-free; imports no other layer of the project.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { BatchEncoder } from 'node-seal/implementation/batch-encoder.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import { describeSealError, loadSeal } from '../seal/node-seal.js';
import { SealSessionKeys } from '../seal/session-keys.js';
import { TAG_BYTES } from './record-cipher.js';

export const POLY_DEGREE = 8192;
/** Bits of the batching plain modulus t: limb sums up to 2^29 join rows per group stay exact. */
export const PLAIN_BITS = 45;
export const LIMB_BITS = 16;
/** Sums are computed modulo 2^80 (five 16-bit limbs of the two's complement of each value). */
export const LIMBS = 5;
const SUM_BITS = BigInt(LIMB_BITS * LIMBS);

/** Components per key: the row count, then per value column its non-NULL count and limbs. */
export function componentsFor(valueColumns: number): number {
  return 1 + valueColumns * (1 + LIMBS);
}

export interface PsiSumLayout {
  valueColumns: number;
  /** Components per key. */
  k: number;
  /** Keys per ciphertext. */
  e: number;
}

export function layoutFor(valueColumns: number): PsiSumLayout {
  const k = componentsFor(valueColumns);
  return { valueColumns, k, e: Math.floor(POLY_DEGREE / k) };
}

/** The tag of an OPRF value in aggregate mode (distinct domain from row-mode record tags). */
export function aggregateTag(oprf: Uint8Array): Uint8Array {
  return createHash('sha512').update('veilsql/psi-agg/1').update(oprf).digest().subarray(0, TAG_BYTES);
}

/** Two's-complement limbs of a value that fits in 64 bits (scaled integer). */
export function limbsOf(value: bigint): bigint[] {
  if (value >= 1n << 63n || value < -(1n << 63n)) throw new RangeError(`value ${value} does not fit in 64 bits`);
  const twos = value & ((1n << SUM_BITS) - 1n);
  const mask = (1n << BigInt(LIMB_BITS)) - 1n;
  return Array.from({ length: LIMBS }, (_, i) => (twos >> BigInt(LIMB_BITS * i)) & mask);
}

/** The signed sum from exact limb sums (valid while |sum| < 2^79). */
export function sumFromLimbs(limbSums: readonly bigint[]): bigint {
  let v = 0n;
  limbSums.forEach((l, i) => {
    v += l << BigInt(LIMB_BITS * i);
  });
  v &= (1n << SUM_BITS) - 1n;
  return v >= 1n << (SUM_BITS - 1n) ? v - (1n << SUM_BITS) : v;
}

/** Uniform values mod t (64 random bits each: bias < 2^-19 per value, irrelevant for masking). */
function randomSlots(t: bigint, n: number): BigUint64Array {
  const bytes = randomBytes(n * 8);
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes.readBigUInt64LE(i * 8) % t;
  return out;
}

/** SEAL context shared by both roles. */
class SumContext {
  private constructor(readonly seal: SEALLibrary, readonly context: Context, readonly encoder: BatchEncoder, readonly evaluator: Evaluator, readonly t: bigint) {}

  /** One context per thread: parameters are fixed, keys are fresh per session. */
  static shared(): Promise<SumContext> {
    sharedContext ??= SumContext.create();
    return sharedContext;
  }

  private static async create(): Promise<SumContext> {
    const seal = await loadSeal();
    const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
    const coeff = seal.CoeffModulus.BFVDefault(POLY_DEGREE, seal.SecurityLevel.tc128);
    const plain = seal.PlainModulus.Batching(POLY_DEGREE, PLAIN_BITS);
    try {
      parms.setPolyModulusDegree(POLY_DEGREE);
      parms.setCoeffModulus(coeff);
      parms.setPlainModulus(plain);
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) {
        context.delete();
        throw new Error('SEAL rejected the PSI-sum parameters');
      }
      return new SumContext(seal, context, seal.BatchEncoder(context), seal.Evaluator(context), BigInt(plain.value));
    } finally {
      coeff.delete();
      plain.delete();
      parms.delete();
    }
  }

  encode(values: BigUint64Array): PlainText {
    const pt = this.seal.PlainText();
    this.encoder.encode(values, pt);
    return pt;
  }

  load(bytes: Uint8Array): CipherText {
    const ct = this.seal.CipherText();
    try {
      ct.loadArray(this.context, bytes);
      if (ct.size !== 2 || ct.polyModulusDegree !== POLY_DEGREE) throw new Error('not a 2-component ciphertext of the PSI-sum parameters');
      return ct;
    } catch (e) {
      ct.delete();
      throw new RangeError(`malformed BFV ciphertext: ${describeSealError(e)}`);
    }
  }

}

let sharedContext: Promise<SumContext> | undefined;

/** The party's role: key owner, encrypts its value blocks and decrypts the masked totals. */
export class PsiSumValueOwner {
  private constructor(
    private readonly ctx: SumContext,
    private readonly keys: SealSessionKeys,
    readonly layout: PsiSumLayout,
  ) {}

  static async create(valueColumns: number): Promise<PsiSumValueOwner> {
    const ctx = await SumContext.shared();
    return new PsiSumValueOwner(ctx, new SealSessionKeys(ctx.seal, ctx.context), layoutFor(valueColumns));
  }

  get plainModulus(): bigint {
    return this.ctx.t;
  }

  publicKeyBytes(): Uint8Array {
    return this.keys.publicKey.saveArray(this.ctx.seal.ComprModeType.zstd);
  }

  /** Encrypts one block: `components[e][k]` for the block's keys (values < t). */
  encryptBlock(components: readonly (readonly bigint[])[]): Uint8Array {
    const { k, e } = this.layout;
    if (components.length > e) throw new RangeError(`a block holds at most ${e} keys`);
    const slots = new BigUint64Array(POLY_DEGREE);
    components.forEach((c, i) => c.forEach((v, j) => (slots[i * k + j] = v % this.ctx.t)));
    const pt = this.ctx.encode(slots);
    try {
      const s = this.keys.encryptor.encryptSymmetricSerializable(pt);
      try {
        return s.saveArray(this.ctx.seal.ComprModeType.zstd);
      } finally {
        s.delete();
      }
    } finally {
      pt.delete();
    }
  }

  /** Decrypts a result and sums each component's slots (mod t). */
  decryptTotals(bytes: Uint8Array): bigint[] {
    const ct = this.ctx.load(bytes);
    const pt = this.ctx.seal.PlainText();
    try {
      this.keys.decryptor.decrypt(ct, pt);
      const slots = this.ctx.encoder.decodeBigInt(pt, false) as BigUint64Array;
      const { k, e } = this.layout;
      const totals = new Array<bigint>(k).fill(0n);
      for (let i = 0; i < e * k; i++) totals[i % k] += slots[i];
      return totals.map((v) => v % this.ctx.t);
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** Remaining noise budget of a result (tests). */
  noiseBudget(bytes: Uint8Array): number {
    const ct = this.ctx.load(bytes);
    try {
      return this.keys.decryptor.invariantNoiseBudget(ct);
    } finally {
      ct.delete();
    }
  }

  delete(): void {
    this.keys.delete();
  }
}

/** The requester's role: weighted sums per group under the party's key, masked and flooded. */
export class PsiSumAggregator {
  private readonly acc = new Map<number, CipherText>();

  private constructor(
    private readonly ctx: SumContext,
    private readonly publicKey: ReturnType<SEALLibrary['PublicKey']>,
    private readonly encryptor: ReturnType<SEALLibrary['Encryptor']>,
    readonly layout: PsiSumLayout,
  ) {}

  static async create(publicKeyBytes: Uint8Array, valueColumns: number): Promise<PsiSumAggregator> {
    const ctx = await SumContext.shared();
    const seal = ctx.seal;
    const publicKey = seal.PublicKey();
    try {
      publicKey.loadArray(ctx.context, publicKeyBytes);
    } catch (e) {
      publicKey.delete();
      throw new RangeError(`malformed BFV public key: ${describeSealError(e)}`);
    }
    return new PsiSumAggregator(ctx, publicKey, seal.Encryptor(ctx.context, publicKey), layoutFor(valueColumns));
  }

  get plainModulus(): bigint {
    return this.ctx.t;
  }

  /** Groups that have an accumulator (at least one matched key). */
  groups(): number[] {
    return [...this.acc.keys()];
  }

  /**
   * Adds ct ⊙ weights to group g's accumulator; `weights[i]` is the weight of the block's i-th
   * key for g (0 = no match).
   */
  accumulate(group: number, blockCiphertext: CipherText, weights: Uint32Array): void {
    const { k } = this.layout;
    const slots = new BigUint64Array(POLY_DEGREE);
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] === 0) continue;
      const w = BigInt(weights[i]);
      for (let j = 0; j < k; j++) slots[i * k + j] = w;
    }
    const pt = this.ctx.encode(slots);
    const product = this.ctx.seal.CipherText();
    try {
      this.ctx.evaluator.multiplyPlain(blockCiphertext, pt, product);
      const current = this.acc.get(group);
      if (current) {
        this.ctx.evaluator.add(current, product, current);
        product.delete();
      } else this.acc.set(group, product);
    } catch (e) {
      product.delete();
      throw e;
    } finally {
      pt.delete();
    }
  }

  /** Loads one of the party's value ciphertexts (the caller deletes it with `release`). */
  loadBlock(bytes: Uint8Array): CipherText {
    return this.ctx.load(bytes);
  }

  release(ct: CipherText): void {
    ct.delete();
  }

  /**
   * Finishes group g: floods, masks and serialises its accumulator. Returns the ciphertext and
   * the per-component offsets ρ to subtract from the party's totals (ρ_0 = 0 if `revealCount`).
   */
  finish(group: number, revealCount: boolean): { ciphertext: Uint8Array; offsets: bigint[] } {
    const acc = this.acc.get(group);
    if (!acc) throw new RangeError(`group ${group} has no matches`);
    this.acc.delete(group);
    const { k, e } = this.layout;
    const t = this.ctx.t;
    const seal = this.ctx.seal;
    const zero = seal.CipherText();
    const p1 = this.ctx.encode(randomSlots(t, POLY_DEGREE));
    const p2 = this.ctx.encode(randomSlots(t, POLY_DEGREE));
    let mask: PlainText | undefined;
    try {
      // Noise flooding: a fresh encryption of 0 times two uniformly random plaintexts.
      this.encryptor.encrypt(this.ctx.encode(new BigUint64Array(POLY_DEGREE)), zero);
      this.ctx.evaluator.multiplyPlain(zero, p1, zero);
      this.ctx.evaluator.multiplyPlain(zero, p2, zero);
      this.ctx.evaluator.add(acc, zero, acc);
      // Slot mask: uniform, except that component k's slots sum to ρ_k.
      const slots = randomSlots(t, POLY_DEGREE);
      const offsets = randomSlots(t, k);
      const actual = new Array<bigint>(k).fill(0n);
      for (let i = 0; i < e * k; i++) actual[i % k] = (actual[i % k] + slots[i]) % t;
      if (revealCount) offsets[0] = 0n;
      for (let j = 0; j < k; j++) slots[j] = (slots[j] + t * 2n - actual[j] + offsets[j]) % t;
      mask = this.ctx.encode(slots);
      this.ctx.evaluator.addPlain(acc, mask, acc);
      return { ciphertext: acc.saveArray(seal.ComprModeType.zstd), offsets: Array.from(offsets) };
    } finally {
      mask?.delete();
      p2.delete();
      p1.delete();
      zero.delete();
      acc.delete();
    }
  }

  /** Removes the offsets from the party's totals: exact sums modulo t. */
  unmask(totals: readonly bigint[], offsets: readonly bigint[]): bigint[] {
    const t = this.ctx.t;
    return totals.map((v, i) => (((v - offsets[i]) % t) + t) % t);
  }

  delete(): void {
    for (const ct of this.acc.values()) ct.delete();
    this.acc.clear();
    this.encryptor.delete();
    this.publicKey.delete();
  }
}
