/**
 * Loads and validates `federation.yaml` and `node.yaml` (SPEC.md §2) into the typed configs of
 * `config-types.ts`. Every problem is a SqlError F0000 whose message names the file, line:col,
 * the YAML path (`tables.customers.columns.balance`) and what is wrong, because a node that
 * starts with a half-understood policy is worse than one that refuses to start.
 *
 * Conventions beyond the spec, chosen so that `veilsql init` and the node agree without either
 * reading the other's file:
 * - a node's private key defaults to `<its cert path without .pem>.key` (what `init` writes);
 * - the CA key defaults to `<ca path without .pem>.key` (`ca_key:` overrides it);
 * - `listen` defaults to the host:port of the node's url in the federation file;
 * - `database` defaults to `:memory:`.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { isSeq } from 'yaml';
import type { KeyNormalization, PolicyLevel } from '../planner/catalog-types.js';
import { POLICY_LEVELS } from '../planner/catalog-types.js';
import type { DedupeSettings } from '../planner/operators/dedupe.js';
import type {
  ColumnPolicyConfig,
  FederatedTableConfig,
  FederationConfig,
  FederationNode,
  GatewayConfig,
  GatewayUser,
  NodeConfig,
  NodeRole,
  PrivacyBudgetConfig,
  TableConfig,
} from './config-types.js';
import { MAX_GATEWAY_PROCESSES } from './config-types.js';
import { cpuBudget } from './cpu-budget.js';
import { ConfigReader, didYouMean, type Located } from './config-reader.js';

export const DEFAULT_MIN_GROUP = 10;
export const DEFAULT_FRAGMENT_TIMEOUT_MS = 30_000;

/** `certs/bank_a.pem` → `certs/bank_a.key`: where `veilsql init` puts the key of a certificate. */
export function keyPathForCert(certPath: string): string {
  return certPath.endsWith('.pem') ? certPath.slice(0, -'.pem'.length) + '.key' : certPath + '.key';
}

function resolveFrom(file: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(file), p);
}

// ---------------------------------------------------------------------------------------------
// federation.yaml

const FEDERATION_KEYS = ['name', 'ca', 'ca_key', 'nodes', 'federated_tables'] as const;
const FEDERATION_NODE_KEYS = ['url', 'cert', 'role'] as const;
const FEDERATED_TABLE_KEYS = ['table', 'parties', 'colocated', 'dedupe'] as const;
// Multi-lender dedupe (planner/operators/dedupe.ts): hub, key and time columns, bucket, key epoch, t.
const DEDUPE_KEYS = ['hub', 'key', 'time', 'bucket', 'epoch', 'threshold', 'sync', 'grace'] as const;

/** Loads `federation.yaml`. `text` lets tests validate without touching the disk. */
export function loadFederationConfig(path: string, text?: string): FederationConfig {
  const file = resolve(path);
  const r: ConfigReader = new ConfigReader(file, 'federation config', text);
  const top = r.object(r.root, FEDERATION_KEYS, ['name', 'ca', 'nodes']);

  const name = r.name(top.get('name')!, 'federation name');
  const ca = resolveFrom(file, r.string(top.get('ca')!, 'a path to the CA certificate'));
  const caKey = top.has('ca_key') ? resolveFrom(file, r.string(top.get('ca_key')!, 'a path')) : keyPathForCert(ca);

  const nodes = new Map<string, FederationNode>();
  const nodesAt = top.get('nodes')!;
  const nodeEntries = r.entries(nodesAt, 'a mapping of node names to { url, cert }');
  if (nodeEntries.length === 0) r.fail(nodesAt, 'a federation needs at least one node');
  const seenUrls = new Map<string, string>();
  for (const { key, keyNode, value } of nodeEntries) {
    r.name({ node: keyNode, path: value.path }, 'node name');
    const f = r.object(value, FEDERATION_NODE_KEYS, ['url', 'cert']);
    const url = parseNodeUrl(r, f.get('url')!);
    const previous = seenUrls.get(url);
    if (previous) r.fail(f.get('url')!, `url ${url} is already used by node "${previous}"`);
    seenUrls.set(url, key);
    const cert = resolveFrom(file, r.string(f.get('cert')!, 'a path to the node certificate'));
    const { role, keyHolder } = f.has('role') ? parseRole(r, f.get('role')!) : { role: 'party' as NodeRole, keyHolder: false };
    nodes.set(key, { name: key, url, cert, role, ...(keyHolder ? { keyHolder } : {}) });
  }

  const federatedTables = new Map<string, FederatedTableConfig>();
  if (top.has('federated_tables') && top.get('federated_tables')!.node !== null) {
    for (const { key, keyNode, value } of r.entries(top.get('federated_tables')!, 'a mapping of schema.table to { table, parties }')) {
      const keyAt = { node: keyNode, path: value.path };
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(key);
      if (!m) r.fail(keyAt, `federated table "${key}" must be written schema.name, e.g. hospitals.genotypes`);
      const [, schema, tableName] = m;
      if (nodes.has(schema)) {
        r.fail(keyAt, `federation schema "${schema}" has the same name as a node; schemas and parties share one namespace`);
      }
      const f = r.object(value, FEDERATED_TABLE_KEYS, ['table', 'parties']);
      const table = r.name(f.get('table')!, 'table name');
      const parties: string[] = [];
      const partyItems = r.list(f.get('parties')!, 'a list of party names');
      if (partyItems.length === 0) r.fail(f.get('parties')!, 'a federated table needs at least one party');
      for (const item of partyItems) {
        const party = r.string(item, 'a party name');
        const node = nodes.get(party);
        if (!node) {
          const guess = didYouMean(party, nodes.keys());
          r.fail(item, `unknown node "${party}"${guess ? ` (did you mean "${guess}"?)` : ''}`, `nodes: ${[...nodes.keys()].join(', ')}`);
        }
        if (node.role !== 'party') r.fail(item, `node "${party}" is a ${node.role}, not a party that holds data`);
        if (parties.includes(party)) r.fail(item, `party "${party}" is listed twice`);
        parties.push(party);
      }
      const def: FederatedTableConfig = { schema, name: tableName, table, parties };
      if (f.has('colocated')) def.colocated = r.string(f.get('colocated')!, 'a column name');
      if (f.has('dedupe')) def.dedupe = parseDedupe(r, f.get('dedupe')!, nodes, key);
      federatedTables.set(key, def);
    }
  }

  return { path: file, name, ca, caKey, nodes, federatedTables };
}

/**
 * `role: party | hub | key_holder` or a list: a party may also be a key holder
 * (`role: [party, key_holder]`); a hub never is (it relays every evaluation to the holders).
 */
function parseRole(r: ConfigReader, at: Located): { role: NodeRole; keyHolder: boolean } {
  const ROLES = ['party', 'hub', 'key_holder'] as const;
  const items = isSeq(at.node) ? r.list(at, 'a list of roles') : [at];
  if (items.length === 0) r.fail(at, 'a node needs at least one role');
  const roles = items.map((item) => r.oneOf(item, ROLES, 'role'));
  if (new Set(roles).size !== roles.length) r.fail(at, 'a role is listed twice');
  if (roles.includes('hub') && roles.length > 1) {
    r.fail(at, 'the hub cannot have another role', 'The hub relays every key evaluation; a key share or data of its own would let it see what it relays.');
  }
  const keyHolder = roles.includes('key_holder');
  return { role: roles.includes('hub') ? 'hub' : roles.includes('party') ? 'party' : 'key_holder', keyHolder };
}

/** The `dedupe:` section of a federated table (defaults: the only hub, 1d buckets, 7d epochs, majority t). */
function parseDedupe(r: ConfigReader, at: Located, nodes: Map<string, FederationNode>, table: string): DedupeSettings {
  const f = r.object(at, DEDUPE_KEYS, ['key', 'time']);
  const hubs = [...nodes.values()].filter((n) => n.role === 'hub').map((n) => n.name);
  let hub: string;
  if (f.has('hub')) {
    hub = r.name(f.get('hub')!, 'node name');
    if (nodes.get(hub)?.role !== 'hub') r.fail(f.get('hub')!, `node "${hub}" is not a node with role hub`, `hubs: ${hubs.join(', ') || '(none)'}`);
  } else {
    if (hubs.length !== 1) r.fail(at, `multi-lender dedupe of ${table} needs a hub: ${hubs.length === 0 ? 'no node has role hub' : `name one of ${hubs.join(', ')} with hub:`}`);
    hub = hubs[0];
  }
  const keyHolders = [...nodes.values()].filter((n) => n.keyHolder).map((n) => n.name).sort();
  if (keyHolders.length < 3) {
    r.fail(at, `multi-lender dedupe of ${table} needs at least 3 key holders (nodes with role key_holder), found ${keyHolders.length}`);
  }
  const seconds = (key: string, fallback: number, min: number): number => {
    if (!f.has(key)) return fallback;
    const ms = parseDuration(r, f.get(key)!, 's');
    if (ms % 1000 !== 0 || ms < min * 1000) r.fail(f.get(key)!, `${key} must be a whole number of seconds, at least ${min}`);
    return ms / 1000;
  };
  const bucketSeconds = seconds('bucket', 86_400, 1);
  const threshold = f.has('threshold') ? r.integer(f.get('threshold')!, 2, keyHolders.length) : Math.floor(keyHolders.length / 2) + 1;
  return {
    hub,
    keyColumn: r.name(f.get('key')!, 'column name').toLowerCase(),
    timeColumn: r.name(f.get('time')!, 'column name').toLowerCase(),
    bucketSeconds,
    epochSeconds: seconds('epoch', 7 * 86_400, 60),
    threshold,
    keyHolders,
    syncSeconds: seconds('sync', 30, 1),
    graceSeconds: seconds('grace', 3_600, 0),
  };
}

function parseNodeUrl(r: ConfigReader, at: Located): string {
  const text = r.string(at, 'an https://host:port url');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return r.fail(at, `"${text}" is not a valid url; expected https://host:port`);
  }
  if (url.protocol !== 'https:') r.fail(at, `url "${text}" must use https:// (nodes talk over mutual TLS)`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    r.fail(at, `url "${text}" must be just https://host:port, without path, query or credentials`);
  }
  return url.origin;
}

// ---------------------------------------------------------------------------------------------
// node.yaml

const NODE_KEYS = ['name', 'federation', 'listen', 'key', 'database', 'tables', 'privacy', 'gateway'] as const;
const TABLE_KEYS = ['source', 'format', 'columns', 'min_group', 'grants'] as const;
const COLUMN_POLICY_KEYS = ['level', 'normalize'] as const;
const NORMALIZE_KEYS = ['trim', 'unicode', 'case'] as const;
const PRIVACY_KEYS = ['budget'] as const;
const BUDGET_KEYS = ['epsilon', 'delta', 'period'] as const;
const GATEWAY_KEYS = ['listen', 'auth', 'users', 'fragment_timeout', 'workers'] as const;
const USER_KEYS = ['password', 'scram_verifier'] as const;

/** Loads `node.yaml` and the federation file it names. `text` lets tests skip the disk for node.yaml. */
export function loadNodeConfig(path: string, text?: string): NodeConfig {
  const file = resolve(path);
  const r: ConfigReader = new ConfigReader(file, 'node config', text);
  const top = r.object(r.root, NODE_KEYS, ['name', 'federation']);

  const federationPath = resolveFrom(file, r.string(top.get('federation')!, 'a path to federation.yaml'));
  const federation = loadFederationConfig(federationPath);

  const nameAt = top.get('name')!;
  const name = r.name(nameAt, 'node name');
  const self = federation.nodes.get(name);
  if (!self) {
    const guess = didYouMean(name, federation.nodes.keys());
    r.fail(nameAt, `node "${name}" is not a node of federation "${federation.name}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
      `nodes in ${federationPath}: ${[...federation.nodes.keys()].join(', ')}`);
  }

  const listen = top.has('listen')
    ? parseHostPort(r, top.get('listen')!)
    : (() => {
        const u = new URL(self.url);
        return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
      })();
  const key = top.has('key') ? resolveFrom(file, r.string(top.get('key')!, 'a path to the private key')) : keyPathForCert(self.cert);
  const database = top.has('database')
    ? (() => {
        const d = r.string(top.get('database')!, 'a path to the DuckDB database file');
        return d === ':memory:' ? d : resolveFrom(file, d);
      })()
    : ':memory:';

  const tables = new Map<string, TableConfig>();
  if (top.has('tables') && top.get('tables')!.node !== null) {
    for (const { key: tableName, keyNode, value } of r.entries(top.get('tables')!, 'a mapping of table names')) {
      r.name({ node: keyNode, path: value.path }, 'table name');
      tables.set(tableName, parseTable(r, file, tableName, value, federation));
    }
  }

  const config: NodeConfig = { path: file, name, federation, listen, key, database, tables };
  if (top.has('privacy')) config.privacy = parsePrivacy(r, top.get('privacy')!);
  if (top.has('gateway')) config.gateway = parseGateway(r, top.get('gateway')!);
  return config;
}

function parseTable(r: ConfigReader, file: string, name: string, at: Located, federation: FederationConfig): TableConfig {
  // `customers:` with nothing under it is a table already in the database, all columns private.
  const f = at.node === null ? new Map<string, Located>() : r.object(at, TABLE_KEYS);
  const table: TableConfig = { name, columns: new Map(), minGroup: DEFAULT_MIN_GROUP, grants: new Map() };

  const explicitFormat = f.has('format') ? r.oneOf(f.get('format')!, ['csv', 'parquet', 'table', 'plink'] as const, 'format') : undefined;
  if (f.has('source')) {
    const sourceAt = f.get('source')!;
    const source = r.string(sourceAt, 'a .csv or .parquet path, or a table name');
    if (explicitFormat === 'table') {
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(source)) {
        r.fail(sourceAt, `with format: table, source must name a table in the database, got "${source}"`);
      }
      table.format = 'table';
      table.sourceTable = source;
    } else {
      const inferred = formatFromExtension(source);
      if (explicitFormat === undefined && inferred === undefined) {
        r.fail(sourceAt, `cannot tell the format of "${source}" from its extension`,
          'use a .csv, .parquet or PLINK .bed file, or set format: csv | parquet | table | plink');
      }
      table.format = explicitFormat ?? inferred;
      // A PLINK fileset is named by its prefix; `cohort.bed` names the same fileset.
      table.source = resolveFrom(file, table.format === 'plink' ? source.replace(/\.(bed|bim|fam)$/i, '') : source);
    }
  } else {
    if (explicitFormat !== undefined && explicitFormat !== 'table') {
      r.fail(f.get('format')!, `format: ${explicitFormat} needs a source file`);
    }
    table.format = 'table';
  }

  if (f.has('columns') && f.get('columns')!.node !== null) {
    for (const { key: column, value } of r.entries(f.get('columns')!, 'a mapping of column names to policy levels')) {
      table.columns.set(column, parseColumnPolicy(r, value));
    }
  }
  if (f.has('min_group')) table.minGroup = r.integer(f.get('min_group')!, 1);

  if (f.has('grants') && f.get('grants')!.node !== null) {
    for (const { key: requester, keyNode, value } of r.entries(f.get('grants')!, 'a mapping of requester names to { column: level }')) {
      if (!federation.nodes.has(requester)) {
        const guess = didYouMean(requester, federation.nodes.keys());
        r.fail({ node: keyNode, path: value.path },
          `grant for unknown node "${requester}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
          `nodes of federation "${federation.name}": ${[...federation.nodes.keys()].join(', ')}`);
      }
      const perColumn = new Map<string, PolicyLevel>();
      for (const { key: column, value: levelAt } of r.entries(value, 'a mapping of column names to policy levels')) {
        perColumn.set(column, r.oneOf(levelAt, POLICY_LEVELS, 'policy level'));
      }
      table.grants.set(requester, perColumn);
    }
  }
  return table;
}

function formatFromExtension(source: string): 'csv' | 'parquet' | 'plink' | undefined {
  const lower = source.toLowerCase();
  if (lower.endsWith('.bed')) return 'plink';
  if (/\.(csv|tsv)(\.gz|\.zst)?$/.test(lower)) return 'csv';
  if (lower.endsWith('.parquet')) return 'parquet';
  return undefined;
}

function parseColumnPolicy(r: ConfigReader, at: Located): ColumnPolicyConfig {
  if (!r.isMapping(at)) return { level: r.oneOf(at, POLICY_LEVELS, 'policy level') };
  const f = r.object(at, COLUMN_POLICY_KEYS, ['level']);
  const level = r.oneOf(f.get('level')!, POLICY_LEVELS, 'policy level');
  const policy: ColumnPolicyConfig = { level };
  if (f.has('normalize')) {
    const normAt = f.get('normalize')!;
    if (level !== 'join_key' && level !== 'public') {
      r.fail(normAt, `normalize only applies to join keys, but the level is ${level}`);
    }
    const n = r.object(normAt, NORMALIZE_KEYS);
    const normalization: KeyNormalization = {
      trim: n.has('trim') ? r.boolean(n.get('trim')!) : false,
      unicode: n.has('unicode') ? r.oneOf(n.get('unicode')!, ['NFC', 'NFKC', 'none'] as const, 'unicode normalization') : 'none',
      case: n.has('case') ? r.oneOf(n.get('case')!, ['lower', 'upper', 'preserve'] as const, 'case rule') : 'preserve',
    };
    policy.normalization = normalization;
  }
  return policy;
}

function parsePrivacy(r: ConfigReader, at: Located): PrivacyBudgetConfig {
  const f = r.object(at, PRIVACY_KEYS, ['budget']);
  const b = r.object(f.get('budget')!, BUDGET_KEYS, ['epsilon', 'delta', 'period']);
  const epsilon = r.number(b.get('epsilon')!, 'a positive number');
  if (!(epsilon > 0)) r.fail(b.get('epsilon')!, `epsilon must be positive, got ${epsilon}`);
  const delta = r.number(b.get('delta')!, 'a number in [0, 1)');
  if (!(delta >= 0 && delta < 1)) r.fail(b.get('delta')!, `delta must be in [0, 1), got ${delta}`);
  const periodMs = parseDuration(r, b.get('period')!, 's');
  if (periodMs % 1000 !== 0 || periodMs < 1000) r.fail(b.get('period')!, 'the budget period must be a whole number of seconds');
  return { epsilon, delta, periodSeconds: periodMs / 1000 };
}

function parseGateway(r: ConfigReader, at: Located): GatewayConfig {
  const f = r.object(at, GATEWAY_KEYS, ['listen']);
  const { host, port } = parseHostPort(r, f.get('listen')!);
  const auth = f.has('auth') ? r.oneOf(f.get('auth')!, ['scram-sha-256', 'trust'] as const, 'auth method') : 'scram-sha-256';
  const users = new Map<string, GatewayUser>();
  if (f.has('users') && f.get('users')!.node !== null) {
    for (const { key: user, keyNode, value } of r.entries(f.get('users')!, 'a mapping of user names to { password }')) {
      r.name({ node: keyNode, path: value.path }, 'user name');
      const u = r.object(value, USER_KEYS);
      if (u.has('password') === u.has('scram_verifier')) {
        r.fail(value, 'give exactly one of password or scram_verifier');
      }
      if (u.has('password')) {
        users.set(user, { password: r.string(u.get('password')!, 'a password') });
      } else {
        const verifier = r.string(u.get('scram_verifier')!, 'a SCRAM-SHA-256 verifier');
        if (!/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(verifier)) {
          r.fail(u.get('scram_verifier')!, 'expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64)');
        }
        users.set(user, { scramVerifier: verifier });
      }
    }
  }
  if (auth === 'scram-sha-256' && users.size === 0) {
    r.fail(f.get('users') ?? at, 'scram-sha-256 authentication needs at least one user', 'add users: { analyst: { password: ... } } or set auth: trust');
  }
  const fragmentTimeoutMs = f.has('fragment_timeout') ? parseDuration(r, f.get('fragment_timeout')!, 's') : DEFAULT_FRAGMENT_TIMEOUT_MS;
  if (fragmentTimeoutMs <= 0) r.fail(f.get('fragment_timeout')!, 'the fragment timeout must be positive');
  const workers = f.has('workers') ? parseWorkers(r, f.get('workers')!) : 1;
  return { host, port, auth, users, fragmentTimeoutMs, workers };
}

/** `workers: 4`, or `auto` for one per CPU this process may use (cores and cgroup quota; at most MAX_GATEWAY_PROCESSES). */
function parseWorkers(r: ConfigReader, at: Located): number {
  const node = at.node as { value?: unknown } | null;
  const raw = node && 'value' in node ? node.value : undefined;
  if (raw === 'auto') return Math.min(cpuBudget(), MAX_GATEWAY_PROCESSES);
  if (typeof raw !== 'number') r.fail(at, `expected a number of processes or auto, got ${JSON.stringify(raw ?? null)}`, 'workers: auto starts one process per CPU this node may use');
  return r.integer(at, 1, MAX_GATEWAY_PROCESSES);
}

// ---------------------------------------------------------------------------------------------
// scalars shared by both files

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `500ms`, `1.5s`, or a bare number in `bareUnit`; returns milliseconds. */
export function parseDuration(r: ConfigReader, at: Located, bareUnit: 'ms' | 's'): number {
  const node = at.node as { value?: unknown } | null;
  const raw = node && 'value' in node ? node.value : undefined;
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return Math.round(raw * UNIT_MS[bareUnit]);
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  const m = text === undefined ? null : /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(text);
  if (!m) r.fail(at, `expected a duration like 30s, 12h or 30d, got ${typeof raw === 'string' ? `"${raw}"` : String(raw ?? 'nothing')}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** `127.0.0.1:7101`, `localhost:5433`, `[::1]:7101`; port 0 means "any free port" (tests). */
export function parseHostPort(r: ConfigReader, at: Located): { host: string; port: number } {
  const text = r.string(at, 'host:port');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) r.fail(at, `expected host:port (e.g. 127.0.0.1:7101), got "${text}"`);
  const port = Number(m[3]);
  if (port > 65535) r.fail(at, `port ${port} is out of range (0-65535)`);
  return { host: m[1] ?? m[2], port };
}
