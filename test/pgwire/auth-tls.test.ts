/**
 * Authentication and transport: SCRAM-SHA-256 (RFC 7677 test vector, then real clients with
 * right and wrong passwords, unknown users indistinguishable from wrong passwords, verifiers
 * configured in Postgres' stored form), trust mode, and SSLRequest → TLS with node-postgres and
 * psql (`sslmode=require`), plus 'N' when no certificate is configured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScramExchange, formatVerifier, makeVerifier, parseVerifier } from '../../server/pgwire/scram.js';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { RawPgClient } from '../support/pgwire-raw-client.js';
import { psql, psqlConn } from '../support/pgwire-psql.js';

describe('SCRAM-SHA-256 server exchange', () => {
  it('reproduces the RFC 7677 test vector', () => {
    const verifier = makeVerifier('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const ex = new ScramExchange('user', verifier, Buffer.alloc(32), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    expect(ex.start('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(ex.finish('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')).toBe(
      'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    );
  });

  it('round-trips the Postgres verifier format and rejects tampered proofs and nonces', () => {
    const v = makeVerifier('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const text = formatVerifier(v);
    expect(text).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(parseVerifier(text)).toEqual(v);
    const ex = new ScramExchange('user', v, Buffer.alloc(32), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    ex.start('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(() => ex.finish('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')).toThrow(
      /password authentication failed for user "user"/,
    );
    const ex2 = new ScramExchange('user', v, Buffer.alloc(32), 'server');
    ex2.start('n,,n=,r=abc');
    expect(() => ex2.finish('c=biws,r=abcOTHER,p=AAAA')).toThrow(/malformed SCRAM message/);
    expect(() => new ScramExchange('user', v, Buffer.alloc(32)).start('p=tls-server-end-point,,n=,r=abc')).toThrow(/channel binding/);
  });
});

describe('authentication against real clients', () => {
  let gw: TestGateway;
  const verifier = formatVerifier(makeVerifier('bob-secret'));

  beforeAll(async () => {
    gw = await startTestGateway({
      auth: {
        method: 'scram-sha-256',
        users: new Map([
          ['alice', { password: 'correct horse' }],
          ['bob', { scramVerifier: verifier }],
        ]),
      },
    });
  });

  afterAll(async () => {
    await gw?.stop();
  });

  const tryConnect = async (user: string, password: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user, password, database: 'd' });
    try {
      await c.connect();
      const r = await c.query('select 1 as ok');
      return r.rows[0].ok as number;
    } catch (e) {
      return e as pg.DatabaseError;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  it('node-postgres: right password connects, wrong and unknown users fail alike (28P01)', async () => {
    expect(await tryConnect('alice', 'correct horse')).toBe(1);
    expect(await tryConnect('bob', 'bob-secret')).toBe(1);
    const wrong = (await tryConnect('alice', 'wrong')) as pg.DatabaseError;
    expect(wrong.code).toBe('28P01');
    expect(wrong.message).toBe('password authentication failed for user "alice"');
    expect(wrong.severity).toBe('FATAL');
    const unknown = (await tryConnect('mallory', 'x')) as pg.DatabaseError;
    expect(unknown.code).toBe('28P01');
    expect(unknown.message).toBe('password authentication failed for user "mallory"');
  });

  it('unknown users get a stable fake salt (probing does not reveal existence)', async () => {
    const salt = async (user: string) => {
      const raw = await RawPgClient.open(gw.port);
      const body = Buffer.from(`user\0${user}\0\0`);
      const pkt = Buffer.alloc(8 + body.length);
      pkt.writeInt32BE(pkt.length, 0);
      pkt.writeInt32BE(196608, 4);
      body.copy(pkt, 8);
      raw.socket.write(pkt);
      const sasl = await raw.next();
      expect(sasl?.type).toBe('R');
      const first = Buffer.from('n,,n=,r=clientnonce123', 'utf8');
      const msg = Buffer.alloc(1 + 4 + 14 + 4 + first.length);
      msg[0] = 'p'.charCodeAt(0);
      msg.writeInt32BE(msg.length - 1, 1);
      msg.write('SCRAM-SHA-256\0', 5);
      msg.writeInt32BE(first.length, 19);
      first.copy(msg, 23);
      raw.socket.write(msg);
      const cont = (await raw.next()) as { data: Buffer };
      raw.destroy();
      return /s=([^,]+)/.exec(cont.data.toString())?.[1];
    };
    const a = await salt('nobody');
    const b = await salt('nobody');
    const c = await salt('somebody-else');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('psql: PGPASSWORD right → connects; wrong → "password authentication failed"', async () => {
    const ok = await psql(['-X', '-At', psqlConn(gw.port), '-c', 'select 42'], { PGPASSWORD: 'correct horse' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('42');
    const bad = await psql(['-X', '-At', psqlConn(gw.port), '-c', 'select 42'], { PGPASSWORD: 'nope' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('password authentication failed for user "alice"');
  });
});

describe('trust mode', () => {
  it('accepts anyone when no users are configured, only listed users otherwise', async () => {
    const open = await startTestGateway();
    const limited = await startTestGateway({ auth: { method: 'trust', users: new Map([['carol', {}]]) } });
    try {
      const a = new pg.Client({ host: '127.0.0.1', port: open.port, user: 'anyone', database: 'd' });
      await a.connect();
      await a.end();
      const b = new pg.Client({ host: '127.0.0.1', port: limited.port, user: 'carol', database: 'd' });
      await b.connect();
      await b.end();
      const c = new pg.Client({ host: '127.0.0.1', port: limited.port, user: 'dave', database: 'd' });
      const err = (await c.connect().catch((e: unknown) => e)) as pg.DatabaseError;
      expect(err.code).toBe('28000');
      expect(err.message).toBe('role "dave" does not exist');
    } finally {
      await open.stop();
      await limited.stop();
    }
  });
});

describe('TLS', () => {
  let dir: string;
  let gw: TestGateway;
  let plain: TestGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veilsql-pgwire-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=localhost', '-days', '2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    gw = await startTestGateway({
      auth: { method: 'scram-sha-256', users: new Map([['alice', { password: 'pw' }]]) },
      tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    });
    plain = await startTestGateway();
  });

  afterAll(async () => {
    await gw?.stop();
    await plain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('node-postgres negotiates TLS and authenticates inside it', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'alice', password: 'pw', database: 'd', ssl: { rejectUnauthorized: false } });
    await c.connect();
    const r = await c.query('select 7 as v');
    expect(r.rows[0].v).toBe(7);
    const sock = (c as unknown as { connection: { stream: { encrypted?: boolean; getProtocol?: () => string } } }).connection.stream;
    expect(sock.encrypted).toBe(true);
    await c.end();
  });

  it('psql with sslmode=require reports an encrypted session', async () => {
    const r = await psql(['-X', '-At', psqlConn(gw.port, 'alice', 'sslmode=require'), '-c', 'select 1', '-c', '\\conninfo'], { PGPASSWORD: 'pw' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('1');
    expect(r.stdout).toMatch(/SSL connection \(protocol: TLSv1\.3/);
  });

  it('refuses plaintext sessions when TLS is required', async () => {
    const strict = await startTestGateway({
      auth: { method: 'trust', users: new Map() },
      tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), require: true },
    });
    try {
      const plainRun = await psql(['-X', '-At', psqlConn(strict.port, 'u', 'sslmode=disable'), '-c', 'select 1']);
      expect(plainRun.status).not.toBe(0);
      expect(plainRun.stderr).toContain('SSL connection is required');
      const tlsRun = await psql(['-X', '-At', psqlConn(strict.port, 'u', 'sslmode=require'), '-c', 'select 1']);
      expect(tlsRun.stdout.trim()).toBe('1');
    } finally {
      await strict.stop();
    }
  });

  it("answers 'N' without a certificate: sslmode=prefer falls back, require fails", async () => {
    const prefer = await psql(['-X', '-At', psqlConn(plain.port, 'u', 'sslmode=prefer'), '-c', 'select 3']);
    expect(prefer.stdout.trim()).toBe('3');
    const require = await psql(['-X', '-At', psqlConn(plain.port, 'u', 'sslmode=require'), '-c', 'select 3']);
    expect(require.status).not.toBe(0);
    expect(require.stderr).toContain('server does not support SSL');
  });
});
