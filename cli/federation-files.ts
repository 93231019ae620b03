/**
 * Writes a federation's configuration files (federation.yaml, one node.yaml per node) and
 * creates its certificates — the programmatic twin of writing the YAML of SPEC.md §2 by hand.
 * Benchmarks and integration tests use it to stand up federations of real node processes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { initFederation } from '../server/certs.js';

export interface TableSpec {
  name: string;
  /** Absolute path of a CSV or Parquet file. */
  source: string;
  /** Column → policy level (columns not listed are private). */
  columns: Record<string, string | { level: string; normalize?: Record<string, unknown> }>;
  min_group?: number;
  grants?: Record<string, Record<string, string>>;
}

export interface NodeSpec {
  name: string;
  port: number;
  tables: TableSpec[];
  gateway?: { port: number; auth?: 'trust' | 'scram-sha-256'; users?: Record<string, { password: string }>; fragment_timeout?: string; workers?: number | 'auto' };
  role?: 'party' | 'hub';
}

export interface FederationSpec {
  name: string;
  nodes: NodeSpec[];
  federatedTables?: Record<string, { table: string; parties: string[]; colocated?: string }>;
}

export interface WrittenFederation {
  dir: string;
  federationPath: string;
  nodes: { name: string; configPath: string }[];
}

export async function writeFederation(dir: string, spec: FederationSpec): Promise<WrittenFederation> {
  mkdirSync(join(dir, 'certs'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const federation = {
    name: spec.name,
    ca: 'certs/ca.pem',
    nodes: Object.fromEntries(
      spec.nodes.map((n) => [n.name, { url: `https://127.0.0.1:${n.port}`, cert: `certs/${n.name}.pem`, ...(n.role === 'hub' ? { role: 'hub' } : {}) }]),
    ),
    ...(spec.federatedTables ? { federated_tables: spec.federatedTables } : {}),
  };
  const federationPath = join(dir, 'federation.yaml');
  writeFileSync(federationPath, stringify(federation));
  const nodes = spec.nodes.map((n) => {
    const config = {
      name: n.name,
      federation: 'federation.yaml',
      listen: `127.0.0.1:${n.port}`,
      key: `certs/${n.name}.key`,
      database: `data/${n.name}.duckdb`,
      tables: Object.fromEntries(
        n.tables.map((t) => [t.name, { source: t.source, columns: t.columns, ...(t.min_group ? { min_group: t.min_group } : {}), ...(t.grants ? { grants: t.grants } : {}) }]),
      ),
      ...(n.gateway
        ? {
            gateway: {
              listen: `127.0.0.1:${n.gateway.port}`,
              auth: n.gateway.auth ?? 'trust',
              users: n.gateway.users ?? { analyst: { password: 'analyst' } },
              ...(n.gateway.fragment_timeout ? { fragment_timeout: n.gateway.fragment_timeout } : {}),
              ...(n.gateway.workers !== undefined ? { workers: n.gateway.workers } : {}),
            },
          }
        : {}),
    };
    const configPath = join(dir, `${n.name}.node.yaml`);
    writeFileSync(configPath, stringify(config));
    return { name: n.name, configPath };
  });
  await initFederation(federationPath);
  return { dir, federationPath, nodes };
}
