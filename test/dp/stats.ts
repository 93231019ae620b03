/**
 * Statistics for the DP tests: Pearson's χ² goodness of fit against an exact PMF (tails merged
 * until every expected count is ≥ 5) and the empirical privacy loss δ̂ of two output samples
 * (as google/differential-privacy's `verifyApproximateDp` and DP-Auditorium's histogram test).
 */

export interface ChiSquare {
  statistic: number;
  df: number;
  /** The χ² value the statistic must stay under at the test's α. */
  critical: number;
  pass: boolean;
}

/** Upper quantile of χ²(df) at tail probability α (Wilson–Hilferty; accurate to a few % for df ≥ 3). */
export function chiSquareCritical(df: number, alpha: number): number {
  // z for the upper tail α, by bisection on the normal survival function.
  const survival = (z: number) => 0.5 * erfc(z / Math.SQRT2);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (survival(mid) > alpha) lo = mid;
    else hi = mid;
  }
  const z = (lo + hi) / 2;
  const h = 2 / (9 * df);
  return df * (1 - h + z * Math.sqrt(h)) ** 3;
}

/** erfc via the Numerical Recipes rational approximation (|error| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/**
 * χ² of integer samples against `pmf` over [min, max] (mass outside is folded into the two tail
 * bins). Bins are merged from each tail inwards until every expected count is ≥ 5.
 */
export function chiSquareTest(samples: Iterable<number>, pmf: (x: number) => number, range: [number, number], alpha = 1e-4): ChiSquare {
  const [min, max] = range;
  const counts = new Map<number, number>();
  let n = 0;
  for (const s of samples) {
    const x = Math.min(max, Math.max(min, s));
    counts.set(x, (counts.get(x) ?? 0) + 1);
    n++;
  }
  const inner: number[] = [];
  for (let x = min; x <= max; x++) inner.push(pmf(x));
  const innerMass = inner.reduce((a, b) => a + b, 0);
  // Fold the tails' remaining mass into the end bins, split by side.
  let below = 0;
  for (let x = min - 1; x > min - 100000; x--) {
    const p = pmf(x);
    below += p;
    if (p < 1e-18 && x < min - 10) break;
  }
  const above = Math.max(0, 1 - innerMass - below);
  inner[0] += below;
  inner[inner.length - 1] += above;
  const observed = Array.from({ length: max - min + 1 }, (_, i) => counts.get(min + i) ?? 0);
  // Merge tails inward until expected ≥ 5.
  const bins: { o: number; e: number }[] = observed.map((o, i) => ({ o, e: inner[i] * n }));
  while (bins.length > 2 && bins[0].e < 5) {
    const first = bins.shift()!;
    bins[0].o += first.o;
    bins[0].e += first.e;
  }
  while (bins.length > 2 && bins[bins.length - 1].e < 5) {
    const last = bins.pop()!;
    bins[bins.length - 1].o += last.o;
    bins[bins.length - 1].e += last.e;
  }
  let statistic = 0;
  for (const b of bins) statistic += ((b.o - b.e) ** 2) / b.e;
  const df = bins.length - 1;
  const critical = chiSquareCritical(df, alpha);
  return { statistic, df, critical, pass: statistic <= critical };
}

/**
 * δ̂ = max over both directions of Σ_o max(0, p̂_D(o) − e^ε · p̂_D′(o)) over exact output values.
 * An output seen only under one database contributes its whole frequency.
 */
export function empiricalDelta(a: (string | number)[], b: (string | number)[], epsilon: number): number {
  const freq = (xs: (string | number)[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(String(x), (m.get(String(x)) ?? 0) + 1 / xs.length);
    return m;
  };
  const fa = freq(a);
  const fb = freq(b);
  const one = (p: Map<string, number>, q: Map<string, number>) => {
    let d = 0;
    for (const [o, pa] of p) d += Math.max(0, pa - Math.exp(epsilon) * (q.get(o) ?? 0));
    return d;
  };
  return Math.max(one(fa, fb), one(fb, fa));
}
