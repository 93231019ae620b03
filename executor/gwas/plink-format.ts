/**
 * Numbers as plink 1.9 prints them in .assoc/.model files (`dtoa_g_wxp4`): 4 significant
 * digits, trailing zeros dropped, exponential notation below 1e-4 and from 1e4 (two-digit
 * exponent at least), `0` for zero, `NA` for missing, and ties of the 5th digit rounded half to
 * even with a small tolerance (plink scales in double arithmetic, so decimal ties such as 0.43125
 * round to 0.4312 where printf would give 0.4313). Used to write plink-compatible output and to
 * compare our results with plink's files string by string.
 */

const TIE_TOLERANCE = 1e-9;

/** x · 10^k, multiplying by an exact power of ten where possible (like plink's scaling). */
function scale(x: number, k: number): number {
  return k >= 0 ? x * 10 ** k : x / 10 ** -k;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const frac = x - f;
  if (Math.abs(frac - 0.5) < TIE_TOLERANCE * Math.max(1, x)) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

export function formatPlinkG4(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'NA';
  if (Number.isNaN(value)) return 'nan';
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 ? '-' : '';
  const x = Math.abs(value);
  let exp = Math.floor(Math.log10(x));
  // Four significant digits as an integer in [1000, 9999] (carry into the next decade).
  let digits = roundHalfEven(scale(x, 3 - exp));
  if (digits >= 10000) {
    digits = roundHalfEven(digits / 10);
    exp += 1;
  }
  if (digits < 1000) {
    exp -= 1;
    digits = roundHalfEven(scale(x, 3 - exp));
  }
  if (exp < -4 || exp >= 4) {
    const mant = (digits / 1000).toFixed(3).replace(/\.?0+$/, '');
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const fixed = (digits / 10 ** (3 - exp)).toFixed(3 - exp);
  return `${sign}${fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed}`;
}
