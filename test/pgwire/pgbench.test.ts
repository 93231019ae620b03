/**
 * Load with pgbench (PostgreSQL 15's, 8 clients, `SELECT 1`, simple and prepared protocol):
 * no failed transactions, and the TPS against real PostgreSQL 15 measured in the same run.
 * Two gateway configurations: over a trivial engine (the wire layer's own cost) and over the
 * DuckDB test engine. VEILSQL_PGBENCH_SECONDS sets the duration of each run (default 5).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgGateway, type PgGateway } from '../../server/pgwire/index.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { TrivialEngine } from '../support/pgwire-trivial-engine.js';

const SECONDS = Number(process.env.VEILSQL_PGBENCH_SECONDS ?? 5);

interface BenchResult {
  tps: number;
  failed: number;
  processed: number;
  output: string;
}

function pgbench(port: number, user: string, db: string, script: string, mode: string): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', ['-n', '-M', mode, '-f', script, '-c', '8', '-j', '2', '-T', String(SECONDS), '-h', '127.0.0.1', '-p', String(port), '-U', user, db], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
      resolve({
        tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
        failed: num(/number of failed transactions: (\d+)/),
        processed: num(/number of transactions actually processed: (\d+)/),
        output,
      });
    });
  });
}

describe('pgbench load', () => {
  let dir: string;
  let script: string;
  let pg: PostgresServer;
  let duck: TestGateway;
  let trivial: PgGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veilsql-pgbench-'));
    script = join(dir, 'select1.sql');
    writeFileSync(script, 'SELECT 1;\n');
    [pg, duck, trivial] = await Promise.all([
      startPostgres(),
      startTestGateway(),
      startPgGateway({ host: '127.0.0.1', port: 0, engine: new TrivialEngine(), auth: { method: 'trust', users: new Map() } }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await trivial?.close();
    await duck?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['simple', 'prepared']) {
    it(`${mode} protocol: no failures; TPS reported against PostgreSQL 15`, async () => {
      const ref = await pgbench(pg.port, 'postgres', 'postgres', script, mode);
      const wire = await pgbench(trivial.port, 'bench', 'd', script, mode);
      const withDuck = await pgbench(duck.port, 'bench', 'd', script, mode);
      for (const r of [ref, wire, withDuck]) {
        expect(r.failed, r.output).toBe(0);
        expect(r.processed, r.output).toBeGreaterThan(0);
      }
      const pct = (x: number) => `${((x / ref.tps) * 100).toFixed(0)}%`;
      console.log(
        `pgbench ${mode} -c 8 -T ${SECONDS}: PostgreSQL 15 ${ref.tps.toFixed(0)} tps; ` +
          `gateway+trivial engine ${wire.tps.toFixed(0)} tps (${pct(wire.tps)}); ` +
          `gateway+DuckDB test engine ${withDuck.tps.toFixed(0)} tps (${pct(withDuck.tps)})`,
      );
    }, (SECONDS * 3 + 60) * 1000);
  }
});
