/**
 * The `lookup` policy level and the `lookup_label` use: a `lookup` column is revealed only as
 * the label of a PRIVATE LOOKUP match and is usable for nothing else; `join_key` columns can be
 * lookup keys but never labels; EXPLAIN names the protocol and what each party learns.
 */
import { describe, expect, it } from 'vitest';
import type { Query } from '../../parser/ast.js';
import { parseStatement } from '../../parser/index.js';
import { SqlError } from '../../parser/errors.js';
import { Catalog } from '../../planner/catalog.js';
import type { PartyCatalog } from '../../planner/catalog-types.js';
import { explainPlan } from '../../planner/explain.js';
import { planQuery } from '../../planner/index.js';
import '../../executor/operators/index.js';

const bankB: PartyCatalog = {
  party: 'bank_b',
  tables: [{
    name: 'blacklist', minGroup: 10, rowCount: 100,
    columns: [
      { name: 'id_key', type: 'VARCHAR', policy: 'join_key', nullable: true, normalization: { trim: true, unicode: 'NFC', case: 'lower' } },
      { name: 'reason', type: 'VARCHAR', policy: 'lookup', nullable: true },
      { name: 'severity', type: 'BIGINT', policy: 'public', nullable: true },
      { name: 'note', type: 'VARCHAR', policy: 'private', nullable: true },
    ],
  }],
};
const bankA: PartyCatalog = { party: 'bank_a', tables: [{ name: 'applicants', minGroup: 10, rowCount: 10, columns: [{ name: 'id_key', type: 'VARCHAR', policy: 'join_key', nullable: true }, { name: 'app_id', type: 'BIGINT', policy: 'private', nullable: true }] }] };

function plan(sql: string) {
  const stmt = parseStatement(sql) as Query;
  return planQuery(stmt, new Catalog('bank_a', [bankA, bankB]), { requester: 'bank_a' });
}

function error(sql: string): SqlError {
  try {
    plan(sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe('lookup level', () => {
  it('is revealed through PRIVATE LOOKUP, and may then be filtered and grouped by the requester', () => {
    const p = plan('SELECT a.app_id, b.reason FROM bank_a.applicants a PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key WHERE b.reason IS NOT NULL');
    const stage = p.physical.stages.find((s) => s.kind === 'private');
    expect(stage && stage.kind === 'private' && stage.partyInputs[0].uses).toEqual(['secure_key', 'lookup_label']);
    expect(() => plan('SELECT b.reason, count(*) FROM bank_a.applicants a PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key GROUP BY b.reason')).not.toThrow();
  });

  it('is usable for nothing else (output, filter, aggregate, key)', () => {
    for (const sql of [
      'SELECT reason FROM bank_b.blacklist',
      "SELECT severity FROM bank_b.blacklist WHERE reason = 'x'",
      'SELECT count(reason) FROM bank_b.blacklist',
      "SELECT b.severity FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k AND b.reason = 'card fraud'",
    ]) {
      const e = error(sql);
      expect(e.sqlstate).toBe('42501');
      expect(e.message).toContain('bank_b.blacklist.reason has level lookup');
    }
  });

  it('keys cannot be labels, private columns cannot be either', () => {
    expect(error("SELECT b.id_key FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k").message).toContain('bank_b.blacklist.id_key');
    expect(error("SELECT b.note FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k").message).toContain('bank_b.blacklist.note has level private');
  });

  it('EXPLAIN states the protocol and what each party learns', () => {
    const p = plan("SELECT b.reason FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k");
    const text = explainPlan(p.physical, p.bound.ctx, 'bank_a').join('\n');
    expect(text).toContain('RFC 9497 OPRF (ristretto255) + BFV (n=2048, t=65537) with bank_b');
    expect(text).toContain('bank_a -> bank_b: only the number of distinct keys, padded to a bucket');
    expect(text).toContain('bank_b -> bank_a: for each of bank_a\'s keys, whether bank_b lists it and its label(s) (reason)');
  });

  it('refuses ON conditions that mix both sides', () => {
    expect(error("SELECT b.severity FROM (VALUES ('x', 1)) q(k, s) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k AND b.severity > q.s").sqlstate).toBe('0A000');
  });
});
