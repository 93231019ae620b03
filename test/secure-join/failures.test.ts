/**
 * SECURE JOIN under failure, and over real node processes:
 * - a party that dies mid-protocol fails the query with 08006 naming it; after 20 such
 *   aborted joins no worker task is left, RSS is back within ±10% of its baseline, and the
 *   next join succeeds (nothing partial is left at the gateway);
 * - over mutual TLS with telco in its own process (its Party behind the real PartyEndpoint),
 *   traffic captured after TLS at the requester's connector holds no demo key in any form
 *   (row mode; aggregate mode is captured in-process in security.test.ts);
 * - killing the telco process mid-protocol fails the query with 08006 naming telco.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../../connectors/config.js';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { RemotePartyConnector } from '../../connectors/remote.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import { psiWorkerPool } from '../../executor/protocols/psi/worker-pool.js';
import { demoNodes } from '../../cli/demo/index.js';
import { SqlError } from '../../parser/errors.js';
import { startTestFederation, type TestFederation } from '../support/federation-processes.js';
import { medianRss, memoryAfterGc } from '../support/memory.js';
import { capturing, leakedKeys, newCapture, type CaptureOptions } from './capture.js';
import { startPsiFederation, type PsiFederation } from './psi-federation.js';

const id = (n: number) => `ID${String(700000000000 + n * 104729)}`;

describe('a party that dies mid-protocol', () => {
  let fed: PsiFederation | undefined;
  const state = { die: true };
  afterAll(async () => fed?.close());

  it('fails each join with 08006 naming it; 20 aborted joins leak no work and no memory', async () => {
    fed = await startPsiFederation({
      wrapBeta: (c) => {
        const healthy = c;
        const dying = capturing(c, newCapture(), { dieAfterFrames: 1 });
        return { ...healthy, party: c.party, catalog: (s) => c.catalog(s), execute: (r, s) => c.execute(r, s), close: () => c.close(), openProtocol: (r, s) => (state.die ? dying : healthy).openProtocol(r, s) };
      },
    });
    await fed.setTables(
      Array.from({ length: 1000 }, (_, i) => ({ id: i, k1: id(i), k2: 1, g: 'g', x: 1 })),
      Array.from({ length: 1000 }, (_, i) => ({ rid: i, k1: id(i + 500), k2: '1.00', w: 'w', amount: '1.00' })),
    );
    const join = 'SELECT a.id, b.w FROM alpha.t a SECURE JOIN beta.t b ON a.k1 = b.k1';
    const attempt = async () => {
      const e = await fed!.query(join).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SqlError);
      expect((e as SqlError).sqlstate).toBe('08006');
      expect((e as SqlError).message).toMatch(/party "beta"/);
    };
    // Warm up (worker threads, WASM, DuckDB caches) before taking the baseline.
    state.die = false;
    expect((await fed.query(join)).rows).toHaveLength(500);
    state.die = true;
    for (let i = 0; i < 5; i++) await attempt();
    // Readings after a real garbage collection (vitest runs without --expose-gc) with an idle
    // worker pool (its threads exit after 5 s without work), so both sides compare like with like.
    const idleReading = async () => {
      for (let i = 0; i < 200 && (psiWorkerPool().pendingTasks > 0 || psiWorkerPool().liveWorkers > 0); i++) await new Promise((r) => setTimeout(r, 50));
      expect(psiWorkerPool().pendingTasks).toBe(0);
      expect(psiWorkerPool().liveWorkers).toBe(0);
      return { rss: await medianRss(), heapUsed: memoryAfterGc().heapUsed };
    };
    const baseline = await idleReading();
    for (let i = 0; i < 20; i++) await attempt();
    const after = await idleReading();
    // A leak is growth: RSS may also end below the baseline (the allocator returning pages the
    // warm-up's garbage held), which is not a failure to return to it.
    expect((after.rss - baseline.rss) / baseline.rss).toBeLessThan(0.1);
    // No JavaScript-side growth either (a leak of per-join state would show here first).
    expect(after.heapUsed - baseline.heapUsed).toBeLessThan(8 * 1024 * 1024);
    // The next join runs normally.
    state.die = false;
    expect((await fed.query(join)).rows).toHaveLength(500);
  }, 120_000);
});

/** telco as a separate process serving SECURE JOIN over its mTLS endpoint (bench/secure-join-process.ts). */
async function startPartyProcess(configPath: string): Promise<ChildProcess> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bench', 'secure-join-process.js');
  const child = spawn(process.execPath, [script, 'party', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.startsWith('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`party process exited (${code})`)));
  });
  return child;
}

describe('over real processes (mutual TLS)', () => {
  let nodes: TestFederation | undefined;
  let telcoProcess: ChildProcess | undefined;
  let bankA: Party | undefined;
  let engine: FederatedEngine | undefined;
  afterAll(async () => {
    await engine?.close();
    await bankA?.close();
    if (telcoProcess && telcoProcess.exitCode === null) telcoProcess.kill('SIGKILL');
    await nodes?.stop();
  });

  it('carries no key in any form; a killed party fails the query with 08006', async () => {
    // The demo's files and certificates; telco runs as its own process with mTLS.
    nodes = await startTestFederation([]);
    const listing = demoNodes(nodes.dir);
    telcoProcess = await startPartyProcess(listing.nodes.find((n) => n.name === 'telco')!.configPath);
    const configPath = listing.nodes.find((n) => n.name === 'bank_a')!.configPath;
    const config = loadNodeConfig(configPath);
    bankA = await Party.open({ ...config, database: ':memory:' });
    registerPartyProtocols(bankA);
    const capture = newCapture();
    const hooks: CaptureOptions = {};
    const telco: PartyConnector = capturing(RemotePartyConnector.fromNodeConfig(config, 'telco', { requestTimeoutMs: 30_000 }), capture, hooks);
    engine = await FederatedEngine.create({ self: 'bank_a', connectors: new Map([['bank_a', new EmbeddedPartyConnector(bankA, 'bank_a')], ['telco', telco]]), federatedTables: [], fragmentTimeoutMs: 30_000 });
    const session = await engine.openSession('analyst', 'veilsql', {});
    const run = async (sql: string, onNotice?: () => void) => {
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: () => onNotice?.() });
      let rows = 0;
      for await (const b of outcome.batches) rows += b.numRows;
      return rows;
    };
    expect(await run('SELECT c.customer_id, t.age_band FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key')).toBeGreaterThan(2000);
    // Every id_key of both tables, as stored in the demo data.
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const keys: string[] = [];
    for (const file of ['bank_a/customers.parquet', 'telco/users.parquet']) {
      const rows = (await c.runAndReadAll(`SELECT DISTINCT id_key FROM '${join(nodes.dir, 'data', file)}' WHERE id_key IS NOT NULL`)).getRows();
      for (const r of rows) keys.push(String(r[0]));
    }
    c.closeSync();
    db.closeSync();
    expect(keys.length).toBeGreaterThan(5000);
    const rule = { trim: true, unicode: 'NFC', case: 'lower' } as const;
    expect(capture.frames).toBeGreaterThan(5);
    expect(leakedKeys(capture, keys, rule)).toEqual([]);
    expect(readFileSync(join(nodes.dir, 'telco.node.yaml'), 'utf8')).toMatch(/id_key/);

    // Kill telco inside the protocol session, just before the requester's first frame reaches it
    // (the join is too fast now for a progress notice to arrive while telco still has work).
    let killed = false;
    hooks.beforeSend = async () => {
      if (killed) return;
      killed = true;
      const exited = once(telcoProcess!, 'exit');
      telcoProcess!.kill('SIGKILL');
      await exited;
    };
    const error = await run('SELECT c.customer_id, t.age_band FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key').catch((e: unknown) => e);
    expect(killed).toBe(true);
    expect(error).toBeInstanceOf(SqlError);
    expect((error as SqlError).sqlstate).toBe('08006');
    expect((error as SqlError).message).toMatch(/telco/);
  }, 180_000);
});
