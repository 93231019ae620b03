/**
 * The hub answers time filters with whole buckets only, so the bucket range of a query must
 * select exactly the rows SQL would: for DATE and TIMESTAMP columns, every comparison operator
 * and bounds on and off bucket boundaries, the days DuckDB's own comparison keeps are exactly
 * those in [lo, hi) — or the query is refused (0A000) because no bucket range is exact.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { bucketRange } from '../../executor/operators/dedupe/time-range.js';
import type { DedupeParams, TimeBoundOp } from '../../planner/operators/dedupe.js';
import { SqlError } from '../../parser/errors.js';

const DAY = 86_400_000;
const base: Omit<DedupeParams, 'timeType' | 'timeBounds' | 'bucketSeconds'> = {
  table: 'alliance.applications', hub: 'hub', lenders: [], mode: 'count', groupColumns: [], keyColumn: 'k', core: [], global: false,
};

describe('bucket ranges equal SQL comparisons', () => {
  const bounds = [`DATE '2024-06-20'`, `TIMESTAMP '2024-06-20 00:00:00'`, `TIMESTAMP '2024-06-20 13:30:00'`, `DATE '2024-06-30' - 7`, `CAST(NULL AS DATE)`];
  const ops: TimeBoundOp[] = ['>=', '>', '<', '<=', '='];
  for (const timeType of ['date', 'timestamp'] as const) {
    it(`${timeType} column, daily buckets`, async () => {
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      try {
        // Candidate values: every midnight of June 2024 (and for TIMESTAMP, noon too).
        const values = timeType === 'date' ? `SELECT DATE '2024-06-01' + CAST(i AS INTEGER) AS v FROM range(30) t(i)` : `SELECT TIMESTAMP '2024-06-01' + CAST(i AS INTEGER) * INTERVAL 12 HOUR AS v FROM range(60) t(i)`;
        await c.run(`CREATE TABLE vals AS ${values}`);
        let checked = 0;
        for (const op of ops) {
          for (const bound of bounds) {
            const params: DedupeParams = { ...base, timeType, bucketSeconds: 86_400, timeBounds: [{ op, sql: bound }] };
            const kept = (await c.runAndReadAll(`SELECT CAST(floor(epoch_ms(CAST(v AS TIMESTAMP)) / ${DAY}.0) AS BIGINT) FROM vals WHERE v ${op} ${bound} ORDER BY 1`)).getRows().map((r) => Number(r[0]));
            let range;
            try {
              range = await bucketRange(c, params);
            } catch (e) {
              expect(e).toBeInstanceOf(SqlError);
              expect((e as SqlError).sqlstate).toBe('0A000');
              // Refused only when SQL's answer is not a whole-bucket range of the candidates.
              expect(timeType).toBe('timestamp');
              continue;
            }
            const all = (await c.runAndReadAll(`SELECT DISTINCT CAST(floor(epoch_ms(CAST(v AS TIMESTAMP)) / ${DAY}.0) AS BIGINT) FROM vals ORDER BY 1`)).getRows().map((r) => Number(r[0]));
            const inRange = range.empty ? [] : all.filter((b) => (range.lo === null || b >= range.lo) && (range.hi === null || b < range.hi));
            expect([...new Set(kept)], `${timeType} v ${op} ${bound}`).toEqual(inRange);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(timeType === 'date' ? 24 : 8);
      } finally {
        c.closeSync();
        db.closeSync();
      }
    });
  }

  it('combines bounds and supports coarser buckets', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const week = 7 * 86_400;
      // 1970-01-01 was a Thursday: weekly buckets start on Thursdays.
      const r = await bucketRange(c, { ...base, timeType: 'timestamp', bucketSeconds: week, timeBounds: [{ op: '>=', sql: `DATE '2024-06-20'` }, { op: '<', sql: `DATE '2024-06-27'` }] });
      expect([r.lo, r.hi, r.empty]).toEqual([Date.UTC(2024, 5, 20) / 1000 / week, Date.UTC(2024, 5, 27) / 1000 / week, false]);
      await expect(bucketRange(c, { ...base, timeType: 'timestamp', bucketSeconds: week, timeBounds: [{ op: '>=', sql: `DATE '2024-06-21'` }] })).rejects.toThrow(/buckets of 7 day\(s\)/);
      const empty = await bucketRange(c, { ...base, timeType: 'date', bucketSeconds: 86_400, timeBounds: [{ op: '>=', sql: `DATE '2024-06-20'` }, { op: '<', sql: `DATE '2024-06-20'` }] });
      expect(empty.empty).toBe(true);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
