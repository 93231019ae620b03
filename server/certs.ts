/**
 * `veilsql init federation.yaml`: the federation CA and one certificate per node, for the mutual
 * TLS between party endpoints (SPEC.md §1, §4).
 *
 * Where files go:
 * - CA certificate at `ca:`; CA key at `ca_key:` or, by default, next to it (`ca.pem` → `ca.key`);
 * - node certificate at the node's `cert:`; its key at `<cert without .pem>.key`, because the key
 *   path lives in each node's private node.yaml, which init does not read. node.yaml's `key:`
 *   should point there (and defaults to it when omitted, see `connectors/config.ts`).
 * Keys are written with mode 0600, atomically (temp file + rename), so a crash never leaves a
 * half-written key that a later run would "keep".
 *
 * Idempotent: a file set that still verifies (parses, signed by the current CA, not expiring
 * within 7 days, CN = node name, SAN covers the node's url host, key matches the certificate) is
 * kept; anything else is re-created. A new CA implies new node certificates, since the old ones
 * no longer verify against it.
 *
 * Everything is ECDSA P-256 with SHA-256. Node's `X509Certificate` does the checking,
 * `@peculiar/x509` (over Node's WebCrypto) the issuing.
 */
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
// @peculiar/x509 (through tsyringe) needs the Reflect metadata API installed before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { loadFederationConfig, keyPathForCert } from '../connectors/config.js';
import type { FederationConfig } from '../connectors/config-types.js';
import { SqlError, SqlState } from '../parser/errors.js';

const DAY_MS = 86_400_000;
/** Node certificates: 2 years. The CA outlives them so that renewing nodes never forces a new CA. */
export const NODE_CERT_VALIDITY_DAYS = 730;
export const CA_CERT_VALIDITY_DAYS = 3650;
/** Files expiring sooner than this are renewed rather than kept. */
export const RENEW_WITHIN_DAYS = 7;

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export type FileStatus = 'created' | 'kept';

export interface CertFileSummary {
  name: string;
  cert: string;
  key: string;
  status: FileStatus;
  /** Why an existing file was replaced (absent when created from scratch or kept). */
  reason?: string;
}

export interface InitSummary {
  federation: string;
  ca: CertFileSummary;
  nodes: CertFileSummary[];
}

export interface InitOptions {
  /** The clock, for tests of expiry handling. */
  now?: Date;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
// The library wants a DOM `Crypto`; Node's WebCrypto is one at runtime, the typings differ only nominally.
const crypto = webcrypto;
const x509Crypto = webcrypto as unknown as X509Crypto;

export async function initFederation(federationYamlPath: string, options: InitOptions = {}): Promise<InitSummary> {
  const federation = loadFederationConfig(federationYamlPath);
  const now = options.now ?? new Date();
  const caKeyPath = federation.caKey ?? keyPathForCert(federation.ca);

  const existing = loadValidCa(federation.ca, caKeyPath, now);
  const caSummary: CertFileSummary = { name: 'ca', cert: federation.ca, key: caKeyPath, status: 'kept' };
  let ca: CaMaterial;
  if (typeof existing === 'string' || existing === undefined) {
    if (typeof existing === 'string') caSummary.reason = existing;
    ca = await createCa(federation, caKeyPath, now);
    caSummary.status = 'created';
  } else {
    ca = await existing;
  }

  const nodes: CertFileSummary[] = [];
  for (const node of federation.nodes.values()) {
    const keyPath = keyPathForCert(node.cert);
    const host = new URL(node.url).hostname.replace(/^\[|\]$/g, '');
    const problem = checkNodeFiles(node.cert, keyPath, node.name, host, ca.cert, now);
    const summary: CertFileSummary = { name: node.name, cert: node.cert, key: keyPath, status: 'kept' };
    if (problem !== undefined) {
      if (problem !== 'missing') summary.reason = problem;
      await createNodeCert(node.name, host, node.cert, keyPath, ca, now);
      summary.status = 'created';
    }
    nodes.push(summary);
  }
  return { federation: federation.path, ca: caSummary, nodes };
}

/** One line per file, for the CLI. */
export function formatInitSummary(s: InitSummary): string {
  const line = (f: CertFileSummary) =>
    `${f.status.padEnd(7)} ${f.name.padEnd(16)} ${f.cert}${f.reason ? `  (${f.reason})` : ''}`;
  return [line(s.ca), ...s.nodes.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

interface CaMaterial {
  cert: X509Certificate;
  certPem: string;
  signingKey: CryptoKey;
}

/** The existing CA if it is usable, a reason string if it exists but is not, undefined if absent. */
function loadValidCaSync(certPath: string, keyPath: string, now: Date): { cert: X509Certificate; certPem: string; keyPem: string } | string | undefined {
  if (!existsSync(certPath) && !existsSync(keyPath)) return undefined;
  if (!existsSync(certPath)) return 'CA certificate missing';
  if (!existsSync(keyPath)) return 'CA key missing';
  try {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.ca) return 'CA certificate lacks the CA basic constraint';
    if (!cert.verify(cert.publicKey)) return 'CA certificate is not self-signed';
    const expiry = expiryProblem(cert, now);
    if (expiry) return `CA ${expiry}`;
    if (!keyMatches(cert, keyPem)) return 'CA key does not match the CA certificate';
    if (createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'CA key is not ECDSA P-256';
    return { cert, certPem, keyPem };
  } catch (e) {
    return `unreadable CA files: ${(e as Error).message}`;
  }
}

function loadValidCa(certPath: string, keyPath: string, now: Date): Promise<CaMaterial> | string | undefined {
  const found = loadValidCaSync(certPath, keyPath, now);
  if (found === undefined || typeof found === 'string') return found;
  return importSigningKey(found.keyPem).then((signingKey) => ({ cert: found.cert, certPem: found.certPem, signingKey }));
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

async function createCa(federation: FederationConfig, keyPath: string, now: Date): Promise<CaMaterial> {
  const keys = (await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: `CN=${escapeDnValue(`VeilSQL federation ${federation.name} CA`)}`,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + CA_CERT_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  const certPem = cert.toString('pem');
  await writeKeyPair(federation.ca, certPem, keyPath, keys.privateKey);
  const signingKey = await importSigningKey(readFileSync(keyPath, 'utf8'));
  return { cert: new X509Certificate(certPem), certPem, signingKey };
}

async function createNodeCert(name: string, host: string, certPath: string, keyPath: string, ca: CaMaterial, now: Date): Promise<void> {
  const keys = (await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const altNames: Array<{ type: 'dns' | 'ip'; value: string }> = [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
  ];
  const hostType = isIP(host) ? 'ip' : 'dns';
  if (!altNames.some((n) => n.type === hostType && n.value === host)) altNames.push({ type: hostType, value: host });
  const caCert = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: `CN=${escapeDnValue(name)}`,
      issuer: caCert.subject,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + NODE_CERT_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension(altNames, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never, false, x509Crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  await writeKeyPair(certPath, cert.toString('pem'), keyPath, keys.privateKey);
}

/** Why the node's files cannot be kept, 'missing' if they do not exist, undefined if they are fine. */
function checkNodeFiles(certPath: string, keyPath: string, name: string, host: string, caCert: X509Certificate, now: Date): string | undefined {
  if (!existsSync(certPath) && !existsSync(keyPath)) return 'missing';
  if (!existsSync(certPath)) return 'certificate missing';
  if (!existsSync(keyPath)) return 'key missing';
  try {
    const keyPem = readFileSync(keyPath, 'utf8');
    const cert = new X509Certificate(readFileSync(certPath));
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not signed by the federation CA';
    const expiry = expiryProblem(cert, now);
    if (expiry) return expiry;
    const cn = commonName(cert);
    if (cn !== name) return `CN is "${cn ?? ''}", expected "${name}"`;
    if (!sanCovers(cert, host)) return `subject alternative names do not cover ${host}`;
    if (!keyMatches(cert, keyPem)) return 'key does not match the certificate';
    return undefined;
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  }
}

function expiryProblem(cert: X509Certificate, now: Date): string | undefined {
  const notAfter = new Date(cert.validTo).getTime();
  const notBefore = new Date(cert.validFrom).getTime();
  if (notBefore > now.getTime() + 60_000) return 'certificate is not valid yet';
  if (notAfter <= now.getTime()) return 'certificate expired';
  if (notAfter <= now.getTime() + RENEW_WITHIN_DAYS * DAY_MS) return `certificate expires within ${RENEW_WITHIN_DAYS} days`;
  return undefined;
}

/** The subject CN of a certificate as Node prints it (`CN=bank_a`). */
export function commonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

function sanCovers(cert: X509Certificate, host: string): boolean {
  const names = (cert.subjectAltName ?? '').split(/,\s*/);
  return names.includes(isIP(host) ? `IP Address:${host}` : `DNS:${host}`);
}

function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ format: 'der', type: 'spki' });
  const fromCert = cert.publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.compare(fromKey, fromCert) === 0;
}

async function writeKeyPair(certPath: string, certPem: string, keyPath: string, privateKey: CryptoKey): Promise<void> {
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  // Key first: a certificate on disk without its key would be "kept" by nobody, but the reverse
  // order could leave a new certificate next to an old key after a crash.
  writeAtomically(keyPath, keyPem, 0o600);
  writeAtomically(certPath, certPem.endsWith('\n') ? certPem : certPem + '\n', 0o644);
}

function writeAtomically(path: string, data: string, mode: number): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (e) {
    throw new SqlError(SqlState.configFileError, `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** A positive 128-bit serial (RFC 5280 allows up to 20 octets; the top bit is cleared to stay positive). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return bytes.toString('hex');
}

function escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}
