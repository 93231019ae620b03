/**
 * The PostgreSQL 15 reference harness itself: start a throwaway server, load a generated demo,
 * run queries that exercise the awkward parts of the data (NULLs, decimals, dates, timestamps,
 * unicode, duplicates, un-normalised keys, federation views) on PostgreSQL and on DuckDB reading
 * the same CSVs, compare with `compareResults`, then stop the server and check it is gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo, type DemoDescription } from '../cli/demo/index.js';
import { openDuckDbDemo, type DuckDbDemo } from './support/duckdb-demo.js';
import { compareResults, loadDemoIntoPostgres, startPostgres, type PostgresServer } from './support/postgres.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('compareResults', () => {
  it('normalises numerics, dates, booleans and NULLs', () => {
    const ours = [{ n: 7n, d: '1.50', f: 0.1 + 0.2, day: '2025-06-30', ts: '2025-06-30T08:00:00Z', b: true, x: null }];
    const theirs = [{ n: '7', d: '1.5000', f: '0.3', day: new Date(2025, 5, 30), ts: '2025-06-30 08:00:00', b: 't', x: undefined }];
    expect(compareResults(ours, theirs, { ordered: true })).toEqual({ equal: true, diff: '' });
  });

  it('reports differences readably, ordered and unordered', () => {
    const r = compareResults([{ a: 1, b: 'x' }, { a: 2, b: 'y' }], [{ a: 1, b: 'x' }, { a: 3, b: 'y' }], { ordered: true });
    expect(r.equal).toBe(false);
    expect(r.diff).toContain('row 2');
    expect(r.diff).toContain('>>2<<');
    const u = compareResults([[1], [2], [2]], [[2], [1], [1]], { ordered: false });
    expect(u.equal).toBe(false);
    expect(u.diff).toContain('rows only in ours (1)');
    expect(compareResults([[1], [2], [2]], [[2], [1], [2]], { ordered: false }).equal).toBe(true);
    expect(compareResults([[1.0000000001]], [['1']], { ordered: true }).equal).toBe(true);
    expect(compareResults([[1.00001]], [['1']], { ordered: true }).equal).toBe(false);
    expect(compareResults([['a ']], [['a']], { ordered: true }).equal).toBe(false);
    expect(compareResults([[null]], [['']], { ordered: true }).equal).toBe(false);
    expect(compareResults([{ a: 1 }], [{ b: 1 }], { ordered: true }).diff).toContain('column names differ');
  });
});

describe('PostgreSQL 15 reference harness', () => {
  let dir: string;
  let demo: DemoDescription;
  let pg: PostgresServer | undefined;
  let duck: DuckDbDemo;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veilsql-harness-'));
    let t = performance.now();
    demo = await generateDemo(dir, 7, { lenders: 3 });
    timings.generateMs = Math.round(performance.now() - t);
    t = performance.now();
    pg = await startPostgres();
    timings.startMs = Math.round(performance.now() - t);
    const summary = await loadDemoIntoPostgres(pg, dir, demo);
    timings.loadMs = summary.ms;
    duck = await openDuckDbDemo(dir, demo);
    console.log(`[postgres-harness] ${pg.version}; generate ${timings.generateMs} ms, start ${timings.startMs} ms, load ${summary.rows} rows ${timings.loadMs} ms`);
  }, 60_000);

  afterAll(async () => {
    duck?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  async function both(sql: string, ordered = true): Promise<void> {
    const theirs = (await pg!.query(sql)).rows;
    const ours = await duck.query(sql);
    expect(theirs.length, `${sql}: PostgreSQL returned no rows`).toBeGreaterThan(0);
    const r = compareResults(ours, theirs, { ordered });
    expect(r.equal, `${sql}\n${r.diff}`).toBe(true);
  }

  it('runs PostgreSQL 15 on a loopback port', async () => {
    expect(pg!.version).toMatch(/^15\./);
    expect(pg!.port).toBeGreaterThan(0);
    const { rows } = await pg!.query<{ enc: string; coll: string }>(
      "SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS coll FROM pg_database WHERE datname = 'postgres'",
    );
    expect(rows[0]).toEqual({ enc: 'UTF8', coll: 'C' });
  });

  it('loads every table with the demo row counts, matching DuckDB over the same CSVs', async () => {
    for (const t of demo.tables) {
      const sql = `SELECT count(*) AS n FROM ${t.party}.${t.name}`;
      const theirs = (await pg!.query<{ n: bigint }>(sql)).rows[0].n;
      const ours = (await duck.query(sql))[0].n;
      expect(Number(theirs), sql).toBe(t.rowCount);
      expect(Number(ours), sql).toBe(t.rowCount);
    }
  });

  it('maps the column types', async () => {
    const { rows } = await pg!.query<{ table_name: string; column_name: string; t: string }>(
      `SELECT table_name, column_name, format_type(atttypid, atttypmod) AS t
       FROM information_schema.columns c JOIN pg_attribute a ON a.attname = c.column_name
         AND a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
       WHERE table_schema = 'bank_a' AND table_name = 'customers' ORDER BY ordinal_position`,
    );
    expect(rows.map((r) => `${r.column_name} ${r.t}`)).toEqual([
      'customer_id bigint',
      'id_key text',
      'name text',
      'phone text',
      'region text',
      'segment text',
      'opened_on date',
      'balance numeric(12,2)',
      'is_fraud integer',
      'credit_score integer',
    ]);
  });

  it('agrees on aggregates with NULLs and decimals over a federation view', async () => {
    await both(
      `SELECT region, count(*) AS n, count(credit_score) AS scored, sum(balance) AS total, min(balance) AS lo,
              avg(credit_score) AS avg_score, sum(is_fraud) AS frauds
       FROM banks.customers GROUP BY region ORDER BY region NULLS LAST`,
    );
  });

  it('agrees on unicode text, dates and duplicates', async () => {
    await both('SELECT customer_id, name, phone, opened_on, balance FROM bank_a.customers ORDER BY customer_id LIMIT 40');
    await both(
      `SELECT id_key, count(*) AS n FROM bank_a.customers GROUP BY id_key HAVING count(*) > 1 ORDER BY id_key`,
    );
    await both(`SELECT name FROM bank_a.customers WHERE name LIKE '%,%' OR name LIKE '%"%' ORDER BY name`);
  });

  it('agrees on normalised-key joins and NULL keys', async () => {
    await both(
      `SELECT t.age_band, count(*) AS n, sum(c.is_fraud) AS frauds
       FROM bank_a.customers c JOIN telco.users t ON lower(trim(c.id_key)) = lower(trim(t.id_key))
       GROUP BY t.age_band ORDER BY t.age_band NULLS FIRST`,
    );
    const matched = await pg!.query<{ n: bigint }>(
      `SELECT count(DISTINCT lower(trim(c.id_key))) AS n FROM bank_a.customers c
       JOIN telco.users t ON lower(trim(c.id_key)) = lower(trim(t.id_key))`,
    );
    expect(Number(matched.rows[0].n)).toBe(demo.facts.bankACustomersAtTelco);
    await both(`SELECT count(*) AS n, count(id_key) AS keyed FROM telco.users`);
  });

  it('agrees on timestamps, date arithmetic and COUNT(DISTINCT party)', async () => {
    await both(
      `SELECT CAST(applied_at AS DATE) AS day, product, count(*) AS n, sum(amount) AS total
       FROM alliance.applications WHERE applied_at >= DATE '${demo.asOf}' - 7
       GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    await both(
      `SELECT lower(trim(id_key)) AS k, count(DISTINCT party) AS lenders, min(applied_at) AS first_at
       FROM alliance.applications_with_party WHERE id_key IS NOT NULL
       GROUP BY 1 HAVING count(DISTINCT party) > 1 ORDER BY 2 DESC, 1 LIMIT 25`,
    );
  });

  it('agrees on a local join with booleans and on GWAS allele counts', async () => {
    await both(
      `SELECT c.segment, a.product, a.is_active, count(*) AS n, sum(a.balance) AS total
       FROM bank_b.customers c JOIN bank_b.accounts a ON a.customer_ref = c.customer_id
       GROUP BY 1, 2, 3`,
      false,
    );
    await both(
      `SELECT g.snp_id,
              sum(g.dosage) FILTER (WHERE s.pheno = 2) AS a1_case, 2 * count(g.dosage) FILTER (WHERE s.pheno = 2) AS n_case,
              sum(g.dosage) FILTER (WHERE s.pheno = 1) AS a1_ctrl, 2 * count(g.dosage) FILTER (WHERE s.pheno = 1) AS n_ctrl,
              avg(s.age) AS mean_age
       FROM hospitals.genotypes g JOIN hospitals.samples s ON s.sample_id = g.sample_id
       GROUP BY g.snp_id ORDER BY g.snp_id`,
    );
  });

  it('stops cleanly and leaves no server process behind', async () => {
    const server = pg!;
    const pid = server.pid;
    expect(processAlive(pid)).toBe(true);
    await server.stop();
    expect(processAlive(pid)).toBe(false);
    pg = undefined;
  });
});
