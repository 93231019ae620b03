/**
 * Federated GWAS and secure aggregation (issue 7): 10 parties, each a `Party` with its own DuckDB
 * serving a PLINK fileset of 500 samples × 100K SNPs (`format: plink`) and a 100K-group table,
 * and a lab gateway (FederatedEngine) asking. Parties run in this process over embedded
 * connectors (the same frames as over mTLS, see test/secure-aggregate/processes.test.ts for the
 * process path), so one JavaScript thread does every party's work one after the other: the wall
 * time is an upper bound of a deployment where each party computes on its own machine.
 *
 * - GWAS: `(GWAS_ALLELIC(…)).*` over cohort.genotypes GROUP BY snp, chr, bp — ours (wall time at
 *   the client, bytes each party sent) vs `plink1.9 --assoc` on the pooled fileset in the same run
 *   (process wall time). Goals: ≤ 10× plink (stretch 3×), ≤ 30 MB sent per party.
 * - Secure aggregation (SPEC §5): COUNT and SUM per group over 10 parties × 100K groups — ours vs
 *   DuckDB running the same GROUP BY over the union of all parties' rows in one process. Goals:
 *   ≤ 2 s and ≤ 2 MB sent per party.
 * Sizes can be reduced with VEILSQL_BENCH_GWAS_SNPS / _SAMPLES / _PARTIES / _GROUPS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort } from '../cli/free-port.js';
import { writeFederation } from '../cli/federation-files.js';
import { loadNodeConfig } from '../connectors/config.js';
import type { PartyConnector } from '../connectors/connector.js';
import { EmbeddedPartyConnector } from '../connectors/embedded-duckdb.js';
import { Party } from '../connectors/party/party.js';
import { FederatedEngine } from '../executor/engine.js';
import { registerPartyProtocols } from '../executor/operators/index.js';
// Registered explicitly: this benchmark measures secure aggregation whatever else is loaded.
import '../executor/operators/secure-aggregate/index.js';
import { simulateGwas } from './gwas-data.js';
import type { Benchmark, BenchMetric, BenchResult } from './run.js';
import { medianTime } from './timing.js';

const PARTIES = Number(process.env.VEILSQL_BENCH_GWAS_PARTIES ?? 10);
const SAMPLES = Number(process.env.VEILSQL_BENCH_GWAS_SAMPLES ?? 500);
const SNPS = Number(process.env.VEILSQL_BENCH_GWAS_SNPS ?? 100_000);
const GROUPS = Number(process.env.VEILSQL_BENCH_GWAS_GROUPS ?? 100_000);
const RUNS = 3;

const GWAS_SQL = `SELECT g.snp, g.chr, g.bp, (GWAS_ALLELIC(g.allele1, g.allele2, g.genotype, g.phenotype)).*
  FROM cohort.genotypes g GROUP BY g.snp, g.chr, g.bp ORDER BY p LIMIT 20`;
const SUMS_SQL = (t: string) => `SELECT k, count(*) AS n, sum(v) AS total FROM ${t} GROUP BY k ORDER BY k LIMIT 5`;

const PLINK_COLUMNS = {
  fid: 'private', iid: 'private', pat: 'private', mat: 'private', sex: 'aggregate', phenotype: 'aggregate',
  chr: 'public', snp: 'public', cm: 'public', bp: 'public', allele1: 'public', allele2: 'public', genotype: 'aggregate',
};


/** Largest per-party byte count in the operator's final NOTICE (`bytes sent by each party: …`). */
function maxPartyBytes(notices: string[]): number {
  const detail = notices.filter((n) => n.includes('bytes sent by each party')).pop() ?? '';
  return Math.max(0, ...[...detail.matchAll(/=(\d+)/g)].map((m) => Number(m[1])));
}

export const benchmark: Benchmark = {
  name: 'gwas',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'veilsql-bench-gwas-'));
    try {
      const t0 = performance.now();
      const sim = simulateGwas(dir, { parties: PARTIES, samplesPerParty: SAMPLES, snps: SNPS, seed: 7 });
      const generateMs = performance.now() - t0;
      // The secure-aggregation table: every party has rows in every group.
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const events: string[] = [];
      for (let p = 0; p < PARTIES; p++) {
        const file = join(dir, `events_${p + 1}.parquet`);
        await c.run(`COPY (SELECT i % ${GROUPS} AS k, CAST(hash(i * ${p + 3}) % 1000 AS INTEGER) AS v FROM range(${2 * GROUPS}) t(i)) TO '${file}' (FORMAT parquet)`);
        events.push(file);
      }
      await c.run(`CREATE TABLE events AS SELECT * FROM read_parquet([${events.map((f) => `'${f}'`).join(', ')}])`);

      const ports = await Promise.all(Array.from({ length: PARTIES + 2 }, () => freePort()));
      const fed = await writeFederation(dir, {
        name: 'gwasbench',
        nodes: [
          ...sim.parties.map((name, i) => ({
            name,
            port: ports[i],
            tables: [
              { name: 'genotypes', source: `${sim.prefixes[i]}.bed`, columns: PLINK_COLUMNS },
              { name: 'events', source: events[i], columns: { k: 'public', v: 'aggregate' } },
            ],
          })),
          { name: 'lab', port: ports[PARTIES], tables: [], gateway: { port: ports[PARTIES + 1], fragment_timeout: '600s' } },
        ],
        federatedTables: {
          'cohort.genotypes': { table: 'genotypes', parties: [...sim.parties] },
          'bench.events': { table: 'events', parties: [...sim.parties] },
        },
      });
      const parties: Party[] = [];
      const connectors = new Map<string, PartyConnector>();
      for (const n of fed.nodes) {
        if (n.name === 'lab') continue;
        const party = await Party.open({ ...loadNodeConfig(n.configPath), database: ':memory:' });
        registerPartyProtocols(party);
        parties.push(party);
        connectors.set(n.name, new EmbeddedPartyConnector(party, 'lab'));
      }
      const federation = loadNodeConfig(fed.nodes.find((n) => n.name === 'lab')!.configPath).federation;
      const engine = await FederatedEngine.create({ self: 'lab', connectors, federatedTables: [...federation.federatedTables.values()], fragmentTimeoutMs: 600_000 });
      const session = await engine.openSession('analyst', 'veilsql', {});
      const notices: string[] = [];
      const client = {
        async query(sql: string): Promise<{ rows: Record<string, unknown>[] }> {
          const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: (n) => notices.push(`${n.message} ${n.detail ?? ''}`) });
          const rows: Record<string, unknown>[] = [];
          for await (const b of outcome.batches) for (const r of b.toArray()) rows.push(r.toJSON() as Record<string, unknown>);
          return { rows };
        },
      };
      try {
        const plinkMs = await medianTime(RUNS, async () => execFileSync('plink1.9', ['--bfile', sim.pooled!, '--allow-no-sex', '--assoc', '--threads', '2', '--out', join(dir, 'ref')], { stdio: 'pipe' }));
        notices.length = 0;
        const gwasMs = await medianTime(RUNS, () => client.query(GWAS_SQL));
        const gwasBytes = maxPartyBytes(notices);
        const top = (await client.query(GWAS_SQL)).rows.slice(0, 3).map((r) => `${String(r.snp)} p=${String(r.p)}`);

        notices.length = 0;
        const sumsMs = await medianTime(RUNS, () => client.query(SUMS_SQL('bench.events')));
        const sumsBytes = maxPartyBytes(notices);
        const duckMs = await medianTime(RUNS, async () => (await c.runAndReadAll(SUMS_SQL('events'))).getRows());

        const MB = 1024 * 1024;
        const metrics: BenchMetric[] = [
          { name: `GWAS ${PARTIES}×${SAMPLES} samples × ${SNPS} SNPs, wall time (vs plink1.9 --assoc on pooled)`, ours: gwasMs, baseline: plinkMs, unit: 'ms', ratio: gwasMs / plinkMs, goal: 10 },
          { name: 'GWAS bytes sent per party (max; goal ≤ 30 MB)', ours: gwasBytes / MB, baseline: 30, unit: 'MB', ratio: gwasBytes / MB / 30, goal: 1 },
          { name: `secure aggregation ${PARTIES} parties × ${GROUPS} groups, wall time (vs DuckDB over the union; goal ≤ 2 s)`, ours: sumsMs, baseline: duckMs, unit: 'ms', ratio: sumsMs / duckMs },
          { name: 'secure aggregation wall time vs the 2 s target', ours: sumsMs, baseline: 2000, unit: 'ms', ratio: sumsMs / 2000, goal: 1 },
          { name: 'secure aggregation bytes sent per party (max; goal ≤ 2 MB)', ours: sumsBytes / MB, baseline: 2, unit: 'MB', ratio: sumsBytes / MB / 2, goal: 1 },
        ];
        return {
          name: 'gwas',
          description: `${PARTIES} parties + a lab gateway in one process (embedded connectors; one 2-core machine does all parties' work); PLINK-backed tables; medians of ${RUNS} runs after a warm-up`,
          metrics,
          details: { parties: PARTIES, samplesPerParty: SAMPLES, snps: SNPS, groups: GROUPS, generateMs, topHits: top, planted: sim.planted.slice(0, 5) },
        };
      } finally {
        await engine.close();
        for (const p of parties) await p.close();
        c.closeSync();
        db.closeSync();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
