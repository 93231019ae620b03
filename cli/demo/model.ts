/**
 * The structured description of a generated demo federation: every node, every table with its
 * columns, DuckDB types, policies and row counts, the federated tables and the facts each scenario
 * was built to exhibit. `generateDemo` returns it; the README, the YAML files and the PostgreSQL
 * loader in the tests are all derived from the same objects.
 */
import type { KeyNormalization, PolicyLevel } from '../../planner/catalog-types.js';
import type { RawValue } from './csv.js';

/** Normalisation declared on every `id_key` join key of the demo. */
export const ID_KEY_NORMALIZATION: KeyNormalization = { trim: true, unicode: 'NFC', case: 'lower' };

export interface DemoColumn {
  name: string;
  /** DuckDB type as DuckDB prints it, e.g. `DECIMAL(12,2)`. */
  type: string;
  policy: PolicyLevel;
  /** Whether the generated data contains at least one NULL in this column. */
  nullable: boolean;
  normalization?: KeyNormalization;
  /** One line for the README. */
  doc: string;
}

export interface DemoTable {
  party: string;
  name: string;
  /** One paragraph for the README: what the table models. */
  doc: string;
  columns: DemoColumn[];
  rowCount: number;
  /** Smallest group an aggregate over `aggregate` columns may release (node.yaml `min_group`). */
  minGroup: number;
  /** Per-requester overrides written to node.yaml: requester → column → level. */
  grants: Record<string, Record<string, PolicyLevel>>;
  /** Which file node.yaml names as the table's `source`. */
  source: 'csv' | 'parquet';
  /** Absolute paths of both renderings (identical content). */
  csvPath: string;
  parquetPath: string;
  /** Paths relative to the demo directory, as written in node.yaml. */
  csvRelPath: string;
  parquetRelPath: string;
}

export interface DemoGateway {
  node: string;
  host: string;
  port: number;
  auth: 'trust' | 'scram-sha-256';
  user: string;
  password: string;
  database: string;
  /** `postgres://analyst:analyst@127.0.0.1:5433/veilsql` */
  url: string;
}

export interface DemoNode {
  name: string;
  role: 'party' | 'hub';
  /** Absolute path of this node's node.yaml. */
  configPath: string;
  host: string;
  /** Party endpoint port (7100 for the hub, 7101+ for parties). */
  port: number;
  /** `https://127.0.0.1:7101` as written in federation.yaml. */
  url: string;
  /** Absolute paths named by the configs (created by `veilsql init` and the node, not by the generator). */
  certPath: string;
  keyPath: string;
  databasePath: string;
  gateway?: DemoGateway;
  /** Also holds a share of the multi-lender dedupe's threshold-OPRF key (`role: [party, key_holder]`). */
  keyHolder?: boolean;
}

export interface DemoFederatedTable {
  /** `banks.customers` */
  qualifiedName: string;
  /** Multi-lender dedupe settings (federation.yaml `dedupe:`): key and time columns, hub. */
  dedupe?: { key: string; time: string; hub: string };
  schema: string;
  name: string;
  /** Member table name at every party. */
  table: string;
  parties: string[];
  colocated?: string;
}

/** Facts the scenarios were built to exhibit (the tests check them against the files). */
export interface DemoFacts {
  /** Distinct normalised id_keys of bank_a.customers, and how many of them telco.users also has. */
  bankACustomers: number;
  bankACustomersAtTelco: number;
  /** bank_a.applicants (distinct normalised id_keys) found on bank_b / bank_c blacklists. */
  applicantsOnBankBBlacklist: number;
  applicantsOnBankCBlacklist: number;
  /** Distinct normalised id_keys that applied at two or more lenders. */
  crossLenderPersons: number;
  /** rsids of the planted chr-6 association cluster, strongest first. */
  plantedSnps: string[];
  /** Rows whose id_key is stored un-normalised (case or surrounding blanks), per party.table. */
  messyIdKeys: Record<string, number>;
}

export interface DemoDescription {
  /** Absolute demo directory. */
  dir: string;
  seed: number;
  /** The day the synthetic data ends (ISO date); recent-activity queries are relative to it. */
  asOf: string;
  federationName: string;
  federationPath: string;
  readmePath: string;
  nodes: DemoNode[];
  tables: DemoTable[];
  federatedTables: DemoFederatedTable[];
  facts: DemoFacts;
}

/** A table as the scenario builders produce it: description fields plus its rows. */
export interface GeneratedTable {
  party: string;
  name: string;
  doc: string;
  columns: Omit<DemoColumn, 'nullable'>[];
  rows: RawValue[][];
  minGroup?: number;
  grants?: Record<string, Record<string, PolicyLevel>>;
  source?: 'csv' | 'parquet';
}

/** Shorthand used by the scenario builders. */
export function col(
  name: string,
  type: string,
  policy: PolicyLevel,
  doc: string,
  normalization?: KeyNormalization,
): Omit<DemoColumn, 'nullable'> {
  return normalization ? { name, type, policy, doc, normalization } : { name, type, policy, doc };
}
