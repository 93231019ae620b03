/**
 * Entry point of a gateway worker process (forked by `gateway-workers.ts`): one more event loop
 * serving Postgres sessions of a node's gateway. It plans and runs queries with its own
 * `FederatedEngine`, reaching its node's party over mutual TLS like any other party, and serves
 * the sockets the node hands it. It exits when told to, or when the node goes away.
 */
import { createGatewayEngine, gatewayConnector } from '../gateway-engine.js';
import type { FederatedEngine } from '../../executor/engine.js';
import { CancelRegistry } from './cancel-registry.js';
import { DEFAULT_MAX_MESSAGE } from './framing.js';
import { PgSessionHost } from './session-host.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js';
import type * as net from 'node:net';

const send = (m: FromWorker) => {
  if (process.connected) process.send!(m);
};
const log = (level: 'info' | 'warn' | 'error', line: string) => send({ t: 'log', level, line });

let host: PgSessionHost | undefined;
let registry: CancelRegistry | undefined;
let engine: FederatedEngine | undefined;
let stopping: Promise<void> | undefined;

async function start(init: WorkerInit): Promise<void> {
  const name = `gateway worker ${init.index}`;
  engine = await createGatewayEngine(init.config, gatewayConnector(init.config, init.config.name, init.partyDial));
  registry = new CancelRegistry(init.index, (owner, pid, secret) => send({ t: 'cancel', owner, pid, secret }));
  const fmt = (msg: string, meta?: Record<string, unknown>) => `${init.config.name} ${name}: ${msg}${meta ? ` ${JSON.stringify(meta)}` : ''}`;
  host = new PgSessionHost({
    engine,
    auth: init.auth,
    ...(init.tls ? { tls: init.tls } : {}),
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg, meta) => log('warn', fmt(msg, meta)),
      error: (msg, meta) => log('error', fmt(msg, meta)),
    },
    registry,
    maxMessageBytes: init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE,
    authTimeoutMs: init.authTimeoutMs ?? 60_000,
  });
}

function stop(): Promise<void> {
  stopping ??= (async () => {
    await host?.close().catch(() => undefined);
    await engine?.close().catch(() => undefined);
    process.disconnect?.();
    process.exit(0);
  })();
  return stopping;
}

process.on('message', (m: ToWorker, handle?: net.Socket) => {
  switch (m.t) {
    case 'init':
      start(m).then(
        () => send({ t: 'ready' }),
        (e: unknown) => {
          send({ t: 'failed', message: (e as Error).message ?? String(e) });
          void stop();
        },
      );
      return;
    case 'session': {
      const id = m.id;
      // Node drops the handle of a socket that closed while queued: the session is over already.
      if (!handle || !host || stopping) {
        handle?.destroy();
        send({ t: 'ended', id });
        return;
      }
      host.adopt(handle, () => send({ t: 'ended', id }));
      send({ t: 'adopted', id });
      return;
    }
    case 'cancel':
      registry?.cancel(m.pid, m.secret);
      return;
    case 'close':
      void stop();
      return;
  }
});
// The node is gone (crashed or killed): nobody can hand us sessions or route cancels any more.
process.on('disconnect', () => void stop());
// Ctrl-C reaches the whole process group; the node decides when its workers stop.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void stop());
process.on('uncaughtException', (e) => {
  log('error', `gateway worker crashed: ${e.stack ?? e.message}`);
  process.exit(1);
});
