/**
 * A small federation for the client suites (test/clients): two banks, each publishing typed
 * Parquet tables (INTEGER, BIGINT, DECIMAL(12,2), DOUBLE, VARCHAR, DATE, TIMESTAMP, BOOLEAN;
 * bank_b's columns under every policy level), a federated table `banks.branches` over both,
 * and bank_a's gateway with SCRAM user `analyst`/`analyst`.
 *
 * - `startClientFederation()` runs it as real `veilsql node` processes (mutual TLS on loopback);
 * - `openTwin()` opens the same configuration in this process (embedded parties over in-memory
 *   DuckDB, bank_a's engine), so a test can check that a client's result equals the in-process
 *   API's result for the same query;
 * - `loadIntoPostgres()` creates the same tables (PostgreSQL types) with the same rows in a
 *   PostgreSQL 15, and `banks.branches` as a UNION ALL view, for output comparisons.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field } from 'apache-arrow';
import type pg from 'pg';
import { freePort } from '../../cli/free-port.js';
import { writeFederation, type WrittenFederation } from '../../cli/federation-files.js';
import { startNodeProcesses, type NodeProcesses } from '../../cli/node-processes.js';
import { loadNodeConfig } from '../../connectors/config.js';
import { DUCKDB_TYPE_METADATA_KEY, type PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import type { EngineSession, ParamValue } from '../../executor/session-types.js';
import { arrowCellToText } from './arrow-text.js';
import { copyFromBuffer } from './pg-copy.js';

export const BANKS = ['bank_a', 'bank_b'] as const;
const ROWS = 40;

export interface ClientFederation {
  dir: string;
  gatewayPort: number;
  user: string;
  password: string;
  /** libpq connection string for psql, pgbench and psycopg (TLS off: the suites test SQL, not TLS). */
  conninfo: string;
  nodes: NodeProcesses;
  logs: string[];
  /** The same federation in this process; opened on first use, closed by `stop()`. */
  twin(): Promise<Twin>;
  stop(): Promise<void>;
}

export interface Twin {
  session: EngineSession;
  /** Runs one statement in-process; values as the Postgres text a client receives. */
  query(sql: string, params?: ParamValue[]): Promise<{ columns: string[]; types: string[]; rows: (string | null)[][] }>;
  close(): Promise<void>;
}

/** PostgreSQL DDL of the tables every bank publishes (same names and types as the Parquet files). */
export const POSTGRES_TABLES = {
  customers: 'id integer, name text, region text, balance numeric(12,2), account_no bigint, score double precision, opened date, updated timestamp, active boolean',
  branches: 'branch_id integer, region text, staff integer',
};

/**
 * Writes deterministic data (values derived from the row number) as Parquet for the nodes and
 * as CSV for PostgreSQL, then the federation's configuration and certificates.
 */
export async function writeClientFederation(dir: string): Promise<{ written: WrittenFederation; gatewayPort: number }> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const files: Record<string, string> = {};
  try {
    for (const [bank, offset] of [['bank_a', 0], ['bank_b', 1000]] as const) {
      const tables: Record<string, string> = {
        customers: `
          SELECT (i + ${offset})::INTEGER AS id, 'customer ' || (i + ${offset}) AS name,
                 ['north', 'south', 'east', 'west'][1 + i % 4] AS region,
                 ((i * 7919) % 100000 / 100.0)::DECIMAL(12,2) AS balance, (i * 1000000007)::BIGINT AS account_no,
                 (i / 8.0)::DOUBLE AS score, DATE '2024-01-01' + i::INTEGER AS opened,
                 TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (i * 37) MINUTE AS updated, i % 3 = 0 AS active
          FROM range(1, ${ROWS + 1}) t(i)`,
        branches: `
          SELECT (i + ${offset})::INTEGER AS branch_id, ['north', 'south', 'east', 'west'][1 + i % 4] AS region, (i * 3)::INTEGER AS staff
          FROM range(1, 9) t(i)`,
      };
      for (const [table, select] of Object.entries(tables)) {
        const base = join(dir, `${bank}_${table}`);
        await c.run(`COPY (${select}) TO '${base}.parquet' (FORMAT parquet)`);
        await c.run(`COPY (${select}) TO '${base}.csv' (FORMAT csv, HEADER true)`);
        files[`${bank}_${table}`] = `${base}.parquet`;
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  const [portA, portB, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const customers = (bank: string) => ({
    name: 'customers',
    source: files[`${bank}_customers`],
    columns: bank === 'bank_a'
      ? { id: 'public', name: 'public', region: 'public', balance: 'public', account_no: 'public', score: 'public', opened: 'public', updated: 'public', active: 'public' }
      : { id: 'join_key', name: 'private', region: 'public', balance: 'aggregate', account_no: 'private', score: 'dp', opened: 'public', updated: 'public', active: 'public' },
    min_group: 5,
  });
  const branches = (bank: string) => ({ name: 'branches', source: files[`${bank}_branches`], columns: { branch_id: 'public', region: 'public', staff: 'public' } });
  const written = await writeFederation(dir, {
    name: 'clients',
    nodes: [
      {
        name: 'bank_a', port: portA, tables: [customers('bank_a'), branches('bank_a')],
        gateway: { port: gatewayPort, auth: 'scram-sha-256', users: { analyst: { password: 'analyst' } } },
      },
      { name: 'bank_b', port: portB, tables: [customers('bank_b'), branches('bank_b')] },
    ],
    federatedTables: { 'banks.branches': { table: 'branches', parties: ['bank_a', 'bank_b'] } },
  });
  return { written, gatewayPort };
}

export async function startClientFederation(): Promise<ClientFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-clients-'));
  const logs: string[] = [];
  try {
    const { written, gatewayPort } = await writeClientFederation(dir);
    const nodes = await startNodeProcesses(written.nodes, { onLine: (node, line) => logs.push(`${node}: ${line}`) });
    let twin: Promise<Twin> | undefined;
    return {
      dir,
      gatewayPort,
      user: 'analyst',
      password: 'analyst',
      conninfo: `host=127.0.0.1 port=${gatewayPort} user=analyst password=analyst dbname=veilsql sslmode=disable`,
      nodes,
      logs,
      twin: () => (twin ??= openTwin(written.nodes.map((n) => n.configPath))),
      async stop() {
        if (twin) await (await twin.catch(() => undefined))?.close();
        await nodes.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The federation of `configPaths` in this process, planning as bank_a. */
export async function openTwin(configPaths: string[]): Promise<Twin> {
  const parties: Party[] = [];
  const connectors = new Map<string, PartyConnector>();
  let federatedTables: FederatedEngine['options']['federatedTables'] = [];
  for (const path of configPaths) {
    const config = { ...loadNodeConfig(path), database: ':memory:' };
    const party = await Party.open(config, { info: () => undefined, warn: () => undefined });
    registerPartyProtocols(party);
    parties.push(party);
    connectors.set(config.name, new EmbeddedPartyConnector(party, 'bank_a'));
    federatedTables = [...config.federation.federatedTables.values()];
  }
  const engine = await FederatedEngine.create({ self: 'bank_a', connectors, federatedTables, fragmentTimeoutMs: 30_000 });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    session,
    async query(sql, params = []) {
      const outcome = await session.execute(sql, params, { signal: new AbortController().signal, notice: () => undefined });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        // Fields from the outcome's columns: Arrow JS merges the metadata of equally named
        // fields in a batch's own schema (`SELECT n.oid, n.*`).
        const fields = batch.data.children.map((d, c) => new Field(`c${c}`, d.type, true, new Map([[DUCKDB_TYPE_METADATA_KEY, outcome.columns![c].type]])));
        for (let r = 0; r < batch.numRows; r++) rows.push(fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], types: outcome.columns?.map((c) => c.type) ?? [], rows };
    },
    async close() {
      await session.close();
      await engine.close();
      for (const p of parties) await p.close();
    },
  };
}

/** Creates bank_a, bank_b (tables with the federation's rows) and banks.branches (a view) in PostgreSQL. */
export async function loadIntoPostgres(client: pg.Client, dir: string): Promise<void> {
  for (const bank of BANKS) {
    await client.query(`DROP SCHEMA IF EXISTS ${bank} CASCADE; CREATE SCHEMA ${bank}`);
    for (const [table, ddl] of Object.entries(POSTGRES_TABLES)) {
      await client.query(`CREATE TABLE ${bank}.${table} (${ddl})`);
      await copyFromBuffer(client, `COPY ${bank}.${table} FROM STDIN WITH (FORMAT csv, HEADER true)`, readFileSync(join(dir, `${bank}_${table}.csv`)));
    }
  }
  await client.query('DROP SCHEMA IF EXISTS banks CASCADE; CREATE SCHEMA banks');
  await client.query('CREATE VIEW banks.branches AS SELECT * FROM bank_a.branches UNION ALL SELECT * FROM bank_b.branches');
}
