/**
 * Postgres float4/float8 text output with the default extra_float_digits = 1: Ryu's shortest
 * decimal, printed in fixed notation when the decimal exponent is in [-4, P) and as `d.ddde±XX`
 * otherwise (P = 15 for float8, 6 for float4: printf's DBL_DIG/FLT_DIG thresholds).
 *
 * Postgres' Ryu only accepts decimals strictly inside the rounding interval of the value;
 * JavaScript's shortest round-trip (`toExponential()`) also accepts a decimal lying exactly on
 * the interval's edge (it reads back to the same value by round-half-even). The two differ for
 * e.g. 2964198437500000256 (PG `2.9641984375000003e+18`, JS `2.9641984375e+18`), so JS digits
 * are used when they are provably inside, and an exact BigInt search decides otherwise.
 * Among equally short candidates the closest wins, ties going to the even last digit.
 */

function format(negative: boolean, digits: string, exp: number, fixedLimit: number): string {
  const sign = negative ? '-' : '';
  if (exp >= -4 && exp < fixedLimit) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return null;
}

/** Splits `toExponential` output into significant digits and decimal exponent. */
function parts(expText: string): { digits: string; exp: number } {
  const e = expText.indexOf('e');
  return { digits: expText.slice(0, e).replace('.', ''), exp: Number(expText.slice(e + 1)) };
}

/** A positive finite binary float: x = m·2^e; `lowerHalf` when the gap below is half the gap above. */
interface Bin {
  m: bigint;
  e: number;
  lowerHalf: boolean;
}

const scratch = new DataView(new ArrayBuffer(8));

function bin64(x: number): Bin {
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { m: frac, e: -1074, lowerHalf: false };
  return { m: frac | (1n << 52n), e: biased - 1075, lowerHalf: frac === 0n && biased > 1 };
}

function bin32(x: number): Bin {
  scratch.setFloat32(0, x);
  const bits = scratch.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (biased === 0) return { m: BigInt(frac), e: -149, lowerHalf: false };
  return { m: BigInt(frac | 0x800000), e: biased - 150, lowerHalf: frac === 0 && biased > 1 };
}

const POW10: bigint[] = [];
function pow10(n: number): bigint {
  let p = POW10[n];
  if (p === undefined) {
    p = 10n ** BigInt(n);
    if (n < 400) POW10[n] = p;
  }
  return p;
}

/** Sign of d·10^t − k·2^e2, exactly. */
function cmp(d: bigint, t: number, k: bigint, e2: number): number {
  let l = d;
  let r = k;
  if (t >= 0) l *= pow10(t);
  else r *= pow10(-t);
  if (e2 >= 0) r <<= BigInt(e2);
  else l <<= BigInt(-e2);
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Whether d·10^t lies strictly between the midpoints to the neighbouring floats. */
function strictlyInside(d: bigint, t: number, b: Bin): boolean {
  const k = b.m * 4n;
  return cmp(d, t, k - (b.lowerHalf ? 1n : 2n), b.e - 2) > 0 && cmp(d, t, k + 2n, b.e - 2) < 0;
}

/** Ryu's answer by exhaustive exact search from `p` significant digits up. */
function exactShortest(b: Bin, guessExp: number, p: number, maxP: number): { digits: string; exp: number } {
  const k4 = b.m * 4n;
  const e2 = b.e - 2;
  let K = guessExp;
  while (cmp(1n, K, k4, e2) > 0) K--;
  while (cmp(1n, K + 1, k4, e2) <= 0) K++;
  for (; p <= maxP + 1; p++) {
    const t = K - p + 1;
    // x / 10^t as num/den, rounded half-even.
    let num = k4;
    let den = 1n;
    if (e2 >= 0) num <<= BigInt(e2);
    else den <<= BigInt(-e2);
    if (t >= 0) den *= pow10(t);
    else num *= pow10(-t);
    let q = num / den;
    const r2 = (num % den) * 2n;
    if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
    let best: bigint | null = null;
    let bestDist = 0n;
    for (const d of [q, q - 1n, q + 1n]) {
      if (d <= 0n || !strictlyInside(d, t, b)) continue;
      const dist = num > d * den ? num - d * den : d * den - num;
      if (best === null || dist < bestDist || (dist === bestDist && d % 2n === 0n)) {
        best = d;
        bestDist = dist;
      }
    }
    if (best !== null) {
      const s = best.toString();
      const trimmed = s.replace(/0+$/, '');
      return { digits: trimmed, exp: s.length - 1 + t };
    }
  }
  throw new Error('no shortest decimal found');
}

export function float8Text(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  const a = Math.abs(v);
  const js = parts(a.toExponential());
  const t = js.exp - (js.digits.length - 1);
  // A decimal can sit exactly on an interval edge only if it is a dyadic rational: an integer
  // when the edges are integers (values >= 2^53), or a fraction whose digits end in 5.
  const b = bin64(a);
  const suspicious = t >= 0 ? b.e >= 1 : js.digits.endsWith('5');
  if (suspicious && !strictlyInside(BigInt(js.digits), t, b)) {
    const r = exactShortest(b, js.exp, js.digits.length, 17);
    return format(v < 0, r.digits, r.exp, 15);
  }
  return format(v < 0, js.digits, js.exp, 15);
}

export function float4Text(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  const a = Math.abs(v);
  const b = bin32(a);
  // The float32 rounding interval's edges are exact doubles, so double comparisons decide
  // unless a candidate rounds onto an edge; then the exact test does.
  const ulp = 2 ** b.e;
  const low = a - (b.lowerHalf ? ulp / 4 : ulp / 2);
  const high = a + ulp / 2;
  const inside = (d: number, t: number): boolean => {
    const c = Number(`${d}e${t}`);
    if (c > low && c < high) return true;
    if (c === low || c === high) return strictlyInside(BigInt(d), t, b);
    return false;
  };
  for (let p = 1; p <= 9; p++) {
    const base = parts(a.toExponential(p - 1));
    const d0 = Number(base.digits);
    const t = base.exp - (p - 1);
    const found = [d0, d0 - 1, d0 + 1].filter((d) => d > 0 && inside(d, t));
    if (found.length === 0) continue;
    let best = found[0];
    if (found.length > 1) {
      // Closest to the exact value; an exact tie (a = (d + 1/2)·10^t) goes to the even digit.
      const dist = (d: number) => Math.abs(Number(`${d}e${t}`) - a);
      found.sort((x, y) => dist(x) - dist(y));
      best = found[0];
      const second = found[1];
      if (Math.abs(second - best) === 1) {
        const mid = BigInt(Math.min(best, second)) * 2n + 1n;
        if (cmp(mid, t, b.m, b.e + 1) === 0) best = best % 2 === 0 ? best : second;
      }
    }
    const digits = String(best);
    return format(v < 0, digits.replace(/0+$/, ''), digits.length - 1 + t, 6);
  }
  const r = exactShortest(b, parts(a.toExponential()).exp, 1, 9);
  return format(v < 0, r.digits, r.exp, 6);
}
