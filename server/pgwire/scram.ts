/**
 * Server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as Postgres speaks it: no channel
 * binding is offered, the SCRAM user name is ignored in favour of the startup user, and the
 * stored form is Postgres' `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`, so verifiers
 * can be copied from pg_authid or computed from a configured password at start-up.
 * Unknown users run a mock exchange with a deterministic fake salt and always fail at the end
 * with the same message as a wrong password, so the server does not reveal which users exist.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SqlError, SqlState } from '../../parser/errors.js';
import { ProtocolViolation } from './errors.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
export const DEFAULT_SCRAM_ITERATIONS = 4096;

export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/**
 * SASLprep (RFC 4013) in the form Postgres applies it: ASCII passwords are used as is; others
 * are NFKC-normalised with the mapped-to-nothing characters removed. (Postgres falls back to
 * the raw bytes when the result is prohibited; NFKC covers every password real clients send.)
 */
function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password.replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/g, '').normalize('NFKC');
}

export function makeVerifier(password: string, iterations = DEFAULT_SCRAM_ITERATIONS, salt: Buffer = randomBytes(16)): ScramVerifier {
  const salted = pbkdf2Sync(saslprep(password), salt, iterations, 32, 'sha256');
  return {
    iterations,
    salt,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

export function formatVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

export function parseVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!m) throw new Error('invalid SCRAM-SHA-256 verifier (expected SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>)');
  const v = {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2], 'base64'),
    storedKey: Buffer.from(m[3], 'base64'),
    serverKey: Buffer.from(m[4], 'base64'),
  };
  if (v.iterations < 1 || v.storedKey.length !== 32 || v.serverKey.length !== 32) {
    throw new Error('invalid SCRAM-SHA-256 verifier (bad iteration count or key length)');
  }
  return v;
}

export function authFailed(user: string): SqlError {
  return new SqlError(SqlState.invalidPassword, `password authentication failed for user "${user}"`);
}

function malformed(detail: string): ProtocolViolation {
  const e = new ProtocolViolation('malformed SCRAM message');
  (e as { detail?: string }).detail = detail;
  return e;
}

/** Parses `k=v` attributes of a SCRAM message into an ordered list. */
function attributes(s: string): [string, string][] {
  return s.split(',').map((part) => {
    if (part.length < 2 || part[1] !== '=') throw malformed(`attribute expected, found "${part}"`);
    return [part[0], part.slice(2)];
  });
}

/** One SCRAM exchange: client-first → server-first, client-final → server-final. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private nonce = '';
  private readonly verifier: ScramVerifier;
  private readonly real: boolean;

  /**
   * `verifier` null means an unknown user: `mockKey` (a per-server secret) derives a stable
   * fake salt so repeated probes of the same name look like a real account.
   */
  constructor(
    private readonly user: string,
    verifier: ScramVerifier | null,
    mockKey: Buffer,
    /** Fixed server nonce part, for test vectors only; random otherwise. */
    private readonly serverNonce: string = randomBytes(18).toString('base64'),
  ) {
    this.real = verifier !== null;
    this.verifier = verifier ?? {
      iterations: DEFAULT_SCRAM_ITERATIONS,
      salt: hmac(mockKey, `salt:${user}`).subarray(0, 16),
      storedKey: randomBytes(32),
      serverKey: randomBytes(32),
    };
  }

  /** Handles SASLInitialResponse data; returns the server-first-message. */
  start(clientFirst: string): string {
    // gs2-header: "n,," (no binding), "y,," (client could bind, server did not offer), "p=…" (binding).
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(clientFirst);
    if (!m) throw malformed('invalid GS2 header');
    if (m[1].startsWith('p=')) {
      throw new ProtocolViolation('channel binding is not supported by this server, but the client requested it');
    }
    if (m[2] !== undefined) throw malformed('authorization identities are not supported');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    if (attrs[0]?.[0] === 'm') throw malformed('mandatory extensions are not supported');
    if (attrs[0]?.[0] !== 'n' || attrs[1]?.[0] !== 'r') throw malformed('expected username and nonce');
    const clientNonce = attrs[1][1];
    if (clientNonce.length === 0 || !/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) throw malformed('invalid client nonce');
    this.nonce = clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Handles the client-final-message; returns server-final-message or throws 28P01. */
  finish(clientFinal: string): string {
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0) throw malformed('proof missing');
    const withoutProof = clientFinal.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== 'c' || attrs[1]?.[0] !== 'r') throw malformed('expected channel binding and nonce');
    const cbind = Buffer.from(attrs[0][1], 'base64').toString('latin1');
    if (cbind !== this.gs2Header) throw malformed('unexpected channel binding data');
    if (attrs[1][1] !== this.nonce) throw malformed('nonce does not match');
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw authFailed(this.user);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    const ok = timingSafeEqual(sha256(clientKey), this.verifier.storedKey);
    if (!ok || !this.real) throw authFailed(this.user);
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}
