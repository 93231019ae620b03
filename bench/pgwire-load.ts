/**
 * Postgres wire load (issue 3): pgbench (PostgreSQL 15's), 8 clients, 30 s per run, against a
 * gateway of a real `veilsql node` process with `gateway.workers: auto` (one session process
 * per core, like PostgreSQL's backends use every core) and against a real PostgreSQL 15 started
 * in the same run, both on loopback without TLS. VEILSQL_PGBENCH_WORKERS sets the gateway's
 * process count instead (1 = the single-process gateway). Queries: `SELECT 1` (what pools and health checks send;
 * simple, extended and prepared protocol) and a catalog query the gateway answers from its
 * emulated pg_catalog in DuckDB. Each metric is the time per transaction (1 / TPS), so the
 * ratio is PostgreSQL's TPS over ours; the goal for trivial queries is ≥ 50% of PostgreSQL's
 * TPS, i.e. a ratio ≤ 2. VEILSQL_PGBENCH_SECONDS overrides the run length.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort } from '../cli/free-port.js';
import { writeFederation } from '../cli/federation-files.js';
import { startNodeProcesses } from '../cli/node-processes.js';
import { startPostgres } from '../test/support/postgres-server.js';
import type { Benchmark, BenchMetric, BenchResult } from './run.js';

const SECONDS = Number(process.env.VEILSQL_PGBENCH_SECONDS ?? 30);
const CLIENTS = 8;
const WORKERS: number | 'auto' = (() => {
  const v = process.env.VEILSQL_PGBENCH_WORKERS;
  if (v === undefined || v === 'auto') return 'auto';
  if (!/^[1-9]\d*$/.test(v)) throw new Error(`VEILSQL_PGBENCH_WORKERS must be a positive integer or auto, not "${v}"`);
  return Number(v);
})();

interface Pgbench {
  tps: number;
  failed: number;
  processed: number;
}

function pgbench(port: number, user: string, password: string, db: string, script: string, mode: string): Promise<Pgbench> {
  const args = ['-n', '-M', mode, '-f', script, '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS), '-h', '127.0.0.1', '-p', String(port), '-U', user, db];
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
      const r = {
        tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
        failed: num(/number of failed transactions: (\d+)/),
        processed: num(/number of transactions actually processed: (\d+)/),
      };
      if (status !== 0 || !Number.isFinite(r.tps) || r.failed !== 0) reject(new Error(`pgbench ${args.join(' ')} failed (${status}):\n${output}`));
      else resolve(r);
    });
  });
}

export const benchmark: Benchmark = {
  name: 'pgwire-load',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'veilsql-bench-pgwire-'));
    const postgres = await startPostgres();
    try {
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const table = join(dir, 'accounts.parquet');
      await c.run(`COPY (SELECT i::INTEGER AS id, 'r' || (i % 4) AS region FROM range(100) t(i)) TO '${table}' (FORMAT parquet)`);
      c.closeSync();
      db.closeSync();
      const [partyPort, gatewayPort] = [await freePort(), await freePort()];
      const fed = await writeFederation(dir, {
        name: 'bench',
        nodes: [{
          name: 'bank',
          port: partyPort,
          tables: [{ name: 'accounts', source: table, columns: { id: 'public', region: 'public' } }],
          gateway: { port: gatewayPort, auth: 'scram-sha-256', users: { analyst: { password: 'analyst' } }, workers: WORKERS },
        }],
      });
      const nodes = await startNodeProcesses(fed.nodes, { onLine: (node, line, stream) => { if (stream === 'stderr') console.error(`[${node}] ${line}`); } });
      try {
        const scripts = {
          'SELECT 1': join(dir, 'select1.sql'),
          'catalog query': join(dir, 'catalog.sql'),
        };
        writeFileSync(scripts['SELECT 1'], 'SELECT 1;\n');
        writeFileSync(scripts['catalog query'], "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_toast';\n");
        const runs: [keyof typeof scripts, string, number | undefined][] = [
          ['SELECT 1', 'simple', 2],
          ['SELECT 1', 'extended', 2],
          ['SELECT 1', 'prepared', 2],
          ['catalog query', 'prepared', undefined],
        ];
        const metrics: BenchMetric[] = [];
        const details: Record<string, unknown> = { seconds: SECONDS, clients: CLIENTS, gatewayProcesses: WORKERS === 'auto' ? availableParallelism() : WORKERS, postgres: postgres.version };
        for (const [query, mode, goal] of runs) {
          const ours = await pgbench(gatewayPort, 'analyst', 'analyst', 'veilsql', scripts[query], mode);
          const theirs = await pgbench(postgres.port, 'postgres', '', 'postgres', scripts[query], mode);
          details[`${query} -M ${mode}`] = { oursTps: Math.round(ours.tps), postgresTps: Math.round(theirs.tps), share: `${((ours.tps / theirs.tps) * 100).toFixed(0)}%` };
          metrics.push({
            name: `${query}, pgbench -M ${mode} -c ${CLIENTS} (µs per transaction; ours ${Math.round(ours.tps)} tps vs PostgreSQL ${Math.round(theirs.tps)} tps)`,
            ours: 1e6 / ours.tps,
            baseline: 1e6 / theirs.tps,
            unit: 'µs/tx',
            ratio: theirs.tps / ours.tps,
            ...(goal !== undefined ? { goal } : {}),
          });
        }
        return {
          name: 'pgwire-load',
          description: `pgbench, ${CLIENTS} clients, ${SECONDS} s per run, against the gateway of a veilsql node (${details['gatewayProcesses']} gateway processes) vs PostgreSQL 15 (loopback, no TLS)`,
          metrics,
          details,
        };
      } finally {
        await nodes.stop();
      }
    } finally {
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
