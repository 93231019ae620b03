/**
 * The federated engine a node's gateway plans and runs queries with, as this party: its own
 * party through `self` (in-process for the node itself, over mutual TLS for a gateway worker
 * process) and every other party of the federation over mutual TLS.
 */
import type { NodeConfig } from '../connectors/config-types.js';
import type { PartyConnector } from '../connectors/connector.js';
import { RemotePartyConnector } from '../connectors/remote.js';
import { FederatedEngine } from '../executor/engine.js';

export async function createGatewayEngine(config: NodeConfig, self: PartyConnector): Promise<FederatedEngine> {
  const gateway = config.gateway;
  if (!gateway) throw new Error(`node "${config.name}" has no gateway section`);
  const connectors = new Map<string, PartyConnector>([[config.name, self]]);
  for (const node of config.federation.nodes.values()) {
    if (node.name === config.name || node.role !== 'party') continue;
    connectors.set(node.name, gatewayConnector(config, node.name));
  }
  return FederatedEngine.create({
    self: config.name,
    connectors,
    federatedTables: [...config.federation.federatedTables.values()],
    nodeUrls: new Map([...config.federation.nodes.values()].map((n) => [n.name, n.url])),
    fragmentTimeoutMs: gateway.fragmentTimeoutMs,
  });
}

/** A connector to `party` as this node, with the gateway's request timeout; `dial` overrides the address connected to. */
export function gatewayConnector(config: NodeConfig, party: string, dial?: { host: string; port: number }): RemotePartyConnector {
  return RemotePartyConnector.fromNodeConfig(config, party, {
    requestTimeoutMs: config.gateway!.fragmentTimeoutMs + 5_000,
    ...(dial !== undefined ? { dial } : {}),
  });
}

/** Where a process on this machine reaches a listener bound to `host`: loopback for a wildcard. */
export function localDialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host.replace(/^\[|\]$/g, '');
}
