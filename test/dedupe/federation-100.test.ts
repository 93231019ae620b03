/**
 * 100 lenders, a hub and three key holders, each a real node (`runNode`: its own DuckDB, its
 * own HTTP/2 + mutual-TLS party endpoint on loopback) in this one process — 102 node processes
 * would not fit two cores — with overlapping applicant sets:
 * - every lender tokenises and uploads its applications through the hub over real mTLS;
 * - the issue's query through lender_001's Postgres gateway (node-postgres) equals the
 *   plaintext SQL answer; so does the over-threshold form;
 * - traffic capture of every session: the hub never receives an ID (as stored or normalised),
 *   its canonical key bytes, its SHA-256 / MD5 (raw or hex) or its unblinded hash-to-group
 *   element; the key holders, in their key-holder role, never receive a token, an ID or any of
 *   those hashes; positive controls show the capture sees tokens where they do travel;
 * - the key holders only ever see the hub as requester (queries are relayed; they cannot
 *   tell which lender asks).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalKeyBytes } from '../../executor/protocols/keys/canonical-key.js';
import { hashToGroup, loadSodium } from '../../executor/protocols/pir/oprf.js';
import { AS_OF, startAlliance, TABLE, type Alliance } from './alliance.js';
import { captureTraffic, find, type Capture } from './capture.js';

let a: Alliance;
let capture: Capture;
let client: pg.Client;
const RULE = { trim: true, unicode: 'NFC', case: 'lower' } as const;

beforeAll(async () => {
  capture = captureTraffic();
  a = await startAlliance({ lenders: 100, perLender: 30, mode: 'mtls', seed: 100 });
  await a.services.get('hub')!.hub!.tick();
  await a.syncAll(10);
  client = new pg.Client({ host: '127.0.0.1', port: a.gatewayPort, user: 'analyst', password: 'analyst', database: 'veilsql', types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
}, 240_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  capture?.stop();
  await a?.close();
}, 60_000);

it('every lender uploaded through the hub; counts through the gateway equal the plaintext answer', async () => {
  const status = a.services.get('hub')!.hub!.status(TABLE);
  expect(status).toHaveLength(1);
  expect(status[0].filled).toHaveLength(100);
  const where = `WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.PARTY <> 'lender_001'`;
  const sql = `SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS other_lenders FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key ${where} GROUP BY a.app_id ORDER BY a.app_id`;
  const got = (await client.query({ text: sql, rowMode: 'array' })).rows;
  const want = await a.expected((all, me) => `SELECT a.app_id, count(DISTINCT b.lender) FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.applied_at >= DATE '${AS_OF}' - 7 AND b.lender <> 'lender_001' GROUP BY a.app_id ORDER BY a.app_id`);
  expect(got).toEqual(want);
  expect(want.length).toBeGreaterThan(3);
  expect(want.some((r) => Number(r[1]) >= 2)).toBe(true);
  const flag = `SELECT a.app_id FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.PARTY <> 'lender_001' GROUP BY a.app_id HAVING COUNT(DISTINCT b.PARTY) >= 2 ORDER BY a.app_id`;
  expect((await client.query({ text: flag, rowMode: 'array' })).rows).toEqual(
    await a.expected((all, me) => `SELECT a.app_id FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.lender <> 'lender_001' GROUP BY a.app_id HAVING count(DISTINCT b.lender) >= 2 ORDER BY a.app_id`),
  );
}, 120_000);

it('the hub never receives an ID or its hash; key holders never receive a token or an ID', async () => {
  const sodium = await loadSodium();
  const ids = new Set<string>();
  for (const apps of a.applications.values()) for (const x of apps) if (x.id_key) ids.add(x.id_key);
  const needles: Uint8Array[] = [];
  const describe: string[] = [];
  const add = (bytes: Uint8Array, what: string) => {
    needles.push(bytes);
    describe.push(what);
  };
  for (const id of ids) {
    const norm = id.normalize('NFC').trim().toLowerCase();
    for (const v of new Set([id, id.trim(), norm, norm.toUpperCase()])) {
      add(new TextEncoder().encode(v), `ID ${v}`);
      for (const alg of ['sha256', 'md5'] as const) {
        const digest = createHash(alg).update(v).digest();
        add(new Uint8Array(digest), `${alg}(${v})`);
        add(new TextEncoder().encode(digest.toString('hex')), `${alg} hex(${v})`);
        add(new TextEncoder().encode(digest.toString('hex').toUpperCase()), `${alg} HEX(${v})`);
      }
    }
    const canon = canonicalKeyBytes([id], [RULE])!;
    add(canon, `canonical key of ${id}`);
    add(hashToGroup(sodium, canon), `unblinded hash-to-group of ${id}`);
  }
  const hubIndex = a.services.get('hub')!.hub!.index(TABLE, 1)!;
  const tokens = [...hubIndex.rows()].map((r) => r.token);
  expect(tokens.length).toBeGreaterThan(2000);

  // The hub: nothing that identifies an applicant (only tokens, blinded elements, buckets).
  const hubGot = capture.receivedBy('hub');
  expect(hubGot.length).toBeGreaterThan(100_000);
  const leaked = [...find(hubGot, needles)].map((i) => describe[i]);
  expect(leaked).toEqual([]);
  // Positive control: the capture does see what the hub legitimately receives (the tokens).
  expect(find(hubGot, tokens.slice(0, 200)).size).toBe(200);

  // The key holders, as key holders: neither tokens nor IDs nor hashes.
  const holderProtocols = (p: string) => p.startsWith('toprf-');
  for (const h of a.holders) {
    const got = capture.receivedBy(h, holderProtocols);
    expect(got.length).toBeGreaterThan(10_000);
    expect([...find(got, tokens)].length).toBe(0);
    expect([...find(got, needles)].map((i) => describe[i])).toEqual([]);
  }
  // The regulator holds keys only: nothing it received at all carries a token or an ID.
  const regulator = capture.receivedBy('regulator');
  expect(find(regulator, tokens).size + find(regulator, needles).size).toBe(0);
  // Positive control for the search itself.
  const planted = new Uint8Array([...hubGot.subarray(0, 50), ...needles[0], ...tokens[0]]);
  expect(find(planted, needles).has(0)).toBe(true);
  expect(find(planted, tokens).has(0)).toBe(true);
}, 120_000);

it('key holders only ever hear from the hub (the requester stays hidden)', () => {
  const evals = capture.sessions.filter((s) => s.protocol === 'toprf-eval/1');
  expect(evals.length).toBeGreaterThan(10);
  expect(new Set(evals.map((s) => s.requester))).toEqual(new Set(['hub']));
  // The relayed requests carry no lender name: only table, epoch and the holder set.
  for (const s of evals) {
    const request = JSON.parse(new TextDecoder().decode(s.toParty[0])) as { params: Record<string, unknown> };
    expect(Object.keys(request.params).sort()).toEqual(['epoch', 'set', 'table']);
  }
  // Sub-shares of the key travel holder to holder, never through the hub (each of the 3 holders
  // deals to the 2 others per key generation; a generation the hub started before every holder
  // was up may have sent some too).
  const shares = capture.sessions.filter((s) => s.protocol === 'toprf-keygen/1' && new TextDecoder().decode(s.toParty[0]).includes('"op":"share"'));
  expect(shares.length).toBeGreaterThanOrEqual(6);
  for (const s of shares) expect(a.holders).toContain(s.requester);
  expect(capture.sessions.filter((s) => s.party === 'hub' || s.requester === 'hub').every((s) => !new TextDecoder().decode(s.toParty[0]).includes('"op":"share"'))).toBe(true);
});
