/**
 * Members of a UNION ALL of party relations load into one gateway table only when their DuckDB
 * types are identical; otherwise each has its own table and DuckDB unifies the types as for any
 * UNION ALL (no digit of a wider DECIMAL may be lost to the first member's narrower type).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

describe('a UNION ALL of party relations at the gateway', () => {
  let fed: InProcessFederation;
  beforeAll(async () => {
    fed = await startInProcessFederation(['bank_a', 'bank_b', 'bank_c', 'telco']);
  }, 60_000);
  afterAll(async () => {
    await fed?.close();
  });

  it('members of different DECIMAL scales keep every digit, whichever arrives first', async () => {
    for (const [first, second] of [['1.5', '2.25'], ['2.25', '1.5'], ['123.5', '2.25']]) {
      const r = await fed.query(`SELECT x FROM (SELECT ${first} AS x FROM bank_b.accounts UNION ALL SELECT ${second} FROM telco.users) u GROUP BY x ORDER BY x`);
      const want = [first, second].map(Number).sort((a, b) => a - b);
      expect(r.rows.map((row) => Number(row[0]))).toEqual(want);
    }
  });

  it('members of one type share a table and give the same rows as separate tables would', async () => {
    const shared = await fed.query('SELECT region, count(*) AS n FROM banks.customers GROUP BY region ORDER BY region NULLS FIRST');
    const written = await fed.query(
      'SELECT region, count(*) AS n FROM (SELECT region FROM bank_a.customers UNION ALL SELECT region FROM bank_b.customers UNION ALL SELECT region FROM bank_c.customers) u GROUP BY region ORDER BY region NULLS FIRST',
    );
    expect(written.rows).toEqual(shared.rows);
    expect(shared.rows.reduce((n, r) => n + Number(r[1]), 0)).toBeGreaterThan(1000);
  });
});
