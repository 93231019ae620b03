/**
 * The dedupe operator end to end over an embedded alliance (8 lenders, hub, 3 key holders with
 * t = 2; every node a real Party with its own DuckDB, reached through embedded connectors):
 * - counts equal the plaintext SQL answer for the issue's query and its variants (time bounds,
 *   PARTY filters, coarse groups, a global aggregate, the requester's own rows counted);
 * - HAVING COUNT(DISTINCT PARTY) >= τ reveals only flags (the hub answers 0/1; EXPLAIN says so),
 *   unless the count is selected;
 * - EXPLAIN names the protocol and what the hub, the key holders and the requester learn;
 * - refusals: other aggregates, filters the hub cannot apply, misaligned time bounds, a
 *   requester that is not a lender — each SqlError names the thing;
 * - new applications are uploaded incrementally; a fresh applicant costs one evaluation per
 *   key holder of the set and one hub lookup;
 * - key rotation: a new jointly generated key, re-tokenisation, the switch, and the old key's
 *   shares destroyed at every holder; tokens of two epochs are unlinkable;
 * - the parties defend themselves: a key holder refuses evaluations not from the hub, the hub
 *   refuses non-lenders, malformed frames cost one session (08P01) and leave no partial upload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { SqlError } from '../../parser/errors.js';
import { decodeCounts, encodeElements, encodeJson, encodeRows, FrameType, putRow, UPLOAD_ADD } from '../../executor/protocols/toprf/messages.js';
import { AS_OF, startAlliance, TABLE, type Alliance } from './alliance.js';

let a: Alliance;

beforeAll(async () => {
  a = await startAlliance({ lenders: 8, perLender: 60, mode: 'embedded', seed: 11 });
  await a.services.get('hub')!.hub!.tick();
  await a.syncAll();
}, 120_000);

afterAll(async () => a?.close());

const Q = (where: string, extra = '') =>
  `SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS other_lenders FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key ${where} GROUP BY a.app_id ${extra} ORDER BY a.app_id`;
const E = (where: string, extra = '') => (all: string, me: string) =>
  `SELECT a.app_id, count(DISTINCT b.lender) AS other_lenders FROM ${me} a JOIN ${all} b ON a.k = b.k ${where} GROUP BY a.app_id ${extra} ORDER BY a.app_id`;

async function expectError(p: Promise<unknown>, sqlstate: string, message: RegExp): Promise<SqlError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(SqlError);
  expect((e as SqlError).sqlstate).toBe(sqlstate);
  expect((e as SqlError).message).toMatch(message);
  return e as SqlError;
}

describe('counts equal the plaintext computation', () => {
  const cases: [string, string, string][] = [
    ['the issue\'s query (last 7 days, other lenders)', `WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.PARTY <> 'lender_001'`, `WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.lender <> 'lender_001'`],
    ['a closed window', `WHERE b.applied_at >= DATE '2024-06-15' AND b.applied_at < DATE '2024-06-22' AND b.PARTY <> 'lender_001'`, `WHERE b.applied_at >= DATE '2024-06-15' AND b.applied_at < DATE '2024-06-22' AND b.lender <> 'lender_001'`],
    ['no time filter, own rows counted too', '', ''],
    ['PARTY IN a list', `WHERE b.PARTY IN ('lender_002', 'lender_005', 'lender_008')`, `WHERE b.lender IN ('lender_002', 'lender_005', 'lender_008')`],
    ['NOT IN and OR', `WHERE NOT (b.PARTY IN ('lender_001', 'lender_002') OR b.PARTY = 'lender_003')`, `WHERE NOT (b.lender IN ('lender_001', 'lender_002') OR b.lender = 'lender_003')`],
    ['an empty window', `WHERE b.applied_at >= DATE '2030-01-01'`, `WHERE b.applied_at >= DATE '2030-01-01'`],
  ];
  for (const [name, where, plain] of cases) {
    it(name, async () => {
      const got = await a.query(Q(where));
      const want = await a.expected(E(plain));
      expect(got.rows).toEqual(want);
      if (!/2030/.test(where)) expect(want.length).toBeGreaterThan(5);
    }, 60_000);
  }

  it('groups of several keys, a filter on the requester\'s rows, and a global aggregate', async () => {
    const sql = `SELECT a.product, COUNT(DISTINCT b.PARTY) AS n FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE a.applied_at >= DATE '2024-06-20' AND b.PARTY <> 'lender_001' GROUP BY a.product ORDER BY a.product`;
    expect((await a.query(sql)).rows).toEqual(await a.expected((all, me) => `SELECT a.product, count(DISTINCT b.lender) FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE a.applied_at >= DATE '2024-06-20' AND b.lender <> 'lender_001' GROUP BY a.product ORDER BY a.product`));
    const global = `SELECT COUNT(DISTINCT b.PARTY) AS n FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.PARTY <> 'lender_001'`;
    expect((await a.query(global)).rows).toEqual(await a.expected((all, me) => `SELECT count(DISTINCT b.lender) FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.lender <> 'lender_001'`));
    const none = `SELECT COUNT(DISTINCT b.PARTY) AS n FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.applied_at >= DATE '2030-01-01'`;
    expect((await a.query(none)).rows).toEqual([['0']]);
  }, 60_000);

  it('a fresh applicant (VALUES) costs one evaluation per key holder of the set and one lookup', async () => {
    const someone = a.applications.get('lender_004')!.find((x) => x.id_key)!.id_key!;
    const holders = a.holders.map((h) => a.services.get(h)!.keyHolder!);
    const before = holders.reduce((s, h) => s + (h.evaluated.get(TABLE) ?? 0), 0);
    const r = await a.query(`SELECT q.k, COUNT(DISTINCT b.PARTY) AS n FROM (VALUES ('  ${someone.toUpperCase()}  ')) q(k) SECURE JOIN alliance.applications b ON b.id_key = q.k GROUP BY q.k`);
    const after = holders.reduce((s, h) => s + (h.evaluated.get(TABLE) ?? 0), 0);
    expect(after - before).toBe(2); // one element at each of the t = 2 holders the hub picked
    const want = await a.expected((all) => `SELECT count(DISTINCT lender) FROM ${all} WHERE k = lower(trim('${someone}'))`);
    expect(r.rows).toEqual([[`  ${someone.toUpperCase()}  `, want[0][0]]]);
  }, 60_000);
});

describe('over-threshold flags', () => {
  it('HAVING without the count in the select list reveals only the flag', async () => {
    const sql = `SELECT a.app_id FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.PARTY <> 'lender_001' GROUP BY a.app_id HAVING COUNT(DISTINCT b.PARTY) >= 2 ORDER BY a.app_id`;
    const frames = a.tap('lender_001', 'hub');
    const got = await a.query(sql);
    // What the hub sent back: one COUNTS frame of 0/1 flags — no count ever crossed the wire.
    const counts = frames.filter((f) => f[0] === FrameType.Counts).map((f) => [...decodeCounts(f, new DataView(f.buffer, f.byteOffset).getUint32(1))]);
    expect(counts).toHaveLength(1);
    expect(new Set(counts[0])).toEqual(new Set([0, 1]));
    // Positive control: the count query over the same groups does carry counts above 1.
    frames.length = 0;
    await a.query(Q(`WHERE b.PARTY <> 'lender_001'`));
    expect(Math.max(...frames.filter((f) => f[0] === FrameType.Counts).flatMap((f) => [...decodeCounts(f, new DataView(f.buffer, f.byteOffset).getUint32(1))]))).toBeGreaterThan(1);
    const want = await a.expected((all, me) => `SELECT a.app_id FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.lender <> 'lender_001' GROUP BY a.app_id HAVING count(DISTINCT b.lender) >= 2 ORDER BY a.app_id`);
    expect(got.rows).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
    const plan = (await a.query(`EXPLAIN ${sql}`)).rows.map((r) => r[0]).join('\n');
    expect(plan).toMatch(/over-threshold flags \(>= 2\)/);
    expect(plan).toMatch(/only whether COUNT\(DISTINCT PARTY\) >= 2 \(a flag, not the count\)/);
    // > 1 is the same threshold.
    expect((await a.query(sql.replace('>= 2', '> 1'))).rows).toEqual(want);
  }, 60_000);

  it('HAVING with the count selected reveals counts and filters at the gateway', async () => {
    const sql = Q(`WHERE b.PARTY <> 'lender_001'`, 'HAVING COUNT(DISTINCT b.PARTY) >= 2');
    expect((await a.query(sql)).rows).toEqual(await a.expected(E(`WHERE b.lender <> 'lender_001'`, 'HAVING count(DISTINCT b.lender) >= 2')));
    const plan = (await a.query(`EXPLAIN ${sql}`)).rows.map((r) => r[0]).join('\n');
    expect(plan).toMatch(/; counts  @ gateway/);
  }, 60_000);
});

describe('EXPLAIN and refusals', () => {
  it('EXPLAIN names the protocol, the hub, the key holders and what each learns', async () => {
    const plan = (await a.query(`EXPLAIN ${Q(`WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.PARTY <> 'lender_001'`)}`)).rows.map((r) => r[0]).join('\n');
    expect(plan).toMatch(/multi-lender dedupe: threshold OPRF tokens .*key 2-of-3 among lender_001, lender_002, regulator.*counted by hub hub over alliance\.applications/);
    expect(plan).toMatch(/counting 7 of 8 lenders/);
    expect(plan).toMatch(/hub hub sees: pseudonymous 16-byte tokens .*never an ID or a plain hash.*uploading lender/);
    expect(plan).toMatch(/key holders lender_001, lender_002, regulator see: blinded elements relayed by hub .* not lender_001, not a token, not an ID/);
    expect(plan).toMatch(/lender_001 learns per group of its own rows the count of distinct lenders/);
  });

  it('refuses what the hub cannot answer exactly, naming it', async () => {
    await expectError(a.query(`SELECT a.app_id, COUNT(DISTINCT b.PARTY), COUNT(*) FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key GROUP BY a.app_id`), '0A000', /computes only COUNT\(DISTINCT applications\.PARTY\)/);
    await expectError(a.query(Q(`WHERE b.product = 'cash_loan'`)), '0A000', /cannot filter alliance\.applications by product/);
    await expectError(a.query(Q(`WHERE b.PARTY LIKE 'lender%'`)), '0A000', /only =, <>, IN and NOT IN of alliance\.applications\.PARTY/);
    const e = await expectError(a.query(Q(`WHERE b.applied_at >= TIMESTAMP '2024-06-20 12:00:00'`)), '0A000', /buckets of 1 day\(s\): the bound .* is not on a bucket boundary/);
    expect(e.hint).toMatch(/current_date - 7/);
    await expectError(a.query(Q(`WHERE b.applied_at > DATE '2024-06-20'`)), '0A000', /cannot answer .* > .* exactly for a TIMESTAMP column/);
  }, 60_000);

  it('only lenders may ask the hub: the planner and the hub both refuse another node', async () => {
    const { FederatedEngine } = await import('../../executor/engine.js');
    const connectors = new Map<string, PartyConnector>(a.lenders.map((l) => [l, new EmbeddedPartyConnector(a.parties.get(l)!, 'regulator')]));
    const engine = await FederatedEngine.create({ self: 'regulator', connectors, federatedTables: [...a.configs.get('regulator')!.federation.federatedTables.values()], fragmentTimeoutMs: 30_000 });
    try {
      const s = await engine.openSession('analyst', 'veilsql', {});
      const run = async () => {
        const out = await s.execute(`SELECT q.k, COUNT(DISTINCT b.PARTY) FROM (VALUES ('ID1')) q(k) SECURE JOIN alliance.applications b ON b.id_key = q.k GROUP BY q.k`, [], { signal: new AbortController().signal, notice: () => undefined });
        for await (const _ of out.batches) void _;
      };
      await expectError(run(), '42501', /only lenders of alliance\.applications may query its dedupe hub; regulator is not one of its parties/);
    } finally {
      await engine.close();
    }
    // The hub checks for itself, whatever a requester's planner did.
    const hub = new EmbeddedPartyConnector(a.parties.get('hub')!, 'regulator');
    const ch = await hub.openProtocol({ queryId: 'q', protocol: 'dedupe-hub/1', params: { op: 'query', table: TABLE, lenders: ['lender_002'], lo: null, hi: null, mode: 'count' }, timeoutMs: 5000 }, new AbortController().signal);
    await expectError(ch.receive(), '42501', /hub "hub" serves only the lenders of alliance\.applications; "regulator" is not one of them/);
  }, 60_000);
});

describe('parties defend themselves', () => {
  const open = (from: string, to: string, protocol: string, params: unknown) =>
    new EmbeddedPartyConnector(a.parties.get(to)!, from).openProtocol({ queryId: 'hostile', protocol, params, timeoutMs: 5000 }, new AbortController().signal);

  it('a key holder evaluates only for the hub, and accepts key shares only from key holders', async () => {
    const ch = await open('lender_003', 'regulator', 'toprf-eval/1', { table: TABLE, epoch: 1, set: [1, 3] });
    await ch.send(encodeElements(1, new Uint8Array(32)));
    await expectError(ch.receive(), '42501', /accepts evaluations for alliance\.applications only from its hub "hub", not from "lender_003"/);
    const ks = await open('lender_003', 'regulator', 'toprf-keygen/1', { op: 'share', table: TABLE, epoch: 9, threshold: 2, holders: ['lender_001', 'lender_003', 'regulator'], share: '00'.repeat(32), commitments: ['00'.repeat(32), '00'.repeat(32)] });
    await expectError(ks.receive(), '42501', /accepts key shares .* only from its other key holders, not from "lender_003"/);
  });

  it('malformed frames cost the session (08P01) and leave no partial upload', async () => {
    const hub = a.services.get('hub')!.hub!;
    const rowsBefore = hub.status(TABLE)[0].rows;
    // Garbage instead of a frame.
    const ch1 = await open('lender_002', 'hub', 'dedupe-hub/1', { op: 'sync', table: TABLE });
    await ch1.receive();
    await ch1.send(Uint8Array.from([42, 1, 2, 3]));
    await expectError(ch1.receive(), '08P01', /expected a ELEMENTS or ROWS or COMMIT frame, got type 42/);
    // Rows whose count lies about their length.
    const ch2 = await open('lender_002', 'hub', 'dedupe-hub/1', { op: 'sync', table: TABLE });
    await ch2.receive();
    const rows = encodeRows(1, UPLOAD_ADD, new Uint8Array(40));
    await ch2.send(rows.subarray(0, rows.length - 3));
    await expectError(ch2.receive(), '08P01', /ROWS frame announces 2 rows/);
    // Valid rows but no COMMIT: dropped.
    const ch3 = await open('lender_002', 'hub', 'dedupe-hub/1', { op: 'sync', table: TABLE });
    await ch3.receive();
    const valid = new Uint8Array(20);
    putRow(valid, 0, new Uint8Array(16).fill(7), 19_900);
    await ch3.send(encodeRows(1, UPLOAD_ADD, valid));
    await ch3.end();
    await expectError(ch3.receive(), '08P01', /ended without COMMIT/);
    // A request that is not what the protocol expects.
    const ch4 = await open('lender_002', 'hub', 'dedupe-hub/1', { op: 'delete_everything', table: TABLE });
    await expectError(ch4.receive(), '08P01', /unknown op/);
    const ch5 = await open('lender_002', 'hub', 'dedupe-hub/1', { op: 'query', table: TABLE, lenders: ['lender_002'], lo: null, hi: null, mode: 'count' });
    await ch5.send(encodeJson({ hello: true }));
    await expectError(ch5.receive(), '08P01', /expected a ELEMENTS or GROUPS frame, got JSON/);
    expect(hub.status(TABLE)[0].rows).toBe(rowsBefore);
    // The hub still serves.
    expect((await a.query(Q(`WHERE b.PARTY <> 'lender_001'`))).rows).toEqual(await a.expected(E(`WHERE b.lender <> 'lender_001'`)));
  }, 60_000);
});

describe('incremental uploads and key rotation', () => {
  it('new applications are tokenised and uploaded as they arrive (only the new ones)', async () => {
    const mine = a.applications.get('lender_001')!.filter((x) => x.id_key).slice(0, 3);
    const theirs = a.applications.get('lender_006')!;
    const added = mine.map((m, i) => ({ app_id: 6_900_000 + i, id_key: `${m.id_key!.trim().toUpperCase()} `, applied_at: `${AS_OF} 09:00:00`, product: 'cash_loan' }));
    const fresh = { app_id: 6_900_100, id_key: 'ID-NEVER-SEEN-1', applied_at: `${AS_OF} 10:00:00`, product: 'cash_loan' };
    a.setApplications('lender_006', [...theirs, ...added, fresh]);
    const sql = Q(`WHERE b.PARTY <> 'lender_001'`);
    // Not uploaded yet: the hub still answers from the old rows.
    const stale = await a.query(sql);
    const [report] = await a.services.get('lender_006')!.lender!.syncAll();
    const epoch = report.epochs[0];
    // Known keys reuse their cached tokens; the added rows are new (key, day) pairs.
    expect(epoch.evaluated).toBeLessThanOrEqual(added.length + 1);
    expect(epoch.evaluated).toBeGreaterThanOrEqual(1);
    expect(epoch.added).toBe(added.length + 1);
    expect(epoch.removed).toBe(0);
    expect(epoch.replaced).toBe(false);
    const now = await a.query(sql);
    expect(now.rows).toEqual(await a.expected(E(`WHERE b.lender <> 'lender_001'`)));
    expect(now.rows).not.toEqual(stale.rows);
    // Withdrawn applications are removed from the hub at the next sync.
    a.setApplications('lender_006', theirs);
    const [back] = await a.services.get('lender_006')!.lender!.syncAll();
    expect(back.epochs[0].removed).toBe(added.length + 1);
    expect((await a.query(sql)).rows).toEqual(stale.rows);
  }, 60_000);

  it('rotation: a fresh joint key, re-tokenisation, the switch, and the old shares destroyed', async () => {
    const hub = a.services.get('hub')!.hub!;
    const sql = Q(`WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.PARTY <> 'lender_001'`);
    const want = await a.expected(E(`WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.lender <> 'lender_001'`));
    await hub.tick({ rotate: true });
    expect(hub.status(TABLE).map((s) => [s.epoch, s.state])).toEqual([[1, 'active'], [2, 'filling']]);
    // While epoch 2 fills, queries use epoch 1.
    expect((await a.query(sql)).rows).toEqual(want);
    await a.syncAll();
    expect(hub.status(TABLE).find((s) => s.epoch === 2)!.filled.length).toBe(8);
    const one = [...hub.index(TABLE, 1)!.rows()].map((r) => Buffer.from(r.token).toString('hex'));
    const two = new Set([...hub.index(TABLE, 2)!.rows()].map((r) => Buffer.from(r.token).toString('hex')));
    expect(one.filter((t) => two.has(t))).toEqual([]); // unlinkable across epochs
    expect(two.size).toBe(new Set(one).size);
    await hub.tick();
    expect(hub.status(TABLE).map((s) => [s.epoch, s.state])).toEqual([[2, 'active']]);
    expect(hub.index(TABLE, 1)).toBeUndefined();
    for (const h of a.holders) {
      const epochs = await a.services.get(h)!.local('test: list shares', async (ctx) => {
        const db = await ctx.database();
        try {
          return (await db.runAndReadAll(`SELECT epoch FROM __toprf_shares ORDER BY epoch`)).getRows().map((r) => Number(r[0]));
        } finally {
          db.closeSync();
        }
      });
      expect(epochs).toEqual([2]);
    }
    expect((await a.query(sql)).rows).toEqual(want);
  }, 120_000);
});
