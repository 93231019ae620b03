/**
 * Exact integer noise samplers (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for
 * Differential Privacy", Algorithms 1–3) and the divisible "Pólya share" used to split a discrete
 * Laplace among parties. Every sampler consumes only uniform integers from a `RandomSource` and
 * does exact BigInt/integer arithmetic on rational parameters: no floating point, no inverse CDF,
 * so Mironov's (2012) attack on floating-point Laplace has nothing to exploit, and every output is
 * an integer — a point of the public lattice the caller scales by.
 *
 * Distributions (all over the integers):
 * - discrete Laplace, scale t:   P(z) ∝ exp(−|z|/t)
 * - discrete Gaussian, σ²:       P(z) ∝ exp(−z²/(2σ²))
 * - geometric with rate r:       P(k) ∝ exp(−k·r), k ≥ 0
 * - negative binomial NB(1/k, p), p = exp(−1/t): a geometric G (= NB(1, p)) split by a Pólya urn
 *   with initial weights (1/k, 1 − 1/k). Given G = n, the urn's count is BetaBinomial(n, 1/k,
 *   1 − 1/k), and NB(1/k) + NB(1 − 1/k) = NB(1) with exactly that conditional split (Gamma–
 *   Poisson mixture), so the urn's count is exactly NB(1/k, p).
 * - Pólya share: NB(1/k, p) − NB(1/k, p). The sum of k independent shares is NB(1, p) − NB(1, p)
 *   = geometric − geometric = discrete Laplace with scale t, exactly.
 *
 * Reveals nothing (local). Cost: O(1) expected uniform draws for the CKS samplers at any scale;
 * O(t) draws for a negative-binomial share (one urn step per unit of the geometric).
 */
import type { RandomSource } from './random.js';
import { isqrt, rational, type Rational } from './rational.js';

const SMALL = 0x1_0000_0000n;

/** Bernoulli(n/d), 0 ≤ n ≤ d. */
export function bernoulli(rng: RandomSource, n: bigint, d: bigint): boolean {
  if (n >= d) return true;
  if (n <= 0n) return false;
  if (d <= SMALL) return rng.belowSmall(Number(d)) < Number(n);
  return rng.below(d) < n;
}

/** Bernoulli(exp(−x)) for a rational 0 ≤ x ≤ 1 (CKS Algorithm 1, first case). */
function bernoulliExpNegAtMostOne(rng: RandomSource, n: bigint, d: bigint): boolean {
  let k = 1n;
  while (bernoulli(rng, n, d * k)) k++;
  return (k & 1n) === 1n;
}

/** Bernoulli(exp(−γ)) for any rational γ ≥ 0 (CKS Algorithm 1). */
export function bernoulliExpNeg(rng: RandomSource, gamma: Rational): boolean {
  let whole = gamma.n / gamma.d;
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−frac(γ)): each factor is an independent coin.
  while (whole > 0n) {
    if (!bernoulliExpNegAtMostOne(rng, 1n, 1n)) return false;
    whole--;
  }
  return bernoulliExpNegAtMostOne(rng, gamma.n % gamma.d, gamma.d);
}

/**
 * Geometric with P(k) ∝ exp(−k·s/t), rate = s/t > 0 (the magnitude step of CKS Algorithm 2):
 * U uniform in [0, t) accepted with probability exp(−U/t) and V ~ geometric(exp(−1)) give
 * X = U + t·V with P(X) ∝ exp(−X/t); ⌊X/s⌋ then has rate s/t.
 */
export function geometricExp(rng: RandomSource, rate: Rational): bigint {
  const s = rate.n;
  const t = rate.d;
  if (s === 0n) throw new RangeError('geometric rate must be positive');
  let u: bigint;
  for (;;) {
    u = rng.below(t);
    if (bernoulliExpNeg(rng, { n: u, d: t })) break;
  }
  let v = 0n;
  while (bernoulliExpNegAtMostOne(rng, 1n, 1n)) v++;
  return (u + t * v) / s;
}

/** Discrete Laplace with P(z) ∝ exp(−|z|/scale) (CKS Algorithm 2). scale = 0 gives 0. */
export function discreteLaplace(rng: RandomSource, scale: Rational): bigint {
  if (scale.n === 0n) return 0n;
  const rate = rational(scale.d, scale.n);
  for (;;) {
    const positive = rng.bit();
    const magnitude = geometricExp(rng, rate);
    // (negative, 0) is rejected so that 0 is not counted twice.
    if (positive) return magnitude;
    if (magnitude !== 0n) return -magnitude;
  }
}

/** Discrete Gaussian with P(z) ∝ exp(−z²/(2σ²)) (CKS Algorithm 3). σ² = 0 gives 0. */
export function discreteGaussian(rng: RandomSource, sigma2: Rational): bigint {
  const a = sigma2.n;
  const b = sigma2.d;
  if (a === 0n) return 0n;
  // t = ⌊σ⌋ + 1, with ⌊√(a/b)⌋ = isqrt(⌊a/b⌋).
  const t = isqrt(a / b) + 1n;
  const laplace: Rational = { n: t, d: 1n };
  for (;;) {
    const y = discreteLaplace(rng, laplace);
    const abs = y < 0n ? -y : y;
    // Accept with exp(−(|y| − σ²/t)² / (2σ²)) = exp(−(|y|·t·b − a)² / (2·a·b·t²)).
    const diff = abs * t * b - a;
    if (bernoulliExpNeg(rng, { n: diff * diff, d: 2n * a * b * t * t })) return y;
  }
}

/**
 * NB(1/k, p) with p = exp(−1/scale): a geometric G (rate 1/scale) split by a Pólya urn that
 * starts with weight 1/k on "mine" and 1 − 1/k on "others"; each of the G draws picks "mine"
 * with probability (1/k + mine)/(1 + i) = (1 + k·mine)/(k·(1 + i)).
 */
export function negativeBinomialShare(rng: RandomSource, k: number, scale: Rational): bigint {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`share count must be a positive integer, got ${k}`);
  if (scale.n === 0n) return 0n;
  const g = geometricExp(rng, rational(scale.d, scale.n));
  if (k === 1) return g;
  if (g > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('geometric draw out of range for the Pólya urn');
  const draws = Number(g);
  let mine = 0;
  for (let i = 0; i < draws; i++) {
    const denominator = k * (1 + i);
    const numerator = 1 + k * mine;
    const hit = denominator <= 0x1_0000_0000
      ? rng.belowSmall(denominator) < numerator
      : rng.below(BigInt(denominator)) < BigInt(numerator);
    if (hit) mine++;
  }
  return BigInt(mine);
}

/**
 * One party's share of a discrete Laplace(scale) split among k parties: NB(1/k) − NB(1/k).
 * The sum of the k parties' shares is exactly discrete Laplace(scale).
 */
export function polyaShare(rng: RandomSource, k: number, scale: Rational): bigint {
  return negativeBinomialShare(rng, k, scale) - negativeBinomialShare(rng, k, scale);
}
