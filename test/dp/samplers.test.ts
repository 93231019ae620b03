/**
 * The exact samplers against their exact PMFs (χ² goodness of fit, α = 1e-4, seeded ChaCha20
 * streams so CI is deterministic), the divisibility of Pólya shares (k shares sum to exactly a
 * discrete Laplace; k − 1 shares do not), and negative controls that must fail the same test:
 * a sampler with doubled ε and a rounded floating-point Laplace sampler.
 */
import { describe, expect, it } from 'vitest';
import { discreteGaussianPmf, discreteLaplacePmf, negativeBinomialPmf } from '../../executor/protocols/dp/distributions.js';
import { seededRandomSource, type RandomSource } from '../../executor/protocols/dp/random.js';
import { fromDouble, rational } from '../../executor/protocols/dp/rational.js';
import {
  bernoulliExpNeg, discreteGaussian, discreteLaplace, negativeBinomialShare, polyaShare,
} from '../../executor/protocols/dp/samplers.js';
import { chiSquareTest } from './stats.js';

const N = 40_000;

function draws(n: number, f: () => bigint): number[] {
  return Array.from({ length: n }, () => Number(f()));
}

/** The kind of sampler the mechanism must never use: inverse CDF of a float Laplace, rounded. */
function floatLaplace(rng: RandomSource, t: number): bigint {
  const u = (rng.uint32() + 0.5) / 2 ** 32 - 0.5;
  return BigInt(Math.round(-t * Math.sign(u) * Math.log(1 - 2 * Math.abs(u))));
}

describe('exact samplers fit their PMFs (χ², α = 1e-4)', () => {
  it('Bernoulli(exp(−γ)) has mean exp(−γ) for γ below, at and above 1', () => {
    const rng = seededRandomSource('bernoulli-exp');
    for (const [n, d] of [[1n, 3n], [1n, 1n], [7n, 3n]] as const) {
      let hits = 0;
      for (let i = 0; i < N; i++) if (bernoulliExpNeg(rng, { n, d })) hits++;
      const p = Math.exp(-Number(n) / Number(d));
      // 5 standard errors: false-failure probability ~6e-7 per case.
      expect(Math.abs(hits / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it.each([0.7, 3, 12.5])('discrete Laplace, scale %s', (t) => {
    const rng = seededRandomSource(`dlap-${t}`);
    const scale = fromDouble(t);
    const r = chiSquareTest(draws(N, () => discreteLaplace(rng, scale)), (x) => discreteLaplacePmf(t, x), [-Math.ceil(12 * t), Math.ceil(12 * t)]);
    expect(r.pass, `χ²=${r.statistic.toFixed(1)} > ${r.critical.toFixed(1)} (df ${r.df})`).toBe(true);
  });

  it.each([0.8, 4, 30.25])('discrete Gaussian, σ² = %s', (s2) => {
    const rng = seededRandomSource(`dgauss-${s2}`);
    const sigma2 = fromDouble(s2);
    const pmf = discreteGaussianPmf(s2);
    const w = Math.ceil(8 * Math.sqrt(s2)) + 2;
    const r = chiSquareTest(draws(N, () => discreteGaussian(rng, sigma2)), pmf, [-w, w]);
    expect(r.pass, `χ²=${r.statistic.toFixed(1)} > ${r.critical.toFixed(1)} (df ${r.df})`).toBe(true);
  });

  it.each([[2, 5], [3, 9.5]])('negative binomial share NB(1/%s) of a geometric with scale %s (Pólya urn)', (k, t) => {
    const rng = seededRandomSource(`nb-${k}-${t}`);
    const p = Math.exp(-1 / t);
    const pmf = negativeBinomialPmf(1 / k, p, 400);
    const r = chiSquareTest(draws(N, () => negativeBinomialShare(rng, k, fromDouble(t))), (x) => (x < 0 ? 0 : pmf[x] ?? 0), [0, 120]);
    expect(r.pass, `χ²=${r.statistic.toFixed(1)} > ${r.critical.toFixed(1)} (df ${r.df})`).toBe(true);
  });

  it.each([2, 3, 5])('the sum of %s Pólya shares is exactly a discrete Laplace', (k) => {
    const t = 4;
    const rng = seededRandomSource(`polya-sum-${k}`);
    const scale = rational(4n);
    const sum = () => {
      let s = 0n;
      for (let i = 0; i < k; i++) s += polyaShare(rng, k, scale);
      return s;
    };
    const r = chiSquareTest(draws(N, sum), (x) => discreteLaplacePmf(t, x), [-48, 48]);
    expect(r.pass, `χ²=${r.statistic.toFixed(1)} > ${r.critical.toFixed(1)} (df ${r.df})`).toBe(true);
  });
});

describe('negative controls fail the same χ² test', () => {
  it('a discrete Laplace with doubled ε (half the scale)', () => {
    const rng = seededRandomSource('control-double-eps');
    const r = chiSquareTest(draws(N, () => discreteLaplace(rng, rational(3n, 2n))), (x) => discreteLaplacePmf(3, x), [-36, 36]);
    expect(r.pass).toBe(false);
  });

  it('a rounded floating-point Laplace sampler', () => {
    const rng = seededRandomSource('control-float');
    // Rounding a continuous Laplace is not the discrete Laplace: P(0) = 1 − e^(−1/2t) ≠ (1 − q)/(1 + q).
    const r = chiSquareTest(draws(N, () => floatLaplace(rng, 1)), (x) => discreteLaplacePmf(1, x), [-12, 12]);
    expect(r.pass).toBe(false);
  });

  it('one of three Pólya shares dropped', () => {
    const rng = seededRandomSource('control-drop-share');
    const scale = rational(4n);
    const r = chiSquareTest(draws(N, () => polyaShare(rng, 3, scale) + polyaShare(rng, 3, scale)), (x) => discreteLaplacePmf(4, x), [-48, 48]);
    expect(r.pass).toBe(false);
  });
});
