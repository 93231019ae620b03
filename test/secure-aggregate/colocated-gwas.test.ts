/**
 * The demo's long-format GWAS tables (hospitals.genotypes / samples / variants, two hospitals):
 * - joins on the co-located key (sample_id) and on PARTY run inside each party (EXPLAIN shows
 *   per-party joins; counts equal the pooled join), a join on a non-co-located key does not;
 * - GWAS_ALLELIC over the SQL path equals our association math on counts computed in
 *   plaintext from the pooled raw rows.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { alignAlleles, allelicTest } from '../../executor/gwas/association.js';
import { ownRows } from './capture-federation.js';
import '../../executor/operators/secure-aggregate/index.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

let fed: InProcessFederation;
const HOSPITALS = ['hospital_1', 'hospital_2'];

beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', ...HOSPITALS], { hospitals: 2 });
}, 120_000);
afterAll(async () => fed?.close());

test('a join on the co-located sample_id runs inside each party', async () => {
  const sql = 'SELECT count(*) AS n FROM hospitals.genotypes g JOIN hospitals.samples s ON s.sample_id = g.sample_id';
  const plan = (await fed.query(`EXPLAIN ${sql}`)).rows.map((r) => r[0]).join('\n');
  expect(plan).toMatch(/genotypes JOIN samples inside each party/);
  for (const h of HOSPITALS) expect(plan).toMatch(new RegExp(`Fragment #\\d+ @ ${h}[\\s\\S]*INNER JOIN ON s.sample_id = g.sample_id`));
  let pooled = 0;
  for (const h of HOSPITALS) pooled += Number((await ownRows(fed.parties.get(h)!, 'SELECT count(*) FROM genotypes g JOIN samples s ON s.sample_id = g.sample_id'))[0][0]);
  expect(Number((await fed.query(sql)).rows[0][0])).toBe(pooled);
});

test('a join on a key that is not co-located stays a join of the unions', async () => {
  const plan = (await fed.query('EXPLAIN SELECT count(*) AS n FROM hospitals.genotypes g JOIN hospitals.variants v ON v.snp_id = g.snp_id')).rows.map((r) => r[0]).join('\n');
  expect(plan).not.toMatch(/inside each party/);
});

test('GWAS_ALLELIC over the long-format SQL path equals the pooled plaintext computation', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run('CREATE TABLE g (rsid VARCHAR, a1 VARCHAR, a2 VARCHAR, dosage INTEGER, pheno INTEGER)');
  for (const h of HOSPITALS) {
    const rows = await ownRows(fed.parties.get(h)!, 'SELECT v.rsid, v.allele1, v.allele2, g.dosage, s.pheno FROM genotypes g JOIN samples s ON s.sample_id = g.sample_id JOIN variants v ON v.snp_id = g.snp_id');
    const a = await c.createAppender('g');
    for (const r of rows) {
      for (const [k, v] of r.entries()) {
        if (v === null) a.appendNull();
        else if (k >= 3) a.appendInteger(Number(v));
        else a.appendVarchar(String(v));
      }
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
  }
  const counts = (await c.runAndReadAll(`SELECT rsid, min(a1), min(a2),
      count(*) FILTER (WHERE pheno = 2 AND dosage = 2), count(*) FILTER (WHERE pheno = 2 AND dosage = 1), count(*) FILTER (WHERE pheno = 2 AND dosage = 0),
      count(*) FILTER (WHERE pheno = 1 AND dosage = 2), count(*) FILTER (WHERE pheno = 1 AND dosage = 1), count(*) FILTER (WHERE pheno = 1 AND dosage = 0),
      coalesce(sum(dosage), 0), count(dosage) FROM g GROUP BY rsid`)).getRows();
  c.closeSync();
  db.closeSync();
  const got = await fed.query(`SELECT v.rsid AS snp, (GWAS_ALLELIC(v.allele1, v.allele2, g.dosage, s.pheno)).*
    FROM hospitals.genotypes g JOIN hospitals.samples s ON s.sample_id = g.sample_id
    JOIN hospitals.variants v ON v.snp_id = g.snp_id AND v.PARTY = g.PARTY
    GROUP BY v.rsid`);
  const byId = new Map(got.rows.map((r) => [r[0], Object.fromEntries(got.columns.map((col, i) => [col, r[i]]))]));
  expect(byId.size).toBe(counts.length);
  for (const [rsid, a1, a2, c2, c1, c0, u2, u1, u0, sum, called] of counts as [string, string, string, ...number[]][]) {
    // Counts are by copies of allele1 (same allele1 at every hospital in the demo panel).
    const { x, y } = alignAlleles([[a1, a2]]) as { x: string; y: string };
    const flip = a1 !== x;
    const n = (v: unknown) => Number(v);
    const oriented = flip
      ? { caseXX: n(c0), caseXY: n(c1), caseYY: n(c2), ctrlXX: n(u0), ctrlXY: n(u1), ctrlYY: n(u2), allX: 2 * n(called) - n(sum), allCalled: n(called) }
      : { caseXX: n(c2), caseXY: n(c1), caseYY: n(c0), ctrlXX: n(u2), ctrlXY: n(u1), ctrlYY: n(u0), allX: n(sum), allCalled: n(called) };
    const want = allelicTest(x, y, oriented);
    const row = byId.get(rsid)!;
    expect([row.a1, row.a2, row.c_a, row.c_u], rsid).toEqual([want.a1, want.a2, String(want.c_a), String(want.c_u)]);
    for (const f of ['chisq', 'p', 'or', 'f_a', 'f_u'] as const) {
      expect(row[f] === null ? null : Number(row[f]), `${rsid}.${f}`).toBe(want[f]);
    }
  }
}, 120_000);
