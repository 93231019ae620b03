/**
 * Calibration and release, as pure functions: the budget split and ρ-zCDP cost, exact rational
 * noise scales, sensitivities including the coarse-lattice rounding, the partition-selection
 * threshold meeting its δ, exact decimal outputs, and a spec validator that rejects malformed
 * input with SpecError (never a crash) — the party runs it on untrusted requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epsilonFromRho, klsTau, rhoFromEpsilonDelta } from '../../executor/protocols/dp/accounting.js';
import { calibrate, fineLattice } from '../../executor/protocols/dp/calibrate.js';
import { roundDiv } from '../../executor/protocols/dp/contribution.js';
import { discreteLaplaceUpperTail } from '../../executor/protocols/dp/distributions.js';
import { fromDouble, toNumber } from '../../executor/protocols/dp/rational.js';
import { releaseGroup } from '../../executor/protocols/dp/release.js';
import { parseDpQuerySpec, SpecError, type DpQuerySpec } from '../../executor/protocols/dp/spec.js';

function spec(overrides: Partial<DpQuerySpec> = {}): DpQuerySpec {
  return parseDpQuerySpec({
    epsilon: 0.5, delta: 1e-8, noise: 'laplace', unit: true, maxGroupsContributed: 2, maxRowsContributed: 3, maxPartiesContributed: 1,
    confidence: 0.95, selection: 'threshold', groupColumns: 1,
    measurements: [{ kind: 'count_rows' }, { kind: 'sum', arg: 2, domain: { kind: 'decimal', scale: 2 }, low: '0', high: '100000' }],
    ...overrides,
  });
}

describe('accounting', () => {
  it('converts between ρ-zCDP and (ε, δ) both ways (BS16)', () => {
    const rho = rhoFromEpsilonDelta(1, 1e-6);
    expect(epsilonFromRho(rho, 1e-6)).toBeCloseTo(1, 12);
    expect(klsTau(4, 1)).toBe(0);
    expect(klsTau(4, 10)).toBeLessThan(1e-15);
  });
});

describe('calibration', () => {
  it('splits ε over cells and selection and charges ρ = ε²/(2·parts) for Laplace', () => {
    const c = calibrate(spec(), 2);
    expect(c.parts).toBe(3);
    expect(c.cost.rho).toBeCloseTo(0.25 / 6, 15);
    expect(c.cost.delta).toBe(1e-8);
    // COUNT: L1 = p·k·r = 2·3 = 6, scale = L1·parts/ε = 36 exactly.
    const count = c.cells[0];
    expect(count.noise.kind).toBe('laplace');
    expect(count.noise.kind === 'laplace' && toNumber(count.noise.scale)).toBe(36);
  });

  it('puts SUM partials on a coarse lattice whose sensitivity includes one step of rounding', () => {
    const c = calibrate(spec(), 2);
    const sum = c.cells[1];
    // 100000.00 → 10^7 fine units per row, 3 rows: Δ = 3·10^7; coarse 2^a with Δ/2^a in [256, 512).
    const fine = 30_000_000n;
    expect(sum.coarse & (sum.coarse - 1n)).toBe(0n);
    expect(fine / sum.coarse).toBeGreaterThanOrEqual(256n);
    expect(fine / sum.coarse).toBeLessThan(512n);
    expect(sum.perGroup).toBe(fine / sum.coarse + 1n);
    // Rounding two partials that differ by ≤ Δ never moves them more than perGroup steps apart.
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.bigInt({ min: 0n, max: fine }), (x, d) => {
      const a = roundDiv(x, sum.coarse);
      const b = roundDiv(x + d, sum.coarse);
      return b - a <= sum.perGroup && b - a >= 0n;
    }));
  });

  it('sets the selection threshold so a one-unit group passes with probability ≤ δ at each party', () => {
    for (const [k, p] of [[1, 1], [2, 1], [3, 2]]) {
      const c = calibrate(spec({ maxGroupsContributed: k, maxPartiesContributed: p }), 2);
      const s = c.selection!;
      const t = toNumber(s.scale);
      expect(t).toBeCloseTo((k * p * c.parts) / 0.5, 6);
      expect(k * discreteLaplaceUpperTail(t, Number(s.threshold) - 1)).toBeLessThanOrEqual(s.deltaPerParty);
      expect(s.deltaPerParty).toBeCloseTo(1e-8 / p, 20);
    }
  });

  it('sizes Gaussian shares so their sum meets ρ per part (KLS21) and charges ρ(ε, δ) in full', () => {
    const s = spec({ noise: 'gaussian', delta: 1e-6, selection: 'public' });
    const c = calibrate(s, 3);
    const rho = rhoFromEpsilonDelta(0.5, 1e-6);
    expect(c.cost.rho).toBeCloseTo(rho, 15);
    expect(c.cost.delta).toBe(0);
    for (const cell of c.cells) {
      if (cell.noise.kind !== 'gaussian') throw new Error('expected Gaussian');
      const share = toNumber(cell.noise.shareSigma2);
      const total = toNumber(cell.noise.sigma2);
      expect(total).toBeCloseTo(3 * share, 9);
      expect(share).toBeGreaterThanOrEqual(4);
      const achieved = 0.5 * (cell.l2 / Math.sqrt(total) + klsTau(share, 3) * 2 ** 16) ** 2;
      expect(achieved).toBeLessThanOrEqual(rho / c.parts + 1e-15);
    }
  });

  it('converts ε exactly (a double is a dyadic rational)', () => {
    const r = fromDouble(0.1);
    expect(Number(r.n) / Number(r.d)).toBe(0.1);
    expect(r.d & (r.d - 1n)).toBe(0n);
  });
});

describe('fine lattices', () => {
  it('decimal, integer and double arguments', () => {
    expect(fineLattice({ kind: 'sum', domain: { kind: 'decimal', scale: 2 }, low: '-1.005', high: '2.5' })).toMatchObject({ unitDen: 100n, low: -100n, high: 250n });
    expect(fineLattice({ kind: 'sum', domain: { kind: 'integer' }, low: '0.5', high: '10' })).toMatchObject({ low: 1n, high: 10n });
    const d = fineLattice({ kind: 'avg', domain: { kind: 'double' }, low: '0', high: '1' });
    expect(d.unitDen).toBe(1n << 40n);
    expect(d.high).toBe(1n << 40n);
    expect(() => fineLattice({ kind: 'sum', domain: { kind: 'integer' }, low: '5', high: '1' })).toThrow(SpecError);
    expect(() => fineLattice({ kind: 'sum', domain: { kind: 'integer' }, low: '0.2', high: '0.8' })).toThrow(/no value/);
  });
});

describe('release', () => {
  it('SUM on DECIMAL is exact on the lattice; AVG is clamped and NULL without a count', () => {
    const s = spec({
      selection: 'public',
      measurements: [
        { kind: 'sum', arg: 2, domain: { kind: 'decimal', scale: 2 }, low: '0', high: '100' },
        { kind: 'avg', arg: 2, domain: { kind: 'integer' }, low: '18', high: '99' },
      ],
    });
    const c = calibrate(s, 1);
    const out = releaseGroup(s, c, [12345n, 100n * (2n * 99n - 117n), 0n]);
    const step = Number(c.cells[0].coarse) / 100;
    expect(Number(out[0].value)).toBeCloseTo(12345 * step, 6);
    expect(out[0].value).toMatch(/^\d+\.\d{2}$/);
    expect(Number(out[0].ciLow)).toBeLessThan(Number(out[0].value));
    expect(out[1].value).toBeNull();
    const avg = releaseGroup(s, c, [0n, 100n * (2n * 99n - 117n), 100n])[1];
    expect(Number(avg.value)).toBeCloseTo(99, 9);
    expect(Number(avg.ciHigh)).toBeLessThanOrEqual(99);
  });
});

describe('spec validation (untrusted input at the party)', () => {
  it('rejects every malformed spec with SpecError, never anything else', () => {
    fc.assert(fc.property(fc.anything(), (raw) => {
      try {
        parseDpQuerySpec(raw);
      } catch (e) {
        return e instanceof SpecError;
      }
      return true;
    }), { numRuns: 500 });
    for (const bad of [
      { ...spec(), epsilon: 0 },
      { ...spec(), delta: 0 }, // THRESHOLD needs δ > 0
      { ...spec(), unit: false }, // bounds without a unit
      { ...spec(), measurements: [{ kind: 'sum', arg: 2, domain: { kind: 'decimal', scale: 2 }, low: '1e5', high: '2' }] },
      { ...spec(), measurements: [{ kind: 'count_units' }], unit: false, maxGroupsContributed: 1, maxRowsContributed: 1 },
    ]) expect(() => parseDpQuerySpec(bad)).toThrow(SpecError);
  });
});
