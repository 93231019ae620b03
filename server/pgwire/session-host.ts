/**
 * The client sessions of one gateway process: turns accepted sockets into `Connection` state
 * machines sharing one engine, one cancel registry and one authentication set-up, and ends them
 * all on shutdown. The listener (`server.ts`) and the worker processes of a multi-process
 * gateway (`gateway-worker-main.ts`) each own one.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { QueryEngine } from '../../executor/session-types.js';
import { CancelRegistry } from './cancel-registry.js';
import { Connection } from './connection.js';
import { makeVerifier, parseVerifier, type ScramVerifier } from './scram.js';
import type { WireLogger } from './wire-session.js';

export interface PgUserConfig {
  /** Plain password; a SCRAM verifier is derived from it at start. */
  password?: string;
  /** Or a Postgres-style verifier `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
  scramVerifier?: string;
}

/**
 * What every process of one gateway must share so that clients cannot tell which process they
 * reached: the same SCRAM salts for known users and the same mock salts for unknown ones
 * (otherwise varying salts would reveal which user names exist). Plain data, so it can be sent
 * to worker processes.
 */
export interface PgAuthSetup {
  method: 'trust' | 'scram-sha-256';
  verifiers: Map<string, ScramVerifier | null>;
  /** Per-gateway secret for unknown-user SCRAM salts. */
  mockKey: Buffer;
}

/** Derives SCRAM verifiers for configured plain passwords (random salt, 4096 iterations) once. */
export function buildAuthSetup(method: PgAuthSetup['method'], users: Map<string, PgUserConfig>, mockKey: Buffer): PgAuthSetup {
  const verifiers = new Map<string, ScramVerifier | null>();
  for (const [user, cfg] of users) {
    if (cfg.scramVerifier !== undefined) verifiers.set(user, parseVerifier(cfg.scramVerifier));
    else if (cfg.password !== undefined) verifiers.set(user, makeVerifier(cfg.password));
    else if (method === 'scram-sha-256') throw new Error(`user "${user}" has neither a password nor a SCRAM verifier`);
    else verifiers.set(user, null);
  }
  return { method, verifiers, mockKey };
}

export interface PgSessionHostOptions {
  engine: QueryEngine;
  auth: PgAuthSetup;
  /** PEM key and certificate; without them SSLRequest is answered 'N'. */
  tls?: { key: string | Buffer | Uint8Array; cert: string | Buffer | Uint8Array; require?: boolean };
  logger: WireLogger;
  registry: CancelRegistry;
  maxMessageBytes: number;
  authTimeoutMs: number;
}

export class PgSessionHost {
  private readonly live = new Set<Connection>();
  private readonly secureContext: tls.SecureContext | null;
  private allClosed: (() => void) | null = null;

  constructor(private readonly options: PgSessionHostOptions) {
    const t = options.tls;
    this.secureContext = t === undefined ? null : tls.createSecureContext({ key: Buffer.from(t.key), cert: Buffer.from(t.cert) });
  }

  get tlsEnabled(): boolean {
    return this.secureContext !== null;
  }

  get connections(): number {
    return this.live.size;
  }

  /** Serves a freshly accepted (possibly paused) socket; `onEnd` runs when its session is gone. */
  adopt(socket: net.Socket, onEnd?: () => void): void {
    const o = this.options;
    try {
      const conn = new Connection(socket, {
        engine: o.engine,
        authMethod: o.auth.method,
        verifiers: o.auth.verifiers,
        tls: this.secureContext,
        requireTls: o.tls?.require === true,
        logger: o.logger,
        registry: o.registry,
        mockKey: o.auth.mockKey,
        maxMessageBytes: o.maxMessageBytes,
        authTimeoutMs: o.authTimeoutMs,
        onClose: (c) => {
          if (!this.live.delete(c)) return;
          onEnd?.();
          if (this.live.size === 0 && this.allClosed !== null) this.allClosed();
        },
      });
      this.live.add(conn);
      socket.resume();
    } catch (err) {
      o.logger.error('failed to set up a client connection', { error: String(err) });
      socket.destroy();
      onEnd?.();
    }
  }

  /** Terminates every session (FATAL 57P01) and resolves when all are gone (or after 5 s). */
  async close(): Promise<void> {
    const drained = new Promise<void>((resolve) => {
      if (this.live.size === 0) resolve();
      else this.allClosed = resolve;
    });
    await Promise.all([...this.live].map((c) => c.terminate()));
    await Promise.race([drained, new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}
