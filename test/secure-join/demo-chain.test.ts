/**
 * SECURE JOIN on the seeded demo federation (untidy id_keys: case, blanks, NULLs, duplicates),
 * checked against DuckDB over the same Parquet files with the declared normalisation applied
 * in SQL: a two-party join, an aggregate (PSI-sum) and a chain across three parties
 * (bank_a ⟷ telco, then ⟷ bank_b), where the second join's gateway side is the first one's
 * result.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

let fed: InProcessFederation;
let oracle: DuckDBInstance;

beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', 'telco', 'bank_b']);
  oracle = await DuckDBInstance.create(':memory:');
  const c = await oracle.connect();
  const file = (party: string, table: string) => `'${join(fed.dir, 'data', party, `${table}.parquet`)}'`;
  // The demo's keys are ASCII: the declared rule (trim, NFC, lower) is lower(trim(…)) here.
  for (const [name, party, table] of [['customers', 'bank_a', 'customers'], ['applicants', 'bank_a', 'applicants'], ['users', 'telco', 'users'], ['blacklist', 'bank_b', 'blacklist']]) {
    await c.run(`CREATE TABLE ${name} AS SELECT *, lower(trim(id_key)) AS nk FROM read_parquet(${file(party, table)})`);
  }
  c.closeSync();
}, 120_000);

afterAll(async () => {
  oracle?.closeSync();
  await fed?.close();
});

async function expected(sql: string): Promise<string[]> {
  const c = await oracle.connect();
  try {
    return (await c.runAndReadAll(sql)).getRows().map((r) => JSON.stringify(r.map((v) => (v === null ? null : String(v))))).sort();
  } finally {
    c.closeSync();
  }
}

const ours = async (sql: string) => (await fed.query(sql)).rows.map((r) => JSON.stringify(r)).sort();

describe('SECURE JOIN on the demo federation', () => {
  it('two parties, row mode: duplicates and untidy keys as in the plaintext join', async () => {
    const got = await ours('SELECT c.customer_id, t.age_band, t.region FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key');
    expect(got.length).toBeGreaterThan(2500);
    expect(got).toEqual(await expected('SELECT c.customer_id, t.age_band, t.region FROM customers c JOIN users t ON c.nk = t.nk'));
  }, 60_000);

  it('PSI-sum per requester group over an aggregate-level column', async () => {
    const got = await ours('SELECT c.segment, count(*) AS n, sum(t.monthly_spend) AS spend FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key GROUP BY c.segment');
    expect(got).toEqual(await expected('SELECT c.segment, count(*) AS n, sum(t.monthly_spend) AS spend FROM customers c JOIN users t ON c.nk = t.nk GROUP BY c.segment HAVING count(*) >= 10'));
  }, 60_000);

  it('a chain across three parties', async () => {
    const sql = `SELECT a.app_id, t.age_band, b.reason
      FROM bank_a.applicants a
      SECURE JOIN telco.users t ON a.id_key = t.id_key
      SECURE LEFT JOIN bank_b.blacklist b ON a.id_key = b.id_key`;
    const got = await ours(sql);
    const want = await expected(`SELECT a.app_id, t.age_band, b.reason FROM applicants a JOIN users t ON a.nk = t.nk LEFT JOIN blacklist b ON a.nk = b.nk`);
    expect(got.length).toBeGreaterThan(100);
    expect(got.some((r) => !r.endsWith('null]'))).toBe(true);
    expect(got).toEqual(want);
    const explain = (await fed.query(`EXPLAIN ${sql}`)).rows.map((r) => r[0]).join('\n');
    expect(explain.match(/via ECDH-PSI row mode/g)).toHaveLength(2);
    expect(explain).toMatch(/bank_a ⟷ telco/);
    expect(explain).toMatch(/bank_a ⟷ bank_b/);
  }, 90_000);

  it('refuses a SECURE JOIN between two parties other than the requester', async () => {
    await expect(fed.query('SELECT count(*) FROM bank_b.blacklist b SECURE JOIN telco.users t ON b.id_key = t.id_key')).rejects.toMatchObject({
      sqlstate: '0A000',
      message: expect.stringMatching(/between bank_b and telco is not supported: one side must be held by the requester bank_a/),
    });
  });
});
