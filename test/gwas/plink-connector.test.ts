/**
 * The PLINK connector: a `format: plink` table (node.yaml `source: cohort.bed`) publishes the
 * fileset as a long-format view whose genotypes decode the packed 2-bit codes exactly, plain SQL
 * over it works (and is policy-checked like any table), and a broken fileset is reported with
 * the file named (F0000) instead of being half-published.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { simulateGwas, type GwasSimulation } from '../../bench/gwas-data.js';
import { loadNodeConfig } from '../../connectors/config.js';
import { Party } from '../../connectors/party/party.js';
import { COPIES_OF_ALLELE1, readFileset } from '../../connectors/plink/plink-files.js';
import { startPlinkFederation, type PlinkFederation } from './plink-federation.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
let sim: GwasSimulation;
let fed: PlinkFederation;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veilsql-plink-'));
  sim = simulateGwas(dir, { parties: 2, samplesPerParty: 150, snps: 300, seed: 11 });
  fed = await startPlinkFederation(dir, sim.parties, sim.prefixes);
}, 120_000);
afterAll(async () => {
  await fed?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the view has one row per sample × SNP and decodes genotypes as copies of allele1', async () => {
  const set = readFileset(sim.prefixes[0]);
  const width = Math.ceil(set.samples.length / 4);
  const expected = set.variants.map((v, s) => {
    let sum = 0;
    let called = 0;
    for (let j = 0; j < set.samples.length; j++) {
      const c = COPIES_OF_ALLELE1[(set.bed[s * width + (j >> 2)] >> (2 * (j & 3))) & 3];
      if (c >= 0) {
        sum += c;
        called++;
      }
    }
    return [v.snp, v.allele1, String(sum), String(called)];
  });
  // Own-party SQL over the table (party_1 asks about its own data: no policy restriction).
  const party = fed.parties.get(sim.parties[0])!;
  const stream = await party.executeFragment(party.name, { queryId: 'q', sql: 'SELECT snp, allele1, sum(genotype), count(genotype), count(*) FROM genotypes GROUP BY snp, allele1 ORDER BY snp', timeoutMs: 30_000 }, new AbortController().signal);
  const got = new Map<string, string[]>();
  for await (const b of stream) for (let r = 0; r < b.numRows; r++) got.set(String(b.getChildAt(0)!.get(r)), [0, 1, 2, 3, 4].map((c) => String(b.getChildAt(c)!.get(r))));
  expect(got.size).toBe(set.variants.length);
  for (const [snp, a1, sum, called] of expected) expect(got.get(snp)!.slice(0, 4)).toEqual([snp, a1, sum, called]);
  for (const row of got.values()) expect(row[4]).toBe(String(set.samples.length));
});

test('other requesters get plain SQL over PLINK tables under the column policy', async () => {
  const n = await fed.query('SELECT count(*) AS n FROM cohort.genotypes');
  expect(Number(n.rows[0][0])).toBe(2 * 150 * 300);
  const chr = await fed.query("SELECT chr, count(*) AS n FROM cohort.genotypes WHERE snp LIKE 'rs6%' GROUP BY chr");
  expect(chr.rows.map((r) => r[0])).toEqual(['6']);
  await expect(fed.query('SELECT iid FROM party_1.genotypes')).rejects.toMatchObject({ sqlstate: '42501' });
  await expect(fed.query('SELECT genotype FROM party_1.genotypes')).rejects.toMatchObject({ sqlstate: '42501' });
});

test('a broken fileset is reported with the file named and not published', async () => {
  const broken = join(dir, 'broken');
  const set = readFileset(sim.prefixes[1]);
  writeFileSync(`${broken}.fam`, set.samples.map((s) => `${s.fid} ${s.iid} 0 0 ${s.sex} ${s.phenotype ?? -9}\n`).join(''));
  writeFileSync(`${broken}.bim`, set.variants.map((v) => `${v.chr} ${v.snp} 0 ${v.bp} ${v.allele1} ${v.allele2}\n`).join(''));
  writeFileSync(`${broken}.bed`, Buffer.from([0x6c, 0x1b, 0x01, 0, 0, 0]));
  const yaml = `name: party_1\nfederation: federation.yaml\ndatabase: ":memory:"\ntables:\n  genotypes:\n    source: ${broken}.bed\n    columns: { snp: public }\n`;
  const config = loadNodeConfig(join(dir, 'broken.node.yaml'), yaml);
  expect(config.tables.get('genotypes')).toMatchObject({ format: 'plink', source: broken });
  const warnings: string[] = [];
  const party = await Party.open(config, { info: () => undefined, warn: (m) => warnings.push(m) });
  try {
    expect(warnings.join('\n')).toMatch(/broken\.bed: has 6 bytes, but 150 samples × 300 SNPs need/);
    expect((await party.catalogFor('lab')).tables.map((t) => t.name)).not.toContain('genotypes');
  } finally {
    await party.close();
  }
});
