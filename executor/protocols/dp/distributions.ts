/**
 * Probability mass functions and tail quantiles of the noise distributions, in floating point.
 * Nothing here is on the release path: the mechanisms sample with `samplers.ts`. These serve the
 * confidence intervals (computed from public parameters only, so they cost no budget), the
 * partition-selection threshold (a public number) and the statistical tests of the samplers.
 *
 * Functions of public parameters only: reveal nothing; cost O(1) (the Gaussian PMF O(σ)).
 */

/** P(Z = z) for the discrete Laplace with P(z) ∝ exp(−|z|/t). */
export function discreteLaplacePmf(t: number, z: number): number {
  const q = Math.exp(-1 / t);
  return ((1 - q) / (1 + q)) * q ** Math.abs(z);
}

/** P(Z ≥ m) for m ≥ 1 under the discrete Laplace with scale t. */
export function discreteLaplaceUpperTail(t: number, m: number): number {
  if (m <= 0) throw new RangeError('upper tail needs m ≥ 1');
  const q = Math.exp(-1 / t);
  return q ** m / (1 + q);
}

/**
 * The smallest integer h with P(|Z| ≤ h) ≥ confidence under the discrete Laplace with scale t:
 * P(|Z| > h) = 2·q^(h+1)/(1 + q).
 */
export function discreteLaplaceHalfWidth(t: number, confidence: number): number {
  if (t === 0) return 0;
  const q = Math.exp(-1 / t);
  const alpha = 1 - confidence;
  // 2q^(h+1)/(1+q) ≤ α  ⇔  h ≥ ln(α(1+q)/2)/ln q − 1
  const h = Math.ceil(Math.log((alpha * (1 + q)) / 2) / Math.log(q) - 1 - 1e-9);
  return Math.max(0, h);
}

/** Normalised P(Z = z) for the discrete Gaussian with variance parameter σ² (summed to ±(12σ+10)). */
export function discreteGaussianPmf(sigma2: number): (z: number) => number {
  const limit = Math.ceil(12 * Math.sqrt(sigma2) + 10);
  let total = 0;
  for (let z = -limit; z <= limit; z++) total += Math.exp((-z * z) / (2 * sigma2));
  return (z) => Math.exp((-z * z) / (2 * sigma2)) / total;
}

/** P(X = j) for j = 0 … n under NB(r, p): P(0) = (1−p)^r, P(j+1) = P(j)·p·(j+r)/(j+1). */
export function negativeBinomialPmf(r: number, p: number, n: number): number[] {
  const out = new Array<number>(n + 1);
  out[0] = (1 - p) ** r;
  for (let j = 0; j < n; j++) out[j + 1] = (out[j] * p * (j + r)) / (j + 1);
  return out;
}

/** The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('normal quantile needs 0 < p < 1');
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Half-width h (in lattice units) with P(|Z| ≤ h) ≈ confidence for a sum of independent discrete
 * Gaussians of total variance parameter σ²: the normal quantile, rounded up. (Each discrete
 * Gaussian has variance ≤ σ² (CKS20 Cor. 9), and their sum is within the KLS21 τ of a discrete
 * Gaussian, so this is accurate for the σ ≥ 2 the calibration enforces.)
 */
export function gaussianHalfWidth(sigma2: number, confidence: number): number {
  if (sigma2 === 0) return 0;
  return Math.ceil(normalQuantile(0.5 + confidence / 2) * Math.sqrt(sigma2));
}
