/**
 * PRIVATE LOOKUP through the engine, on the seeded demo federation in one process:
 * - answers equal a plaintext LEFT JOIN computed independently from the owners' source files
 *   (normalised keys, duplicate entries → one row per label, misses → NULLs), for a table, a
 *   VALUES relation, multi-column keys, a filter on the owner's side and two chained owners;
 * - policy: unrevealable label columns are refused (42501), by the planner and by the owner;
 * - traffic capture: no key, canonical key or SHA-256/MD5 of either reaches the owner, and the
 *   owner's audit log records only batch sizes;
 * - the owner's table is updated incrementally when its source changes;
 * - malformed protocol input and a dead owner fail cleanly (08P01 / 08006), nothing crashes.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNodes } from '../../cli/demo/index.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { FrameChannel, PartyConnector } from '../../connectors/connector.js';
import { createFrameChannelPair } from '../../connectors/frame-pair.js';
import { SqlError } from '../../parser/errors.js';
import { canonicalKeyBytes, normalizeKeyText } from '../../executor/protocols/keys/canonical-key.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

const NORM = { trim: true, unicode: 'NFC', case: 'lower' } as const;
let fed: InProcessFederation;

async function rowsOf(sql: string): Promise<(string | null)[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(sql);
    return r.getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

function sourceOf(party: string, table: string): string {
  const node = demoNodes(fed.dir).nodes.find((n) => n.name === party)!;
  const t = loadNodeConfig(node.configPath).tables.get(table)!;
  return t.source!.endsWith('.parquet') ? `read_parquet('${t.source}')` : `read_csv('${t.source}', header = true, auto_detect = true, sample_size = -1)`;
}

/** The plaintext LEFT JOIN the lookup must equal, computed in JS from the source files. */
async function expectedLookup(localKeys: (string | null)[], party: string, labelSql: string): Promise<Map<number, string[]>> {
  const owner = await rowsOf(`SELECT id_key, ${labelSql} FROM ${sourceOf(party, 'blacklist')}`);
  const byKey = new Map<string, string[]>();
  for (const [k, label] of owner) {
    if (k === null) continue;
    const n = normalizeKeyText(k, NORM);
    byKey.set(n, [...(byKey.get(n) ?? []), label ?? 'NULL']);
  }
  const out = new Map<number, string[]>();
  localKeys.forEach((k, i) => out.set(i, k === null ? [] : byKey.get(normalizeKeyText(k, NORM)) ?? []));
  return out;
}

beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', 'bank_b', 'bank_c']);
}, 60_000);

afterAll(async () => {
  await fed?.close();
});

describe('answers equal a plaintext LEFT JOIN', () => {
  it('applicants PRIVATE LOOKUP bank_b.blacklist (duplicates give one row per label)', async () => {
    const applicants = await rowsOf(`SELECT app_id, id_key FROM ${sourceOf('bank_a', 'applicants')} ORDER BY app_id`);
    const expected = await expectedLookup(applicants.map((r) => r[1]), 'bank_b', `reason || '|' || CAST(listed_on AS VARCHAR) || '|' || CAST(severity AS VARCHAR)`);
    const got = await fed.query(
      `SELECT a.app_id, b.reason, b.listed_on, b.severity FROM bank_a.applicants a PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key`,
    );
    const want: string[] = [];
    applicants.forEach((r, i) => {
      const labels = expected.get(i)!;
      if (labels.length === 0) want.push(`${r[0]}|null|null|null`);
      for (const l of labels) want.push(`${r[0]}|${l}`);
    });
    const have = got.rows.map((r) => r.map((v) => v ?? 'null').join('|'));
    expect(have.sort()).toEqual(want.sort());
    // The demo guarantees hits, misses and at least one listed-twice key among the applicants.
    expect(want.filter((w) => !w.endsWith('null|null|null')).length).toBeGreaterThan(10);
    expect(got.types).toEqual(['BIGINT', 'VARCHAR', 'DATE', 'BIGINT']);
  }, 120_000);

  it('VALUES keys (untidy case and blanks, NULL, a miss) and a multi-column key', async () => {
    const [[key, severity]] = await rowsOf(`SELECT id_key, severity FROM ${sourceOf('bank_c', 'blacklist')} ORDER BY id_key LIMIT 1`);
    const messy = `  ${key!.toUpperCase()} `;
    const one = await fed.query(
      `SELECT q.n, c.severity FROM (VALUES (1, '${messy}'), (2, 'nobody-here'), (3, NULL)) q(n, id_key) PRIVATE LOOKUP bank_c.blacklist c ON c.id_key = q.id_key ORDER BY q.n`,
    );
    expect(one.rows).toEqual([['1', severity], ['2', null], ['3', null]]);
    const multi = await fed.query(
      `SELECT q.n, c.reason IS NOT NULL AS hit FROM (VALUES (1, '${key}', ${severity}), (2, '${key}', ${Number(severity) + 1})) q(n, id_key, sev) PRIVATE LOOKUP bank_c.blacklist c ON c.id_key = q.id_key AND c.severity = q.sev ORDER BY q.n`,
    );
    expect(multi.rows).toEqual([['1', 't'], ['2', 'f']]);
  }, 60_000);

  it('chains two owners and filters the owner side', async () => {
    const r = await fed.query(
      `SELECT count(*) AS n, count(b.reason) AS at_b, count(c.reason) AS at_c FROM bank_a.applicants a
         PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key
         PRIVATE LOOKUP bank_c.blacklist c ON c.id_key = a.id_key AND c.severity >= 4`,
    );
    const applicants = await rowsOf(`SELECT id_key FROM ${sourceOf('bank_a', 'applicants')}`);
    const atB = await expectedLookup(applicants.map((x) => x[0]), 'bank_b', 'reason');
    const atC = await expectedLookup(applicants.map((x) => x[0]), 'bank_c', 'CASE WHEN severity >= 4 THEN reason END');
    let n = 0;
    let b = 0;
    let c = 0;
    applicants.forEach((_, i) => {
      const lb = atB.get(i)!;
      const lc = atC.get(i)!.filter((x) => x !== 'NULL');
      const rowsB = Math.max(1, lb.length);
      const rowsC = Math.max(1, lc.length);
      n += rowsB * rowsC;
      b += lb.length * rowsC;
      c += lc.length * rowsB;
    });
    expect(r.rows).toEqual([[String(n), String(b), String(c)]]);
  }, 120_000);
});

describe('policy', () => {
  it('refuses to reveal the owner key or a non-label column (42501), naming the column', async () => {
    await expect(fed.query(`SELECT b.id_key FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k`)).rejects.toMatchObject({ sqlstate: '42501' });
    const e = await fed.query(`SELECT b.balance FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.customers b ON b.id_key = q.k`).catch((x: SqlError) => x);
    expect(e).toBeInstanceOf(SqlError);
    expect((e as SqlError).sqlstate).toBe('42501');
    expect((e as SqlError).message).toContain('bank_b.customers.balance');
  });

  it('the owner refuses a label use its policy forbids, whatever the requester planned', async () => {
    const party = fed.parties.get('bank_b')!;
    const [ours, theirs] = createFrameChannelPair();
    const run = party.runProtocol('bank_a', {
      queryId: 'q-bypass', protocol: 'private-lookup/3', timeoutMs: 10_000,
      params: { sql: 'SELECT CAST(id_key AS varchar) AS k, CAST(balance AS varchar) AS l FROM blacklist', uses: ['secure_key', 'lookup_label'], keySources: [{ table: 'blacklist', column: 'id_key' }] },
    }, theirs, new AbortController().signal);
    await expect(run).rejects.toMatchObject({ sqlstate: expect.stringMatching(/^(42501|42703)$/) });
    const run2 = party.runProtocol('bank_a', {
      queryId: 'q-bypass2', protocol: 'private-lookup/3', timeoutMs: 10_000,
      params: { sql: 'SELECT CAST(id_key AS varchar) AS k, CAST(id_key AS varchar) AS l FROM blacklist', uses: ['secure_key', 'lookup_label'], keySources: [{ table: 'blacklist', column: 'id_key' }] },
    }, createFrameChannelPair()[1], new AbortController().signal);
    await expect(run2).rejects.toMatchObject({ sqlstate: '42501' });
    ours.destroy();
  });
});

describe('what the owner sees', () => {
  it('no key, canonical key or its plain SHA-256/MD5 reaches the owner; its audit log shows only batch sizes', async () => {
    const keys = (await rowsOf(`SELECT id_key FROM ${sourceOf('bank_a', 'applicants')} LIMIT 40`)).map((r) => r[0]!);
    const captured: Uint8Array[] = [];
    const target: PartyConnector | undefined = fed.engine.connectors.get('bank_b');
    expect(target).toBeDefined();
    const original = target!.openProtocol.bind(target);
    target!.openProtocol = async (request, signal) => {
      captured.push(new TextEncoder().encode(JSON.stringify(request)));
      const channel = await original(request, signal);
      const wrapped: FrameChannel = { ...channel, send: async (f) => { captured.push(f); return channel.send(f); }, receive: () => channel.receive(), end: () => channel.end(), destroy: (e) => channel.destroy(e) };
      return wrapped;
    };
    const before = (await fed.parties.get('bank_b')!.auditLog().records()).length;
    try {
      const list = keys.map((k) => `('${k.replace(/'/g, "''")}')`).join(', ');
      await fed.query(`SELECT b.reason FROM (VALUES ${list}) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k`);
    } finally {
      target!.openProtocol = original;
    }
    const traffic = Buffer.concat(captured.map((c) => Buffer.from(c)));
    expect(traffic.length).toBeGreaterThan(100_000); // the ciphertexts really were captured
    for (const k of keys) {
      const canonical = canonicalKeyBytes([k], [NORM])!;
      const forms = [Buffer.from(k), Buffer.from(normalizeKeyText(k, NORM)), Buffer.from(canonical)];
      for (const f of [...forms]) {
        for (const alg of ['sha256', 'md5']) {
          const d = createHash(alg).update(f).digest();
          forms.push(d, Buffer.from(d.toString('hex')));
        }
      }
      for (const f of forms) expect(traffic.includes(f)).toBe(false);
    }
    const notes = (await fed.parties.get('bank_b')!.auditLog().records()).slice(before).map((r) => r.detail).join('\n');
    expect(notes).toContain('lookup batch: 64 key(s) (padded)');
    for (const k of keys) expect(notes.toLowerCase()).not.toContain(normalizeKeyText(k, NORM));
  }, 60_000);
});

describe('owner table maintenance and failures', () => {
  it('applies inserts and deletes incrementally when the owner\'s table changes', async () => {
    const node = demoNodes(fed.dir).nodes.find((n) => n.name === 'bank_c')!;
    const source = loadNodeConfig(node.configPath).tables.get('blacklist')!.source!;
    const rows = await rowsOf(`SELECT id_key, reason, CAST(listed_on AS VARCHAR), severity FROM ${sourceOf('bank_c', 'blacklist')} ORDER BY id_key`);
    const q = (k: string) => fed.query(`SELECT c.reason FROM (VALUES ('${k}')) q(k) PRIVATE LOOKUP bank_c.blacklist c ON c.id_key = q.k`);
    // A 4-key batch (cuckoo geometry) builds the owner's batch encoding of the same table, which
    // the sync below must update as well.
    const batch = (keys: string[]) => fed.query(`SELECT q.k, c.reason FROM (VALUES ${keys.map((k) => `('${k}')`).join(', ')}) q(k) PRIVATE LOOKUP bank_c.blacklist c ON c.id_key = q.k ORDER BY q.k`);
    const batchKeys = [rows[0][0]!, rows[1][0]!, 'new-key-0001', 'nobody-here'];
    const beforeBatch = await batch(batchKeys);
    expect(beforeBatch.rows.filter((r) => r[1] !== null).length).toBeGreaterThanOrEqual(2);
    expect(beforeBatch.rows.find((r) => r[0] === 'new-key-0001')).toEqual(['new-key-0001', null]);
    expect((await q(rows[0][0]!)).rows).toEqual([[rows[0][1]]]);
    copyFileSync(source, `${source}.bak`);
    // Delete the first entry, add a new one.
    const csv = ['id_key,reason,listed_on,severity', ...rows.slice(1).map((r) => r.join(',')), 'NEW-KEY-0001,card fraud,2024-01-02,4'].join('\n');
    writeFileSync(source, `${csv}\n`);
    await fed.parties.get('bank_c')!.refresh();
    const before = (await fed.parties.get('bank_c')!.auditLog().records()).length;
    expect((await q('new-key-0001')).rows).toEqual([['card fraud']]);
    expect((await q(rows[0][0]!)).rows).toEqual([[null]]);
    const notes = (await fed.parties.get('bank_c')!.auditLog().records()).slice(before).map((r) => r.detail);
    // Each of the two changed entries dirties one cell of the single geometry and up to 3 of the
    // cuckoo geometry (its 3 bins); both geometries are re-encoded, neither in full.
    const sync = notes.find((n) => n.startsWith('lookup table sync:'));
    expect(sync).toMatch(/^lookup table sync: 1 inserted, 1 deleted, \d+ cell\(s\) re-encoded$/);
    const cells = Number(/(\d+) cell/.exec(sync!)![1]);
    expect(cells).toBeGreaterThanOrEqual(2);
    expect(cells).toBeLessThanOrEqual(8);
    const afterBatch = await batch(batchKeys);
    expect(afterBatch.rows.find((r) => r[0] === 'new-key-0001')).toEqual(['new-key-0001', 'card fraud']);
    expect(afterBatch.rows.find((r) => r[0] === rows[0][0])).toEqual([rows[0][0], null]);
    expect(afterBatch.rows.filter((r) => r[0] === rows[1][0])).toEqual(beforeBatch.rows.filter((r) => r[0] === rows[1][0]));
    copyFileSync(`${source}.bak`, source);
    await fed.parties.get('bank_c')!.refresh();
  }, 60_000);

  it('a malformed frame is refused with 08P01 and the owner keeps serving', async () => {
    const party = fed.parties.get('bank_b')!;
    const [ours, theirs] = createFrameChannelPair();
    const run = party.runProtocol('bank_a', {
      queryId: 'q-bad', protocol: 'private-lookup/3', timeoutMs: 10_000,
      params: { sql: 'SELECT CAST(id_key AS varchar) AS k, CAST(reason AS varchar) AS l FROM blacklist', uses: ['secure_key', 'lookup_label'], keySources: [{ table: 'blacklist', column: 'id_key' }] },
    }, theirs, new AbortController().signal);
    await ours.send(new Uint8Array([0x4f, 1, 2, 3])); // the requester speaks first: a truncated OPRF frame
    await expect(run).rejects.toMatchObject({ sqlstate: '08P01' });
    const ok = await fed.query(`SELECT b.reason FROM (VALUES ('x')) q(k) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.k`);
    expect(ok.rows).toEqual([[null]]);
  }, 60_000);
});
