/**
 * Contribution bounding, the property every sensitivity in calibrate.ts rests on: on random
 * tables, removing one privacy unit changes each group's exact partial by at most the per-group
 * sensitivity, changes at most max_groups_contributed groups, and each group's unit count by at
 * most one. Checked on the party's own SQL (local-aggregate.ts) in DuckDB, for counts, sums,
 * averages and COUNT(DISTINCT), against the negative control with bounding switched off.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAggregateSql } from '../../executor/operators/dp-aggregate/local-aggregate.js';
import { calibrate } from '../../executor/protocols/dp/calibrate.js';
import { parseDpQuerySpec, type DpQuerySpec } from '../../executor/protocols/dp/spec.js';

let db: DuckDBInstance;
let c: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  c = await db.connect();
  await c.run('SET integer_division = true');
});
afterAll(() => {
  c.closeSync();
  db.closeSync();
});

type Row = [number, string, number | null];

function spec(distinct: boolean): DpQuerySpec {
  return parseDpQuerySpec({
    epsilon: 1, delta: 1e-6, noise: 'laplace', unit: true, maxGroupsContributed: 2, maxRowsContributed: 3, maxPartiesContributed: 1,
    confidence: 0.95, selection: 'threshold', groupColumns: 1,
    measurements: [
      { kind: 'count_rows' },
      { kind: 'sum', arg: 2, domain: { kind: 'decimal', scale: 2 }, low: '-5', high: '20' },
      { kind: 'avg', arg: 2, domain: { kind: 'decimal', scale: 2 }, low: '0', high: '10' },
      ...(distinct ? [{ kind: 'count_distinct', arg: 2 }] : [{ kind: 'count_units' }]),
    ],
  });
}

async function aggregate(rows: Row[], s: DpQuerySpec, skipBounding = false): Promise<Map<string, bigint[]>> {
  await c.run('CREATE OR REPLACE TEMP TABLE t (c0 BIGINT, c1 VARCHAR, c2 DECIMAL(12,2))');
  if (rows.length) {
    await c.run(`INSERT INTO t VALUES ${rows.map(([u, g, v]) => `(${u}, '${g}', ${v === null ? 'NULL' : v})`).join(', ')}`);
  }
  const r = await c.runAndReadAll(localAggregateSql(s, calibrate(s, 2), 't', { salt: 42n, skipBounding }));
  return new Map(r.getRows().map((row) => [String(row[0]), row.slice(1).map((x) => BigInt(String(x)))]));
}

/** Max |difference| per cell (index 0 = units) and the number of groups that changed. */
function diff(a: Map<string, bigint[]>, b: Map<string, bigint[]>, cells: number): { max: bigint[]; changed: number } {
  const max = Array.from({ length: cells + 1 }, () => 0n);
  let changed = 0;
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key) ?? Array.from({ length: cells + 1 }, () => 0n);
    const y = b.get(key) ?? Array.from({ length: cells + 1 }, () => 0n);
    let any = false;
    x.forEach((v, i) => {
      const d = v > y[i] ? v - y[i] : y[i] - v;
      if (d > max[i]) max[i] = d;
      if (d > 0n) any = true;
    });
    if (any) changed++;
  }
  return { max, changed };
}

const rowArb = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom('a', 'b', 'c', 'd'), fc.option(fc.integer({ min: -1000, max: 3000 }).map((x) => x / 100), { nil: null }));

describe('removing one privacy unit moves every partial by at most its sensitivity', () => {
  for (const distinct of [false, true]) {
    it(distinct ? 'with COUNT(DISTINCT col) (row-level bounding)' : 'with counts, sums and averages (per-unit bounding)', async () => {
      const s = spec(distinct);
      const cal = calibrate(s, 2);
      await fc.assert(fc.asyncProperty(fc.array(rowArb, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), async (rows, unit) => {
        const d = await aggregate(rows as Row[], s);
        const dPrime = await aggregate((rows as Row[]).filter((r) => r[0] !== unit), s);
        const { max, changed } = diff(d, dPrime, cal.cells.length);
        expect(changed).toBeLessThanOrEqual(s.maxGroupsContributed);
        expect(max[0]).toBeLessThanOrEqual(1n);
        cal.cells.forEach((cell, i) => {
          // Fine units (the coarse lattice's rounding is accounted for separately).
          const bound = cell.coarse === 1n ? cell.perGroup : (cell.perGroup - 1n) * cell.coarse + cell.coarse;
          expect(max[i + 1]).toBeLessThanOrEqual(bound);
        });
      }), { numRuns: 40 });
    }, 60_000);
  }

  it('negative control: without bounding one heavy unit moves a count by its number of rows', async () => {
    const s = spec(false);
    const heavy: Row[] = Array.from({ length: 10 }, () => [1, 'a', 1]);
    const others: Row[] = [[2, 'a', 1], [3, 'b', 2]];
    const unbounded = diff(await aggregate([...heavy, ...others], s, true), await aggregate(others, s, true), 4);
    expect(unbounded.max[1]).toBe(10n);
    const bounded = diff(await aggregate([...heavy, ...others], s), await aggregate(others, s), 4);
    expect(bounded.max[1]).toBe(3n);
    // The kept sum is the unit's mean per row times the 3 rows it may contribute.
    expect(bounded.max[2]).toBe(300n);
  });
});
