/**
 * Empirical privacy loss through the whole SQL path (parser → planner → dp-aggregate sessions
 * with three embedded parties → released rows): the same DP query runs on neighbouring
 * databases D and D′ (D′ = D without the heaviest privacy unit), and δ̂ — the histogram
 * estimate of max Σ_o (p_D(o) − e^ε·p_D′(o))⁺ over exact output values — must stay within
 * δ + tolerance. Negative controls must fail the same test: ε doubled, contribution bounding
 * disabled, a floating-point Laplace release, one party's noise share dropped.
 *
 * To keep CI fast and deterministic, one query releases 500 groups (PUBLIC keys), each holding
 * its own heavy unit, so every query yields 500 independent samples of the per-group comparison;
 * the noise comes from seeded ChaCha20 streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setDpTestHooks, type DpTestHooks } from '../../executor/operators/dp-aggregate/test-hooks.js';
import { seededRandomSource } from '../../executor/protocols/dp/random.js';
import { startDpFederation, type DpFederation, type DpTable } from './dp-federation.js';
import { empiricalDelta } from './stats.js';

const GROUPS = 500;
const QUERIES = 8;
/**
 * The histogram estimate is biased upwards by sampling noise, most for a mechanism that is
 * exactly ε-DP (the discrete Laplace sits on the e^ε boundary at every output): with 4,000
 * samples per side it reads 0.02–0.04 for correct mechanisms, 0.3–1 for the controls.
 */
const TOLERANCE = 0.08;
const keys = Array.from({ length: GROUPS }, (_, g) => `g${String(g).padStart(3, '0')}`);
const publicKeys = keys.map((k) => `'${k}'`).join(', ');
const PAIRS = GROUPS / 2;

/**
 * `visits`: every group has 3 one-row units at each party, and in D one heavy unit at p2 with 5
 * rows. `spread`: group pairs (2i, 2i+1) share a heavy unit that has 3 rows in both groups at p2
 * and at p3 (4 group-party cells).
 */
function tables(): DpTable[] {
  const header = ['person', 'g', 'amount'];
  const columns = { person: 'private', g: 'public', amount: 'dp' };
  const base = (party: number) => keys.flatMap((k, g) => [0, 1, 2].map((u) => [party * 1_000_000 + g * 10 + u, k, 1.5]));
  const heavy = keys.flatMap((k, g) => Array.from({ length: 5 }, () => [2_900_000 + g, k, 2.25]));
  const spreadHeavy = (party: number) =>
    Array.from({ length: PAIRS }, (_, i) => [keys[2 * i], keys[2 * i + 1]].flatMap((k) => Array.from({ length: 3 }, () => [party * 1_000_000 + 990_000 + i, k, 1]))).flat();
  const make = (name: string, withHeavy: boolean, spread: boolean): DpTable => ({
    name,
    header,
    columns,
    rows: {
      p1: base(1),
      p2: [...base(2), ...(withHeavy && !spread ? heavy : []), ...(withHeavy && spread ? spreadHeavy(2) : [])],
      p3: [...base(3), ...(withHeavy && spread ? spreadHeavy(3) : [])],
    },
  });
  return [make('visits', true, false), make('visits_nb', false, false), make('spread', true, true), make('spread_nb', false, true)];
}

let fed: DpFederation;
beforeAll(async () => {
  fed = await startDpFederation(tables());
}, 60_000);
afterAll(async () => {
  setDpTestHooks(undefined);
  await fed?.close();
});

const countQuery = (table: string, options = '') =>
  `SELECT g, DP COUNT(*) AS n FROM stat.${table} GROUP BY g WITH PRIVACY (epsilon = 1, delta = 1e-6, privacy_unit = person, groups = PUBLIC (${publicKeys})${options})`;

/** Runs `sql` QUERIES times and returns every group's released value (as text: exact values). */
async function samples(sql: string, per: (rows: (string | null)[][]) => string[] = (rows) => rows.map((r) => String(r[1]))): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < QUERIES; i++) out.push(...per((await fed.query(sql)).rows));
  return out;
}

async function deltaHat(hooks: DpTestHooks, d: string, dPrime: string, per?: (rows: (string | null)[][]) => string[]): Promise<number> {
  setDpTestHooks(hooks);
  try {
    return empiricalDelta(await samples(d, per), await samples(dPrime, per), 1);
  } finally {
    setDpTestHooks(undefined);
  }
}

describe('empirical privacy loss on neighbouring databases, whole SQL path (ε = 1, δ = 1e-6)', () => {
  it('discrete Laplace in Pólya shares: δ̂ ≤ δ + tolerance', async () => {
    const d = await deltaHat({ seed: 'loss-ok' }, countQuery('visits'), countQuery('visits_nb'));
    expect(d).toBeLessThanOrEqual(1e-6 + TOLERANCE);
  }, 60_000);

  it('discrete Gaussian shares: δ̂ ≤ δ + tolerance', async () => {
    const d = await deltaHat({ seed: 'loss-gauss' }, countQuery('visits', ', noise = gaussian'), countQuery('visits_nb', ', noise = gaussian'));
    expect(d).toBeLessThanOrEqual(1e-6 + TOLERANCE);
  }, 60_000);

  it('a unit spread over 2 groups at 2 parties (max_groups_contributed = 2, max_parties_contributed = 2): δ̂ of the pair sum ≤ δ + tolerance', async () => {
    const sql = (t: string) =>
      `SELECT g, DP COUNT(*) AS n FROM stat.${t} GROUP BY g ORDER BY g WITH PRIVACY (epsilon = 1, delta = 1e-6, privacy_unit = person, max_groups_contributed = 2, max_parties_contributed = 2, groups = PUBLIC (${publicKeys}))`;
    // The sum over the unit's two groups is post-processing of the release, so it is DP too.
    const pairSums = (rows: (string | null)[][]) => Array.from({ length: PAIRS }, (_, i) => String(Number(rows[2 * i][1]) + Number(rows[2 * i + 1][1])));
    const d = await deltaHat({ seed: 'loss-spread' }, sql('spread'), sql('spread_nb'), pairSums);
    expect(d).toBeLessThanOrEqual(1e-6 + TOLERANCE);
  }, 60_000);
});

describe('negative controls fail the same test', () => {
  it('ε doubled (noise for ε = 2, charged as ε = 1)', async () => {
    const d = await deltaHat({ seed: 'loss-eps2', epsilonFactor: 2 }, countQuery('visits'), countQuery('visits_nb'));
    expect(d).toBeGreaterThan(1e-6 + TOLERANCE);
  }, 60_000);

  it('contribution bounding disabled (the heavy unit adds 5 rows, not 1)', async () => {
    const d = await deltaHat({ seed: 'loss-unbounded', disableBounding: true }, countQuery('visits'), countQuery('visits_nb'));
    expect(d).toBeGreaterThan(1e-6 + TOLERANCE);
  }, 60_000);

  it('one party\'s noise share dropped (p3 of the contributors p2, p3)', async () => {
    const d = await deltaHat({ seed: 'loss-dropped', dropShareOf: 'p3' }, countQuery('visits'), countQuery('visits_nb'));
    expect(d).toBeGreaterThan(1e-6 + TOLERANCE);
  }, 60_000);

  it('a floating-point Laplace release (Mironov 2012: D and D′ have disjoint supports)', async () => {
    const rng = seededRandomSource('float-laplace');
    const floatLaplace = (x: number) => {
      const u = (rng.uint32() + 0.5) / 2 ** 32 - 0.5;
      return x - Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    };
    const d = await deltaHat({ seed: 'loss-float', replaceRelease: floatLaplace }, countQuery('visits'), countQuery('visits_nb'));
    expect(d).toBeGreaterThan(1e-6 + TOLERANCE);
  }, 60_000);
});
