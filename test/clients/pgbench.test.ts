/**
 * pgbench (PostgreSQL 15's) against bank_a's gateway, a real node process: 8 clients, a short
 * run per protocol (simple, extended, prepared) of a `SELECT 1`-class gateway query, and one
 * of a query that reaches the parties; no failed transaction allowed. The TPS comparison with
 * PostgreSQL 15 over 30 s runs lives in the benchmark (`npm run bench pgwire-load`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClientFederation, type ClientFederation } from '../support/client-federation.js';
import { requirePgbench, run } from '../support/client-tools.js';

const SECONDS = Number(process.env.VEILSQL_PGBENCH_SECONDS ?? 2);

describe('pgbench against a federation of real nodes', () => {
  let fed: ClientFederation;
  let dir: string;

  beforeAll(async () => {
    requirePgbench();
    dir = mkdtempSync(join(tmpdir(), 'veilsql-pgbench-'));
    writeFileSync(join(dir, 'select1.sql'), 'SELECT 1;\n');
    writeFileSync(join(dir, 'federated.sql'), '\\set r random(1, 4)\nSELECT count(*) FROM banks.branches WHERE branch_id % 4 = :r - 1;\n');
    fed = await startClientFederation();
  }, 120_000);

  afterAll(async () => {
    await fed?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function pgbench(script: string, mode: string, seconds: number) {
    const r = await run(
      'pgbench',
      ['-n', '-M', mode, '-f', join(dir, script), '-c', '8', '-j', '2', '-T', String(seconds), '-h', '127.0.0.1', '-p', String(fed.gatewayPort), '-U', fed.user, 'veilsql'],
      { env: { PGPASSWORD: fed.password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '5' }, timeoutMs: (seconds + 30) * 1000 },
    );
    const output = r.stdout + r.stderr;
    const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
    return {
      status: r.status,
      output,
      tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
      failed: num(/number of failed transactions: (\d+)/),
      processed: num(/number of transactions actually processed: (\d+)/),
    };
  }

  for (const mode of ['simple', 'extended', 'prepared']) {
    it(`SELECT 1, ${mode} protocol, 8 clients: no failed transaction`, async () => {
      const r = await pgbench('select1.sql', mode, SECONDS);
      expect(r.status, r.output).toBe(0);
      expect(r.failed, r.output).toBe(0);
      expect(r.processed, r.output).toBeGreaterThan(100);
      console.log(`pgbench -M ${mode} -c 8 -T ${SECONDS} SELECT 1 through the gateway: ${r.tps.toFixed(0)} tps`);
    }, (SECONDS + 40) * 1000);
  }

  it('a federated query under 8 concurrent clients: no failed transaction', async () => {
    const r = await pgbench('federated.sql', 'prepared', SECONDS);
    expect(r.status, r.output).toBe(0);
    expect(r.failed, r.output).toBe(0);
    expect(r.processed, r.output).toBeGreaterThan(0);
    console.log(`pgbench -M prepared -c 8 -T ${SECONDS} federated count: ${r.tps.toFixed(0)} tps`);
  }, (SECONDS + 40) * 1000);
});
