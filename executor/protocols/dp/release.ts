/**
 * The requester's half: from the unmasked noisy totals (lattice steps per group and cell) to the
 * released values and their confidence intervals. Everything here is post-processing of DP
 * outputs with public parameters, so it costs no budget:
 *
 * - COUNT: the noisy integer (signed: unbiased, may be negative).
 * - SUM: noisy lattice steps × step size, exact in the column's type (decimal string).
 * - AVG: midpoint + (noisy recentred sum)/(2 · noisy count), clamped to [lo, hi]; NULL when the
 *   noisy count is below 1.
 * - Intervals: value ± the noise quantile (`calibrate.ts` half-widths; the noise of a total is
 *   exactly discrete Laplace, or a sum of discrete Gaussians). They cover the noise only, not the
 *   bias from clamping or contribution bounding (as in Google's DP library). AVG combines the
 *   Bonferroni-split intervals of its two parts by interval arithmetic.
 *
 * Runs at the requester on what it already holds: reveals nothing more; cost O(cells) per group.
 */
import type { Calibration, CellPlan } from './calibrate.js';
import { parseDecimal, type DpQuerySpec } from './spec.js';

export interface ReleasedValue {
  /** Text of the value in its column type (exact for counts and sums), or null (NULL). */
  value: string | null;
  ciLow: string | null;
  ciHigh: string | null;
}

/** n · num/den as an exact decimal string with `scale` fractional digits (den divides 10^scale·num·n). */
function scaledDecimal(steps: bigint, cell: CellPlan, scale: number): string {
  const fine = cell.fine!;
  // value = steps · coarse · unitNum / unitDen, written with `scale` digits: multiply by 10^scale.
  const pow = 10n ** BigInt(scale);
  const numerator = steps * cell.coarse * fine.unitNum * pow;
  const q = numerator / fine.unitDen; // exact for integer/decimal domains
  const negative = q < 0n;
  const digits = (negative ? -q : q).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits;
  return negative ? `-${text}` : text;
}

function stepsToNumber(steps: number, cell: CellPlan): number {
  const fine = cell.fine!;
  return (steps * Number(cell.coarse) * Number(fine.unitNum)) / Number(fine.unitDen);
}

function decimalNumber(text: string): number {
  const d = parseDecimal(text);
  return Number(d.num) / Number(d.den);
}

/** Released values for one group: `totals` are its noisy cell totals in lattice steps. */
export function releaseGroup(spec: DpQuerySpec, calibration: Calibration, totals: bigint[]): ReleasedValue[] {
  return spec.measurements.map((m, i) => {
    const cellIds = calibration.cellsOf[i];
    if (m.kind !== 'sum' && m.kind !== 'avg') {
      const cell = calibration.cells[cellIds[0]];
      const v = totals[cellIds[0]];
      const h = BigInt(cell.halfWidth);
      return { value: v.toString(), ciLow: (v - h).toString(), ciHigh: (v + h).toString() };
    }
    if (m.kind === 'sum') {
      const cell = calibration.cells[cellIds[0]];
      const v = totals[cellIds[0]];
      const h = BigInt(cell.halfWidth);
      const domain = m.domain!;
      const text = (steps: bigint) =>
        domain.kind === 'double' ? String(stepsToNumber(Number(steps), cell)) : scaledDecimal(steps, cell, domain.kind === 'decimal' ? domain.scale : 0);
      return { value: text(v), ciLow: text(v - h), ciHigh: text(v + h) };
    }
    // AVG
    const sumCell = calibration.cells[cellIds[0]];
    const countCell = calibration.cells[cellIds[1]];
    const lo = decimalNumber(m.low!);
    const hi = decimalNumber(m.high!);
    const fine = sumCell.fine!;
    const unit = Number(fine.unitNum) / Number(fine.unitDen);
    const mid = ((Number(fine.low) + Number(fine.high)) / 2) * unit;
    const clamp = (x: number) => Math.min(hi, Math.max(lo, x));
    // Recentred sum in value units (the cell holds Σ(2v − (lo+hi)) in fine units).
    const recentred = (steps: number) => (steps * Number(sumCell.coarse) * unit) / 2;
    const s = Number(totals[cellIds[0]]);
    const c = Number(totals[cellIds[1]]);
    const value = c >= 1 ? String(clamp(mid + recentred(s) / c)) : null;
    const cLow = c - countCell.halfWidth;
    const cHigh = c + countCell.halfWidth;
    if (cLow < 1) return { value, ciLow: String(lo), ciHigh: String(hi) };
    const sLow = recentred(s - sumCell.halfWidth);
    const sHigh = recentred(s + sumCell.halfWidth);
    const corners = [sLow / cLow, sLow / cHigh, sHigh / cLow, sHigh / cHigh];
    return { value, ciLow: String(clamp(mid + Math.min(...corners))), ciHigh: String(clamp(mid + Math.max(...corners))) };
  });
}
