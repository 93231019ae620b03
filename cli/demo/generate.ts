/**
 * `generateDemo(dir, seed)`: writes the whole demo federation under `dir` — seeded synthetic data
 * for the seed report's scenarios as CSV and Parquet, `federation.yaml`, one `<node>.node.yaml` per
 * node and a README — and returns its structured description. Deterministic (same seed and
 * options → byte-identical files) and fast (a few seconds for the default 30 nodes).
 *
 * Rows are produced in TypeScript from a seeded non-cryptographic PRNG (`prng.ts`), written as CSV,
 * and converted to Parquet by DuckDB reading that CSV with the declared column types, so both
 * renderings hold identical values and the Parquet files carry the exact types (DECIMAL, DATE,
 * TIMESTAMP, …) that node.yaml sources rely on.
 *
 * Certificates are not created here (`veilsql init federation.yaml` does that), nor are the node
 * databases (each node creates `data/<node>.duckdb` on start); stale databases from an earlier
 * generation are deleted unless `resetDatabases: false`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildAlliance } from './alliance.js';
import { buildBanks } from './banks.js';
import { FEDERATION_FILE, NODE_FILE_SUFFIX, renderFederationYaml, renderNodeYaml } from './configs.js';
import { parseDate, renderCsv, type RawValue } from './csv.js';
import { buildGwas } from './gwas.js';
import type { DemoDescription, DemoFacts, DemoFederatedTable, DemoNode, DemoTable, GeneratedTable } from './model.js';
import { normalizeKey, PersonPool } from './people.js';
import { DemoRng } from './prng.js';
import { renderReadme } from './readme.js';
import { buildVertical } from './vertical.js';

export interface DemoSizes {
  bankACustomers: number;
  applicants: number;
  telcoUsers: number;
  /** customers at bank_b and at bank_c, each */
  bankCustomers: number;
  /** blacklist entries at bank_b and at bank_c, each */
  blacklist: number;
  applicationsPerLender: number;
  samplesPerHospital: number;
  snps: number;
}

export const DEFAULT_SIZES: DemoSizes = {
  bankACustomers: 5000,
  applicants: 500,
  telcoUsers: 8000,
  bankCustomers: 3000,
  blacklist: 2000,
  applicationsPerLender: 300,
  samplesPerHospital: 200,
  snps: 500,
};

export interface DemoOptions {
  /** Number of alliance lenders (default 20; any positive integer). */
  lenders?: number;
  /** Number of hospitals (default 5). */
  hospitals?: number;
  sizes?: Partial<DemoSizes>;
  /** Last day of the synthetic data, ISO date (default 2025-06-30). */
  asOf?: string;
  /** Include the relay hub node (default true). */
  hub?: boolean;
  /** Hub port; parties use basePort+1, +2, … (default 7100). */
  basePort?: number;
  /** bank_a's Postgres wire gateway port (default 5433). */
  gatewayPort?: number;
  /** Delete `data/<node>.duckdb(.wal)` left by an earlier generation (default true). */
  resetDatabases?: boolean;
}

export const DEMO_FEDERATION_NAME = 'demo';
export const DEFAULT_AS_OF = '2025-06-30';
const HOST = '127.0.0.1';

function buildNodes(dir: string, parties: string[], opts: Required<Pick<DemoOptions, 'hub' | 'basePort' | 'gatewayPort'>>): DemoNode[] {
  const names: { name: string; role: 'party' | 'hub'; port: number }[] = [];
  if (opts.hub) names.push({ name: 'hub', role: 'hub', port: opts.basePort });
  parties.forEach((name, i) => names.push({ name, role: 'party', port: opts.basePort + 1 + i }));
  // Lenders are named lender_01 … or, from 100 on, lender_001 …: take them by position.
  const lenders = parties.filter((p) => /^lender_\d+$/.test(p));
  return names.map(({ name, role, port }) => {
    const node: DemoNode = {
      name,
      role,
      configPath: join(dir, `${name}${NODE_FILE_SUFFIX}`),
      host: HOST,
      port,
      url: `https://${HOST}:${port}`,
      certPath: join(dir, 'certs', `${name}.pem`),
      keyPath: join(dir, 'certs', `${name}.key`),
      databasePath: join(dir, 'data', `${name}.duckdb`),
    };
    // bank_a's analysts are the demo's main entry point; the first lender's gateway serves the
    // multi-lender dedupe, whose requester must be a lender.
    const gatewayPort = name === 'bank_a' ? opts.gatewayPort : name === lenders[0] ? opts.gatewayPort + 1 : undefined;
    if (gatewayPort !== undefined) {
      node.gateway = {
        node: name,
        host: HOST,
        port: gatewayPort,
        auth: 'trust',
        user: 'analyst',
        password: 'analyst',
        database: 'veilsql',
        url: `postgres://analyst:analyst@${HOST}:${gatewayPort}/veilsql`,
      };
    }
    // The first three lenders also hold the dedupe key's shares (t-of-n threshold OPRF).
    if (opts.hub && lenders.slice(0, 3).includes(name)) node.keyHolder = true;
    return node;
  });
}

function describeTable(dir: string, t: GeneratedTable): DemoTable {
  const csvRelPath = `data/${t.party}/${t.name}.csv`;
  const parquetRelPath = `data/${t.party}/${t.name}.parquet`;
  return {
    party: t.party,
    name: t.name,
    doc: t.doc,
    columns: t.columns.map((c, i) => ({ ...c, nullable: t.rows.some((r) => r[i] === null) })),
    rowCount: t.rows.length,
    minGroup: t.minGroup ?? 10,
    grants: t.grants ?? {},
    source: t.source ?? 'parquet',
    csvPath: join(dir, csvRelPath),
    parquetPath: join(dir, parquetRelPath),
    csvRelPath,
    parquetRelPath,
  };
}

function keysOf(t: GeneratedTable | undefined): RawValue[] {
  if (!t) return [];
  const i = t.columns.findIndex((c) => c.name === 'id_key');
  return i < 0 ? [] : t.rows.map((r) => r[i]);
}

function normalizedSet(t: GeneratedTable | undefined): Set<string> {
  const out = new Set<string>();
  for (const k of keysOf(t)) if (typeof k === 'string') out.add(normalizeKey(k));
  return out;
}

function computeFacts(tables: GeneratedTable[], plantedSnps: string[]): DemoFacts {
  const find = (party: string, name: string) => tables.find((t) => t.party === party && t.name === name);
  const count = (a: Set<string>, b: Set<string>) => [...a].filter((k) => b.has(k)).length;
  const customers = normalizedSet(find('bank_a', 'customers'));
  const applicants = normalizedSet(find('bank_a', 'applicants'));
  const lendersByKey = new Map<string, Set<string>>();
  for (const t of tables.filter((t) => t.name === 'applications')) {
    for (const k of normalizedSet(t)) {
      const s = lendersByKey.get(k) ?? new Set<string>();
      s.add(t.party);
      lendersByKey.set(k, s);
    }
  }
  const messyIdKeys: Record<string, number> = {};
  for (const t of tables) {
    const keys = keysOf(t);
    if (t.columns.some((c) => c.name === 'id_key')) {
      messyIdKeys[`${t.party}.${t.name}`] = keys.filter((k) => typeof k === 'string' && !/^ID\d{12}$/.test(k)).length;
    }
  }
  return {
    bankACustomers: customers.size,
    bankACustomersAtTelco: count(customers, normalizedSet(find('telco', 'users'))),
    applicantsOnBankBBlacklist: count(applicants, normalizedSet(find('bank_b', 'blacklist'))),
    applicantsOnBankCBlacklist: count(applicants, normalizedSet(find('bank_c', 'blacklist'))),
    crossLenderPersons: [...lendersByKey.values()].filter((s) => s.size >= 2).length,
    plantedSnps,
    messyIdKeys,
  };
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Converts every table's CSV into Parquet with DuckDB, reading the CSV with the declared types. */
async function writeParquet(tables: DemoTable[]): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    for (const t of tables) {
      const columns = `{${t.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
      const read =
        `read_csv(${sqlString(t.csvPath)}, header = true, auto_detect = false, delim = ',', quote = '"', ` +
        `escape = '"', columns = ${columns})`;
      await conn.run(`COPY (SELECT * FROM ${read}) TO ${sqlString(t.parquetPath)} (FORMAT parquet, COMPRESSION zstd)`);
      const check = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(t.parquetPath)})`);
      const n = Number(check.getRowsJS()[0][0]);
      if (n !== t.rowCount) throw new Error(`${t.party}.${t.name}: parquet has ${n} rows, expected ${t.rowCount}`);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function generateDemo(dir: string, seed: number, opts: DemoOptions = {}): Promise<DemoDescription> {
  const root = resolve(dir);
  const sizes: DemoSizes = { ...DEFAULT_SIZES, ...(opts.sizes ?? {}) };
  const asOf = opts.asOf ?? DEFAULT_AS_OF;
  const asOfDay = parseDate(asOf);
  const lenders = opts.lenders ?? 20;
  const hospitals = opts.hospitals ?? 5;

  // 1. Rows. Each scenario has its own named PRNG stream; the person pool is shared and consumed
  //    in a fixed order (banking before lenders), so changing the lender count leaves the banks alone.
  const pool = new PersonPool(new DemoRng(seed, 'people'));
  const vertical = buildVertical(new DemoRng(seed, 'vertical'), pool, asOfDay, {
    customers: sizes.bankACustomers,
    applicants: sizes.applicants,
    telcoUsers: sizes.telcoUsers,
  });
  const banks = buildBanks(new DemoRng(seed, 'banks'), pool, {
    asOfDay,
    bankACustomers: vertical.bankACustomers,
    applicants: vertical.applicants,
    sizes: { customers: sizes.bankCustomers, blacklist: sizes.blacklist },
  });
  const gwas = buildGwas(new DemoRng(seed, 'gwas'), { hospitals, samplesPerHospital: sizes.samplesPerHospital, snps: sizes.snps });
  const alliance = buildAlliance(new DemoRng(seed, 'alliance'), pool, {
    asOfDay,
    lenders,
    applicationsPerLender: sizes.applicationsPerLender,
    applicants: vertical.applicants,
    blacklisted: banks.blacklisted,
  });
  const generated = [...vertical.tables, ...banks.tables, ...gwas.tables, ...alliance];

  // 2. Nodes, in port order: hub, bank_a, telco, bank_b, bank_c, hospitals, lenders.
  const parties = ['bank_a', 'telco', 'bank_b', 'bank_c', ...gwas.hospitals, ...alliance.map((t) => t.party)];
  const nodes = buildNodes(root, parties, {
    hub: opts.hub ?? true,
    basePort: opts.basePort ?? 7100,
    gatewayPort: opts.gatewayPort ?? 5433,
  });
  const order = new Map(parties.map((p, i) => [p, i]));
  generated.sort((a, b) => (order.get(a.party) ?? 0) - (order.get(b.party) ?? 0));
  const tables = generated.map((t) => describeTable(root, t));

  const federatedTables: DemoFederatedTable[] = [
    { qualifiedName: 'banks.customers', schema: 'banks', name: 'customers', table: 'customers', parties: ['bank_a', 'bank_b', 'bank_c'] },
    {
      qualifiedName: 'alliance.applications', schema: 'alliance', name: 'applications', table: 'applications', parties: alliance.map((t) => t.party),
      // The hub counts threshold-OPRF tokens for the multi-lender dedupe (needs ≥ 3 key holders).
      ...((opts.hub ?? true) && alliance.length >= 3 ? { dedupe: { key: 'id_key', time: 'applied_at', hub: 'hub' } } : {}),
    },
    { qualifiedName: 'hospitals.samples', schema: 'hospitals', name: 'samples', table: 'samples', parties: gwas.hospitals, colocated: 'sample_id' },
    { qualifiedName: 'hospitals.variants', schema: 'hospitals', name: 'variants', table: 'variants', parties: gwas.hospitals },
    { qualifiedName: 'hospitals.genotypes', schema: 'hospitals', name: 'genotypes', table: 'genotypes', parties: gwas.hospitals, colocated: 'sample_id' },
  ];

  const description: DemoDescription = {
    dir: root,
    seed,
    asOf,
    federationName: DEMO_FEDERATION_NAME,
    federationPath: join(root, FEDERATION_FILE),
    readmePath: join(root, 'README.md'),
    nodes,
    tables,
    federatedTables,
    facts: computeFacts(generated, gwas.plantedSnps),
  };

  // 3. Files.
  mkdirSync(join(root, 'certs'), { recursive: true });
  for (const p of parties) mkdirSync(join(root, 'data', p), { recursive: true });
  if (opts.resetDatabases ?? true) {
    for (const n of nodes) for (const suffix of ['', '.wal']) rmSync(n.databasePath + suffix, { force: true });
  }
  generated.forEach((t, i) => writeFileSync(tables[i].csvPath, renderCsv(t.columns, t.rows)));
  await writeParquet(tables);
  writeFileSync(description.federationPath, renderFederationYaml(DEMO_FEDERATION_NAME, seed, nodes, federatedTables));
  for (const n of nodes) {
    writeFileSync(n.configPath, renderNodeYaml(n, tables.filter((t) => t.party === n.name), seed));
  }
  writeFileSync(description.readmePath, renderReadme(description));
  return description;
}
