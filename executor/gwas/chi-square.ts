/**
 * Upper tail probabilities of the chi-square distribution as plink 1.9 reports them
 * (`chiprob_p`: the upper tail Q, computed directly so that tiny P values keep their precision),
 * plus log10(P) that stays finite where P underflows to 0 (plink prints `0` there).
 *
 * df = 1: Q = erfc(√(χ²/2)); df = 2: Q = exp(−χ²/2). erfc and the scaled erfcx come from
 * stdlib (ports of the FreeBSD/Sun implementations, accurate to ~1 ulp); for the log tail,
 * log erfc(s) = log erfcx(s) − s², with erfcx(s) ≈ 1/(s√π) for large s never underflowing.
 */
import erfc from '@stdlib/math-base-special-erfc';
import erfcx from '@stdlib/math-base-special-erfcx';

/**
 * Q(χ² | df) for the degrees of freedom GWAS tests have (1: allelic, trend, dominant, recessive;
 * 2: genotypic); NaN for a negative or non-finite statistic.
 */
export function chiSquareP(chisq: number, df: number): number {
  if (!(chisq >= 0) || !Number.isFinite(chisq)) return Number.NaN;
  if (df === 1) return erfc(Math.sqrt(chisq / 2));
  if (df === 2) return Math.exp(-chisq / 2);
  throw new RangeError(`chi-square tail: df must be 1 or 2 (the GWAS tests), got ${df}`);
}

/** log10 Q(χ² | df), finite for every finite χ². */
export function chiSquareLog10P(chisq: number, df: number): number {
  if (!(chisq >= 0) || !Number.isFinite(chisq)) return Number.NaN;
  if (df === 2) return -chisq / (2 * Math.LN10);
  if (df !== 1) throw new RangeError(`chi-square tail: df must be 1 or 2 (the GWAS tests), got ${df}`);
  const s = Math.sqrt(chisq / 2);
  const p = erfc(s);
  if (p > 1e-280) return Math.log10(p);
  return (Math.log(erfcx(s)) - s * s) / Math.LN10;
}
