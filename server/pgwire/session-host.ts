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
import type { PgAuthSetup } from './auth-setup.js';
import type { WireLogger } from './wire-session.js';

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
