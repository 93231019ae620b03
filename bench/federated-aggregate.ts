/**
 * Plaintext federated aggregate (issue 2): a 1M-row federated table split over 3 parties, each a
 * real `veilsql node` process talking mutual TLS on loopback; the analyst's query goes through
 * the Postgres wire gateway. Baseline: DuckDB running the same query over the unioned data in
 * one process. Goal: ≤ 3× the baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { freePort } from '../cli/free-port.js';
import { writeFederation } from '../cli/federation-files.js';
import { startNodeProcesses } from '../cli/node-processes.js';
import type { Benchmark, BenchResult } from './run.js';
import { medianTime } from './timing.js';

const PARTIES = 3;
const TOTAL_ROWS = Number(process.env.VEILSQL_BENCH_ROWS ?? 1_000_000);
const RUNS = 21;

const QUERIES: { name: string; sql: (table: string) => string }[] = [
  {
    name: 'group by region, category: count, sum, avg, min, max',
    sql: (t) =>
      `SELECT region, category, count(*) AS n, sum(amount) AS total, avg(amount) AS mean, min(day) AS first, max(day) AS last FROM ${t} GROUP BY region, category ORDER BY region, category`,
  },
  {
    name: 'filtered count',
    sql: (t) => `SELECT count(*) AS n, sum(amount) AS total FROM ${t} WHERE category = 'c3' AND day >= DATE '2024-06-01'`,
  },
];


async function makeData(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const per = Math.ceil(TOTAL_ROWS / PARTIES);
  const files: string[] = [];
  for (let p = 0; p < PARTIES; p++) {
    const file = join(dir, `events_${p + 1}.parquet`);
    const lo = p * per;
    const hi = Math.min(TOTAL_ROWS, lo + per);
    // Deterministic synthetic rows (hash of the id), no randomness needed.
    await c.run(`COPY (
      SELECT i AS id,
             'r' || (hash(i) % 8)::VARCHAR AS region,
             'c' || (hash(i * 7) % 12)::VARCHAR AS category,
             ((hash(i * 13) % 100000)::DECIMAL(12,2) / 100)::DECIMAL(12,2) AS amount,
             DATE '2024-01-01' + (hash(i * 17) % 366)::INTEGER AS day
      FROM range(${lo}, ${hi}) t(i)) TO '${file}' (FORMAT parquet)`);
    files.push(file);
  }
  c.closeSync();
  db.closeSync();
  return files;
}

export const benchmark: Benchmark = {
  name: 'federated-aggregate',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'veilsql-bench-agg-'));
    try {
      const files = await makeData(dir);
      const columns = { id: 'public', region: 'public', category: 'public', amount: 'public', day: 'public' };
      const ports = await Promise.all(Array.from({ length: PARTIES + 1 }, () => freePort()));
      const names = Array.from({ length: PARTIES }, (_, i) => `party_${i + 1}`);
      const fed = await writeFederation(dir, {
        name: 'bench',
        nodes: names.map((name, i) => ({
          name,
          port: ports[i],
          tables: [{ name: 'events', source: files[i], columns }],
          ...(i === 0 ? { gateway: { port: ports[PARTIES] } } : {}),
        })),
        federatedTables: { 'bench.events': { table: 'events', parties: names } },
      });
      const nodes = await startNodeProcesses(fed.nodes, { onLine: (node, line, stream) => { if (stream === "stderr" || process.env.VEILSQL_BENCH_VERBOSE) console.error(`[${node}] ${line}`); } });
      const client = new pg.Client({ host: '127.0.0.1', port: ports[PARTIES], user: 'analyst', database: 'veilsql' });
      const baseline = await DuckDBInstance.create(':memory:');
      const bc = await baseline.connect();
      await bc.run('SET integer_division = true');
      await bc.run(`CREATE TABLE events AS SELECT * FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`);
      try {
        await client.connect();
        const metrics = [];
        const details: Record<string, unknown> = { parties: PARTIES, rows: TOTAL_ROWS, runs: RUNS };
        for (const q of QUERIES) {
          const ours = await medianTime(RUNS, () => client.query(q.sql('bench.events')));
          const base = await medianTime(RUNS, async () => (await bc.runAndReadAll(q.sql('events'))).getRows());
          metrics.push({ name: q.name, ours, baseline: base, unit: 'ms', ratio: ours / base, goal: 3 });
        }
        return {
          name: 'federated-aggregate',
          description: `${TOTAL_ROWS} rows over ${PARTIES} node processes (mTLS, loopback) via the Postgres wire gateway vs DuckDB on the unioned data in one process`,
          metrics,
          details,
        };
      } finally {
        await client.end().catch(() => undefined);
        bc.closeSync();
        baseline.closeSync();
        await nodes.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
