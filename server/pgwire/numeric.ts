/**
 * Exact conversions for Postgres `numeric`: Arrow Decimal128 words → bigint, scaled bigint →
 * text, decimal text ↔ the binary wire layout (int16 ndigits, int16 weight, uint16 sign,
 * int16 dscale, then ndigits base-10000 digits). Values never pass through a JS number.
 */
import { ProtocolViolation } from './errors.js';
import { SqlError, SqlState } from '../../parser/errors.js';

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

/** A Decimal128 value at `index` of an Arrow Uint32Array (little-endian words, two's complement). */
export function decimal128At(words: Uint32Array, index: number): bigint {
  const o = index * 4;
  const v =
    BigInt(words[o]) |
    (BigInt(words[o + 1]) << 32n) |
    (BigInt(words[o + 2]) << 64n) |
    (BigInt(words[o + 3]) << 96n);
  return BigInt.asIntN(128, v);
}

/** `unscaled × 10^-scale` as text with exactly `scale` fraction digits (numeric's dscale). */
export function scaledToText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

interface ParsedNumeric {
  special?: 'NaN' | 'Infinity' | '-Infinity';
  negative: boolean;
  intDigits: string;
  fracDigits: string;
}

/** Parses plain decimal text (`-12.3400`, `5`, `.5`, `NaN`, `1e3`) without losing digits. */
function parseNumericText(text: string): ParsedNumeric {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'nan') return { special: 'NaN', negative: false, intDigits: '', fracDigits: '' };
  if (lower === 'infinity' || lower === '+infinity' || lower === 'inf') return { special: 'Infinity', negative: false, intDigits: '', fracDigits: '' };
  if (lower === '-infinity' || lower === '-inf') return { special: '-Infinity', negative: true, intDigits: '', fracDigits: '' };
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type numeric: "${text}"`);
  }
  let intDigits = m[2];
  let fracDigits = m[3] ?? '';
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (exp > 0) {
    const moved = fracDigits.slice(0, exp).padEnd(exp, '0');
    intDigits += moved;
    fracDigits = fracDigits.slice(exp);
  } else if (exp < 0) {
    const k = -exp;
    const padded = intDigits.padStart(k, '0');
    fracDigits = padded.slice(padded.length - k) + fracDigits;
    intDigits = padded.slice(0, padded.length - k);
  }
  return { negative: m[1] === '-', intDigits: intDigits.replace(/^0+/, ''), fracDigits };
}

/** The binary wire form of a numeric given as decimal text; dscale = number of fraction digits. */
export function numericBinaryFromText(text: string): Buffer {
  const p = parseNumericText(text);
  if (p.special !== undefined) {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(p.special === 'NaN' ? NUMERIC_NAN : p.special === 'Infinity' ? NUMERIC_PINF : NUMERIC_NINF, 4);
    return b;
  }
  const dscale = p.fracDigits.length;
  const intPad = p.intDigits.padStart(Math.ceil(p.intDigits.length / 4) * 4, '0');
  const fracPad = p.fracDigits.padEnd(Math.ceil(p.fracDigits.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPad.length; i += 4) groups.push(Number(intPad.slice(i, i + 4)));
  const intGroups = groups.length;
  for (let i = 0; i < fracPad.length; i += 4) groups.push(Number(fracPad.slice(i, i + 4)));
  let weight = intGroups - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = groups.slice(first, last);
  const zero = digits.length === 0;
  const b = Buffer.alloc(8 + digits.length * 2);
  b.writeInt16BE(digits.length, 0);
  b.writeInt16BE(zero ? 0 : weight, 2);
  b.writeUInt16BE(zero || !p.negative ? NUMERIC_POS : NUMERIC_NEG, 4);
  b.writeInt16BE(dscale, 6);
  for (let i = 0; i < digits.length; i++) b.writeUInt16BE(digits[i], 8 + i * 2);
  return b;
}

export function numericBinaryFromScaled(unscaled: bigint, scale: number): Buffer {
  return numericBinaryFromText(scaledToText(unscaled, scale));
}

/** Decodes a binary numeric parameter into its text form (exact, dscale fraction digits). */
export function numericTextFromBinary(buf: Buffer): string {
  if (buf.length < 8) throw new ProtocolViolation('insufficient data left in message', false, '22P03');
  const ndigits = buf.readInt16BE(0);
  const weight = buf.readInt16BE(2);
  const sign = buf.readUInt16BE(4);
  const dscale = buf.readInt16BE(6);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if ((sign !== NUMERIC_POS && sign !== NUMERIC_NEG) || ndigits < 0 || dscale < 0 || buf.length !== 8 + ndigits * 2) {
    throw new ProtocolViolation('invalid sign or length in external "numeric" value', false, '22P03');
  }
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = buf.readUInt16BE(8 + i * 2);
    if (d > 9999) throw new ProtocolViolation('invalid digit in external "numeric" value', false, '22P03');
    digits.push(d);
  }
  // Digit j has weight (weight - j): integer groups are weights >= 0, fraction groups < 0.
  let intPart = '';
  for (let j = 0; j <= weight; j++) {
    const d = j < ndigits ? digits[j] : 0;
    intPart += String(d).padStart(4, '0');
  }
  intPart = intPart.replace(/^0+(?=\d)/, '') || '0';
  // Postgres truncates digits the declared dscale would hide (numeric_recv's trunc_var).
  let frac = '';
  for (let k = 0; k < Math.ceil(dscale / 4); k++) {
    const j = weight + 1 + k;
    frac += String(j >= 0 && j < ndigits ? digits[j] : 0).padStart(4, '0');
  }
  frac = frac.slice(0, dscale);
  const neg = sign === NUMERIC_NEG && /[1-9]/.test(intPart + frac);
  return `${neg ? '-' : ''}${intPart}${dscale > 0 ? '.' + frac : ''}`;
}
