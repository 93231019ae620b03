/**
 * DP aggregates (issue 6): DP COUNT/SUM with GROUP BY over a 1M-row federated table split over
 * 3 parties (embedded in this process by default, or real `veilsql node` processes over mutual
 * TLS with VEILSQL_BENCH_DP_MODE=processes).
 * Baseline, in the same run: the same aggregate without DP — secure aggregation (the `amount`
 * column is `aggregate`-level, so only masked totals leave the parties). If that operator is not
 * available in this build, the baseline falls back to the plaintext federated aggregate over a
 * public copy of the column (and says so). Goal: ≤ 1.2× for the row-level query.
 *
 * Variants: row-level privacy (each row a unit: clamping only), and a privacy unit with several
 * rows (customer: bounding to 2 groups × 5 rows per unit by window functions at each party).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort } from '../cli/free-port.js';
import { writeFederation, type WrittenFederation } from '../cli/federation-files.js';
import { startNodeProcesses } from '../cli/node-processes.js';
import { loadNodeConfig } from '../connectors/config.js';
import type { PartyConnector } from '../connectors/connector.js';
import { EmbeddedPartyConnector } from '../connectors/embedded-duckdb.js';
import { Party } from '../connectors/party/party.js';
import { FederatedEngine } from '../executor/engine.js';
import { registerPartyProtocols } from '../executor/operators/index.js';
import type { Benchmark, BenchMetric, BenchResult } from './run.js';

const PARTIES = 3;
const TOTAL_ROWS = Number(process.env.VEILSQL_BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.VEILSQL_BENCH_RUNS ?? 7);
const GOAL = 1.2;
/**
 * `inprocess` (default): the 3 parties embedded in this process, each with its own DuckDB — the
 * operators' own cost, no transport. `processes` (VEILSQL_BENCH_DP_MODE=processes): real node
 * processes over mTLS and the Postgres wire gateway.
 */
const MODE = process.env.VEILSQL_BENCH_DP_MODE === 'processes' ? 'processes' : 'inprocess';

const DP_ROW = `SELECT region, DP COUNT(*) AS n, DP SUM(amount BOUNDED 0 AND 1000) AS total FROM bench.events GROUP BY region
  WITH PRIVACY (epsilon = 1, delta = 1e-9)`;
const DP_UNIT = `SELECT region, DP COUNT(*) AS n, DP SUM(amount BOUNDED 0 AND 1000) AS total FROM bench.events GROUP BY region
  WITH PRIVACY (epsilon = 1, delta = 1e-9, privacy_unit = customer, max_groups_contributed = 2, max_rows_contributed = 5)`;
const SECURE = 'SELECT region, count(*) AS n, sum(amount) AS total FROM bench.events GROUP BY region';
const PLAIN = 'SELECT region, count(*) AS n, sum(amount_public) AS total FROM bench.events GROUP BY region';

/**
 * Medians of interleaved runs (baseline, DP, DP, baseline, …): on a shared machine the load
 * drifts, and interleaving makes every variant see the same drift.
 */
async function interleavedMedians(runs: number, fs: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const f of fs) await f(); // warm-up
  const times: number[][] = fs.map(() => []);
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? fs.map((_, j) => j) : fs.map((_, j) => fs.length - 1 - j);
    for (const j of order) {
      const t = performance.now();
      await fs[j]();
      times[j].push(performance.now() - t);
    }
  }
  return times.map((ts) => [...ts].sort((a, b) => a - b)[Math.floor(ts.length / 2)]);
}

async function makeData(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const per = Math.ceil(TOTAL_ROWS / PARTIES);
  const files: string[] = [];
  for (let p = 0; p < PARTIES; p++) {
    const file = join(dir, `events_${p + 1}.parquet`);
    const lo = p * per;
    const hi = Math.min(TOTAL_ROWS, lo + per);
    // Deterministic synthetic rows; ~3 rows per customer, 8 regions.
    await c.run(`COPY (
      SELECT i AS id, (hash(i * 3) % ${Math.max(1, Math.floor(TOTAL_ROWS / 3))})::BIGINT AS customer,
             'r' || (hash(i) % 8)::VARCHAR AS region,
             ((hash(i * 13) % 100000)::DECIMAL(12,2) / 100)::DECIMAL(12,2) AS amount,
             ((hash(i * 13) % 100000)::DECIMAL(12,2) / 100)::DECIMAL(12,2) AS amount_public
      FROM range(${lo}, ${hi}) t(i)) TO '${file}' (FORMAT parquet)`);
    files.push(file);
  }
  c.closeSync();
  db.closeSync();
  return files;
}

interface Target {
  query(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

async function processTarget(fed: WrittenFederation, gatewayPort: number): Promise<Target> {
  const nodes = await startNodeProcesses(fed.nodes, {
    onLine: (node, line, stream) => {
      if (stream === 'stderr' || process.env.VEILSQL_BENCH_VERBOSE) console.error(`[${node}] ${line}`);
    },
  });
  const client = new pg.Client({ host: '127.0.0.1', port: gatewayPort, user: 'analyst', database: 'veilsql' });
  await client.connect();
  return {
    query: (sql) => client.query(sql),
    async close() {
      await client.end().catch(() => undefined);
      await nodes.stop();
    },
  };
}

/** The same federation with every party embedded (own DuckDB each), party_1's engine on top. */
async function inProcessTarget(fed: WrittenFederation): Promise<Target> {
  const parties: Party[] = [];
  const connectors = new Map<string, PartyConnector>();
  for (const n of fed.nodes) {
    const party = await Party.open({ ...loadNodeConfig(n.configPath), database: ':memory:' });
    registerPartyProtocols(party);
    parties.push(party);
    connectors.set(n.name, new EmbeddedPartyConnector(party, fed.nodes[0].name));
  }
  const first = loadNodeConfig(fed.nodes[0].configPath);
  const engine = await FederatedEngine.create({ self: first.name, connectors, federatedTables: [...first.federation.federatedTables.values()], fragmentTimeoutMs: 300_000 });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    async query(sql) {
      const out = await session.execute(sql, [], { signal: new AbortController().signal, notice: () => undefined });
      for await (const batch of out.batches) void batch;
    },
    async close() {
      await engine.close();
      for (const p of parties) await p.close();
    },
  };
}

export const benchmark: Benchmark = {
  name: 'dp',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'veilsql-bench-dp-'));
    try {
      const files = await makeData(dir);
      const columns = { id: 'private', customer: 'private', region: 'public', amount: 'aggregate', amount_public: 'public' };
      const ports = await Promise.all(Array.from({ length: PARTIES + 1 }, () => freePort()));
      const names = Array.from({ length: PARTIES }, (_, i) => `party_${i + 1}`);
      const fed = await writeFederation(dir, {
        name: 'bench',
        nodes: names.map((name, i) => ({
          name,
          port: ports[i],
          tables: [{ name: 'events', source: files[i], columns, min_group: 10 }],
          ...(i === 0 ? { gateway: { port: ports[PARTIES], fragment_timeout: '300s' } } : {}),
        })),
        federatedTables: { 'bench.events': { table: 'events', parties: names } },
      });
      // Every party grants the benchmark's requester a budget large enough for all runs.
      for (const n of fed.nodes) appendFileSync(n.configPath, 'privacy:\n  budget: { epsilon: 1000000, delta: 0.5, period: 30d }\n');
      const target = MODE === 'processes' ? await processTarget(fed, ports[PARTIES]) : await inProcessTarget(fed);
      try {
        let baselineSql = SECURE;
        let baselineKind = 'secure aggregation (masked partials) of the same aggregate without DP';
        try {
          await target.query(SECURE);
        } catch (e) {
          baselineSql = PLAIN;
          baselineKind = `plaintext federated aggregate over a public copy of the column (secure aggregation unavailable: ${e instanceof Error ? e.message : String(e)})`;
          console.error(`dp bench: ${baselineKind}`);
        }
        const [base, rowLevel, unitLevel] = await interleavedMedians(RUNS, [
          () => target.query(baselineSql),
          () => target.query(DP_ROW),
          () => target.query(DP_UNIT),
        ]);
        const metrics: BenchMetric[] = [
          { name: 'DP COUNT + DP SUM GROUP BY region, row-level privacy', ours: rowLevel, baseline: base, unit: 'ms', ratio: rowLevel / base, goal: GOAL },
          { name: 'DP COUNT + DP SUM GROUP BY region, privacy unit customer (≤ 2 groups × 5 rows)', ours: unitLevel, baseline: base, unit: 'ms', ratio: unitLevel / base },
        ];
        const how = MODE === 'processes' ? `${PARTIES} node processes (mTLS, loopback) via the Postgres wire gateway` : `${PARTIES} embedded parties in one process`;
        return {
          name: 'dp',
          description: `${TOTAL_ROWS} rows over ${how}; baseline: ${baselineKind}; medians of ${RUNS} interleaved runs after a warm-up`,
          metrics,
          details: { parties: PARTIES, rows: TOTAL_ROWS, runs: RUNS, mode: MODE, baselineSql, load: loadavg() },
        };
      } finally {
        await target.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
