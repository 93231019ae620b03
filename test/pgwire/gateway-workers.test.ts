/**
 * A multi-process gateway (`gateway.workers: 2`): the node serves some sessions itself and hands
 * others to a forked worker process. Sessions on either process see the same federation (the
 * worker reaches its own party over mutual TLS), CancelRequests reach the session they name
 * whichever process receives them, SCRAM salts do not depend on the process (no way to tell
 * known from unknown user names by comparing connections), and a killed worker is replaced
 * while the node keeps serving. The node's party listens on 0.0.0.0 (as in production), so the
 * worker must dial it on loopback and still check its certificate against the federation name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/free-port.js';
import { writeFederation } from '../../cli/federation-files.js';
import { loadNodeConfig } from '../../connectors/config.js';
import { runNode, type RunningNode } from '../../server/node.js';

const quiet = { info: () => undefined, warn: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Index of the gateway process that owns a session: the top bits of its BackendKeyData pid. */
const ownerOf = (c: pg.Client) => (c as unknown as { processID: number }).processID >>> 24;
/** Gateway worker processes forked by this test process. */
function workerPids(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'gateway-worker-main'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
const keyOf = (c: pg.Client) => c as unknown as { processID: number; secretKey: number };

function sendCancel(port: number, pid: number, secret: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(serialize.cancel(pid, secret)));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

/** The salt of the SCRAM server-first-message the gateway sends for `user`. */
function scramSalt(port: number, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(serialize.startup({ user, database: 'veilsql' }));
    });
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const type = String.fromCharCode(buf[0]!);
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type !== 'R') return reject(new Error(`unexpected message ${type}`));
        const code = body.readInt32BE(0);
        if (code === 10) s.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=,r=abcdefghijklmnopqrstuvwx'));
        else if (code === 11) {
          const salt = /(?:^|,)s=([^,]+)/.exec(body.subarray(4).toString())?.[1];
          s.destroy();
          return salt ? resolve(salt) : reject(new Error('no salt'));
        }
      }
    });
    s.on('error', reject);
  });
}

describe('multi-process gateway', () => {
  let dir: string;
  let bankA: RunningNode;
  let bankB: RunningNode;
  let port: number;
  const clients: pg.Client[] = [];

  /**
   * Waits until the gateway counts exactly the sessions this test holds open: a session ended by
   * the client leaves the node's (or a worker's) count a moment later, and placement is by count.
   */
  const settled = async () => {
    const count = () => bankA.gatewaySessions().reduce((a, b) => a + b, 0);
    for (let i = 0; i < 200 && count() !== clients.length; i++) await sleep(25);
    expect(count()).toBe(clients.length);
  };

  /** Cancels until the query settles: a CancelRequest that arrives before the query starts is ignored, as in Postgres. */
  const cancelUntilSettled = async (target: pg.Client, running: Promise<unknown>, secret = keyOf(target).secretKey) => {
    let done = false;
    void running.finally(() => (done = true));
    while (!done) {
      await sendCancel(port, keyOf(target).processID, secret);
      await Promise.race([running, sleep(500)]);
    }
  };

  const connect = async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'analyst', password: 'analyst', database: 'veilsql' });
    await c.connect();
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veilsql-gw-workers-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    for (const [bank, n] of [['a', 30], ['b', 12]] as const) {
      await c.run(`COPY (SELECT i::INTEGER AS id, 'r' || (i % 3) AS region FROM range(${n}) t(i)) TO '${join(dir, `${bank}.parquet`)}' (FORMAT parquet)`);
    }
    c.closeSync();
    db.closeSync();
    const [pa, pb, pg_] = await Promise.all([freePort(), freePort(), freePort()]);
    const fed = await writeFederation(dir, {
      name: 'gwworkers',
      nodes: [
        { name: 'bank_a', port: pa, tables: [{ name: 't', source: join(dir, 'a.parquet'), columns: { id: 'public', region: 'public' } }], gateway: { port: pg_, auth: 'scram-sha-256', workers: 2 } },
        { name: 'bank_b', port: pb, tables: [{ name: 't', source: join(dir, 'b.parquet'), columns: { id: 'public', region: 'public' } }] },
      ],
    });
    const config = (name: string) => ({ ...loadNodeConfig(fed.nodes.find((n) => n.name === name)!.configPath), database: ':memory:' });
    bankB = await runNode(config('bank_b'), { logger: quiet });
    bankA = await runNode({ ...config('bank_a'), listen: { host: '0.0.0.0', port: pa } }, { logger: quiet });
    port = bankA.gatewayPort!;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await bankA?.close();
    await bankB?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('spreads sessions over both processes, and each answers federated queries', async () => {
    await settled();
    const sessions = await Promise.all([connect(), connect(), connect(), connect()]);
    expect(sessions.map(ownerOf).sort()).toEqual([0, 0, 1, 1]);
    const sql = 'SELECT a.region, count(*) AS n, (SELECT count(*) FROM bank_b.t) AS nb FROM bank_a.t a GROUP BY a.region ORDER BY a.region';
    const results = await Promise.all(sessions.map((s) => s.query(sql)));
    for (const r of results) {
      expect(r.rows.map((row) => [row.region, String(row.n), String(row.nb)])).toEqual([['r0', '10', '12'], ['r1', '10', '12'], ['r2', '10', '12']]);
    }
    await Promise.all(sessions.map((s) => s.end()));
    clients.length = 0;
  }, 60_000);

  it('negotiates TLS on every process', async () => {
    const tlsClient = async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'analyst', password: 'analyst', database: 'veilsql', ssl: { rejectUnauthorized: false } });
      await c.connect();
      clients.push(c);
      return c;
    };
    await settled();
    const sessions = [await tlsClient(), await tlsClient()];
    expect(sessions.map(ownerOf).sort()).toEqual([0, 1]);
    for (const s of sessions) {
      expect((s as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted).toBe(true);
      expect(String((await s.query('SELECT count(*) AS n FROM bank_b.t')).rows[0].n)).toBe('12');
    }
    await Promise.all(clients.splice(0).map((c) => c.end()));
  }, 60_000);

  it('routes a CancelRequest to the process that owns the session, in both directions', async () => {
    // Least-busy placement with ties kept in the node: s1 -> node, s2 -> worker.
    await settled();
    const s1 = await connect();
    const s2 = await connect();
    expect([ownerOf(s1), ownerOf(s2)]).toEqual([0, 1]);
    const long = 'SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3';
    for (const target of [s2, s1]) {
      // Loads are 1/1, so the cancel connection lands on the node (tie): node -> worker first;
      // then with s3 open on the node (2/1) it lands on the worker: worker -> node.
      if (target === s1) {
        await settled(); // the previous CancelRequest's connection has left the node's count
        expect(ownerOf(await connect())).toBe(0);
      }
      const started = Date.now();
      const running = target.query(long).catch((e: unknown) => e);
      await sleep(200);
      await cancelUntilSettled(target, running);
      const err = (await running) as pg.DatabaseError;
      expect(err.code).toBe('57014');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await target.query('SELECT 7 AS ok')).rows[0].ok).toBe(7);
    }
    // A wrong secret cancels nothing on the other process.
    const running = s2.query('SELECT count(*) AS n FROM range(30000000) t(i) WHERE i % 7 = 3');
    await sleep(50);
    await sendCancel(port, keyOf(s2).processID, keyOf(s2).secretKey ^ 1);
    expect(String((await running).rows[0].n)).toBe('4285714');
  }, 90_000);

  it('gives the same SCRAM salt on every process, for known and unknown users', async () => {
    // Hold sessions open so that successive probes land on different processes.
    const salts = { analyst: new Set<string>(), nobody: new Set<string>() };
    const owners = new Set<number>();
    for (let i = 0; i < 4; i++) {
      owners.add(ownerOf(await connect()));
      salts.analyst.add(await scramSalt(port, 'analyst'));
      salts.nobody.add(await scramSalt(port, 'nobody'));
    }
    expect(owners).toEqual(new Set([0, 1]));
    expect(salts.analyst.size).toBe(1);
    expect(salts.nobody.size).toBe(1);
  }, 60_000);

  it('replaces a worker that dies; the node keeps serving meanwhile', async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    const workerPid = workerPids()[0]!;
    expect(workerPid).toBeGreaterThan(0);
    process.kill(workerPid, 'SIGKILL');
    await sleep(200);
    // While it restarts, every session goes to the node.
    const during = await connect();
    expect(ownerOf(during)).toBe(0);
    expect(String((await during.query('SELECT count(*) AS n FROM bank_b.t')).rows[0].n)).toBe('12');
    let back = false;
    for (let i = 0; i < 60 && !back; i++) {
      await sleep(500);
      const probe = await connect();
      back = ownerOf(probe) === 1;
      if (back) expect(String((await probe.query('SELECT count(*) AS n FROM bank_a.t')).rows[0].n)).toBe('30');
      else await probe.end();
      if (!back) clients.pop();
    }
    expect(back).toBe(true);
  }, 90_000);

  it('shuts down promptly with sessions open on both processes, telling each client', async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await settled();
    const sessions = [await connect(), await connect()];
    expect(sessions.map(ownerOf).sort()).toEqual([0, 1]);
    // The first error is the FATAL the gateway sends; pg reports the closed socket after it.
    const errors = sessions.map((s) => new Promise<string>((resolve) => s.on('error', (e: pg.DatabaseError) => resolve(e.code ?? e.message))));
    const started = Date.now();
    await bankA.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await Promise.all(errors)).toEqual(['57P01', '57P01']);
    expect(workerPids()).toEqual([]);
  }, 30_000);
});
