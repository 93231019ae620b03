/**
 * Calibration: from a validated `DpQuerySpec` and the number of noise contributors to every
 * public number of the mechanism — the lattice of each measurement, its sensitivity, the exact
 * rational noise parameters, the partition-selection threshold, the confidence-interval
 * half-widths and the privacy cost charged to each party's ledger. The requester (for EXPLAIN DP
 * and the result's intervals) and every party (before it adds noise) run this same pure
 * function; a party never takes a noise scale from the requester.
 *
 * Budget split: the query's ε (Laplace) or ρ (Gaussian) is divided equally among its *parts*:
 * one per noisy cell (an AVG is two cells: a recentred sum and a count) plus one for partition
 * selection when group keys come from the data.
 *
 * Sensitivities, with k = max_groups_contributed, r = max_rows_contributed, p =
 * max_parties_contributed (k = r = 1 without a privacy unit): one unit changes at most k groups
 * at each of at most p parties, each group's partial by at most Δ, so L1 = p·k·Δ and
 * L2 = p·√k·Δ (worst case: the same k groups at every party).
 *
 * Lattices: counts are integers. A SUM/AVG argument is clamped to [lo, hi] and converted exactly
 * to integer "fine units" (1 for integers, 10^-s for DECIMAL(·,s), 2^e for doubles, e ≈ 40 bits
 * below the bounds), so partials are exact integer sums (no floating-point aggregation to attack,
 * Casacuberta et al. 2022). Each party's partial is then rounded to a coarse lattice of 2^a fine
 * units chosen so the per-group sensitivity is ~256 lattice steps; rounding can move a partial by
 * one more step, which the sensitivity includes (⌊Δ/2^a⌋ + 1). Outputs are integers on that
 * public lattice.
 *
 * Pure; reveals nothing; negligible cost.
 */
import { klsTau, rhoFromEpsilonDelta } from './accounting.js';
import { discreteLaplaceHalfWidth, discreteLaplaceUpperTail, gaussianHalfWidth } from './distributions.js';
import { ceilFromDouble, floorFromDouble, fromDouble, rational, toNumber, type Rational } from './rational.js';
import { parseDecimal, SpecError, type DpQuerySpec, type MeasurementSpec } from './spec.js';

/** Coarse lattice target: per-group sensitivity of about 2^8 lattice steps. */
const LATTICE_TARGET_BITS = 8;
/** Doubles are converted with about this many bits below the larger bound. */
const DOUBLE_FINE_BITS = 40;
/** Minimum σ of each discrete-Gaussian share, so the KLS21 τ is negligible (≤ 1e-16 per pair). */
const MIN_SHARE_SIGMA2 = 4;
/** The dimension bound used in the KLS21 τ term (cells per measurement). */
const MAX_CELLS = 2 ** 32;

export type CellRole = 'count' | 'sum' | 'avg_sum' | 'avg_count';

export interface FineLattice {
  /** Value of one fine unit as a signed fraction num/den (num > 0). */
  unitNum: bigint;
  unitDen: bigint;
  /** Clamping bounds in fine units (sum) — for avg the recentred value 2v − (lo+hi) lies in ±(hi − lo). */
  low: bigint;
  high: bigint;
  /** For doubles: fine unit = 2^exponent. */
  exponent?: number;
}

export type NoisePlan =
  | { kind: 'laplace'; scale: Rational }
  | { kind: 'gaussian'; sigma2: Rational; shareSigma2: Rational };

export interface CellPlan {
  measurement: number;
  role: CellRole;
  fine?: FineLattice;
  /** Fine units per lattice step (a power of two; 1 for counts). */
  coarse: bigint;
  /** Per-group sensitivity in lattice steps, and the L1/L2 sensitivities of the cell vector. */
  perGroup: bigint;
  l1: number;
  l2: number;
  noise: NoisePlan;
  /** Half-width of the confidence interval in lattice steps (at the query's confidence, or the Bonferroni-split one for AVG parts). */
  halfWidth: number;
  /** The standard deviation of the total noise in lattice steps (for EXPLAIN). */
  stddev: number;
}

export interface SelectionPlan {
  /** Per-party discrete-Laplace scale of the noisy unit count. */
  scale: Rational;
  /** A group is kept by a party when its unit count + noise ≥ threshold. */
  threshold: bigint;
  epsilonPerParty: number;
  deltaPerParty: number;
}

export interface Calibration {
  contributors: number;
  parts: number;
  cells: CellPlan[];
  /** Cell indexes per measurement (AVG has two: recentred sum, count). */
  cellsOf: number[][];
  selection?: SelectionPlan;
  /** What each party's ledger is charged: δ-approximate ρ-zCDP. */
  cost: { rho: number; delta: number };
}

function bitLength(x: bigint): number {
  return x <= 0n ? 0 : x.toString(2).length;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b < a ? q + 1n : q;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

const abs = (x: bigint) => (x < 0n ? -x : x);

/** The fine lattice of a SUM/AVG argument and its clamping bounds in fine units. */
export function fineLattice(m: MeasurementSpec): FineLattice {
  const lo = parseDecimal(m.low!);
  const hi = parseDecimal(m.high!);
  if (lo.num * hi.den > hi.num * lo.den) throw new SpecError(`BOUNDED ${m.low} AND ${m.high}: the lower bound is above the upper bound`);
  const domain = m.domain!;
  let unitNum = 1n;
  let unitDen = 1n;
  let exponent: number | undefined;
  if (domain.kind === 'decimal') unitDen = 10n ** BigInt(domain.scale);
  if (domain.kind === 'double') {
    const magnitude = (x: { num: bigint; den: bigint }) => bitLength(abs(x.num)) - bitLength(x.den);
    exponent = Math.max(magnitude(lo), magnitude(hi), -900) - DOUBLE_FINE_BITS;
    if (exponent >= 0) unitNum = 1n << BigInt(exponent);
    else unitDen = 1n << BigInt(-exponent);
  }
  // Bounds in fine units, rounded inwards: every clamped value stays within [lo, hi].
  const low = ceilDiv(lo.num * unitDen, lo.den * unitNum);
  const high = floorDiv(hi.num * unitDen, hi.den * unitNum);
  if (low > high) throw new SpecError(`BOUNDED ${m.low} AND ${m.high} contains no value of the column's type`);
  // Fine values must fit 62 bits, so per-row conversion and per-party sums never overflow.
  if (abs(low) >= 1n << 62n || abs(high) >= 1n << 62n) throw new SpecError(`BOUNDED ${m.low} AND ${m.high} is too wide for the column's scale`);
  return { unitNum, unitDen, low, high, ...(exponent !== undefined ? { exponent } : {}) };
}

/** Per-group sensitivity of a measurement's cell in fine units, before the coarse lattice. */
function perGroupFine(spec: DpQuerySpec, m: MeasurementSpec, role: CellRole, fine?: FineLattice): bigint {
  const r = BigInt(spec.maxRowsContributed);
  switch (role) {
    case 'count':
      return m.kind === 'count_units' ? 1n : r;
    case 'avg_count':
      return r;
    case 'sum':
      return r * (abs(fine!.low) > abs(fine!.high) ? abs(fine!.low) : abs(fine!.high));
    case 'avg_sum':
      return r * (fine!.high - fine!.low);
  }
}

function coarseFor(role: CellRole, fineDelta: bigint): { coarse: bigint; perGroup: bigint } {
  if (role === 'count' || role === 'avg_count') return { coarse: 1n, perGroup: fineDelta };
  const shift = Math.max(0, bitLength(fineDelta) - (LATTICE_TARGET_BITS + 1));
  if (shift === 0) return { coarse: 1n, perGroup: fineDelta };
  const coarse = 1n << BigInt(shift);
  return { coarse, perGroup: fineDelta / coarse + 1n };
}

export function calibrate(spec: DpQuerySpec, contributors: number): Calibration {
  if (!Number.isInteger(contributors) || contributors < 1) throw new SpecError('a DP query needs at least one noise contributor');
  const roles: { measurement: number; role: CellRole }[] = [];
  spec.measurements.forEach((m, i) => {
    if (m.kind === 'avg') roles.push({ measurement: i, role: 'avg_sum' }, { measurement: i, role: 'avg_count' });
    else roles.push({ measurement: i, role: m.kind === 'sum' ? 'sum' : 'count' });
  });
  const selecting = spec.selection === 'threshold';
  const parts = roles.length + (selecting ? 1 : 0);
  const k = spec.maxGroupsContributed;
  const p = spec.maxPartiesContributed;
  const deltaSelection = selecting ? (spec.noise === 'gaussian' ? spec.delta / 2 : spec.delta) : 0;
  const rhoTotal = spec.noise === 'gaussian' ? rhoFromEpsilonDelta(spec.epsilon, spec.delta - deltaSelection) : (spec.epsilon * spec.epsilon) / (2 * parts);
  const rhoPart = rhoTotal / parts;
  const epsilon = fromDouble(spec.epsilon);

  const cellsOf: number[][] = spec.measurements.map(() => []);
  const cells = roles.map(({ measurement, role }, index): CellPlan => {
    cellsOf[measurement].push(index);
    const m = spec.measurements[measurement];
    const fine = m.kind === 'sum' || m.kind === 'avg' ? fineLattice(m) : undefined;
    const { coarse, perGroup } = coarseFor(role, perGroupFine(spec, m, role, fine));
    const l1 = p * k * Number(perGroup);
    const l2 = p * Math.sqrt(k) * Number(perGroup);
    const confidence = m.kind === 'avg' ? 1 - (1 - spec.confidence) / 2 : spec.confidence;
    let noise: NoisePlan;
    let halfWidth: number;
    let stddev: number;
    if (spec.noise === 'laplace') {
      // t = L1 / (ε/parts), exactly: L1·parts·ε.d/ε.n.
      const scale = rational(BigInt(p * k) * perGroup * BigInt(parts) * epsilon.d, epsilon.n);
      const t = toNumber(scale);
      noise = { kind: 'laplace', scale };
      halfWidth = discreteLaplaceHalfWidth(t, confidence);
      const q = Math.exp(-1 / t);
      stddev = Math.sqrt((2 * q) / ((1 - q) * (1 - q)));
    } else {
      const target = Math.sqrt(2 * rhoPart);
      let shareSigma2 = Math.max(MIN_SHARE_SIGMA2, (l2 * l2) / (2 * rhoPart) / contributors);
      if (contributors > 1) {
        // KLS21: the sum of n shares is ½(L2/σ_total + τ√d)²-zCDP; widen σ until that is ≤ ρ_part.
        const tau = klsTau(shareSigma2, contributors) * Math.sqrt(MAX_CELLS);
        if (tau >= target) throw new SpecError('the distributed Gaussian needs more noise than this calibration allows; use noise = laplace');
        const sigmaTotal = l2 / (target - tau);
        shareSigma2 = Math.max(MIN_SHARE_SIGMA2, (sigmaTotal * sigmaTotal) / contributors);
      }
      const share = ceilFromDouble(shareSigma2);
      const total = rational(share.n * BigInt(contributors), share.d);
      noise = { kind: 'gaussian', sigma2: total, shareSigma2: share };
      halfWidth = gaussianHalfWidth(toNumber(total), confidence);
      stddev = Math.sqrt(toNumber(total));
    }
    return { measurement, role, ...(fine ? { fine } : {}), coarse, perGroup, l1, l2, noise, halfWidth, stddev };
  });

  let selection: SelectionPlan | undefined;
  if (selecting) {
    // Each party keeps a group when its count of distinct units plus discrete-Laplace noise
    // reaches the threshold. The count vector has L1 sensitivity k; a group that exists only
    // because of one unit (count 1) passes with probability ≤ P(Z ≥ threshold − 1), and one
    // unit creates at most k groups, so δ_local = k·P(Z ≥ m). A unit at p parties is covered by
    // spending ε/p and δ/p at each.
    const epsilonSelection = spec.noise === 'laplace' ? spec.epsilon / parts : Math.sqrt(2 * rhoPart);
    const epsilonPerParty = epsilonSelection / p;
    const deltaPerParty = deltaSelection / p;
    const epsilonRational = floorFromDouble(epsilonPerParty);
    const scale = rational(BigInt(k) * epsilonRational.d, epsilonRational.n);
    const t = toNumber(scale);
    let m = Math.max(1, Math.ceil(t * Math.log(k / (deltaPerParty * (1 + Math.exp(-1 / t))))));
    while (k * discreteLaplaceUpperTail(t, m) > deltaPerParty) m++; // guard against float error
    selection = { scale, threshold: BigInt(m + 1), epsilonPerParty, deltaPerParty };
  }

  return { contributors, parts, cells, cellsOf, ...(selection ? { selection } : {}), cost: { rho: rhoTotal, delta: deltaSelection } };
}
