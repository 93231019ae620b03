/**
 * Party endpoint + RemotePartyConnector over real mutual TLS on loopback: catalog and fragment
 * round trips, backpressure, errors before and during streaming, cancellation, dead parties,
 * hostile requests, and the frame-channel extension point.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlError } from '../../parser/errors.js';
import type { PartyEndpoint } from '../../server/party-endpoint.js';
import { RemotePartyConnector } from '../../connectors/remote.js';
import { connector, FakeParty, makeFederation, sleep, startEndpoint, startProxy, until, type Federation } from './helpers.js';

const NODES = ['bank_a', 'telco', 'hub'];

async function expectSqlError(p: Promise<unknown>, sqlstate: string, message?: RegExp): Promise<SqlError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SqlError);
    const err = e as SqlError;
    expect(err.sqlstate, err.message).toBe(sqlstate);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected SqlError ${sqlstate}, got success`);
}

async function drain(stream: AsyncIterable<{ numRows: number }>): Promise<number> {
  let rows = 0;
  for await (const b of stream) rows += b.numRows;
  return rows;
}

describe('party endpoint over mTLS', () => {
  let fed: Federation;
  let telco: FakeParty;
  let endpoint: PartyEndpoint;
  let logs: string[];
  let client: RemotePartyConnector;

  beforeAll(async () => {
    fed = await makeFederation(NODES);
    telco = new FakeParty('telco');
    ({ endpoint, logs } = await startEndpoint(fed, telco, NODES));
    client = connector(fed, 'bank_a', 'telco', endpoint.port);
  });

  afterAll(async () => {
    await client?.close();
    await endpoint?.close(100);
    fed?.remove();
  });

  it('answers health and the catalog for the verified requester', async () => {
    await client.health();
    const catalog = await client.catalog();
    expect(catalog.party).toBe('telco');
    expect(catalog.tables[0].columns.find((c) => c.name === 'note')?.policy).toBe('public');
    expect(telco.catalogCalls.at(-1)).toBe('bank_a');
    // Another node sees its own policy: identity comes from the certificate, not the request.
    const fromHub = connector(fed, 'hub', 'telco', endpoint.port);
    const hubCatalog = await fromHub.catalog();
    expect(hubCatalog.tables[0].columns.find((c) => c.name === 'note')?.policy).toBe('private');
    await fromHub.close();
    expect(logs.some((l) => /requester=bank_a GET \/v1\/catalog status=200 bytes=\d+ ms=/.test(l))).toBe(true);
  });

  it('streams a 500K-row fragment in many batches, identical on arrival', async () => {
    const stream = await client.execute({ queryId: 'q1', sql: 'rows 500000 5000', timeoutMs: 30_000 }, new AbortController().signal);
    expect(stream.schema.fields.map((f) => `${f.name}:${f.metadata.get('veilsql.type')}`)).toEqual(['id:BIGINT', 'label:VARCHAR']);
    let rows = 0;
    let batches = 0;
    for await (const batch of stream) {
      const ids = batch.getChildAt(0)!;
      const labels = batch.getChildAt(1)!;
      expect(ids.get(0)).toBe(BigInt(rows));
      expect(labels.get(batch.numRows - 1)).toBe(`row-${rows + batch.numRows - 1}`);
      rows += batch.numRows;
      batches++;
    }
    expect(rows).toBe(500_000);
    expect(batches).toBe(100);
    expect(telco.producers.at(-1)!.finished).toBe(true);
  });

  it('applies backpressure: a slow consumer keeps the producer within a few batches', async () => {
    // ~100 KB batches and a 256 KiB receive window: only a couple of batches fit in flight.
    const slow = connector(fed, 'bank_a', 'telco', endpoint.port, { initialWindowSize: 256 * 1024 });
    const stream = await slow.execute({ queryId: 'q-bp', sql: 'rows 500000 5000', timeoutMs: 60_000 }, new AbortController().signal);
    const producer = telco.producers.at(-1)!;
    let consumed = 0;
    let maxAhead = 0;
    for await (const _batch of stream) {
      consumed++;
      if (consumed % 10 === 0 || consumed < 10) await sleep(20);
      maxAhead = Math.max(maxAhead, producer.produced - consumed);
      if (consumed === 40) break;
    }
    await until(() => producer.finished);
    // The producer never ran ahead by more than a handful of batches, and stopped when we did.
    expect(maxAhead).toBeLessThanOrEqual(8);
    expect(producer.produced).toBeLessThan(50);
    expect(producer.finished).toBe(true);
    await slow.close();
  });

  it('returns the party error before streaming with its SQLSTATE, message and hint', async () => {
    const err = await expectSqlError(
      client.execute({ queryId: 'q2', sql: 'fail-before', timeoutMs: 1000 }, new AbortController().signal),
      '42501',
      /^party "telco": permission denied for column "balance"/,
    );
    expect(err.hint).toBe('ask the owner for a grant');
  });

  it('surfaces a mid-stream error as the party SqlError after the batches before it', async () => {
    const stream = await client.execute({ queryId: 'q3', sql: 'fail-after 3', timeoutMs: 5000 }, new AbortController().signal);
    let rows = 0;
    const err = await expectSqlError(
      (async () => {
        for await (const b of stream) rows += b.numRows;
      })(),
      '22012',
      /party "telco": division by zero/,
    );
    // The Arrow reader pulls one message ahead, so the last batch before the error may not show.
    expect(rows).toBeGreaterThanOrEqual(200);
    expect(rows % 100).toBe(0);
    expect(err.detail).toMatch(/character 17 of the fragment/);
  });

  it('reports a bug in the party as XX000 without crashing it', async () => {
    await expectSqlError(client.execute({ queryId: 'q4', sql: 'crash', timeoutMs: 1000 }, new AbortController().signal), 'XX000', /internal error: oops/);
    await client.health();
  });

  it('enforces the fragment timeout at the party (57014)', async () => {
    const stream = await client.execute({ queryId: 'q5', sql: 'forever 20', timeoutMs: 300 }, new AbortController().signal);
    await expectSqlError(drain(stream), '57014', /exceeded its timeout of 300 ms/);
    await until(() => telco.producers.at(-1)!.aborted);
  });

  it('cancels the producer when the requester aborts', async () => {
    const ac = new AbortController();
    const stream = await client.execute({ queryId: 'q6', sql: 'forever 10', timeoutMs: 60_000 }, ac.signal);
    const producer = telco.producers.at(-1)!;
    let n = 0;
    const consuming = (async () => {
      for await (const _ of stream) if (++n === 3) ac.abort();
    })();
    await expectSqlError(consuming, '57014');
    await until(() => producer.aborted && producer.finished);
    const producedAtCancel = producer.produced;
    await sleep(100);
    expect(producer.produced).toBe(producedAtCancel);
    await client.health();
  });

  it('survives malformed, oversized and misrouted requests', async () => {
    const session = http2.connect(`https://127.0.0.1:${endpoint.port}`, { ...fed.pem('bank_a'), checkServerIdentity: () => undefined });
    session.on('error', () => undefined);
    const send = (headers: http2.OutgoingHttpHeaders, body?: Buffer) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request(headers, { endStream: body === undefined });
        let status = 0;
        const chunks: Buffer[] = [];
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('close', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
        req.on('error', reject);
        if (body) req.end(body);
      });
    const notJson = await send({ ':method': 'POST', ':path': '/v1/fragment' }, Buffer.from('{not json'));
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ sqlstate: '08P01', message: 'invalid fragment request: body is not JSON' });
    const badField = await send({ ':method': 'POST', ':path': '/v1/fragment' }, Buffer.from(JSON.stringify({ queryId: 'x', sql: 'rows 1 1', timeoutMs: -1 })));
    expect(JSON.parse(badField.body).message).toMatch(/timeoutMs must be an integer/);
    const huge = await send({ ':method': 'POST', ':path': '/v1/fragment' }, Buffer.alloc(3 * 1024 * 1024, 0x20));
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).message).toMatch(/exceeds the limit of 1048576 bytes/);
    const wrongMethod = await send({ ':method': 'DELETE', ':path': '/v1/catalog' });
    expect(wrongMethod.status).toBe(405);
    const nowhere = await send({ ':method': 'GET', ':path': '/etc/passwd' });
    expect(nowhere.status).toBe(404);
    session.close();
    // Raw garbage on a TLS-less TCP connection to the port: the handshake fails, nothing else.
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(endpoint.port, '127.0.0.1', () => s.end(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    // The endpoint still works for everyone.
    const stream = await client.execute({ queryId: 'q7', sql: 'rows 1000 100', timeoutMs: 5000 }, new AbortController().signal);
    expect(await drain(stream)).toBe(1000);
  });

  it('refuses (403) a CA-signed certificate whose CN is not a node of the federation', async () => {
    // Same CA, extra node "mallory" that the endpoint's federation does not list.
    const { writeFileSync } = await import('node:fs');
    const { initFederation } = await import('../../server/certs.js');
    const { join } = await import('node:path');
    const other = join(fed.dir, 'with-mallory.yaml');
    writeFileSync(other, `name: test\nca: certs/ca.pem\nnodes:\n  bank_a: { url: https://127.0.0.1:17100, cert: certs/bank_a.pem }\n  mallory: { url: https://127.0.0.1:17199, cert: certs/mallory.pem }\n`);
    const summary = await initFederation(other);
    expect(summary.ca.status).toBe('kept');
    const mallory = connector(fed, 'mallory', 'telco', endpoint.port);
    await expectSqlError(mallory.catalog(), '28000', /certificate CN "mallory" is not a node of this federation/);
    await mallory.close();
  });

  it('refuses a server whose certificate is for another node', async () => {
    // telco's endpoint, but we expect to be talking to "hub".
    const confused = new RemotePartyConnector({ party: 'hub', url: `https://127.0.0.1:${endpoint.port}`, tls: fed.pem('bank_a') });
    await expectSqlError(confused.health(), '08006', /party "hub" is unreachable: TLS handshake failed: .*certificate is for "telco", not "hub"/);
    await confused.close();
  });

  it('gives 08006 quickly when the party dies mid-stream and when it is gone', async () => {
    const proxy = await startProxy(endpoint.port);
    const viaProxy = connector(fed, 'bank_a', 'telco', proxy.port, { connectTimeoutMs: 1000 });
    const stream = await viaProxy.execute({ queryId: 'q8', sql: 'forever 5', timeoutMs: 60_000 }, new AbortController().signal);
    let n = 0;
    const started = performance.now();
    const err = await expectSqlError(
      (async () => {
        for await (const _ of stream) if (++n === 5) await proxy.kill();
      })(),
      '08006',
      /party "telco" is unreachable/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err.message).not.toMatch(/undefined/);
    const t0 = performance.now();
    await expectSqlError(viaProxy.catalog(), '08006', /party "telco" is unreachable: connection refused/);
    expect(performance.now() - t0).toBeLessThan(1000);
    await viaProxy.close();
  });

  it('times out a party that accepts TCP but never answers', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const c = connector(fed, 'bank_a', 'telco', port, { connectTimeoutMs: 300 });
    const t0 = performance.now();
    await expectSqlError(c.health(), '08006', /party "telco" did not answer within 300ms/);
    expect(performance.now() - t0).toBeLessThan(1500);
    await c.close();
    silent.close();
  });

  it('reconnects after the session is lost', async () => {
    const proxy = await startProxy(endpoint.port);
    const c = connector(fed, 'bank_a', 'telco', proxy.port);
    await c.health();
    await proxy.kill();
    await expectSqlError(c.health(), '08006');
    const proxy2 = await startProxy(endpoint.port);
    const c2 = connector(fed, 'bank_a', 'telco', proxy2.port);
    await c2.health();
    await c2.close();
    await proxy2.kill();
    await c.close();
    // Same connector, same address: a new session after the old one died.
    await client.health();
  });

  it('runs a registered frame protocol in both directions with errors as SqlErrors', async () => {
    endpoint.registerProtocol('echo', async ({ channel, params, requester }) => {
      await channel.send(new TextEncoder().encode(`hello ${requester} ${params.round}`));
      for (;;) {
        const frame = await channel.receive();
        if (frame === null) {
          // Half-close: the requester is done sending, we can still answer.
          await channel.send(new TextEncoder().encode('done'));
          break;
        }
        if (frame.byteLength === 0) throw new SqlError('22023', 'empty frame not allowed in echo');
        await channel.send(frame);
      }
    });
    const ac = new AbortController();
    const ch = await client.openProtocolChannel('echo', { round: '1' }, ac.signal);
    expect(new TextDecoder().decode((await ch.receive())!)).toBe('hello bank_a 1');
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
    await ch.send(big);
    const back = (await ch.receive())!;
    expect(back.byteLength).toBe(big.byteLength);
    expect(back[12345]).toBe(12345 & 0xff);
    await ch.end();
    expect(new TextDecoder().decode((await ch.receive())!)).toBe('done');
    expect(await ch.receive()).toBeNull();

    const ch2 = await client.openProtocolChannel('echo', { round: '2' }, ac.signal);
    await ch2.receive();
    await ch2.send(new Uint8Array(0));
    await expectSqlError(ch2.receive(), '22023', /party "telco": empty frame not allowed in echo/);

    await expectSqlError(client.openProtocolChannel('nope', {}, ac.signal), '0A000', /does not speak protocol "nope"/);
  });

  it('closes gracefully: in-flight requests finish, new ones are refused', async () => {
    const party = new FakeParty('telco');
    const { endpoint: ep } = await startEndpoint(fed, party, NODES);
    const c = connector(fed, 'bank_a', 'telco', ep.port);
    const stream = await c.execute({ queryId: 'q9', sql: 'rows 20000 1000', timeoutMs: 10_000 }, new AbortController().signal);
    const closing = ep.close(5000);
    expect(await drain(stream)).toBe(20_000);
    await closing;
    await expectSqlError(c.health(), '08006');
    await c.close();
  });
});
