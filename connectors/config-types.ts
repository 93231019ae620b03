/**
 * The typed form of `federation.yaml` and `node.yaml` (SPEC.md §2), after loading and
 * validation by `config.ts`. All paths here are absolute (resolved relative to the YAML file
 * that names them).
 */
import type { FederatedTableDef, KeyNormalization, PolicyLevel } from '../planner/catalog-types.js';
import type { DedupeSettings } from '../planner/operators/dedupe.js';

/**
 * A node's primary role: a `party` holds data, a `hub` relays and counts for the multi-lender
 * dedupe, a `key_holder` only holds threshold-OPRF key shares (a party can hold shares too:
 * `FederationNode.keyHolder`).
 */
export type NodeRole = 'party' | 'hub' | 'key_holder';

export interface FederationNode {
  name: string;
  /** `https://host:port` of the node's party endpoint. */
  url: string;
  /** Absolute path of the node's certificate (PEM). */
  cert: string;
  role: NodeRole;
  /** Holds threshold-OPRF key shares for the multi-lender dedupe (`role: key_holder` or `[party, key_holder]`). */
  keyHolder?: boolean;
}

/** A federated table as configured: the planner's definition plus an optional `dedupe:` section. */
export type FederatedTableConfig = FederatedTableDef & { dedupe?: DedupeSettings };

export interface FederationConfig {
  /** Absolute path of the file this was loaded from. */
  path: string;
  name: string;
  /** Absolute path of the federation CA certificate (PEM). */
  ca: string;
  /** Absolute path of the CA private key, if `veilsql init` keeps it next to the CA (optional). */
  caKey?: string;
  nodes: Map<string, FederationNode>;
  /** Keyed by `schema.name`, e.g. `hospitals.genotypes`. */
  federatedTables: Map<string, FederatedTableConfig>;
}

export interface ColumnPolicyConfig {
  level: PolicyLevel;
  normalization?: KeyNormalization;
}

export interface TableConfig {
  name: string;
  /** Absolute path of a CSV or Parquet file (a PLINK path prefix), or absent when the table already lives in the database. */
  source?: string;
  /** `plink`: `source` is the path prefix of a .bed/.bim/.fam fileset (connectors/plink/). */
  format?: 'csv' | 'parquet' | 'table' | 'plink';
  /**
   * With `format: table` and `source: other_name`: the existing DuckDB table (optionally
   * `schema.table`) this table publishes. Absent when the table has the config's own name.
   */
  sourceTable?: string;
  /** Policy per column; columns not listed are `private`. */
  columns: Map<string, ColumnPolicyConfig>;
  minGroup: number;
  /** Per-requester overrides: requester → column → level. */
  grants: Map<string, Map<string, PolicyLevel>>;
}

export interface PrivacyBudgetConfig {
  epsilon: number;
  delta: number;
  /** Budget period in seconds (`30d` → 2592000). */
  periodSeconds: number;
}

export interface GatewayUser {
  /** Plain password from the config; the gateway derives SCRAM verifiers from it at start. */
  password?: string;
  /** A stored SCRAM-SHA-256 verifier (`SCRAM-SHA-256$iter:salt$stored:server`), instead of a password. */
  scramVerifier?: string;
}

/** Most processes one gateway may have (process ids of Postgres cancel keys carry the index in 7 bits). */
export const MAX_GATEWAY_PROCESSES = 128;

export interface GatewayConfig {
  host: string;
  port: number;
  /** `scram-sha-256` (default) or `trust` (only when configured, e.g. the demo). */
  auth: 'scram-sha-256' | 'trust';
  users: Map<string, GatewayUser>;
  /** Per-fragment timeout for queries planned by this gateway, in milliseconds. */
  fragmentTimeoutMs: number;
  /**
   * Processes serving client sessions, this node's own included (default 1). More use more
   * cores for many concurrent sessions; the extra ones reach this node's party over mutual TLS.
   */
  workers: number;
}

export interface NodeConfig {
  path: string;
  name: string;
  federation: FederationConfig;
  /** Party endpoint listen address. */
  listen: { host: string; port: number };
  /** Absolute path of this node's private key (PEM); its certificate is in the federation file. */
  key: string;
  /** Absolute path of the DuckDB database file (created if absent), or `:memory:`. */
  database: string;
  tables: Map<string, TableConfig>;
  privacy?: PrivacyBudgetConfig;
  gateway?: GatewayConfig;
}
