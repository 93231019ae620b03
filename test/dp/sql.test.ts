/**
 * DP aggregates through SQL on the seeded demo federation (bank_a asks; banks.customers spans
 * bank_a, bank_b, bank_c): results, intervals and the cost NOTICE; the BigQuery syntax; every
 * refusal with its SQLSTATE; the privacy unit allowed on a private column; the party's own
 * policy check on a forged request; and the traffic the requester receives — masked words,
 * never a party's partial, and totals that carry noise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameChannel, PartyConnector } from '../../connectors/connector.js';
import '../../executor/operators/dp-aggregate/index.js';
import { setDpTestHooks } from '../../executor/operators/dp-aggregate/test-hooks.js';
import { SqlError } from '../../parser/errors.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

let fed: InProcessFederation;
beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', 'bank_b', 'bank_c']);
}, 120_000);
afterAll(async () => {
  setDpTestHooks(undefined);
  await fed?.close();
});

async function error(sql: string): Promise<SqlError> {
  try {
    await fed.query(sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected an error: ${sql}`);
}

describe('DP aggregates over a federated table', () => {
  it('releases noisy counts and sums with intervals around them and a NOTICE with the cost (SPEC.md §3)', async () => {
    const exact = new Map((await fed.query('SELECT region, count(*) FROM banks.customers GROUP BY region')).rows.map((r) => [r[0], Number(r[1])]));
    const r = await fed.query(`SELECT region, DP COUNT(*) AS n, DP SUM(balance BOUNDED 0 AND 100000) AS total, DP_CI_LOW(n) AS lo, DP_CI_HIGH(n) AS hi
      FROM banks.customers GROUP BY region ORDER BY region
      WITH PRIVACY (epsilon = 0.3, delta = 1e-8, privacy_unit = customer_id, max_groups_contributed = 1)`);
    expect(r.columns).toEqual(['region', 'n', 'total', 'lo', 'hi']);
    expect(r.types).toEqual(['VARCHAR', 'BIGINT', 'DECIMAL(38,2)', 'BIGINT', 'BIGINT']);
    expect(r.rows.length).toBeGreaterThan(3);
    for (const [region, n, total, lo, hi] of r.rows) {
      expect(exact.has(region)).toBe(true);
      expect(Number(lo)).toBeLessThanOrEqual(Number(n));
      expect(Number(hi)).toBeGreaterThanOrEqual(Number(n));
      // Scale of the count: L1 = 1 per unit, ε/3 per part → t = 10; 20t is beyond any plausible draw.
      expect(Math.abs(Number(n) - exact.get(region)!)).toBeLessThan(200);
      expect(total).toMatch(/^-?\d+\.\d{2}$/);
    }
    const notice = r.notices.find((n) => n.message.startsWith('DP query charged'));
    expect(notice?.message).toContain('ε=0.3, δ=1e-8');
    expect(notice?.message).toContain('bank_a, bank_b, bank_c');
    expect(notice?.detail).toMatch(/Remaining budget: bank_a ρ=/);
  });

  it('takes the BigQuery syntax (aggregates in a DP SELECT are DP) and post-processes with HAVING/ORDER BY', async () => {
    const r = await fed.query(`SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (epsilon = 0.3, delta = 1e-7, privacy_unit_column = customer_id)
      segment, COUNT(*) AS n, DP AVG(credit_score BOUNDED 300 AND 850) AS score FROM banks.customers GROUP BY segment HAVING COUNT(*) > 0 ORDER BY n DESC`);
    expect(r.columns).toEqual(['segment', 'n', 'score']);
    const ns = r.rows.map((x) => Number(x[1]));
    expect([...ns].sort((a, b) => b - a)).toEqual(ns);
    for (const row of r.rows) if (row[2] !== null) expect(Number(row[2])).toBeGreaterThanOrEqual(300);
  });

  it('allows the privacy unit and COUNT(DISTINCT unit) on a private column, never other uses of it', async () => {
    const r = await fed.query('SELECT DP COUNT(DISTINCT customer_id) AS people FROM banks.customers WITH PRIVACY (epsilon = 0.2, privacy_unit = customer_id)');
    expect(r.rows).toHaveLength(1);
    const e = await error('SELECT DP COUNT(DISTINCT name) AS n FROM banks.customers WITH PRIVACY (epsilon = 1, privacy_unit = customer_id)');
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toMatch(/name has level private/);
  });

  it('answers PUBLIC groups for every declared key, present in the data or not', async () => {
    const r = await fed.query("SELECT region, DP COUNT(*) AS n FROM bank_b.customers GROUP BY region ORDER BY region WITH PRIVACY (epsilon = 0.2, groups = PUBLIC ('Beijing', 'Atlantis'))");
    expect(r.rows.map((x) => x[0])).toEqual(['Atlantis', 'Beijing']);
  });
});

describe('edge cases', () => {
  it('releases no group when none passes the threshold (an empty result, not an error)', async () => {
    const r = await fed.query('SELECT region, DP COUNT(*) AS n FROM bank_b.customers WHERE customer_id < 2000004 GROUP BY region WITH PRIVACY (epsilon = 0.1)');
    expect(r.rows).toEqual([]);
  });

  it('works inside a subquery, with post-processing around it', async () => {
    const r = await fed.query('SELECT count(*) AS big FROM (SELECT region, DP COUNT(*) AS n FROM bank_c.customers GROUP BY region WITH PRIVACY (epsilon = 0.1)) s WHERE n > 0');
    expect(Number(r.rows[0][0])).toBeGreaterThan(0);
  });
});

describe('refusals', () => {
  it.each([
    ['SELECT region, DP SUM(balance) FROM banks.customers GROUP BY region', '22023', /needs clamping bounds/],
    ['SELECT region, DP COUNT(*) FROM banks.customers GROUP BY region WITH PRIVACY (epsilon = 1, epsilonn = 2)', '42601', /unknown privacy option "epsilonn"/],
    ['SELECT region, DP COUNT(*), count(*) FROM banks.customers GROUP BY region', '0A000', /must be a DP aggregate/],
    ['SELECT region, DP COUNT(*) AS n, DP_CI_LOW(m) FROM banks.customers GROUP BY region', '42703', /must name a DP aggregate/],
    ['SELECT region, DP SUM(customer_id BOUNDED 0 AND 1) FROM banks.customers GROUP BY region', '42501', /bank_c\.customers\.customer_id has level private/],
    ['SELECT region, DP COUNT(*) FROM banks.customers GROUP BY region WITH PRIVACY (privacy_unit = nobody)', '42703', /privacy_unit/],
    ['SELECT region, DP COUNT(*) FROM banks.customers GROUP BY region WITH PRIVACY (delta = 0)', '22023', /THRESHOLD needs delta > 0/],
    ['SELECT region, DP COUNT(*) FROM banks.customers GROUP BY region WITH PRIVACY (epsilon = -1)', '22023', /epsilon must be/],
    ['SELECT region, DP MIN(balance) FROM banks.customers GROUP BY region', '0A000', /DP MIN is not supported/],
    ['SELECT region FROM banks.customers WITH PRIVACY (epsilon = 1)', '0A000', /need DP aggregates/],
    ["SELECT c.region, DP COUNT(*) FROM bank_b.customers c JOIN bank_c.customers d ON c.region = d.region GROUP BY c.region", '0A000', /single party or over a federated table/],
  ])('%s', async (sql, state, message) => {
    const e = await error(sql);
    expect(e.sqlstate).toBe(state);
    expect(e.message).toMatch(message);
  });
});

describe('defence in depth at the party', () => {
  const forged = (sql: string, groupColumns: number, measurements: unknown[], party = 'bank_b') => ({
    version: 1,
    spec: {
      epsilon: 0.1, delta: 1e-8, noise: 'laplace', unit: false, maxGroupsContributed: 1, maxRowsContributed: 1, maxPartiesContributed: 1,
      confidence: 0.95, selection: groupColumns ? 'threshold' : 'single', groupColumns, measurements,
    },
    input: { sql },
    members: [party],
  });

  async function run(params: unknown, party = 'bank_b'): Promise<unknown> {
    const channel = await fed.engine.connectors.get(party)!.openProtocol({ queryId: 'forged', protocol: 'dp-aggregate-v2', params, timeoutMs: 10_000 }, new AbortController().signal);
    try {
      return await channel.receive();
    } finally {
      channel.destroy();
    }
  }

  it('refuses a private column offered as a group key (it would be released)', async () => {
    const e = await run(forged('SELECT name FROM bank_b.customers', 1, [{ kind: 'count_rows' }])).catch((x) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('bank_b');
  });

  it('refuses a private column as a DP argument, whatever uses the requester would claim', async () => {
    const sql = 'SELECT customer_id FROM bank_c.customers';
    const e = await run(forged(sql, 0, [{ kind: 'sum', arg: 0, domain: { kind: 'integer' }, low: '0', high: '1' }], 'bank_c'), 'bank_c').catch((x) => x);
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('customer_id has level private');
  });

  it('rejects a malformed spec as a protocol violation', async () => {
    const e = await run({ version: 1, spec: { epsilon: 'all' }, input: { sql: 'SELECT 1' }, members: ['bank_b'] }).catch((x) => x);
    expect(['08P01', '22023']).toContain(e.sqlstate);
  });
});

describe('traffic the requester receives', () => {
  it('holds masked words only: no party partial, and totals that differ from the exact counts', async () => {
    const received = new Map<string, Uint8Array[]>();
    const originals = new Map(fed.engine.connectors);
    for (const [name, c] of originals) {
      const wrapped: PartyConnector = {
        party: c.party,
        catalog: (s) => c.catalog(s),
        execute: (r, s) => c.execute(r, s),
        close: () => c.close(),
        async openProtocol(request, signal) {
          const ch = await c.openProtocol(request, signal);
          const frames: Uint8Array[] = [];
          received.set(name, frames);
          const recording: FrameChannel = {
            ...ch,
            send: (f) => ch.send(f),
            end: () => ch.end(),
            destroy: (e) => ch.destroy(e),
            async receive() {
              const f = await ch.receive();
              if (f) frames.push(f.slice());
              return f;
            },
          };
          return recording;
        },
      };
      fed.engine.connectors.set(name, wrapped);
    }
    try {
      setDpTestHooks({ seed: 'traffic3' });
      const regions = ['Beijing', 'Guangdong', 'Shanghai'];
      const sql = `SELECT region, DP COUNT(*) AS n FROM banks.customers GROUP BY region ORDER BY region WITH PRIVACY (epsilon = 0.2, groups = PUBLIC (${regions.map((x) => `'${x}'`).join(', ')}))`;
      const r = await fed.query(sql);
      const partial = async (party: string) =>
        new Map((await fed.query(`SELECT region, count(*) FROM ${party}.customers GROUP BY region`)).rows.map((x) => [x[0], BigInt(x[1]!)]));
      const exactTotal = new Map<string, bigint>();
      for (const party of ['bank_a', 'bank_b', 'bank_c']) {
        const own = await partial(party);
        const frames = received.get(party)!;
        // MASKED frames (type 3): [3][u32 first slot][u32 count][2 words per slot].
        const masked = frames.filter((f) => f[0] === 3);
        expect(masked.length).toBeGreaterThan(0);
        const view = new DataView(masked[0].buffer, masked[0].byteOffset, masked[0].byteLength);
        regions.forEach((region, i) => {
          const word = view.getBigUint64(9 + 8 * i, true);
          expect(word).not.toBe(own.get(region) ?? 0n);
          exactTotal.set(region, (exactTotal.get(region) ?? 0n) + (own.get(region) ?? 0n));
        });
      }
      const released = r.rows.map((x) => BigInt(x[1]!));
      expect(released.filter((v, i) => v !== exactTotal.get(regions[i])).length).toBeGreaterThanOrEqual(2);
    } finally {
      setDpTestHooks(undefined);
      for (const [name, c] of originals) fed.engine.connectors.set(name, c);
    }
  });
});
