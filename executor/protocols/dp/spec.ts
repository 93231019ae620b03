/**
 * The public description of one DP aggregate query, as the requester sends it to every party:
 * privacy parameters, contribution bounds, how groups are selected and what is measured. It is
 * untrusted input at the party, so `parseDpQuerySpec` validates every field and bound (a
 * malformed spec is a protocol violation, never a crash); the party then derives all noise
 * parameters itself (`calibrate.ts`) instead of taking any scale from the requester.
 *
 * Input rows reach the mechanism as columns: [privacy unit (if declared)], group keys…, then
 * the arguments of the measurements (`arg` indexes into that row).
 *
 * Reveals: the spec itself is public (every party and the requester see it, and EXPLAIN shows
 * it). Cost: validation is linear in the spec's size.
 */

export type NoiseKind = 'laplace' | 'gaussian';
export type GroupSelection = 'threshold' | 'public' | 'single';

export type ValueDomain = { kind: 'integer' } | { kind: 'decimal'; scale: number } | { kind: 'double' };

export type MeasurementKind =
  /** COUNT(*) */
  | 'count_rows'
  /** COUNT(col): non-NULL values */
  | 'count_values'
  /** COUNT(DISTINCT col) of a column that is not the privacy unit */
  | 'count_distinct'
  /** COUNT(DISTINCT unit): privacy units in the group */
  | 'count_units'
  | 'sum'
  | 'avg';

export interface MeasurementSpec {
  kind: MeasurementKind;
  /** Input column of the argument (not for count_rows / count_units). */
  arg?: number;
  /** Value domain and clamping bounds (decimal strings) for sum / avg. */
  domain?: ValueDomain;
  low?: string;
  high?: string;
}

export interface DpQuerySpec {
  epsilon: number;
  delta: number;
  noise: NoiseKind;
  /** Input column 0 is the privacy unit; without it every row is its own unit. */
  unit: boolean;
  maxGroupsContributed: number;
  maxRowsContributed: number;
  /** How many parties one privacy unit may appear at (the sensitivities are multiplied by it). */
  maxPartiesContributed: number;
  confidence: number;
  selection: GroupSelection;
  /** Number of group-key columns in the input (after the unit column). */
  groupColumns: number;
  measurements: MeasurementSpec[];
}

/** Raised for a spec that does not validate; the callers turn it into their own SqlError. */
export class SpecError extends Error {}

const LIMIT = 1_000_000;
const DECIMAL = /^-?\d{1,20}(\.\d{1,18})?$/;

function integerIn(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new SpecError(`${what} must be an integer in [${lo}, ${hi}]`);
  return v;
}

function numberIn(v: unknown, lo: number, hi: number, what: string, open = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && (v === lo || v === hi))) {
    throw new SpecError(`${what} must be a number in ${open ? '(' : '['}${lo}, ${hi}${open ? ')' : ']'}`);
  }
  return v;
}

function positiveAtMost(v: unknown, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > hi) throw new SpecError(`${what} must be a number in (0, ${hi}]`);
  return v;
}

function oneOf<T extends string>(v: unknown, values: readonly T[], what: string): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw new SpecError(`${what} must be one of ${values.join(', ')}`);
  return v as T;
}

/** Validates an untrusted spec; `inputColumns` is the width of the party's input rows. */
export function parseDpQuerySpec(raw: unknown, inputColumns?: number): DpQuerySpec {
  if (typeof raw !== 'object' || raw === null) throw new SpecError('the DP query spec must be an object');
  const r = raw as Record<string, unknown>;
  const spec: DpQuerySpec = {
    epsilon: positiveAtMost(r.epsilon, 100, 'epsilon'),
    delta: numberIn(r.delta, 0, 0.01, 'delta'),
    noise: oneOf(r.noise, ['laplace', 'gaussian'] as const, 'noise'),
    unit: r.unit === true,
    maxGroupsContributed: integerIn(r.maxGroupsContributed, 1, LIMIT, 'max_groups_contributed'),
    maxRowsContributed: integerIn(r.maxRowsContributed, 1, LIMIT, 'max_rows_contributed'),
    maxPartiesContributed: integerIn(r.maxPartiesContributed, 1, 1000, 'max_parties_contributed'),
    confidence: numberIn(r.confidence, 0, 1, 'confidence', true),
    selection: oneOf(r.selection, ['threshold', 'public', 'single'] as const, 'groups'),
    groupColumns: integerIn(r.groupColumns, 0, 64, 'group column count'),
    measurements: [],
  };
  if (!Array.isArray(r.measurements) || r.measurements.length === 0 || r.measurements.length > 256) {
    throw new SpecError('a DP query needs between 1 and 256 measurements');
  }
  if ((spec.selection === 'single') !== (spec.groupColumns === 0)) throw new SpecError('group selection does not match the group columns');
  const first = (spec.unit ? 1 : 0) + spec.groupColumns;
  const width = inputColumns ?? Number.MAX_SAFE_INTEGER;
  if (inputColumns !== undefined && first > inputColumns) throw new SpecError('the input has fewer columns than the unit and group keys');
  for (const m of r.measurements as unknown[]) {
    if (typeof m !== 'object' || m === null) throw new SpecError('a measurement must be an object');
    const mm = m as Record<string, unknown>;
    const kind = oneOf(mm.kind, ['count_rows', 'count_values', 'count_distinct', 'count_units', 'sum', 'avg'] as const, 'measurement kind');
    const out: MeasurementSpec = { kind };
    if (kind === 'count_units' && !spec.unit) throw new SpecError('COUNT(DISTINCT unit) needs a privacy unit');
    if (kind !== 'count_rows' && kind !== 'count_units') out.arg = integerIn(mm.arg, first, width - 1, 'measurement argument column');
    if (kind === 'sum' || kind === 'avg') {
      const d = mm.domain as Record<string, unknown> | undefined;
      const dk = oneOf(d?.kind, ['integer', 'decimal', 'double'] as const, 'value domain');
      out.domain = dk === 'decimal' ? { kind: 'decimal', scale: integerIn(d!.scale, 0, 18, 'decimal scale') } : { kind: dk };
      if (typeof mm.low !== 'string' || !DECIMAL.test(mm.low) || typeof mm.high !== 'string' || !DECIMAL.test(mm.high)) {
        throw new SpecError('BOUNDED limits must be decimal numbers with at most 20 integer and 18 fractional digits');
      }
      out.low = mm.low;
      out.high = mm.high;
    }
    spec.measurements.push(out);
  }
  if (spec.noise === 'gaussian' && spec.delta <= 0) throw new SpecError('noise = gaussian needs delta > 0');
  if (spec.selection === 'threshold' && spec.delta <= 0) {
    throw new SpecError('groups = THRESHOLD needs delta > 0 (the noisy threshold has a small chance δ of releasing a group of one unit)');
  }
  if (!spec.unit && (spec.maxGroupsContributed !== 1 || spec.maxRowsContributed !== 1)) {
    throw new SpecError('max_groups_contributed and max_rows_contributed need a privacy_unit (without one, each row is its own unit)');
  }
  return spec;
}

/** A decimal string as a signed fraction num / 10^k. */
export function parseDecimal(text: string): { num: bigint; den: bigint } {
  if (!DECIMAL.test(text)) throw new SpecError(`not a decimal number: ${text}`);
  const negative = text.startsWith('-');
  const [whole, frac = ''] = text.replace('-', '').split('.');
  const den = 10n ** BigInt(frac.length);
  const num = BigInt(whole + frac);
  return { num: negative ? -num : num, den };
}
