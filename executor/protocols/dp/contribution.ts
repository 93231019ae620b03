/**
 * The party's half of the DP aggregate, as pure functions over its already-bounded local
 * partials (one row per local group: distinct units and one exact integer partial per cell):
 *
 * 1. `selectKeys` — partition selection (groups = THRESHOLD): keep a group when its unit count
 *    plus a fresh discrete-Laplace draw reaches the public threshold (`calibrate.ts`). Only the
 *    kept keys leave the party; the noisy counts do not.
 * 2. `partials` — for every group of the agreed key list and every cell: the partial rounded
 *    onto the public lattice and saturated;
 * 3. `noiseShares` — when the party is a noise contributor: a Pólya share of the discrete
 *    Laplace, or a discrete-Gaussian share, per cell. The caller adds them to the partials and
 *    masks the sum in one step (the secure sum's per-party contribution hook) before it leaves.
 *
 * Reveals: the kept keys (a DP release) and, after masking, nothing else to the requester.
 * Cost: one discrete-Laplace draw per local group; one noise share per (group, cell).
 */
import type { Calibration } from './calibrate.js';
import { keyId, type GroupKey } from './messages.js';
import type { RandomSource } from './random.js';
import { discreteGaussian, discreteLaplace, polyaShare } from './samplers.js';

export interface LocalGroup {
  key: GroupKey;
  /** Distinct privacy units (rows without a unit) in the group, after contribution bounding. */
  units: bigint;
  /** Exact partial per cell in fine units (counts: the count). */
  fine: bigint[];
}

/** A party's partial is clamped to ±2^55 (1-Lipschitz, so sensitivities hold) so ≤ 128 parties never wrap 2^63. */
const SATURATION = 1n << 55n;

/** x / d rounded half away from zero (d > 0). */
export function roundDiv(x: bigint, d: bigint): bigint {
  if (d === 1n) return x;
  const negative = x < 0n;
  const a = negative ? -x : x;
  const q = (2n * a + d) / (2n * d);
  return negative ? -q : q;
}

export function selectKeys(groups: LocalGroup[], calibration: Calibration, rng: RandomSource): GroupKey[] {
  const selection = calibration.selection;
  if (!selection) throw new RangeError('this query selects no groups from the data');
  const kept: GroupKey[] = [];
  for (const g of groups) {
    if (g.units + discreteLaplace(rng, selection.scale) >= selection.threshold) kept.push(g.key);
  }
  return kept;
}

/** The party's partial of every (group, cell) in lattice steps, key-major: index = key · cells + cell. */
export function partials(keys: GroupKey[], local: Map<string, LocalGroup>, calibration: Calibration): bigint[] {
  const cells = calibration.cells;
  const out = new Array<bigint>(keys.length * cells.length);
  keys.forEach((key, i) => {
    const g = local.get(keyId(key));
    cells.forEach((cell, c) => {
      const partial = g ? roundDiv(g.fine[c], cell.coarse) : 0n;
      out[i * cells.length + c] = partial > SATURATION ? SATURATION : partial < -SATURATION ? -SATURATION : partial;
    });
  });
  return out;
}

/**
 * This party's noise shares for `groups` groups, in the same layout: a Pólya share of the
 * discrete Laplace per cell, or a discrete-Gaussian share. The secure sum adds them to the
 * partials before masking, so no one ever sees a partial or a total without the noise.
 */
export function noiseShares(groups: number, calibration: Calibration, rng: RandomSource): bigint[] {
  const cells = calibration.cells;
  const out = new Array<bigint>(groups * cells.length);
  for (let i = 0; i < groups; i++) {
    cells.forEach((cell, c) => {
      out[i * cells.length + c] = cell.noise.kind === 'laplace'
        ? polyaShare(rng, calibration.contributors, cell.noise.scale)
        : discreteGaussian(rng, cell.noise.shareSigma2);
    });
  }
  return out;
}
