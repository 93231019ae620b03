/**
 * The Postgres wire gateway listener: accepts TCP connections and serves each one in this
 * process (a `PgSessionHost`) or, for a multi-process gateway, hands it to the least busy of the
 * gateway's worker processes, so sessions use every core (a single event loop spends most of
 * its time in the socket write of each response). It owns the cancel-key registry of this
 * process and closes every session on shutdown.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { QueryEngine } from '../../executor/session-types.js';
import { CancelRegistry } from './cancel-registry.js';
import { DEFAULT_MAX_MESSAGE } from './framing.js';
import { buildAuthSetup, type PgAuthSetup, type PgUserConfig } from './auth-setup.js';
import { PgSessionHost } from './session-host.js';
import type { WireLogger } from './wire-session.js';

export type { PgUserConfig } from './auth-setup.js';

/** Other processes that serve sessions of this gateway (see `gateway-workers.ts`). */
export interface SessionProcesses {
  /** Live sessions of each worker process; worker i is process index i + 1. */
  loads(): number[];
  /** Gives worker i (0-based) a paused socket to serve. */
  handOff(worker: number, socket: net.Socket): void;
  /** Routes a CancelRequest to the process `owner` (≥ 1) that owns the session. */
  deliverCancel(owner: number, pid: number, secret: number): void;
  /** Cancels that workers received for sessions of this process (index 0). */
  onCancelForPrimary(handler: (pid: number, secret: number) => void): void;
}

export interface PgGatewayOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  engine: QueryEngine;
  /** Users to derive verifiers for, or a set-up derived already (shared with worker processes). */
  auth: { method: 'trust' | 'scram-sha-256'; users: Map<string, PgUserConfig> } | PgAuthSetup;
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
  /** Worker processes that share the sessions (default: none, every session in this process). */
  workers?: SessionProcesses;
}

export interface PgGateway {
  readonly port: number;
  /** Number of live client connections served by this process. */
  readonly connections: number;
  /** Stops listening, terminates every session (FATAL 57P01) and resolves when all are gone. */
  close(): Promise<void>;
}

const noop = () => undefined;

function wireLogger(partial: Partial<WireLogger> | undefined): WireLogger {
  return {
    debug: partial?.debug?.bind(partial) ?? noop,
    info: partial?.info?.bind(partial) ?? noop,
    warn: partial?.warn?.bind(partial) ?? noop,
    error: partial?.error?.bind(partial) ?? noop,
  };
}

export async function startPgGateway(options: PgGatewayOptions): Promise<PgGateway> {
  const logger = wireLogger(options.logger);
  const workers = options.workers;
  const registry = new CancelRegistry(0, workers ? (owner, pid, secret) => workers.deliverCancel(owner, pid, secret) : undefined);
  workers?.onCancelForPrimary((pid, secret) => registry.cancel(pid, secret));
  const host = new PgSessionHost({
    engine: options.engine,
    auth: 'verifiers' in options.auth ? options.auth : buildAuthSetup(options.auth.method, options.auth.users, randomBytes(32)),
    ...(options.tls ? { tls: options.tls } : {}),
    logger,
    registry,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE,
    authTimeoutMs: options.authTimeoutMs ?? 60_000,
  });

  /** The least busy process; this one (-1) on ties, so a lone client stays in-process. */
  const pick = (): number => {
    if (!workers) return -1;
    let best = -1;
    let least = host.connections;
    workers.loads().forEach((load, i) => {
      if (load < least) [best, least] = [i, load];
    });
    return best;
  };

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const target = pick();
    if (target < 0) host.adopt(socket);
    else workers!.handOff(target, socket);
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
  logger.info('pg gateway listening', { host: options.host, port: address.port, auth: options.auth.method, tls: host.tlsEnabled, processes: 1 + (workers?.loads().length ?? 0) });

  return {
    port: address.port,
    get connections() {
      return host.connections;
    },
    async close() {
      // With workers, the listener only finishes closing once they have closed the sockets it
      // passed them, which they do when told to (in parallel with this): do not wait for it.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await host.close();
      if (!workers) await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
