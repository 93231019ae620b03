/**
 * One VeilSQL node (`veilsql node --config node.yaml`): the party (its DuckDB, tables, policy)
 * served over mutual TLS, and — when node.yaml has a `gateway:` section — the Postgres wire
 * gateway for this organisation's analysts, planning queries as this party.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EmbeddedPartyConnector } from '../connectors/embedded-duckdb.js';
import { loadNodeConfig } from '../connectors/config.js';
import type { NodeConfig } from '../connectors/config-types.js';
import { Party } from '../connectors/party/party.js';
import type { FederatedEngine } from '../executor/engine.js';
import { createGatewayEngine, localDialHost } from './gateway-engine.js';
import { GatewayWorkers } from './pgwire/gateway-workers.js';
import { buildAuthSetup } from './pgwire/auth-setup.js';
import { PartyEndpoint } from './party-endpoint.js';
import { startPgGateway, type PgGateway } from './pgwire/server.js';
import { registerPartyProtocols } from '../executor/operators/index.js';
import { startDedupeServices, type DedupeNode } from '../executor/operators/dedupe/index.js';
import { SqlError, SqlState } from '../parser/errors.js';
import type { ProtocolRequest } from '../connectors/connector.js';
import type { ProtocolSession } from './party-endpoint.js';

/** A protocol session over mTLS: its first frame is the JSON request (see `ProtocolRequest`). */
async function serveProtocol(party: Party, session: ProtocolSession): Promise<void> {
  const first = await session.channel.receive();
  if (first === null) throw new SqlError(SqlState.protocolViolation, `protocol ${session.protocol}: the session ended before its request`);
  let request: ProtocolRequest;
  try {
    request = JSON.parse(new TextDecoder().decode(first)) as ProtocolRequest;
  } catch {
    throw new SqlError(SqlState.protocolViolation, `protocol ${session.protocol}: the request frame is not JSON`);
  }
  if (!request || typeof request !== 'object' || request.protocol !== session.protocol || typeof request.queryId !== 'string') {
    throw new SqlError(SqlState.protocolViolation, `protocol ${session.protocol}: malformed request`);
  }
  await party.runProtocol(session.requester, request, session.channel, session.signal);
}

export interface NodeLogger {
  info(line: string): void;
  warn(line: string): void;
}

export interface RunningNode {
  readonly name: string;
  readonly config: NodeConfig;
  readonly party: Party;
  readonly partyPort: number;
  readonly engine?: FederatedEngine;
  readonly gatewayPort?: number;
  /** Live Postgres sessions per gateway process (this one first; a restarting worker counts ∞); [] without a gateway. */
  gatewaySessions(): number[];
  close(): Promise<void>;
}

export interface RunNodeOptions {
  logger?: NodeLogger;
  /** Overrides for tests: listen ports (0 = any free port). */
  partyPort?: number;
  gatewayPort?: number;
  /** Log one line per party-endpoint request (default: off; errors are always logged). */
  requestLog?: boolean;
}

export async function runNode(configOrPath: NodeConfig | string, options: RunNodeOptions = {}): Promise<RunningNode> {
  const config = typeof configOrPath === 'string' ? loadNodeConfig(configOrPath) : configOrPath;
  const log: NodeLogger = options.logger ?? { info: (l) => console.log(l), warn: (l) => console.error(l) };
  const party = await Party.open(config, { info: log.info, warn: log.warn });
  registerPartyProtocols(party);
  let endpoint: PartyEndpoint | undefined;
  let gateway: PgGateway | undefined;
  let engine: FederatedEngine | undefined;
  let workers: GatewayWorkers | undefined;
  let dedupe: DedupeNode | undefined;
  try {
    endpoint = await PartyEndpoint.fromNodeConfig(config, party, {
      ...(options.partyPort !== undefined ? { port: options.partyPort } : {}),
      logger: options.requestLog ? (line) => log.info(line) : (line) => (/status=[45]|refused|error/i.test(line) ? log.warn(line) : undefined),
    });
    for (const name of party.protocols()) endpoint.registerProtocol(name, (session) => serveProtocol(party, session));
    // Multi-lender dedupe roles from federation.yaml's `dedupe:` sections: hub, key holder, lender uploads.
    dedupe = await startDedupeServices(config, party, { logger: log });
    if (config.gateway) {
      engine = await createGatewayEngine(config, new EmbeddedPartyConnector(party, config.name));
      const self = config.federation.nodes.get(config.name)!;
      const tlsFiles = { key: readFileSync(config.key), cert: readFileSync(self.cert) };
      const auth = buildAuthSetup(config.gateway.auth, config.gateway.users, randomBytes(32));
      if (config.gateway.workers > 1) {
        workers = await GatewayWorkers.start({
          count: config.gateway.workers - 1,
          init: {
            // Workers authenticate with the derived verifiers: plain passwords stay here.
            config: { ...config, gateway: { ...config.gateway, users: new Map() } },
            partyDial: { host: localDialHost(config.listen.host), port: endpoint.port },
            auth,
            tls: tlsFiles,
          },
          logger: log,
        });
      }
      gateway = await startPgGateway({
        host: config.gateway.host,
        port: options.gatewayPort ?? config.gateway.port,
        engine,
        auth,
        tls: tlsFiles,
        logger: { warn: log.warn, error: log.warn },
        ...(workers ? { workers } : {}),
      });
    }
  } catch (e) {
    await Promise.all([gateway?.close().catch(() => undefined), workers?.close().catch(() => undefined)]);
    await engine?.close().catch(() => undefined);
    await dedupe?.close().catch(() => undefined);
    await endpoint?.close().catch(() => undefined);
    await party.close();
    throw e;
  }
  const partyPort = endpoint.port;
  const gatewayPort = gateway?.port;
  log.info(
    `ready ${config.name} party=https://${config.listen.host}:${partyPort}` +
      (gateway ? ` gateway=postgres://${config.gateway!.host}:${gatewayPort}/veilsql` : '') +
      (workers ? ` gateway_processes=${config.gateway!.workers}` : ''),
  );
  let closing: Promise<void> | undefined;
  return {
    name: config.name,
    config,
    party,
    partyPort,
    engine,
    gatewayPort,
    gatewaySessions: () => (gateway ? [gateway.connections, ...(workers?.loads() ?? [])] : []),
    close() {
      closing ??= (async () => {
        await Promise.all([gateway?.close().catch(() => undefined), workers?.close().catch(() => undefined)]);
        await engine?.close().catch(() => undefined);
        await dedupe?.close().catch(() => undefined);
        await endpoint?.close().catch(() => undefined);
        await party.close();
      })();
      return closing;
    },
  };
}
