/**
 * CancelRequest: a 16-byte packet on a new connection carrying the BackendKeyData of the
 * session to interrupt. The running query fails with 57014 and the session stays usable; a
 * wrong secret, an unknown pid or an idle session cancel nothing.
 */
import * as net from 'node:net';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { RawPgClient, summary } from '../support/pgwire-raw-client.js';

function sendCancel(port: number, pid: number, secret: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(serialize.cancel(pid, secret)));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('query cancellation', () => {
  let gw: TestGateway;
  let client: pg.Client;
  let key: { pid: number; secret: number };

  beforeAll(async () => {
    gw = await startTestGateway();
    client = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'u', database: 'd' });
    await client.connect();
    const c = client as unknown as { processID: number; secretKey: number };
    key = { pid: c.processID, secret: c.secretKey };
    expect(key.pid).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await client?.end();
    await gw?.stop();
  });

  it('cancels a sleeping query with 57014 and keeps the session', async () => {
    const started = Date.now();
    const running = client.query('select pg_sleep(30)').catch((e: unknown) => e);
    await sleep(200);
    await sendCancel(gw.port, key.pid, key.secret);
    const err = (await running) as pg.DatabaseError;
    expect(err.code).toBe('57014');
    expect(err.message).toBe('canceling statement due to user request');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await client.query('select 1 as ok')).rows[0].ok).toBe(1);
  });

  it('interrupts a long-running DuckDB query (engine sees the AbortSignal)', async () => {
    const started = Date.now();
    const running = client.query('select count(*) from range(100000000000) t(i) where i % 7 = 3').catch((e: unknown) => e);
    await sleep(300);
    await sendCancel(gw.port, key.pid, key.secret);
    const err = (await running) as pg.DatabaseError;
    expect(err.code).toBe('57014');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await client.query('select 2 as ok')).rows[0].ok).toBe(2);
  });

  it('cancels an extended-protocol query too', async () => {
    const running = client.query('select pg_sleep($1::integer)', [30]).catch((e: unknown) => e);
    await sleep(200);
    await sendCancel(gw.port, key.pid, key.secret);
    const err = (await running) as pg.DatabaseError;
    expect(err.code).toBe('57014');
    expect((await client.query('select $1::integer as ok', [3])).rows[0].ok).toBe(3);
  });

  it('ignores a CancelRequest with the wrong secret or an unknown pid', async () => {
    const running = client.query('select pg_sleep(0.6) as slept');
    await sleep(100);
    await sendCancel(gw.port, key.pid, key.secret ^ 1);
    await sendCancel(gw.port, key.pid ^ 0x5a5a, key.secret);
    const r = await running;
    expect(r.rowCount).toBe(1);
  });

  it('a cancel while idle affects nothing, and a cancelled statement inside a block fails the block', async () => {
    await sendCancel(gw.port, key.pid, key.secret);
    expect((await client.query('select 4 as ok')).rows[0].ok).toBe(4);
    const raw = await RawPgClient.connect(gw.port);
    await raw.query('BEGIN');
    raw.send(serialize.query('select pg_sleep(30)'));
    await sleep(200);
    await sendCancel(gw.port, raw.pid, raw.secret);
    const msgs = await raw.readUntil((m) => m.type === 'Z');
    expect(summary(msgs)).toEqual(['E:57014', 'Z:E']);
    expect(summary(await raw.query('ROLLBACK'))).toEqual(['C:ROLLBACK', 'Z:I']);
    await raw.end();
  });

  it('aborts the running query when the client disconnects', async () => {
    const raw = await RawPgClient.connect(gw.port);
    const closedBefore = gw.engine.stats.closed;
    raw.send(serialize.query('select count(*) from range(100000000000) t(i) where i % 7 = 3'));
    await sleep(200);
    raw.destroy();
    for (let i = 0; i < 200 && gw.engine.stats.closed === closedBefore; i++) await sleep(25);
    expect(gw.engine.stats.closed).toBe(closedBefore + 1);
    // The gateway is still fine.
    expect((await client.query('select 5 as ok')).rows[0].ok).toBe(5);
  });
});
