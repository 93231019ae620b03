/**
 * A small seeded pseudo-random generator for the demo data only.
 *
 * NOT CRYPTOGRAPHIC. This is xoshiro128** (Blackman & Vigna) seeded through splitmix32; it exists
 * so that `generateDemo(dir, seed)` is reproducible byte for byte. Nothing in the engine may use
 * it: protocol randomness comes from `crypto.getRandomValues`/`randomBytes` (SPEC.md §4).
 *
 * All arithmetic is 32-bit integer math (`Math.imul`, `>>> 0`), so the stream is identical on every
 * platform. Every derived value (floats, ranges, picks) is computed from those integers with exact
 * double arithmetic, except `normal()`/`logNormal()`, which use `Math.log`/`Math.cos`/`Math.exp`
 * (V8's fdlibm ports: identical on every machine running the same Node major).
 */

/** FNV-1a over the UTF-16 code units of a label: used to derive independent named streams. */
function fnv1a32(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** One step of splitmix32; returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return [z, next];
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class DemoRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * `seed` may be any finite number (its integer part is used, up to 2^53) and `label` names an
   * independent stream, so that e.g. the telco table does not change when the lender count does.
   */
  constructor(seed: number, label = '') {
    if (!Number.isFinite(seed)) throw new Error(`demo seed must be a finite number, got ${seed}`);
    const whole = Math.trunc(Math.abs(seed));
    const lo = whole % 0x100000000 >>> 0;
    const hi = Math.floor(whole / 0x100000000) >>> 0;
    let state = (lo ^ Math.imul(hi, 0x9e3779b1) ^ fnv1a32(label) ^ (seed < 0 ? 0x5bd1e995 : 0)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitmix32(state);
      words.push(out);
      state = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** A child stream, independent of this one's future draws. */
  fork(label: string): DemoRng {
    return new DemoRng(this.u32() * 0x100000 + (this.u32() & 0xfffff), label);
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new Error(`DemoRng.int: bad bound ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('DemoRng.pick: empty list');
    return items[this.int(items.length)];
  }

  /** Picks by non-negative weights (same length as items). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < items.length; i++) {
      x -= weights[i];
      if (x < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** In-place Fisher–Yates shuffle; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** `k` distinct elements chosen uniformly (order random). */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new Error(`DemoRng.sample: ${k} > ${items.length}`);
    const copy = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy.slice(0, k);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** Binomial(n, p) by n Bernoulli draws (n is tiny here: genotypes use n = 2). */
  binomial(n: number, p: number): number {
    let k = 0;
    for (let i = 0; i < n; i++) if (this.float() < p) k++;
    return k;
  }

  /** A string of `n` decimal digits. */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}
