import { describe, expect, it } from 'vitest';
import { parseStatement } from '../../parser/index.js';
import { SqlError } from '../../parser/errors.js';
import type { Query } from '../../parser/ast.js';
import { explainPlan } from '../../planner/explain.js';
import { planFragment, planQuery } from '../../planner/index.js';
import { Catalog } from '../../planner/catalog.js';
import { bankB, testCatalog } from './fixtures.js';

function plan(sql: string, requester = 'bank_a') {
  const stmt = parseStatement(sql);
  if (stmt.kind !== 'query') throw new Error('not a query');
  return planQuery(stmt as Query, testCatalog(requester), { requester });
}

function planError(sql: string, requester = 'bank_a'): SqlError {
  try {
    plan(sql, requester);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected an error for: ${sql}`);
}

describe('binder errors', () => {
  it('reports an unknown table with its position and a hint', () => {
    const e = planError('SELECT region FROM bank_b.customer');
    expect(e.sqlstate).toBe('42P01');
    expect(e.message).toBe('relation "bank_b.customer" does not exist');
    expect(e.position).toBe(20);
    expect(e.hint).toContain('bank_b.customers');
  });

  it('reports an unknown party', () => {
    const e = planError('SELECT * FROM nobody.t');
    expect(e.sqlstate).toBe('42P01');
    expect(e.hint).toContain('bank_b');
  });

  it('reports an unknown column with a suggestion', () => {
    const e = planError('SELECT c.regoin FROM bank_b.customers c');
    expect(e.sqlstate).toBe('42703');
    expect(e.message).toBe('column c.regoin does not exist');
    expect(e.position).toBe(8);
    expect(e.hint).toContain('c.region');
  });

  it('reports ambiguous columns', () => {
    const e = planError('SELECT region FROM bank_b.customers c JOIN telco.users t ON c.region = t.region');
    expect(e.sqlstate).toBe('42702');
  });

  it('refuses comparing text with a number (Postgres: operator does not exist)', () => {
    const e = planError('SELECT region FROM bank_b.customers WHERE region = 1');
    expect(e.sqlstate).toBe('42883');
    expect(e.message).toBe('operator does not exist: text = integer');
    expect(e.position).toBe(43);
  });

  it('refuses comparing a date with a number', () => {
    expect(planError('SELECT region FROM bank_b.customers WHERE opened_on > 5').sqlstate).toBe('42883');
  });

  it('requires a boolean WHERE (42804)', () => {
    const e = planError('SELECT region FROM bank_b.customers WHERE 1');
    expect(e.sqlstate).toBe('42804');
    expect(e.message).toBe('argument of WHERE must be type boolean, not type integer');
  });

  it('refuses CASE branches of incompatible types (42804)', () => {
    const e = planError("SELECT CASE WHEN region = 'x' THEN 1 ELSE segment END FROM bank_b.customers");
    expect(e.sqlstate).toBe('42804');
    expect(e.message).toContain('CASE types');
  });

  it('requires grouped columns (42803)', () => {
    const e = planError('SELECT region, segment, count(*) FROM bank_b.customers GROUP BY region');
    expect(e.sqlstate).toBe('42803');
    expect(e.message).toBe('column "customers.segment" must appear in the GROUP BY clause or be used in an aggregate function');
    expect(e.position).toBe(16);
  });

  it('refuses aggregates in WHERE', () => {
    expect(planError('SELECT region FROM bank_b.customers WHERE count(*) > 1').sqlstate).toBe('42803');
  });

  it('refuses SUM over text', () => {
    const e = planError('SELECT sum(region) FROM bank_b.customers');
    expect(e.sqlstate).toBe('42883');
    expect(e.message).toBe('function sum(text) does not exist');
  });

  it('checks set operation arity and types', () => {
    expect(planError('SELECT region FROM bank_b.customers UNION SELECT region, segment FROM bank_b.customers').sqlstate).toBe('42601');
    expect(planError('SELECT region FROM bank_b.customers UNION SELECT opened_on FROM bank_b.customers').sqlstate).toBe('42804');
  });
});

describe('policy', () => {
  it('refuses revealing a private column, naming party, table, column, level and use', () => {
    const e = planError('SELECT customer_id FROM bank_b.customers');
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('bank_b.customers.customer_id');
    expect(e.message).toContain('level private');
    expect(e.message).toContain('revealed in the result');
    expect(e.position).toBe(8);
  });

  it('refuses revealing a join_key column', () => {
    const e = planError('SELECT id_key FROM telco.users');
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('telco.users.id_key has level join_key');
    expect(e.hint).toContain('SECURE JOIN');
  });

  it('refuses filtering on an aggregate-level column', () => {
    const e = planError('SELECT count(*) FROM bank_b.customers WHERE balance > 100');
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('used in a filter');
  });

  it('refuses MIN/MAX of an aggregate-level column (they release individual values)', () => {
    expect(planError('SELECT max(balance) FROM bank_b.customers').message).toContain('individual values');
  });

  it('allows SUM of an aggregate-level column at its party and suppresses small groups', () => {
    const p = plan('SELECT region, sum(balance) AS total FROM bank_b.customers GROUP BY region');
    expect(p.physical.root.kind).toBe('fragment');
    expect(p.physical.fragments[0].sql).toMatch(/HAVING \(?count\(\*\) >= 10\)?/i);
  });

  it('does not restrict the requester\'s own tables', () => {
    const p = plan('SELECT customer_id, balance FROM bank_a.customers WHERE is_fraud = 1');
    expect(p.physical.fragments[0].party).toBe('bank_a');
  });

  it('refuses shipping aggregate-level values to the gateway for a cross-party aggregate', () => {
    const e = planError('SELECT t.age_band, sum(c.balance) FROM bank_b.customers c JOIN telco.users t ON c.region = t.region GROUP BY t.age_band');
    expect(e.sqlstate).toBe('42501');
    expect(e.message).toContain('bank_b.customers.balance');
    expect(e.message).toContain('combines data of several parties');
  });

  it('refuses aggregate-level columns over a federated table until secure aggregation exists', () => {
    const e = planError('SELECT region, sum(balance) FROM banks.customers GROUP BY region');
    expect(e.sqlstate).toBe('0A000');
    expect(e.message).toContain('secure aggregation');
  });

  it('is re-checked by the party itself on a fragment that bypasses the planner', () => {
    const stmt = parseStatement('SELECT customer_id FROM bank_b.customers') as Query;
    const catalog = new Catalog('bank_a', [bankB]);
    expect(() => planFragment(stmt, catalog, 'bank_a', (s) => (s.kind === 'party' ? [s.table.name] : []))).toThrow(/customer_id has level private/);
    const ok = planFragment(parseStatement('SELECT region, sum(balance) FROM bank_b.customers GROUP BY region') as Query, catalog, 'bank_a', (s) =>
      s.kind === 'party' ? ['main', s.table.name] : [],
    );
    expect(ok.sql).toMatch(/count\(\*\) >= 10/);
  });
});

describe('operators that do not exist yet are refused, never faked', () => {
  it.each([
    ['SELECT count(*) FROM bank_b.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key', 'private set intersection'],
    ['SELECT b.region FROM bank_a.customers a PRIVATE LOOKUP bank_b.customers b ON b.id_key = a.id_key', 'keyword PIR'],
    ['SELECT region, DP COUNT(*) FROM bank_b.customers GROUP BY region', 'differential-privacy'],
    ['SELECT region, count(*) FROM bank_b.customers GROUP BY region WITH PRIVACY (epsilon = 1)', 'differential-privacy'],
  ])('%s', (sql, what) => {
    const e = planError(sql);
    expect(e.sqlstate).toBe('0A000');
    expect(e.message).toContain(what);
  });
});

describe('placement and pushdown', () => {
  it('runs a single-party query as one fragment', () => {
    const p = plan("SELECT region, count(*) AS n FROM bank_b.customers WHERE segment = 'retail' GROUP BY region ORDER BY n DESC LIMIT 3");
    expect(p.physical.root.kind).toBe('fragment');
    const sql = p.physical.fragments[0].sql;
    expect(sql).toContain("WHERE t1.segment = 'retail'");
    expect(sql).toContain('GROUP BY t1.region');
    expect(sql).toContain('LIMIT 3');
  });

  it('pushes each side\'s filters into its party\'s fragment of a cross-party join', () => {
    const p = plan(
      "SELECT c.region, t.age_band FROM bank_b.customers c JOIN telco.users t ON c.region = t.region WHERE c.segment = 'retail' AND t.age_band = '30-39'",
    );
    expect(p.physical.root.kind).toBe('gateway');
    expect(p.physical.fragments.map((f) => f.party).sort()).toEqual(['bank_b', 'telco']);
    const b = p.physical.fragments.find((f) => f.party === 'bank_b')!;
    const t = p.physical.fragments.find((f) => f.party === 'telco')!;
    expect(b.sql).toContain("segment = 'retail'");
    expect(b.sql).not.toContain('age_band');
    expect(t.sql).toContain("age_band = '30-39'");
    // Only the columns the query uses leave each party.
    expect(b.columns.map((c) => c.label).sort()).toEqual(['region']);
  });

  it('splits an aggregate over a federated table into per-party partials', () => {
    const p = plan('SELECT region, count(*) AS n, avg(opened_on - DATE \'2000-01-01\') AS d FROM banks.customers GROUP BY region');
    expect(p.physical.fragments.length).toBe(2);
    for (const f of p.physical.fragments) expect(f.sql).toMatch(/GROUP BY/);
    expect(p.physical.root.kind === 'gateway' && p.physical.root.sql).toMatch(/sum\(/);
  });

  it("loads a federated union's member fragments into one table the gateway SQL reads whole", () => {
    const p = plan("SELECT region, count(*) AS n FROM banks.customers WHERE segment = 'retail' GROUP BY region");
    const [a, b] = p.physical.fragments;
    expect(a.shared).toBeDefined();
    expect(b.shared).toBe(a.shared);
    expect(a.shared!.members).toBe(2);
    const sql = p.physical.root.kind === 'gateway' ? p.physical.root.sql : '';
    expect(sql).toContain(`FROM ${a.shared!.table} AS`);
    expect(sql).not.toMatch(/UNION ALL|__f\d/);
    expect(explainPlan(p.physical, p.bound.ctx, 'bank_a').join('\n')).toContain(`= UNION ALL over bank_a, bank_b  @ gateway (bank_a)  (members' rows into one table ${a.shared!.table})`);
    // Rows, not only partial aggregates.
    const rows = plan('SELECT region, opened_on FROM banks.customers ORDER BY opened_on');
    expect(rows.physical.fragments.every((f) => f.shared?.members === 2)).toBe(true);
  });

  it('shares a table for a written UNION ALL of party relations of one type, not for members of different types', () => {
    const same = plan('SELECT region FROM telco.users UNION ALL SELECT product FROM bank_b.accounts');
    expect(same.physical.fragments.map((f) => f.shared?.members)).toEqual([2, 2]);
    const mixed = plan('SELECT account_id AS x FROM bank_b.accounts UNION ALL SELECT 1.5 FROM telco.users');
    expect(mixed.physical.fragments.map((f) => f.shared)).toEqual([undefined, undefined]);
    expect(mixed.physical.root.kind === 'gateway' && mixed.physical.root.sql).toMatch(/UNION ALL/);
  });

  it('keeps a correlated subquery at the party when everything is local', () => {
    const p = plan('SELECT a.product FROM bank_b.accounts a WHERE EXISTS (SELECT 1 FROM bank_b.accounts b WHERE b.customer_ref = a.customer_ref AND b.account_id <> a.account_id)');
    expect(p.physical.root.kind).toBe('fragment');
  });

  it('evaluates a cross-party subquery at the gateway', () => {
    const p = plan('SELECT c.region FROM bank_b.customers c WHERE c.region IN (SELECT region FROM telco.users)');
    expect(p.physical.root.kind).toBe('gateway');
    expect(p.physical.fragments.length).toBe(2);
  });

  it('explains operators, placement and disclosure', () => {
    const p = plan('SELECT c.region, count(*) FROM bank_b.customers c JOIN telco.users t ON c.region = t.region GROUP BY c.region');
    const text = explainPlan(p.physical, p.bound.ctx, 'bank_a').join('\n');
    expect(text).toContain('Fragment #1 @');
    expect(text).toContain('@ gateway (bank_a)');
    expect(text).toContain('Disclosure:');
    expect(text).toMatch(/bank_b -> bank_a: rows of \(region: bank_b\.customers\.region \[public\]\)/);
  });
});
