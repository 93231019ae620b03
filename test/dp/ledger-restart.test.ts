/**
 * The ledger survives a crash: real `veilsql node` processes (mutual TLS), bank_a's gateway over
 * the Postgres wire (simple and extended protocol). DP queries spend most of bank_b's budget for
 * bank_a; bank_b is killed with SIGKILL and started again from its DuckDB file; SHOW PRIVACY
 * BUDGET reports the same spend and the same query is now refused by bank_b with 53V01 and a
 * HINT — the balance was not reset.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcesses, type NodeProcesses } from '../../cli/node-processes.js';
import { startTestFederation, type TestFederation } from '../support/federation-processes.js';

/** ε = 1.5 on one cell (PUBLIC groups, rows as units): ρ = 1.125 of the demo's ρ ≈ 1.30 per period. */
const SPEND = "SELECT region, DP COUNT(*) AS n FROM bank_b.customers GROUP BY region WITH PRIVACY (epsilon = 1.5, groups = PUBLIC ('Beijing', 'Shanghai'))";

let fed: TestFederation;
let restarted: NodeProcesses | undefined;
let client: pg.Client;

async function budgets(): Promise<Map<string, { spent: number; remaining: number; status: string }>> {
  const r = await client.query('SHOW PRIVACY BUDGET');
  return new Map(r.rows.map((row) => [row.party, { spent: Number(row.rho_spent), remaining: Number(row.rho_remaining), status: row.status }]));
}

beforeAll(async () => {
  fed = await startTestFederation(['bank_a', 'bank_b']);
  client = await fed.client();
}, 120_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await restarted?.stop();
  await fed?.stop();
});

describe('privacy ledger across kill -9', () => {
  it('keeps the balance: same spend after restart, and the next over-budget query is refused', async () => {
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    // Extended protocol (Parse/Describe/Bind with a parameter): ε = 0.1 → ρ = 0.005.
    const param = await client.query(
      "SELECT region, DP COUNT(*) AS n, DP_CI_LOW(n) AS lo FROM bank_b.customers WHERE region = $1 GROUP BY region WITH PRIVACY (epsilon = 0.1, groups = PUBLIC ('Beijing'))",
      ['Beijing'],
    );
    expect(param.rows.map((r) => r.region)).toEqual(['Beijing']);
    expect(Number(param.rows[0].lo)).toBeLessThan(Number(param.rows[0].n));
    const first = await client.query(SPEND);
    expect(first.rows).toHaveLength(2);
    expect(notices.some((m) => m.startsWith('DP query charged ε=1.5'))).toBe(true);
    const before = (await budgets()).get('bank_b')!;
    expect(before.spent).toBeCloseTo(1.125 + 0.005, 9);

    await fed.nodes.kill('bank_b', 'SIGKILL');
    restarted = await startNodeProcesses([{ name: 'bank_b', configPath: join(fed.dir, 'bank_b.node.yaml') }]);

    const after = (await budgets()).get('bank_b')!;
    expect(after.status).not.toMatch(/unavailable/);
    expect(after.spent).toBeCloseTo(before.spent, 12);
    expect(after.remaining).toBeCloseTo(before.remaining, 12);

    const refused = await client.query(SPEND).catch((e) => e);
    expect(refused.code).toBe('53V01');
    expect(refused.message).toContain('"bank_b"');
    expect(refused.hint).toMatch(/Remaining at bank_b: ρ=0\.1/);
  }, 120_000);
});
