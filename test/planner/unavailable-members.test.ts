/**
 * A federated table with a member that is down: the table still resolves over its reachable
 * members, but every plan that would read its members (plaintext fragments, secure
 * aggregation, DP, SECURE JOIN, PRIVATE LOOKUP) fails with 08006 naming the member before
 * anything runs — never a partial answer over the others. The dedupe operator, which answers
 * from the hub's tokens and contacts no lender, plans as usual and still counts the member.
 */
import { describe, expect, it } from 'vitest';
import type { Query } from '../../parser/ast.js';
import { SqlError } from '../../parser/errors.js';
import { parseStatement } from '../../parser/index.js';
import { Catalog } from '../../planner/catalog.js';
import type { PartyCatalog, PublishedColumn } from '../../planner/catalog-types.js';
import { explainPlan } from '../../planner/explain.js';
import { planQuery } from '../../planner/index.js';
import type { DedupeParams, DedupeTableDef } from '../../planner/operators/dedupe.js';
import '../../executor/operators/index.js';
import { bankA, bankB, telco } from './fixtures.js';

const DOWN = 'connection refused';

/** telco asks; of the federation banks.customers (bank_a, bank_b), bank_b is down. */
function banksCatalog(down: string[] = ['bank_b']): Catalog {
  const catalog = new Catalog('telco', [bankA, bankB, telco].filter((p) => !down.includes(p.party)), [
    { schema: 'banks', name: 'customers', table: 'customers', parties: ['bank_a', 'bank_b'] },
  ]);
  for (const p of down) catalog.unavailable.set(p, DOWN);
  return catalog;
}

const key: PublishedColumn = { name: 'id_key', type: 'VARCHAR', policy: 'join_key', nullable: true, normalization: { trim: true, unicode: 'NFC', case: 'lower' } };
const lender = (party: string): PartyCatalog => ({
  party,
  tables: [{
    name: 'applications', minGroup: 5, rowCount: 100,
    columns: [
      { name: 'app_id', type: 'BIGINT', policy: 'public', nullable: false },
      key,
      { name: 'applied_at', type: 'TIMESTAMP', policy: 'public', nullable: false },
    ],
  }],
});
const LENDERS = ['lender_1', 'lender_2', 'lender_3', 'lender_4'];
const alliance: DedupeTableDef = {
  schema: 'alliance', name: 'applications', table: 'applications', parties: LENDERS,
  dedupe: {
    hub: 'hub', keyColumn: 'id_key', timeColumn: 'applied_at', bucketSeconds: 86_400, epochSeconds: 7 * 86_400,
    threshold: 2, keyHolders: ['lender_1', 'lender_2', 'regulator'], syncSeconds: 3600, graceSeconds: 3600,
  },
};

/** lender_1 asks; lender_3 (neither the requester nor a key holder) is down. */
function allianceCatalog(): Catalog {
  const catalog = new Catalog('lender_1', LENDERS.filter((l) => l !== 'lender_3').map(lender), [alliance]);
  catalog.unavailable.set('lender_3', DOWN);
  return catalog;
}

function plan(sql: string, catalog: Catalog) {
  return planQuery(parseStatement(sql) as Query, catalog, { requester: catalog.requester });
}

function planError(sql: string, catalog: Catalog): SqlError {
  try {
    plan(sql, catalog);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected an error for: ${sql}`);
}

describe('a federated table with a member that is down', () => {
  it.each([
    ['plaintext aggregate', 'SELECT region, count(*) AS n FROM banks.customers GROUP BY region'],
    ['plaintext rows', "SELECT region FROM banks.customers WHERE segment = 'retail'"],
    ['join with another party', 'SELECT u.age_band, count(*) FROM telco.users u JOIN banks.customers c ON c.region = u.region GROUP BY u.age_band'],
    ['subquery', 'SELECT age_band FROM telco.users WHERE region IN (SELECT region FROM banks.customers)'],
    ['secure aggregation', 'SELECT region, sum(balance) AS s FROM banks.customers GROUP BY region'],
    ['DP aggregate', "SELECT region, DP COUNT(*) AS n FROM banks.customers GROUP BY region WITH PRIVACY (epsilon = 1, groups = PUBLIC ('north'))"],
    ['SECURE JOIN', 'SELECT u.age_band, count(*) FROM telco.users u SECURE JOIN banks.customers c ON c.id_key = u.id_key GROUP BY u.age_band'],
    ['PRIVATE LOOKUP', 'SELECT u.age_band, c.region FROM telco.users u PRIVATE LOOKUP banks.customers c ON c.id_key = u.id_key'],
  ])('refuses a plan that reads its members (%s) with 08006 naming the member', (_what, sql) => {
    const e = planError(sql, banksCatalog());
    expect(e.sqlstate).toBe('08006');
    expect(e.message).toBe(`federated table banks.customers: party "bank_b" is unavailable: ${DOWN}`);
  });

  it('still plans queries that do not touch the federated table', () => {
    const own = plan('SELECT age_band, count(*) AS n FROM telco.users GROUP BY age_band', banksCatalog());
    expect(own.physical.fragments.map((f) => f.party)).toEqual(['telco']);
    const member = plan("SELECT region, count(*) AS n FROM bank_a.customers WHERE segment = 'retail' GROUP BY region", banksCatalog());
    expect(member.physical.fragments.map((f) => f.party)).toEqual(['bank_a']);
  });

  it('reports a policy violation over the reachable members, not a crash', () => {
    const e = planError('SELECT id_key FROM banks.customers', banksCatalog());
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toMatch(/bank_a\.customers\.id_key has level join_key/);
  });

  it('fails to resolve when no member is reachable (08006, the first member named)', () => {
    const e = planError('SELECT region FROM banks.customers', banksCatalog(['bank_a', 'bank_b']));
    expect(e.sqlstate).toBe('08006');
    expect(e.message).toBe(`federated table banks.customers: party "bank_a" is unavailable: ${DOWN}`);
  });
});

describe('dedupe over an alliance with a lender down', () => {
  const DEDUPE =
    "SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS n FROM lender_1.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key " +
    "WHERE b.applied_at >= TIMESTAMP '2024-06-01 00:00:00' AND b.PARTY <> 'lender_1' GROUP BY a.app_id";

  it('plans, counting the lender that is down (its tokens are at the hub), and contacts no lender', () => {
    const p = plan(DEDUPE, allianceCatalog());
    const stage = p.physical.stages.find((s) => s.kind === 'private');
    expect(stage?.kind === 'private' && stage.operator).toBe('dedupe');
    if (stage?.kind !== 'private') throw new Error('no private stage');
    expect((stage.params as DedupeParams).lenders).toEqual(['lender_2', 'lender_3', 'lender_4']);
    expect(stage.partyInputs).toEqual([]);
    // The only fragment is the requester's own side.
    expect(p.physical.fragments.map((f) => f.party)).toEqual(['lender_1']);
  });

  it('leaves the lender out when PARTY filters it out', () => {
    const p = plan(DEDUPE.replace("b.PARTY <> 'lender_1'", "b.PARTY NOT IN ('lender_1', 'lender_3')"), allianceCatalog());
    const stage = p.physical.stages.find((s) => s.kind === 'private');
    expect(stage?.kind === 'private' && (stage.params as DedupeParams).lenders).toEqual(['lender_2', 'lender_4']);
  });

  it('EXPLAIN works and names the lender that is down', () => {
    const p = plan(DEDUPE, allianceCatalog());
    const text = explainPlan(p.physical, p.bound.ctx, 'lender_1').join('\n');
    expect(text).toContain(`UNION ALL over lender_1, lender_2, lender_3, lender_4 (unavailable now: lender_3: ${DOWN})`);
    expect(text).toMatch(/unavailable now, not needed: lender_3/);
  });

  it('refuses a plaintext query over the same table with 08006 naming the lender', () => {
    const e = planError("SELECT count(*) FROM alliance.applications WHERE applied_at >= TIMESTAMP '2024-06-01 00:00:00'", allianceCatalog());
    expect(e.sqlstate).toBe('08006');
    expect(e.message).toBe(`federated table alliance.applications: party "lender_3" is unavailable: ${DOWN}`);
  });

  it('refuses the dedupe table on the requester\'s side of the join (that side reads the members)', () => {
    const e = planError(
      'SELECT a.app_id, COUNT(DISTINCT b.PARTY) FROM (SELECT * FROM alliance.applications WHERE PARTY = \'lender_1\') a ' +
        'SECURE JOIN alliance.applications b ON b.id_key = a.id_key GROUP BY a.app_id',
      allianceCatalog(),
    );
    expect(e.sqlstate).toBe('08006');
    expect(e.message).toMatch(/party "lender_3" is unavailable/);
  });
});
