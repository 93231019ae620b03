/**
 * Failures around the dedupe, each a SqlError that names the node, never a crash or a hang:
 * - t-of-n availability: with one of three key holders dead the hub picks another set and the
 *   answer is still exact; with two dead (fewer than t = 2 left) the query fails with 08006
 *   naming the unreachable holders; a dead hub is 08006 naming the hub;
 * - a dead lender (neither the requester nor a key holder) does not stop the dedupe — the hub
 *   answers from tokens uploaded beforehand, the dead lender's included — while a query that
 *   reads the federated table's members fails with 08006 naming it;
 * - a lender whose own policy does not let its time column reach the hub refuses to upload
 *   (42501 naming the column) — the party decides, whatever the federation file says.
 */
import { describe, expect, it } from 'vitest';
import { SqlError } from '../../parser/errors.js';
import { AS_OF, startAlliance, TABLE } from './alliance.js';

const Q = `SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS n FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.applied_at >= DATE '${AS_OF}' - 14 AND b.PARTY <> 'lender_001' GROUP BY a.app_id ORDER BY a.app_id`;
const E = (all: string, me: string) => `SELECT a.app_id, count(DISTINCT b.lender) FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.applied_at >= DATE '${AS_OF}' - 14 AND b.lender <> 'lender_001' GROUP BY a.app_id ORDER BY a.app_id`;

async function sqlError(p: Promise<unknown>): Promise<SqlError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(SqlError);
  return e as SqlError;
}

describe('dead nodes', () => {
  it('one key holder down: still exact; two down: 08006 naming them; hub down: 08006 naming it', async () => {
    const a = await startAlliance({ lenders: 4, perLender: 40, mode: 'embedded', seed: 3 });
    try {
      await a.services.get('hub')!.hub!.tick();
      await a.syncAll();
      const want = await a.expected(E);
      expect(want.length).toBeGreaterThan(2);
      await a.parties.get('regulator')!.close();
      // Several queries: the hub's round robin would pick the dead holder for some of them.
      for (let i = 0; i < 3; i++) expect((await a.query(Q)).rows).toEqual(want);
      // lender_002 stays up as a lender, but the hub can no longer reach it as a key holder.
      a.partition('hub', 'lender_002');
      const e = await sqlError(a.query(Q));
      expect(e.sqlstate).toBe('08006');
      expect(e.message).toMatch(/too few key holders of alliance\.applications are reachable: 2 of 3 are needed; unreachable: .*regulator/);
      expect(e.message).toMatch(/lender_002/);
      await a.parties.get('hub')!.close();
      const h = await sqlError(a.query(Q));
      expect(h.sqlstate).toBe('08006');
      expect(h.message).toMatch(/"hub"/);
    } finally {
      await a.close();
    }
  }, 120_000);
});

describe('a dead lender', () => {
  it('still counts in the dedupe (its tokens are at the hub); reading the members fails with 08006 naming it', async () => {
    const a = await startAlliance({ lenders: 4, perLender: 40, mode: 'embedded', seed: 3 });
    try {
      await a.services.get('hub')!.hub!.tick();
      await a.syncAll();
      const want = await a.expected(E);
      // lender_003's applications change the answer, so counting them is observable.
      const withoutDead = await a.expected((all, me) => E(all, me).replace("b.lender <> 'lender_001'", "b.lender NOT IN ('lender_001', 'lender_003')"));
      expect(want).not.toEqual(withoutDead);
      await a.stop('lender_003');

      expect((await a.query(Q)).rows).toEqual(want);
      const explain = (await a.query(`EXPLAIN ${Q}`)).rows.map((r) => r[0]).join('\n');
      expect(explain).toMatch(/unavailable now: lender_003: party "lender_003" is unreachable/);

      for (const sql of [
        'SELECT count(*) FROM alliance.applications',
        "SELECT product, count(*) FROM alliance.applications WHERE applied_at >= DATE '2024-06-01' GROUP BY product",
      ]) {
        const e = await sqlError(a.query(sql));
        expect(e.sqlstate).toBe('08006');
        expect(e.message).toBe('federated table alliance.applications: party "lender_003" is unavailable: party "lender_003" is unreachable: connection refused (stopped by the test)');
      }
      // The other lenders' own tables are still queried as usual.
      expect((await a.query('SELECT count(*) FROM lender_002.applications')).rows).toEqual([[String(a.applications.get('lender_002')!.length)]]);
    } finally {
      await a.close();
    }
  }, 120_000);
});

describe('lender policy', () => {
  it('a lender whose time column is not public refuses to upload it, naming the column', async () => {
    const a = await startAlliance({ lenders: 3, perLender: 10, mode: 'embedded', timePolicy: 'aggregate' });
    try {
      await a.services.get('hub')!.hub!.tick();
      const e = await sqlError(a.services.get('lender_002')!.lender!.syncAll());
      expect(e.sqlstate).toBe('42501');
      expect(e.message).toMatch(/policy of lender "lender_002" forbids uploading applications\.applied_at buckets to hub "hub": level aggregate/);
      expect(a.services.get('hub')!.hub!.status(TABLE)[0].rows).toBe(0);
    } finally {
      await a.close();
    }
  }, 60_000);
});
