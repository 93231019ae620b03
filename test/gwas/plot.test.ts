/**
 * `veilsql plot manhattan`: from a plink .assoc file (the CLI binary, as a user runs it) and
 * from GWAS_ALLELIC rows (P underflowed to 0 but log10_p finite), the SVGs have one point per
 * SNP, every chromosome, the genome-wide and suggestive lines at −log10(5e-8) and −log10(1e-5),
 * labelled top hits, and a QQ plot with its diagonal and λ.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { simulateGwas } from '../../bench/gwas-data.js';
import { manhattanSvg, parseGwasTable, qqSvg } from '../../cli/plot/manhattan.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veilsql-plot-'));
  const sim = simulateGwas(dir, { parties: 2, samplesPerParty: 300, snps: 1500, seed: 3 });
  execFileSync('plink1.9', ['--bfile', sim.pooled!, '--allow-no-sex', '--assoc', '--out', join(dir, 'ref')], { stdio: 'pipe' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

test('the CLI renders a plink .assoc file into Manhattan and QQ SVGs', () => {
  const out = join(dir, 'as');
  const printed = execFileSync('node', ['dist/cli/veilsql.js', 'plot', 'manhattan', '--input', join(dir, 'ref.assoc'), '--out', out, '--title', 'AS cohort'], { encoding: 'utf8' });
  expect(printed).toContain(`wrote ${out}.manhattan.svg`);
  const manhattan = readFileSync(`${out}.manhattan.svg`, 'utf8');
  // One point per SNP with a P value (1500 SNPs; the monomorphic one has P = NA).
  const withP = readFileSync(join(dir, 'ref.assoc'), 'utf8').trim().split('\n').slice(1).filter((l) => l.trim().split(/\s+/)[8] !== 'NA');
  expect(count(manhattan, /<circle /g)).toBe(withP.length);
  expect(withP.length).toBeGreaterThan(1490);
  expect(count(manhattan, /class="chr"/g)).toBe(22);
  expect(manhattan).toContain('class="genome-wide"');
  expect(manhattan).toContain('class="suggestive"');
  expect(manhattan).toMatch(/class="label"[^>]*>rs6_mhc\d+</);
  const qq = readFileSync(`${out}.qq.svg`, 'utf8');
  expect(qq).toContain('class="diagonal"');
  expect(qq).toMatch(/λ = \d\.\d{3}/);
});

test('significance lines sit at −log10(5e-8) and −log10(1e-5); underflowed P uses log10_p', () => {
  const table = 'chr\tbp\tsnp\tp\tlog10_p\tchisq\n1\t100\ta\t0.5\t-0.30103\t0.45\n6\t200\tb\t0\t-1739.2\t8000\n6\t300\tc\t1e-6\t-6\t23.9';
  const points = parseGwasTable(table);
  expect(points.map((p) => p.score)).toEqual([0.30103, 1739.2, 6]);
  const svg = manhattanSvg(points, { height: 500 });
  const y = (cls: string) => Number(new RegExp(`class="${cls}"[^>]*y1="([\\d.]+)"`).exec(svg)![1]);
  // plot area 40..450 px for 0..yMax: lines are ordered and proportional to their scores.
  expect(y('genome-wide')).toBeLessThan(y('suggestive'));
  expect((450 - y('genome-wide')) / (450 - y('suggestive'))).toBeCloseTo(-Math.log10(5e-8) / 5, 1);
  expect(svg).toMatch(/class="label"[^>]*>b</);
  expect(qqSvg(points)).toContain('λ =');
});
