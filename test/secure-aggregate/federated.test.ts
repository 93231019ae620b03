/**
 * Secure aggregation over the demo's federated tables (bank_a asks; banks.customers spans
 * bank_a, bank_b, bank_c; hospitals.samples spans two hospitals), against a plaintext pooled
 * reference computed from the parties' raw rows:
 * - SUM/COUNT/AVG/VAR/STDDEV per group are exact (decimal sums to the cent, counts exact);
 * - groups below min_group are suppressed on the totals; FLOAT columns go through fixed point;
 * - no party's partial crosses the wire (captured traffic), while a plaintext per-party query
 *   over the same capture path does show them (the detector works);
 * - the party itself refuses inputs its policy forbids, suppresses its own small groups when
 *   fewer than two other parties would hide it, and survives malformed frames;
 * - a dead party fails the query with 08006 naming it, and the gateway keeps working.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createFrameChannelPair } from '../../connectors/frame-pair.js';
import { SqlError } from '../../parser/errors.js';
import { decodeAnnounce, encodeSetup } from '../../executor/operators/secure-aggregate/messages.js';
import { SecureSumAggregator, SecureSumContributor } from '../../executor/protocols/mpc/secure-sum.js';
import { readSigned } from '../../executor/protocols/mpc/ring.js';
import type { SecureAggregateParams } from '../../planner/operators/secure-aggregate-spec.js';
import { contains, ownRows, startCaptureFederation, type CaptureFederation } from './capture-federation.js';

// Generous per-test time: the suite shares 2 cores with everything else npm test runs.
vi.setConfig({ testTimeout: 60_000 });

let fed: CaptureFederation;
let ref: DuckDBConnection;
let refDb: DuckDBInstance;
const BANKS = ['bank_a', 'bank_b', 'bank_c'];

beforeAll(async () => {
  fed = await startCaptureFederation([...BANKS, 'hospital_1', 'hospital_2']);
  refDb = await DuckDBInstance.create(':memory:');
  ref = await refDb.connect();
  await ref.run('CREATE TABLE customers (party VARCHAR, region VARCHAR, segment VARCHAR, balance DECIMAL(12,2))');
  await ref.run('CREATE TABLE samples (party VARCHAR, sex INTEGER, age DOUBLE)');
  for (const p of BANKS) {
    const rows = await ownRows(fed.parties.get(p)!, 'SELECT region, segment, CAST(balance AS VARCHAR) AS b FROM customers');
    const a = await ref.createAppender('customers');
    for (const [region, segment, b] of rows) {
      a.appendVarchar(p);
      if (region === null) a.appendNull(); else a.appendVarchar(String(region));
      a.appendVarchar(String(segment));
      if (b === null) a.appendNull(); else a.appendVarchar(String(b));
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
  }
  for (const p of ['hospital_1', 'hospital_2']) {
    for (const [sex, age] of await ownRows(fed.parties.get(p)!, 'SELECT sex, age FROM samples')) {
      await ref.run(`INSERT INTO samples VALUES ('${p}', ${sex}, ${age === null ? 'NULL' : age})`);
    }
  }
}, 120_000);

afterAll(async () => {
  ref?.closeSync();
  refDb?.closeSync();
  await fed?.close();
});

async function reference(sql: string): Promise<string[][]> {
  const r = await ref.runAndReadAll(sql);
  return r.getRows().map((row) => row.map((v) => (v === null ? null : String(v))) as string[]);
}

const close = (a: string | null, b: string | null, tol: number) =>
  a === null || b === null ? a === b : Math.abs(Number(a) - Number(b)) <= tol * Math.max(1, Math.abs(Number(b)));

describe('results equal the plaintext pooled computation', () => {
  test('SUM, COUNT, AVG, VAR_SAMP, VAR_POP, STDDEV per region (decimal column)', async () => {
    const q = 'SELECT region, count(*) AS n, sum(balance) AS s, avg(balance) AS a, var_samp(balance) AS v, var_pop(balance) AS vp, stddev_samp(balance) AS sd FROM banks.customers GROUP BY region ORDER BY region NULLS LAST';
    const got = await fed.query(q);
    const want = await reference(
      `SELECT region, count(*), CAST(sum(balance) AS VARCHAR), avg(balance), var_samp(CAST(balance AS DOUBLE)), var_pop(CAST(balance AS DOUBLE)), stddev_samp(CAST(balance AS DOUBLE)) FROM customers GROUP BY region ORDER BY region NULLS LAST`,
    );
    expect(got.rows.length).toBe(want.length);
    got.rows.forEach((row, i) => {
      expect(row.slice(0, 3)).toEqual(want[i].slice(0, 3));
      for (let k = 3; k < 7; k++) expect(close(row[k], want[i][k], 1e-9), `${row[0]} col ${k}: ${row[k]} vs ${want[i][k]}`).toBe(true);
    });
  });

  test('groups below min_group are suppressed on the totals, not per party', async () => {
    const got = await fed.query('SELECT region, segment, count(*) AS n, sum(balance) AS s FROM banks.customers GROUP BY region, segment');
    const want = await reference('SELECT region, segment, count(*), CAST(sum(balance) AS VARCHAR), min(cnt) FROM (SELECT *, count(*) OVER (PARTITION BY party, region, segment) AS cnt FROM customers) GROUP BY region, segment');
    const key = (r: (string | null)[]) => `${r[0]}|${r[1]}`;
    const gotMap = new Map(got.rows.map((r) => [key(r), r]));
    const small = want.filter((r) => Number(r[2]) < 10);
    const large = want.filter((r) => Number(r[2]) >= 10);
    expect(small.length).toBeGreaterThan(0);
    for (const r of small) expect(gotMap.has(key(r)), key(r)).toBe(false);
    for (const r of large) expect(gotMap.get(key(r))?.slice(2), key(r)).toEqual([r[2], r[3]]);
    // Some released groups are small at one party: only the total counts.
    expect(large.some((r) => Number(r[4]) < 10)).toBe(true);
  });

  test('a filtered global aggregate and a DOUBLE column (fixed point)', async () => {
    const g = await fed.query("SELECT count(*) AS n, sum(balance) AS s FROM banks.customers WHERE segment = 'sme'");
    expect(g.rows).toEqual(await reference("SELECT count(*), CAST(sum(balance) AS VARCHAR) FROM customers WHERE segment = 'sme'"));
    // sex and age are aggregate-level at the hospitals: a global aggregate over the federation.
    const h = await fed.query('SELECT count(*) AS n, count(age) AS m, avg(age) AS a, stddev_pop(age) AS sd, sum(sex) AS s FROM hospitals.samples');
    const [want] = await reference('SELECT count(*), count(age), avg(age), stddev_pop(age), sum(sex) FROM samples');
    const [got] = h.rows;
    expect([got[0], got[1], got[4]]).toEqual([want[0], want[1], want[4]]);
    expect(close(got[2], want[2], 1e-6), `${got[2]} vs ${want[2]}`).toBe(true);
    expect(close(got[3], want[3], 1e-5), `${got[3]} vs ${want[3]}`).toBe(true);
  });

  test('EXPLAIN names the protocol and what the requester learns', async () => {
    const e = await fed.query('EXPLAIN SELECT region, sum(balance) AS s FROM banks.customers GROUP BY region');
    const text = e.rows.map((r) => r[0]).join('\n');
    expect(text).toMatch(/via secure aggregation \(pairwise X25519 masks, sums mod 2\^32\/2\^64\) over bank_a, bank_b, bank_c/);
    expect(text).toMatch(/bank_b -> bank_a: its distinct GROUP BY keys \(region\), then one masked vector/);
    expect(text).toMatch(/bank_a learns: per-group totals \(sum, group_size\) and group sizes, only for groups with at least 10 row\(s\) in total; no party's partial/);
    expect(text).toMatch(/bank_c keeps its rows; they only feed the protocol as \(region: output, balance: statistic\)/);
  });
});

describe('no party partial is observable on the wire', () => {
  test('captured traffic never contains bank_b\'s or bank_c\'s per-region sums', async () => {
    for (const t of fed.traffic.values()) t.length = 0;
    await fed.query('SELECT region, sum(balance) AS s, count(*) AS n FROM banks.customers GROUP BY region');
    for (const p of ['bank_b', 'bank_c']) {
      const partials = await reference(`SELECT CAST(sum(balance) * 100 AS BIGINT), CAST(sum(balance) AS VARCHAR) FROM customers WHERE party = '${p}' GROUP BY region`);
      const captured = Buffer.concat(fed.traffic.get(p)!);
      expect(captured.length).toBeGreaterThan(0);
      for (const [cents, text] of partials) {
        const le = new Uint8Array(new BigInt64Array([BigInt(cents)]).buffer);
        expect(contains(captured, le), `${p} partial ${text} as int64`).toBe(false);
        expect(contains(captured, Buffer.from(text)), `${p} partial ${text} as text`).toBe(false);
      }
    }
  });

  test('positive control: a plaintext per-party aggregate over the same capture path does show them', async () => {
    for (const t of fed.traffic.values()) t.length = 0;
    await fed.query('SELECT region, sum(balance) AS s FROM bank_b.customers GROUP BY region');
    const partials = await reference("SELECT CAST(sum(balance) AS VARCHAR) FROM customers WHERE party = 'bank_b' GROUP BY region HAVING count(*) >= 10");
    const captured = fed.traffic.get('bank_b')!;
    // Arrow carries DECIMAL(38,2) as 16-byte little-endian integers.
    const found = partials.filter(([text]) => {
      const cents = BigInt(text.replace('.', ''));
      const le = new Uint8Array(new BigInt64Array([cents]).buffer);
      return captured.some((c) => contains(c, le));
    });
    expect(found.length).toBe(partials.length);
  });
});

/** Drives one party's side of secure-aggregate-v1 by hand (as a possibly hostile requester). */
function openRaw(party: string, params: unknown) {
  const [ours, theirs] = createFrameChannelPair();
  const done = fed.parties.get(party)!.runProtocol('bank_a', { queryId: 'raw', protocol: 'secure-aggregate-v1', params, timeoutMs: 10_000 }, theirs, new AbortController().signal)
    .then(() => theirs.end(), (e: unknown) => {
      theirs.destroy(e as Error);
      throw e;
    });
  done.catch(() => undefined);
  return { channel: ours, done };
}

const countSpec = (parties: string[], groupCount: number): SecureAggregateParams => ({
  parties, groupCount, values: [{ op: 'count_star', limbs: 2 }], outputs: [{ kind: 'count', value: 0 }], outputTypes: ['BIGINT'], countStar: 0, minGroup: 1,
});

describe('the party enforces its own policy and rules', () => {
  test.each([
    ['a private column as a key', 'SELECT t.phone AS k FROM bank_b.customers AS t', ['output'], /phone has level private/],
    ['a private column as a statistic', 'SELECT t.region AS k, t.phone AS x FROM bank_b.customers AS t', ['output', 'statistic'], /phone has level private/],
    ['an aggregate column as a revealed key', 'SELECT t.balance AS k FROM bank_b.customers AS t', ['output'], /balance has level aggregate/],
  ])('refuses %s (42501)', async (_, sql, uses, message) => {
    const { done } = openRaw('bank_b', { spec: countSpec(['bank_b', 'bank_c'], 1), input: { sql, uses } });
    const e = await done.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect((e as SqlError).sqlstate).toBe('42501');
    expect((e as SqlError).message).toMatch(message);
  });

  test('refuses keys declared as anything but revealed outputs (08P01)', async () => {
    const { done } = openRaw('bank_b', { spec: countSpec(['bank_b', 'bank_c'], 1), input: { sql: 'SELECT t.region AS k FROM bank_b.customers AS t', uses: ['statistic'] } });
    await expect(done).rejects.toMatchObject({ sqlstate: '08P01' });
  });

  test('with only one other contributor, the party suppresses its own groups below min_group', async () => {
    // A requester that names itself and bank_b, and asks for min_group 1: it could unmask bank_b.
    const spec = countSpec(['bank_a', 'bank_b'], 2);
    const { channel, done } = openRaw('bank_b', { spec, input: { sql: 'SELECT t.region AS k0, t.segment AS k1 FROM bank_b.customers AS t', uses: ['output', 'output'] } });
    const aggregator = new SecureSumAggregator(2);
    const self = new SecureSumContributor(2);
    aggregator.acceptHello(0, self.hello(new Uint8Array()));
    const announce = decodeAnnounce(aggregator.acceptHello(1, (await channel.receive())!));
    aggregator.configure(announce.rows, [2]);
    self.acceptSetup(aggregator.setupFrame(0, new Uint8Array()));
    await channel.send(aggregator.setupFrame(1, encodeSetup({ rows: announce.rows, slots: Int32Array.from({ length: announce.rows }, (_, i) => i) })));
    for (const f of self.maskedFrames(new Uint32Array(announce.rows * 2))) aggregator.acceptMasked(0, f);
    for (let f = await channel.receive(); f; f = await channel.receive()) aggregator.acceptMasked(1, f);
    await done;
    const totals = aggregator.totals();
    const counts = Array.from({ length: announce.rows }, (_, s) => Number(readSigned(totals, 2 * s, 2)));
    const local = await reference("SELECT count(*) FROM customers WHERE party = 'bank_b' GROUP BY region, segment");
    expect(counts.length).toBe(local.length);
    expect(counts.filter((c) => c > 0).sort((a, b) => a - b)).toEqual(local.map((r) => Number(r[0])).filter((c) => c >= 10).sort((a, b) => a - b));
    expect(counts.some((c) => c === 0)).toBe(true);
  });

  test('a malformed SETUP fails the session with 08P01 and the party keeps serving', async () => {
    const { channel, done } = openRaw('bank_b', { spec: countSpec(['bank_b', 'bank_c'], 1), input: { sql: 'SELECT t.region AS k FROM bank_b.customers AS t', uses: ['output'] } });
    await channel.receive();
    await channel.send(new Uint8Array([2, 1, 2, 3]));
    await expect(done).rejects.toMatchObject({ sqlstate: '08P01' });
    const again = await fed.query("SELECT count(*) AS n, sum(balance) AS s FROM banks.customers WHERE segment = 'retail'");
    expect(Number(again.rows[0][0])).toBeGreaterThan(0);
  });
});

describe('failures', () => {
  test('a dead party fails the query with 08006 naming it; the gateway keeps working', async () => {
    await fed.parties.get('bank_c')!.close();
    const e = await fed.query('SELECT region, sum(balance) AS s FROM banks.customers GROUP BY region').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect((e as SqlError).sqlstate).toBe('08006');
    expect((e as SqlError).message).toContain('bank_c');
    const ok = await fed.query('SELECT count(*) AS n, avg(age) AS a FROM hospitals.samples');
    expect(Number(ok.rows[0][0])).toBeGreaterThan(0);
  });
});
