/**
 * Hostile and broken clients: truncated messages, absurd lengths, unknown message types,
 * garbage before and after startup, messages in the wrong order, unsupported protocol
 * versions, silent clients (authentication timeout), clients that do not read (output
 * backpressure) and clients that pipeline without reading. Each affects only its own
 * connection: a healthy session on the same gateway keeps answering throughout.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { RawPgClient, bindMessage, summary, type BackendMsg } from '../support/pgwire-raw-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startupPacket(params: Record<string, string>, version = 196608): Buffer {
  const body = Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0', 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(version, 4);
  return Buffer.concat([head, body]);
}

function message(type: string, body: Buffer, declaredLength?: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(declaredLength ?? body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Reads until the server closes; returns everything it said. */
async function drain(c: RawPgClient): Promise<BackendMsg[]> {
  return c.readUntil(() => false, 5000);
}

const fatalCode = (msgs: BackendMsg[]) => {
  const e = msgs.find((m) => m.type === 'E') as { fields: Record<string, string> } | undefined;
  return e === undefined ? undefined : `${e.fields['S']} ${e.fields['C']}`;
};

describe('malformed and hostile input', () => {
  let gw: TestGateway;
  let healthy: pg.Client;

  beforeAll(async () => {
    gw = await startTestGateway({ authTimeoutMs: 400 });
    healthy = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'h', database: 'd' });
    await healthy.connect();
  });

  afterAll(async () => {
    await healthy?.end();
    await gw?.stop();
  });

  async function stillHealthy(): Promise<void> {
    expect((await healthy.query('select count(*)::integer as n from t')).rows[0].n).toBe(3);
  }

  it('a huge declared length gets FATAL 08P01 and the connection closes', async () => {
    const c = await RawPgClient.connect(gw.port);
    c.send(message('Q', Buffer.from('select 1\0'), 0x7fffffff));
    const msgs = await drain(c);
    expect(fatalCode(msgs)).toBe('FATAL 08P01');
    expect(c.closed).toBe(true);
    await stillHealthy();
  });

  it('an unknown message type after startup gets FATAL 08P01', async () => {
    const c = await RawPgClient.connect(gw.port);
    c.send(message('Y', Buffer.from('xx')));
    const msgs = await drain(c);
    expect(fatalCode(msgs)).toBe('FATAL 08P01');
    expect((msgs.find((m) => m.type === 'E') as { fields: Record<string, string> }).fields['M']).toBe('invalid frontend message type 89');
    await stillHealthy();
  });

  it('random garbage after startup closes only that connection', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await RawPgClient.connect(gw.port);
      c.send(randomBytes(64 + (i % 7) * 100));
      // Depending on the bytes the server answers FATAL at once or waits for a message whose
      // declared length never arrives; either way it must not affect anyone else.
      await c.readUntil((m) => m.type === 'E', 300).catch(() => []);
      c.destroy();
    }
    await stillHealthy();
  });

  it('garbage instead of a startup packet (an HTTP request) is refused', async () => {
    const c = await RawPgClient.open(gw.port);
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const msgs = await drain(c);
    expect(fatalCode(msgs)).toBe('FATAL 08P01');
    await stillHealthy();
  });

  it('a truncated message followed by disconnect is harmless; fields overrunning their message are FATAL', async () => {
    const c = await RawPgClient.connect(gw.port);
    const full = serialize.parse({ text: 'select 1' });
    c.send(full.subarray(0, full.length - 3));
    await sleep(50);
    c.destroy();
    const d = await RawPgClient.connect(gw.port);
    // A Bind whose parameter claims 1000 bytes inside a 20-byte message.
    d.send(message('B', Buffer.concat([Buffer.from('\0\0'), Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0, 3, 232]), Buffer.from('abc')])));
    const msgs = await drain(d);
    expect(fatalCode(msgs)).toBe('FATAL 08P01');
    await stillHealthy();
  });

  it('messages in the wrong order get ordinary errors and the session continues', async () => {
    const c = await RawPgClient.connect(gw.port);
    c.send(bindMessage({}), serialize.execute({}), serialize.sync());
    expect(summary(await c.readUntil((m) => m.type === 'Z'))).toEqual(['E:26000', 'Z:I']);
    c.send(serialize.execute({ portal: 'p' }), serialize.sync());
    expect(summary(await c.readUntil((m) => m.type === 'Z'))).toEqual(['E:34000', 'Z:I']);
    // CopyData/CopyDone outside COPY are ignored, a stray password message is a violation.
    c.send(serialize.copyData(Buffer.from('x')), serialize.copyDone());
    expect(summary(await c.query('select 1 as ok'))).toEqual(['T', 'D', 'C:SELECT 1', 'Z:I']);
    c.send(serialize.password('pw'));
    expect(fatalCode(await drain(c))).toBe('FATAL 08P01');
    await stillHealthy();
  });

  it('startup problems: too long, no user, protocol 2.0, 3.1 with _pq_ options', async () => {
    const long = await RawPgClient.open(gw.port);
    long.send(startupPacket({ user: 'x', options: 'y'.repeat(20_000) }));
    expect(fatalCode(await drain(long))).toBe('FATAL 08P01');

    const nouser = await RawPgClient.open(gw.port);
    nouser.send(startupPacket({ database: 'd' }));
    expect(fatalCode(await drain(nouser))).toBe('FATAL 28000');

    const v2 = await RawPgClient.open(gw.port);
    v2.send(startupPacket({ user: 'x' }, 0x20000));
    const v2msgs = await drain(v2);
    expect(fatalCode(v2msgs)).toBe('FATAL 08P01');
    expect((v2msgs[0] as { fields: Record<string, string> }).fields['M']).toBe('unsupported frontend protocol 2.0: server supports 3.0 to 3.0');

    const v31 = await RawPgClient.open(gw.port);
    v31.send(startupPacket({ user: 'x', database: 'd', '_pq_.compression': 'on' }, 0x30001));
    const v31msgs = await v31.readUntil((m) => m.type === 'Z');
    expect(v31msgs[0].type).toBe('v');
    const raw = (v31msgs[0] as { raw: Buffer }).raw;
    expect(raw.readInt32BE(0)).toBe(0x30000);
    expect(raw.readInt32BE(4)).toBe(1);
    expect(raw.toString('utf8', 8, raw.length - 1)).toBe('_pq_.compression');
    expect(summary(await v31.query('select 1 as ok'))).toEqual(['T', 'D', 'C:SELECT 1', 'Z:I']);
    await v31.end();
    await stillHealthy();
  });

  it("SSLRequest and GSSENCRequest without TLS are answered 'N' and startup continues", async () => {
    const c = await RawPgClient.open(gw.port);
    const reply = new Promise<Buffer>((resolve) => c.socket.once('data', resolve));
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    c.socket.write(ssl);
    expect((await reply).toString()).toBe('N');
    const reply2 = new Promise<Buffer>((resolve) => c.socket.once('data', resolve));
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    c.socket.write(gss);
    expect((await reply2).toString()).toBe('N');
    c.destroy();
  });

  it('a client that never finishes authentication is dropped after the timeout', async () => {
    const c = await RawPgClient.open(gw.port);
    const started = Date.now();
    const msgs = await drain(c);
    expect(fatalCode(msgs)).toBe('FATAL 57014');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('Terminate closes quietly', async () => {
    const c = await RawPgClient.connect(gw.port);
    c.send(serialize.end());
    expect(await drain(c)).toEqual([]);
    expect(c.closed).toBe(true);
  });
});

describe('flow control', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });

  afterAll(async () => {
    await gw?.stop();
  });

  it('a client that stops reading a 100k-row result does not stall other sessions', async () => {
    const slow = await RawPgClient.connect(gw.port);
    slow.socket.pause();
    slow.send(serialize.query('select i, j, s from big order by i'));
    await sleep(300);
    const other = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'o', database: 'd' });
    await other.connect();
    for (let i = 0; i < 20; i++) expect((await other.query('select $1::integer as v', [i])).rows[0].v).toBe(i);
    await other.end();
    slow.socket.resume();
    const msgs = await slow.readUntil((m) => m.type === 'Z', 20_000);
    const rows = msgs.filter((m) => m.type === 'D');
    expect(rows).toHaveLength(100_000);
    expect(summary(msgs).slice(-2)).toEqual(['C:SELECT 100000', 'Z:I']);
    await slow.end();
  }, 30_000);

  it('answers thousands of pipelined queries from a client that reads only at the end', async () => {
    const c = await RawPgClient.connect(gw.port);
    const n = 3000;
    c.socket.pause();
    const batch: Buffer[] = [];
    for (let i = 0; i < n; i++) batch.push(serialize.query(`select ${i} as v, repeat('x', 200) as pad`));
    c.send(...batch);
    await sleep(300);
    c.socket.resume();
    let count = 0;
    let last = '';
    while (count < n) {
      const m = await c.next(20_000);
      if (m === null) break;
      if (m.type === 'D') last = (m as { values: Buffer[] }).values[0].toString();
      if (m.type === 'Z') count++;
    }
    expect(count).toBe(n);
    expect(last).toBe(String(n - 1));
    await c.end();
  }, 30_000);

  it('serves many concurrent sessions', async () => {
    const clients = await Promise.all(
      Array.from({ length: 24 }, async (_, k) => {
        const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: `u${k}`, database: 'd' });
        await c.connect();
        return c;
      }),
    );
    const results = await Promise.all(clients.map((c, k) => c.query('select $1::integer * 10 as v, count(*)::integer as n from t', [k])));
    results.forEach((r, k) => expect(r.rows[0]).toEqual({ v: k * 10, n: 3 }));
    await Promise.all(clients.map((c) => c.end()));
  });

  it('closing the gateway terminates idle sessions with 57P01', async () => {
    const local = await startTestGateway();
    const c = new pg.Client({ host: '127.0.0.1', port: local.port, user: 'x', database: 'd' });
    await c.connect();
    const errors: pg.DatabaseError[] = [];
    c.on('error', (e) => errors.push(e as pg.DatabaseError));
    const closed = new Promise((r) => c.once('end', r));
    await local.stop();
    await closed;
    expect(errors[0]?.code).toBe('57P01');
    expect(local.gateway.connections).toBe(0);
  });
});
