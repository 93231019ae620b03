/**
 * The session surface of DP: `SET dp.*` defaults (validated when set), `EXPLAIN DP` (noise
 * scales, interval widths and cost, spending nothing), and `SHOW PRIVACY BUDGET` (per party:
 * budget, spent, remaining, period) moving by exactly the cost the NOTICE announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../executor/operators/dp-aggregate/index.js';
import { SqlError } from '../../parser/errors.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

let fed: InProcessFederation;
beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', 'bank_b', 'bank_c']);
}, 120_000);
afterAll(async () => {
  await fed?.close();
});

async function budget(): Promise<Map<string, Record<string, string | null>>> {
  const r = await fed.query('SHOW PRIVACY BUDGET');
  return new Map(r.rows.map((row) => [row[0]!, Object.fromEntries(r.columns.map((c, i) => [c, row[i]]))]));
}

describe('SHOW PRIVACY BUDGET, EXPLAIN DP and SET dp.*', () => {
  it('shows every party\'s budget for this requester', async () => {
    const r = await fed.query('SHOW PRIVACY BUDGET');
    expect(r.columns).toEqual(expect.arrayContaining(['party', 'epsilon_budget', 'rho_spent', 'rho_remaining', 'period', 'renews_at']));
    const b = await budget();
    expect([...b.keys()]).toEqual(['bank_a', 'bank_b', 'bank_c']);
    expect(b.get('bank_b')!.epsilon_budget).toBe('10');
    expect(b.get('bank_b')!.period).toBe('30d');
    expect(Number(b.get('bank_b')!.rho_spent)).toBe(0);
  });

  it('EXPLAIN DP shows scale, interval width and cost, and spends nothing', async () => {
    const sql = `SELECT region, DP COUNT(*) AS n, DP SUM(balance BOUNDED 0 AND 100000) AS total FROM banks.customers GROUP BY region
      WITH PRIVACY (epsilon = 0.5, delta = 1e-8, privacy_unit = customer_id)`;
    const r = await fed.query(`EXPLAIN DP ${sql}`);
    const text = r.rows.map((x) => x[0]).join('\n');
    expect(text).toMatch(/Cost: each of bank_a, bank_b, bank_c charges ρ=0\.04167, δ=1\.000e-8/);
    expect(text).toMatch(/DP COUNT\(\*\): discrete Laplace, scale 6 steps/);
    expect(text).toMatch(/DP SUM\(balance\): discrete Laplace.*CI ± \d/);
    expect(text).toMatch(/Groups: THRESHOLD .* ≥ \d+/);
    expect(text).toMatch(/Pólya share/);
    const b = await budget();
    for (const party of ['bank_a', 'bank_b', 'bank_c']) expect(Number(b.get(party)!.rho_spent)).toBe(0);
  });

  it('uses SET dp.* as defaults, and moves the budget by exactly the announced cost', async () => {
    await fed.query('SET dp.epsilon = 0.2');
    await fed.query('SET dp.noise = gaussian');
    await fed.query('SET dp.delta = 1e-9');
    const r = await fed.query('SELECT DP COUNT(*) AS n FROM bank_b.customers');
    const notice = r.notices.find((n) => n.message.startsWith('DP query charged'))!;
    expect(notice.message).toContain('ε=0.2, δ=1e-9');
    const rho = Number(/ρ=([0-9.e-]+)/.exec(notice.message)![1]);
    const b = await budget();
    expect(Number(b.get('bank_b')!.rho_spent)).toBeCloseTo(rho, 3);
    expect(Number(b.get('bank_c')!.rho_spent)).toBe(0);
    await fed.query('RESET dp.noise');
  });

  it('refuses bad DP settings when they are set', async () => {
    const bad = async (sql: string) => fed.query(sql).then(() => undefined, (e: SqlError) => e);
    expect((await bad('SET dp.epsilon = -1'))?.sqlstate).toBe('22023');
    expect((await bad('SET dp.noise = pink'))?.sqlstate).toBe('22023');
    expect((await bad('SET dp.epsilonn = 1'))?.sqlstate).toBe('42704');
  });
});
