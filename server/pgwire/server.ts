/**
 * The Postgres wire gateway listener: accepts TCP connections, gives each one a `Connection`
 * state machine, owns the cancel-key registry and closes every session on shutdown. SCRAM
 * verifiers for configured plain passwords are derived once here (random salt, 4096
 * iterations), so no password is kept in memory longer than start-up.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { QueryEngine } from '../../executor/session-types.js';
import { CancelRegistry } from './cancel-registry.js';
import { Connection } from './connection.js';
import { DEFAULT_MAX_MESSAGE } from './framing.js';
import { makeVerifier, parseVerifier, type ScramVerifier } from './scram.js';
import type { WireLogger } from './wire-session.js';

export interface PgUserConfig {
  /** Plain password; a SCRAM verifier is derived from it at start. */
  password?: string;
  /** Or a Postgres-style verifier `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
  scramVerifier?: string;
}

export interface PgGatewayOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  engine: QueryEngine;
  auth: {
    method: 'trust' | 'scram-sha-256';
    users: Map<string, PgUserConfig>;
  };
  /**
   * PEM key and certificate; without them SSLRequest is answered 'N'. `require` refuses
   * sessions that did not negotiate TLS (FATAL 28000) instead of also serving plaintext.
   */
  tls?: { key: string | Buffer; cert: string | Buffer; require?: boolean };
  logger?: Partial<WireLogger>;
  /** Largest accepted message (default 64 MiB). */
  maxMessageBytes?: number;
  /** Time allowed from connect to ReadyForQuery (default 60 s, Postgres' authentication_timeout). */
  authTimeoutMs?: number;
}

export interface PgGateway {
  readonly port: number;
  /** Number of live client connections. */
  readonly connections: number;
  /** Stops listening, terminates every session (FATAL 57P01) and resolves when all are gone. */
  close(): Promise<void>;
}

const noop = () => undefined;

function buildVerifiers(auth: PgGatewayOptions['auth']): Map<string, ScramVerifier | null> {
  const out = new Map<string, ScramVerifier | null>();
  for (const [user, cfg] of auth.users) {
    if (cfg.scramVerifier !== undefined) out.set(user, parseVerifier(cfg.scramVerifier));
    else if (cfg.password !== undefined) out.set(user, makeVerifier(cfg.password));
    else if (auth.method === 'scram-sha-256') {
      throw new Error(`user "${user}" has neither a password nor a SCRAM verifier`);
    } else out.set(user, null);
  }
  return out;
}

export async function startPgGateway(options: PgGatewayOptions): Promise<PgGateway> {
  const logger: WireLogger = {
    debug: options.logger?.debug?.bind(options.logger) ?? noop,
    info: options.logger?.info?.bind(options.logger) ?? noop,
    warn: options.logger?.warn?.bind(options.logger) ?? noop,
    error: options.logger?.error?.bind(options.logger) ?? noop,
  };
  const verifiers = buildVerifiers(options.auth);
  const secureContext = options.tls === undefined ? null : tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert });
  const registry = new CancelRegistry();
  const mockKey = randomBytes(32);
  const live = new Set<Connection>();
  let allClosed: (() => void) | null = null;

  const server = net.createServer((socket) => {
    try {
      const conn = new Connection(socket, {
        engine: options.engine,
        authMethod: options.auth.method,
        verifiers,
        tls: secureContext,
        requireTls: options.tls?.require === true,
        logger,
        registry,
        mockKey,
        maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE,
        authTimeoutMs: options.authTimeoutMs ?? 60_000,
        onClose: (c) => {
          live.delete(c);
          if (live.size === 0 && allClosed !== null) allClosed();
        },
      });
      live.add(conn);
    } catch (err) {
      logger.error('failed to set up a client connection', { error: String(err) });
      socket.destroy();
    }
  });
  server.on('error', (err) => logger.error('pg gateway listener error', { error: err.message }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  logger.info('pg gateway listening', { host: options.host, port: address.port, auth: options.auth.method, tls: secureContext !== null });

  return {
    port: address.port,
    get connections() {
      return live.size;
    },
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const drained = new Promise<void>((resolve) => {
        if (live.size === 0) resolve();
        else allClosed = resolve;
      });
      await Promise.all([...live].map((c) => c.terminate()));
      await Promise.race([Promise.all([stopped, drained]), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}
