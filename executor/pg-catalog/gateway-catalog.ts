/**
 * Keeps the emulated catalog in the gateway's own DuckDB, one *generation* per catalog change:
 * schemas `veil_g<N>_pg_catalog` and `veil_g<N>_information_schema` hold the catalog tables
 * (rows from `rows.ts`), and `veil_g<N>_shadow` holds an empty table per published party table
 * with exactly its published DuckDB types — the shadow catalog on which a planned query's DuckDB
 * SQL is prepared to learn its exact result and parameter types without running it
 * (`executor/exact-types.ts`).
 *
 * A new generation is built next to the old ones and only then handed to the planner, so a
 * query planned against generation N keeps reading N while N+1 is built; the two generations
 * before the current one are kept, older ones dropped.
 */
import {
  BIGINT, BLOB, BOOLEAN, DOUBLE, DuckDBDataChunk, FLOAT, INTEGER, INTERVAL, LIST, listValue, SMALLINT, TIMESTAMPTZ, VARCHAR,
  type DuckDBConnection, type DuckDBInstance, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { quoteIdent } from '../../connectors/duckdb-session.js';
import type { Catalog, GatewayTable } from '../../planner/catalog.js';
import { CATALOG_RELATIONS, type CatalogSchema } from './definitions.js';
import { installMacros } from './macros.js';
import { PgCatalogModel } from './model.js';
import { allCatalogRows, type CatalogValue } from './rows.js';
import { settingsRows } from './settings-rows.js';

export interface CatalogGeneration {
  id: number;
  model: PgCatalogModel;
  /** The catalog relations as the planner sees them (schema pg_catalog / information_schema). */
  tables: GatewayTable[];
  /** The shadow table of a party table, or undefined when it could not be created. */
  shadowName(party: string, table: string): string[] | undefined;
}

const KEEP_GENERATIONS = 3;

export class GatewayCatalog {
  private readonly generations: CatalogGeneration[] = [];
  private nextId = 1;
  private building: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: DuckDBInstance, private readonly requester: string) {}

  static async create(db: DuckDBInstance, requester: string): Promise<GatewayCatalog> {
    const connection = await db.connect();
    try {
      await installMacros(connection);
    } finally {
      connection.closeSync();
    }
    return new GatewayCatalog(db, requester);
  }

  /** Builds a generation for `base` (a catalog of parties and federated tables only). */
  build(base: Catalog, defaultSettings: [string, string][]): Promise<CatalogGeneration> {
    const run = this.building.then(() => this.buildNow(base, defaultSettings));
    this.building = run.catch(() => undefined);
    return run;
  }

  private async buildNow(base: Catalog, defaultSettings: [string, string][]): Promise<CatalogGeneration> {
    const id = this.nextId++;
    const model = new PgCatalogModel(this.requester, base);
    const schemaOf = (s: CatalogSchema) => `veil_g${id}_${s}`;
    const shadowSchema = `veil_g${id}_shadow`;
    const connection = await this.db.connect();
    const shadows = new Map<string, string[]>();
    try {
      // The tables in one transaction (one round trip), then their rows through appenders: a
      // generation is ~70 tables and a few thousand rows, which SQL literals would make slow.
      const script: string[] = ['BEGIN TRANSACTION'];
      for (const s of ['pg_catalog', 'information_schema'] as const) script.push(`CREATE SCHEMA ${schemaOf(s)}`);
      script.push(`CREATE SCHEMA ${shadowSchema}`);
      for (const rel of CATALOG_RELATIONS) {
        script.push(`CREATE TABLE ${schemaOf(rel.schema)}.${quoteIdent(rel.name)} (${rel.columns.map((c) => `${quoteIdent(c.name)} ${c.duckdb}`).join(', ')})`);
      }
      await connection.run(script.join(';\n'));
      for (const { schema, name, rows } of allCatalogRows(model)) {
        const rel = CATALOG_RELATIONS.find((r) => r.schema === schema && r.name === name)!;
        const data = name === 'pg_settings' && schema === 'pg_catalog' ? settingsRows(defaultSettings) : rows;
        if (data.length > 0) await appendRows(connection, schemaOf(schema), name, rel.columns.map((c) => c.duckdb), data);
      }
      await connection.run('COMMIT');
      for (const r of model.relations) {
        if (r.kind !== 'party') continue;
        const table = `${r.namespace.name}.${r.name}`;
        const cols = r.columns.map((c) => `${quoteIdent(c.name)} ${c.duckdb}`).join(', ');
        try {
          await connection.run(`CREATE TABLE ${shadowSchema}.${quoteIdent(table)} (${cols || '"_none" INTEGER'})`);
          shadows.set(table, [shadowSchema, table]);
        } catch {
          // A type DuckDB cannot declare (a party's user type): queries over this table are
          // described with the planner's own types instead.
        }
      }
    } catch (e) {
      await dropGeneration(connection, id).catch(() => undefined);
      connection.closeSync();
      throw e;
    }
    const tables: GatewayTable[] = CATALOG_RELATIONS.map((r) => ({
      schema: r.schema,
      name: r.name,
      duckdbName: [schemaOf(r.schema), r.name],
      // Catalog columns describe metadata, not party data: always public.
      columns: r.columns.map((c) => ({ name: c.name, type: c.duckdb, policy: 'public', nullable: true })),
    }));
    const generation: CatalogGeneration = {
      id,
      model,
      tables,
      shadowName: (party, table) => shadows.get(`${party}.${table}`),
    };
    this.generations.push(generation);
    try {
      while (this.generations.length > KEEP_GENERATIONS) {
        const old = this.generations.shift()!;
        await dropGeneration(connection, old.id);
      }
    } finally {
      connection.closeSync();
    }
    return generation;
  }
}

async function dropGeneration(connection: DuckDBConnection, id: number): Promise<void> {
  for (const s of ['pg_catalog', 'information_schema', 'shadow']) {
    await connection.run(`DROP SCHEMA IF EXISTS veil_g${id}_${s} CASCADE`);
  }
}

const TYPES: Record<string, DuckDBType> = {
  INTEGER, SMALLINT, BIGINT, FLOAT, DOUBLE, BOOLEAN, VARCHAR, BLOB, INTERVAL,
  'TIMESTAMP WITH TIME ZONE': TIMESTAMPTZ,
  'INTEGER[]': LIST(INTEGER), 'SMALLINT[]': LIST(SMALLINT), 'VARCHAR[]': LIST(VARCHAR),
};
const CHUNK_ROWS = 2048;

/**
 * Appends rows to a catalog table in data chunks (values are written into DuckDB's vectors in
 * JS, one native call per chunk rather than per value).
 */
async function appendRows(connection: DuckDBConnection, schema: string, table: string, types: string[], rows: CatalogValue[][]): Promise<void> {
  const duckTypes = types.map((t) => {
    const d = TYPES[t];
    if (!d) throw new Error(`catalog column type ${t} has no appender type`);
    return d;
  });
  const appender = await connection.createAppender(table, schema);
  try {
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const slice = rows.slice(start, start + CHUNK_ROWS);
      const chunk = DuckDBDataChunk.create(duckTypes, slice.length);
      chunk.setColumns(types.map((t, c) => slice.map((row) => duckValue(row[c], t))));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

function duckValue(v: CatalogValue, type: string): DuckDBValue {
  if (v === null) return null;
  if (Array.isArray(v)) return listValue(v as DuckDBValue[]);
  if (type === 'BIGINT') return BigInt(v);
  return v;
}
