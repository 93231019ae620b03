/**
 * `veilsql init`: the federation CA and node certificates, idempotency and renewal rules, and
 * that the mTLS handshake refuses anything not issued by the federation CA.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFederation } from '../../server/certs.js';
import { SqlError } from '../../parser/errors.js';
import type { PartyEndpoint } from '../../server/party-endpoint.js';
import { connector, FakeParty, makeFederation, startEndpoint, type Federation } from './helpers.js';

const DAY = 86_400_000;

describe('veilsql init', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await makeFederation(['bank_a', 'telco', 'hub'], 'veilsql-certs-');
  });
  afterAll(() => fed?.remove());

  it('creates a CA and per-node certificates with the right names, usages and lifetimes', () => {
    const ca = new X509Certificate(readFileSync(join(fed.dir, 'certs/ca.pem')));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const telco = new X509Certificate(readFileSync(join(fed.dir, 'certs/telco.pem')));
    expect(telco.subject).toBe('CN=telco');
    expect(telco.ca).toBe(false);
    expect(telco.verify(ca.publicKey)).toBe(true);
    expect(telco.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(telco.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    const lifetimeDays = (new Date(telco.validTo).getTime() - new Date(telco.validFrom).getTime()) / DAY;
    expect(Math.round(lifetimeDays)).toBe(730);
    for (const key of ['ca.key', 'telco.key', 'bank_a.key', 'hub.key']) {
      expect(statSync(join(fed.dir, 'certs', key)).mode & 0o777).toBe(0o600);
    }
  });

  it('keeps everything on a second run, byte for byte', async () => {
    const before = readFileSync(join(fed.dir, 'certs/telco.pem'), 'utf8');
    const summary = await initFederation(fed.yaml);
    expect(summary.ca.status).toBe('kept');
    expect(summary.nodes.map((n) => n.status)).toEqual(['kept', 'kept', 'kept']);
    expect(readFileSync(join(fed.dir, 'certs/telco.pem'), 'utf8')).toBe(before);
  });

  it('re-creates only what is missing, mismatched or about to expire', async () => {
    rmSync(join(fed.dir, 'certs/hub.key'));
    let s = await initFederation(fed.yaml);
    expect(s.nodes.find((n) => n.name === 'hub')).toMatchObject({ status: 'created', reason: 'key missing' });
    expect(s.nodes.filter((n) => n.status === 'kept').map((n) => n.name)).toEqual(['bank_a', 'telco']);

    // A key that belongs to another certificate.
    writeFileSync(join(fed.dir, 'certs/bank_a.key'), readFileSync(join(fed.dir, 'certs/telco.key')));
    s = await initFederation(fed.yaml);
    expect(s.nodes.find((n) => n.name === 'bank_a')).toMatchObject({ status: 'created', reason: 'key does not match the certificate' });

    // The node moved to another host: its SAN must follow.
    const moved = readFileSync(fed.yaml, 'utf8').replace('https://127.0.0.1:17101', 'https://telco.internal:17101');
    writeFileSync(fed.yaml, moved);
    s = await initFederation(fed.yaml);
    expect(s.nodes.find((n) => n.name === 'telco')).toMatchObject({ status: 'created', reason: 'subject alternative names do not cover telco.internal' });
    expect(new X509Certificate(readFileSync(join(fed.dir, 'certs/telco.pem'))).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:telco.internal');

    // Two years later every node certificate is renewed, the CA (10 years) is kept.
    s = await initFederation(fed.yaml, { now: new Date(Date.now() + 726 * DAY) });
    expect(s.ca.status).toBe('kept');
    expect(s.nodes.every((n) => n.status === 'created' && n.reason === 'certificate expires within 7 days')).toBe(true);
  });

  it('re-issues node certificates when the CA is replaced', async () => {
    rmSync(join(fed.dir, 'certs/ca.key'));
    const s = await initFederation(fed.yaml);
    expect(s.ca).toMatchObject({ status: 'created', reason: 'CA key missing' });
    expect(s.nodes.every((n) => n.status === 'created' && n.reason === 'not signed by the federation CA')).toBe(true);
  });

  it('reports an unusable federation file as a config error', async () => {
    await expect(initFederation(join(fed.dir, 'missing.yaml'))).rejects.toBeInstanceOf(SqlError);
  });
});

describe('mutual TLS handshake', () => {
  let fed: Federation;
  let stranger: Federation;
  let endpoint: PartyEndpoint;
  let logs: string[];

  beforeAll(async () => {
    fed = await makeFederation(['bank_a', 'telco'], 'veilsql-mtls-');
    // Same node names, a different CA.
    stranger = await makeFederation(['bank_a', 'telco'], 'veilsql-stranger-');
    ({ endpoint, logs } = await startEndpoint(fed, new FakeParty('telco'), ['bank_a', 'telco']));
  });
  afterAll(async () => {
    await endpoint?.close(100);
    fed?.remove();
    stranger?.remove();
  });

  const handshake = (options: tls.ConnectionOptions) =>
    new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: endpoint.port, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined, ...options });
      socket.on('secureConnect', () => {
        // TLS 1.3: the server verifies the client certificate after the client's Finished, so a
        // refusal shows up as an alert or a close right after; an accepted client gets the
        // server's HTTP/2 SETTINGS frame.
        socket.once('data', () => {
          resolve('accepted');
          socket.destroy();
        });
      });
      socket.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
      socket.on('close', () => resolve('closed'));
    });

  it('accepts a certificate of the federation CA', async () => {
    expect(await handshake({ ...fed.pem('bank_a') })).toBe('accepted');
  });

  it('refuses a certificate from a different CA at the handshake', async () => {
    const { key, cert } = stranger.pem('bank_a');
    const result = await handshake({ key, cert, ca: fed.pem('bank_a').ca });
    expect(result).toMatch(/ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|ECONNRESET|closed/);
    const c = connector(fed, 'bank_a', 'telco', endpoint.port);
    (c as unknown as { options: { tls: object } }).options.tls = { key, cert, ca: fed.pem('bank_a').ca };
    await expect(c.health()).rejects.toMatchObject({ sqlstate: '08006', message: expect.stringMatching(/^party "telco" is unreachable: /) });
    await c.close();
    expect(logs.some((l) => /refused TLS from 127\.0\.0\.1:\d+: handshake failed/.test(l))).toBe(true);
  });

  it('refuses a client without a certificate', async () => {
    const result = await handshake({ ca: fed.pem('bank_a').ca });
    expect(result).toMatch(/ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET|closed/);
  });

  it('the client refuses a server certificate from a different CA', async () => {
    const c = connector(stranger, 'bank_a', 'telco', endpoint.port);
    await expect(c.health()).rejects.toMatchObject({ sqlstate: '08006', message: expect.stringMatching(/TLS handshake failed/) });
    await c.close();
  });
});
