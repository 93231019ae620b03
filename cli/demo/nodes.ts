/**
 * `demoNodes(dir)`: what the `veilsql demo` launcher needs to start a generated demo — every node's
 * name, role, config path and party endpoint, in port order (hub first), plus the gateway address.
 * It reads `dir/federation.yaml` and the node files next to it, so it describes whatever was
 * generated there (any lender count), without regenerating anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FEDERATION_FILE, NODE_FILE_SUFFIX } from './configs.js';
import type { DemoGateway } from './model.js';

export interface DemoNodeEntry {
  name: string;
  role: 'party' | 'hub';
  /** Absolute path of the node's config: pass it to `veilsql node --config`. */
  configPath: string;
  host: string;
  port: number;
  url: string;
}

export interface DemoNodesListing {
  dir: string;
  federationPath: string;
  nodes: DemoNodeEntry[];
  /** The analysts' entry point (bank_a's gateway in the demo). */
  gateway: DemoGateway;
  /** Every node's gateway, the entry point first (lender_01's serves the multi-lender dedupe). */
  gateways: DemoGateway[];
}

type Yaml = Record<string, unknown>;

function asRecord(v: unknown, what: string): Yaml {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a mapping`);
  return v as Yaml;
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  if (!m) throw new Error(`${what}: expected host:port, got ${JSON.stringify(text)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

export function demoNodes(dir: string): DemoNodesListing {
  const root = resolve(dir);
  const federationPath = join(root, FEDERATION_FILE);
  if (!existsSync(federationPath)) throw new Error(`no demo in ${root}: ${FEDERATION_FILE} is missing (run generateDemo first)`);
  const federation = asRecord(parse(readFileSync(federationPath, 'utf8')), federationPath);
  const nodesYaml = asRecord(federation.nodes, `${federationPath} nodes`);
  const nodes: DemoNodeEntry[] = [];
  const gateways: DemoGateway[] = [];
  for (const [name, raw] of Object.entries(nodesYaml)) {
    const entry = asRecord(raw, `${federationPath} nodes.${name}`);
    const url = new URL(String(entry.url));
    const configPath = join(root, `${name}${NODE_FILE_SUFFIX}`);
    if (!existsSync(configPath)) throw new Error(`node ${name}: ${configPath} is missing`);
    nodes.push({
      name,
      role: entry.role === 'hub' ? 'hub' : 'party',
      configPath,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port),
      url: String(entry.url),
    });
    const node = asRecord(parse(readFileSync(configPath, 'utf8')), configPath);
    if (node.gateway !== undefined) {
      const g = asRecord(node.gateway, `${configPath} gateway`);
      const { host, port } = hostPort(String(g.listen), `${configPath} gateway.listen`);
      const users = asRecord(g.users, `${configPath} gateway.users`);
      const [user, cred] = Object.entries(users)[0] ?? [];
      if (user === undefined) throw new Error(`${configPath}: gateway has no users`);
      const password = String(asRecord(cred, `${configPath} gateway.users.${user}`).password ?? '');
      gateways.push({
        node: name,
        host,
        port,
        auth: g.auth === 'trust' ? 'trust' : 'scram-sha-256',
        user,
        password,
        database: 'veilsql',
        url: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/veilsql`,
      });
    }
  }
  if (gateways.length === 0) throw new Error(`no node in ${root} has a gateway`);
  nodes.sort((a, b) => a.port - b.port);
  // bank_a's gateway is the analysts' entry point when it exists; otherwise the first in file order.
  const gateway = gateways.find((g) => g.node === 'bank_a') ?? gateways[0];
  return { dir: root, federationPath, nodes, gateway, gateways: [gateway, ...gateways.filter((g) => g !== gateway)] };
}
