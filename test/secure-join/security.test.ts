/**
 * Security properties of SECURE JOIN, in one process (embedded parties, traffic captured at the
 * connector / FrameChannel level):
 * - no key, normalised key, canonical key bytes, or SHA-256/MD5 of any of them crosses to or
 *   from the other party, in row and aggregate mode (positive control: the same search finds a
 *   key that is deliberately revealed as a public column);
 * - the other party never receives a fragment, only the protocol input it re-checks itself;
 * - the party refuses a request that would reveal a join_key or aggregate-level column, even
 *   when the requester bypasses the planner; its audit log holds no matched-row identity in
 *   aggregate mode;
 * - EXPLAIN names the protocol and what each party learns; progress NOTICEs are sent;
 * - unsupported shapes are refused with 0A000 and a message naming what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { SqlError } from '../../parser/errors.js';
import { SECURE_JOIN_PROTOCOL } from '../../planner/operators/secure-join.js';
import { capturing, leakedKeys, newCapture, type Capture } from './capture.js';
import { NORMALIZE, startPsiFederation, type AlphaRow, type BetaRow, type PsiFederation } from './psi-federation.js';

const id = (n: number) => `ID${String(900000000000 + n * 7919)}`;
// Untidy spellings on both sides: the normalised form matches, the raw one does not.
const alphaRows: AlphaRow[] = Array.from({ length: 400 }, (_, i) => ({ id: i, k1: i % 5 === 0 ? ` ${id(i).toLowerCase()} ` : id(i), k2: 1, g: `g${i % 4}`, x: i % 7 }));
const betaRows: BetaRow[] = Array.from({ length: 400 }, (_, i) => ({
  rid: i,
  k1: i % 3 === 0 ? id(i + 200).toLowerCase() : id(i + 200),
  k2: '1.00',
  w: i === 7 ? id(7) : `w${i % 9}`,
  amount: ((i * 37) % 1000).toFixed(2),
  secret: `S-${i}`,
}));
const allKeys = [...new Set([...alphaRows.map((r) => r.k1!), ...betaRows.map((r) => r.k1!)])];

let fed: PsiFederation;
const capture: Capture = newCapture();

beforeAll(async () => {
  fed = await startPsiFederation({ wrapBeta: (c) => capturing(c, capture) });
  await fed.setTables(alphaRows, betaRows);
}, 60_000);

afterAll(async () => {
  await fed?.close();
});

const reset = () => {
  capture.chunks.length = 0;
  capture.fragments.length = 0;
  capture.requests.length = 0;
  capture.frames = 0;
};

describe('traffic between the gateway and the other party', () => {
  it('row mode: no key in any form crosses; only the protocol input goes to the party', async () => {
    reset();
    const r = await fed.query('SELECT a.id, b.rid, b.w FROM alpha.t a SECURE LEFT JOIN beta.t b ON a.k1 = b.k1 AND a.k2 = b.k2');
    expect(r.rows.filter((row) => row[1] !== null)).toHaveLength(200);
    expect(capture.frames).toBeGreaterThan(3);
    expect(capture.fragments).toEqual([]);
    expect(capture.requests.map((q) => q.protocol)).toEqual([SECURE_JOIN_PROTOCOL]);
    expect(leakedKeys(capture, allKeys, NORMALIZE)).toEqual([]);
    // Positive control: a key-shaped constant the query itself sends to beta (in the protocol
    // input's WHERE clause) is found by the same search.
    reset();
    await fed.query(`SELECT a.id FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1 WHERE b.w <> '${id(7)}'`);
    expect(leakedKeys(capture, [id(7)], NORMALIZE).length).toBeGreaterThan(0);
  }, 60_000);

  it('aggregate mode (PSI-sum): no key in any form crosses, and the party audits no row identity', async () => {
    reset();
    const before = (await fed.beta.auditLog().records()).length;
    const r = await fed.query('SELECT a.g, count(*) AS n, sum(b.amount) AS s FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1 GROUP BY a.g ORDER BY a.g');
    expect(r.rows.map((row) => row[1])).toEqual(['50', '50', '50', '50']);
    expect(leakedKeys(capture, allKeys, NORMALIZE)).toEqual([]);
    expect(capture.requests[0].params).toMatchObject({ mode: 'aggregate' });
    const audit = (await fed.beta.auditLog().records()).slice(before);
    const text = JSON.stringify(audit);
    expect(text).toMatch(/PSI-sum/);
    for (const k of allKeys) expect(text).not.toContain(k.trim());
    for (const row of betaRows.slice(0, 50)) expect(text).not.toContain(`"${row.rid}"`);
  }, 60_000);
});

describe('policy is enforced by the party itself', () => {
  it('the planner refuses revealing an aggregate-level column in row mode', async () => {
    await expect(fed.query('SELECT a.id, b.amount FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1')).rejects.toMatchObject({ sqlstate: '42501' });
  });

  it('a requester that bypasses the planner cannot make the party reveal a join_key, private or aggregate column', async () => {
    // Straight to beta's protocol handler, as a hostile requester would: no planner involved.
    const connector = new EmbeddedPartyConnector(fed.beta, 'alpha');
    for (const sql of [
      'SELECT t.k1 AS k, t.k1 AS leak FROM beta.t AS t',
      'SELECT t.k1 AS k, t.secret AS leak FROM beta.t AS t',
      'SELECT t.k1 AS k, t.amount AS leak FROM beta.t AS t',
    ]) {
      const channel = await connector.openProtocol(
        { queryId: 'hostile', protocol: SECURE_JOIN_PROTOCOL, params: { mode: 'row', suite: 'x25519-ell2nu-sha512', input: { sql, uses: ['secure_key', 'output'] }, keys: [{ keyType: 'VARCHAR' }] }, timeoutMs: 10_000 },
        new AbortController().signal,
      );
      await channel.send(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0]));
      const error = await channel.receive().then(() => channel.receive()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SqlError);
      expect((error as SqlError).sqlstate).toBe('42501');
    }
  });

  it('a malformed request is refused with 08P01, not a crash', async () => {
    const connector = new EmbeddedPartyConnector(fed.beta, 'alpha');
    const channel = await connector.openProtocol({ queryId: 'bad', protocol: SECURE_JOIN_PROTOCOL, params: { mode: 'row', suite: 'rot13' }, timeoutMs: 5_000 }, new AbortController().signal);
    const error = await channel.receive().catch((e: unknown) => e);
    expect((error as SqlError).sqlstate).toBe('08P01');
    // The party still serves the next query.
    expect((await fed.query('SELECT count(*) FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1')).rows).toEqual([['200']]);
  });
});

describe('EXPLAIN, notices and refusals', () => {
  it('EXPLAIN states the protocol and what each party learns, per SECURE JOIN', async () => {
    const row = (await fed.query('EXPLAIN SELECT a.id, b.w FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1')).rows.map((r) => r[0]).join('\n');
    expect(row).toMatch(/SECURE JOIN ON .* via ECDH-PSI row mode over Curve25519/);
    expect(row).toMatch(/beta learns only the number of distinct non-NULL keys of alpha's side/);
    expect(row).toMatch(/alpha learns which of its own keys beta has and, for those rows only, the values of w/);
    expect(row).toMatch(/protocol input @ beta .*psi_key_1/);
    const agg = (await fed.query('EXPLAIN SELECT a.g, sum(b.amount) FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1 GROUP BY a.g')).rows.map((r) => r[0]).join('\n');
    expect(agg).toMatch(/via PSI-sum/);
    expect(agg).toMatch(/not which rows matched/);
    expect(agg).toMatch(/amount: statistic/);
  });

  it('progress is reported as NOTICEs', async () => {
    const r = await fed.query('SELECT count(*) FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1');
    const messages = r.notices.map((n) => n.message);
    expect(messages.some((m) => /^SECURE JOIN (\(aggregate\) )?with beta: 100% \(400\/400 keys\)$/.test(m))).toBe(true);
    const rows = await fed.query('SELECT a.id FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1');
    expect(rows.notices.map((n) => n.message)).toContain('SECURE JOIN with beta: 100% (400/400 keys)');
  });

  it.each([
    ['a non-equality ON condition', 'SELECT a.id FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1 AND a.x < 3', /only equalities/],
    ['a LEFT JOIN keeping the other party\'s rows', 'SELECT b.rid FROM beta.t b SECURE LEFT JOIN alpha.t a ON a.k1 = b.k1', /would reveal beta's unmatched rows/],
    ['floating-point keys', 'SELECT a.d FROM (SELECT CAST(id AS DOUBLE) AS d FROM alpha.t) a SECURE JOIN (SELECT CAST(rid AS DOUBLE) AS d FROM beta.t) b ON a.d = b.d', /Floating-point|not supported/],
  ])('refuses %s with 0A000', async (_what, sql, message) => {
    const error = await fed.query(sql).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlError);
    expect((error as SqlError).sqlstate).toBe('0A000');
    expect(`${(error as SqlError).message} ${(error as SqlError).hint ?? ''}`).toMatch(message);
  });
});
