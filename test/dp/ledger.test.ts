/**
 * The privacy budget ledger: exact accounting in its DuckDB journal (charge, refund, periods,
 * exhaustion as 53V01 with a HINT giving the remaining budget and the cost), 32 concurrent
 * sessions racing for the last budget through the whole SQL path (no party ever overspends),
 * and refunds when a query fails after some parties already charged (another party refuses,
 * or a party is dead). Restart durability with kill -9 is in ledger-restart.test.ts.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRIVACY_BUDGET_EXHAUSTED, PrivacyLedger } from '../../executor/operators/dp-aggregate/ledger.js';
import { privacyBudgetRows } from '../../executor/operators/dp-aggregate/budget.js';
import { epsilonFromRho } from '../../executor/protocols/dp/accounting.js';
import { SqlError } from '../../parser/errors.js';
import { startDpFederation, type DpFederation, type DpTable } from './dp-federation.js';

const DAY = 86_400;

describe('ledger accounting', () => {
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => db.closeSync());

  it('charges until the allowance, then refuses with 53V01 naming party, remaining budget and cost', async () => {
    const c = await db.connect();
    const budget = { epsilon: epsilonFromRho(1, 0.5e-6), delta: 1e-6, periodSeconds: DAY };
    const ledger = new PrivacyLedger('bank_b', budget, () => Date.UTC(2026, 0, 10));
    expect(ledger.allowance().rho).toBeCloseTo(1, 9);
    await ledger.charge(c, 'bank_a', 'q1', { rho: 0.4, delta: 1e-8 }, 'ε=0.9');
    const second = await ledger.charge(c, 'bank_a', 'q2', { rho: 0.4, delta: 0 }, 'ε=0.9');
    expect(second.remaining.rho).toBeCloseTo(0.2, 9);
    const e = await ledger.charge(c, 'bank_a', 'q3', { rho: 0.4, delta: 0 }, 'ε=0.9').catch((x) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect(e.sqlstate).toBe(PRIVACY_BUDGET_EXHAUSTED);
    expect(e.message).toContain('"bank_b"');
    expect(e.message).toContain('"bank_a"');
    expect(e.hint).toMatch(/Remaining at bank_b: ρ=0\.2\b/);
    expect(e.hint).toContain('this query costs ρ=0.4');
    // Other requesters have their own budget.
    await ledger.charge(c, 'telco', 'q4', { rho: 0.9, delta: 0 }, 'ε=1.3');
    const s = await ledger.state(c, 'bank_a');
    expect(s.spent.rho).toBeCloseTo(0.8, 12);
    expect(s.queries).toBe(2);
    c.closeSync();
  });

  it('a refund restores exactly what it credits; a new period starts from zero', async () => {
    const c = await db.connect();
    let now = Date.UTC(2026, 1, 1, 12);
    const ledger = new PrivacyLedger('p', { epsilon: 10, delta: 1e-6, periodSeconds: DAY }, () => now);
    const charge = await ledger.charge(c, 'r', 'q', { rho: 0.5, delta: 2e-8 }, 'test');
    await ledger.refund(c, charge, { rho: 0.3, delta: 2e-8 }, 'failed');
    let s = await ledger.state(c, 'r');
    expect(s.spent.rho).toBeCloseTo(0.2, 12);
    expect(s.spent.delta).toBe(0);
    expect(s.windowStart.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    now += DAY * 1000;
    s = await ledger.state(c, 'r');
    expect(s.spent.rho).toBe(0);
    expect(s.windowEnd.toISOString()).toBe('2026-02-03T00:00:00.000Z');
    c.closeSync();
  });

  it('a party without privacy.budget refuses every DP query with 53V01', async () => {
    const c = await db.connect();
    const e = await new PrivacyLedger('hub', undefined).charge(c, 'r', 'q', { rho: 0.01, delta: 0 }, 'ε=0.1').catch((x) => x);
    expect(e.sqlstate).toBe(PRIVACY_BUDGET_EXHAUSTED);
    expect(e.message).toContain('grants no differential-privacy budget');
    c.closeSync();
  });
});

const table: DpTable = {
  name: 'visits',
  header: ['person', 'g', 'amount'],
  columns: { person: 'private', g: 'public', amount: 'dp' },
  rows: Object.fromEntries(['p1', 'p2', 'p3'].map((p, i) => [p, Array.from({ length: 60 }, (_, r) => [i * 1000 + r, r % 2 ? 'a' : 'b', r])])),
};
/** ε = 1, one cell, PUBLIC groups: ρ = 0.5 per query at every party. */
const QUERY = "SELECT g, DP COUNT(*) AS n FROM stat.visits GROUP BY g WITH PRIVACY (epsilon = 1, privacy_unit = person, groups = PUBLIC ('a', 'b'))";
const COST = 0.5;
/** A budget whose allowance is ρ = 2.6: room for exactly 5 queries. */
const FIVE_QUERIES = { epsilon: epsilonFromRho(2.6, 0.5e-6), delta: 1e-6, periodSeconds: 30 * DAY };

async function spent(fed: DpFederation): Promise<Map<string, number>> {
  const rows = await privacyBudgetRows(fed.connectors, 'budget-check', 10_000, new AbortController().signal);
  return new Map(rows.map((r) => [String(r[0]), Number(r[5])]));
}

describe('32 concurrent sessions racing for the last budget', () => {
  let fed: DpFederation;
  afterEach(async () => fed?.close());

  it('never overspend at any party; every refusal is 53V01 and partial charges are refunded', async () => {
    fed = await startDpFederation([table], { budget: FIVE_QUERIES });
    const sessions = await Promise.all(Array.from({ length: 32 }, () => fed.engine.openSession('analyst', 'veilsql', {})));
    const outcomes = await Promise.all(sessions.map(async (s) => {
      try {
        const out = await s.execute(QUERY, [], { signal: new AbortController().signal, notice: () => undefined });
        for await (const batch of out.batches) void batch;
        return 'ok';
      } catch (e) {
        return e instanceof SqlError ? e.sqlstate : String(e);
      }
    }));
    const ok = outcomes.filter((o) => o === 'ok').length;
    // Parties charge one at a time in name order, so the budget for five queries admits five:
    // racing sessions cannot each win a different party and all fail.
    expect(ok).toBe(5);
    expect(outcomes.filter((o) => o !== 'ok').every((o) => o === PRIVACY_BUDGET_EXHAUSTED)).toBe(true);
    for (const [party, rho] of await spent(fed)) {
      expect(rho, party).toBeLessThanOrEqual(2.6);
      // Charges of queries that failed elsewhere were refunded: what stays is what was released.
      expect(rho, party).toBeCloseTo(ok * COST, 9);
    }
    await Promise.all(sessions.map((s) => s.close()));
  }, 60_000);
});

describe('refunds when the query fails after some parties charged', () => {
  let fed: DpFederation;
  afterEach(async () => fed?.close());

  it('another party refuses (its budget is exhausted): the others are refunded, the error is that party\'s 53V01', async () => {
    fed = await startDpFederation([table], { budgetFor: (p) => (p === 'p2' ? { epsilon: 0.1, delta: 1e-6, periodSeconds: DAY } : FIVE_QUERIES) });
    const e = await fed.query(QUERY).catch((x) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect(e.sqlstate).toBe(PRIVACY_BUDGET_EXHAUSTED);
    expect(e.message).toContain('"p2"');
    expect(e.hint).toContain('this query costs ρ=0.5');
    const after = await spent(fed);
    expect(after.get('p1')).toBe(0);
    expect(after.get('p3')).toBe(0);
  }, 60_000);

  it('a party is dead (08006 naming it): the live parties are refunded', async () => {
    fed = await startDpFederation([table], { budget: FIVE_QUERIES });
    const ok = await fed.query(QUERY);
    expect(ok.rows).toHaveLength(2);
    expect(ok.notices.some((n) => /DP query charged ε=1/.test(n.message))).toBe(true);
    await fed.parties.get('p3')!.close();
    const e = await fed.query(QUERY).catch((x) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect(e.sqlstate).toBe('08006');
    expect(e.message).toContain('p3');
    const after = await spent(fed);
    expect(after.get('p1')).toBeCloseTo(COST, 12);
    expect(after.get('p2')).toBeCloseTo(COST, 12);
  }, 60_000);
});
