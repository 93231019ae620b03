/**
 * Loads a generated demo federation into the reference PostgreSQL so integration tests can run the
 * same query there over the union of the parties' data:
 * - one schema per party (`bank_a.customers`, `lender_07.applications`, …) with the same table and
 *   column names and the DuckDB types mapped to PostgreSQL types, loaded from the demo CSVs with
 *   `COPY … FROM STDIN (FORMAT csv, HEADER)`;
 * - one schema per federation with a `UNION ALL` view over the members (`banks.customers`,
 *   `alliance.applications`, `hospitals.genotypes`, …) and a companion view `<table>_with_party`
 *   whose first column `party` names the member, for `COUNT(DISTINCT PARTY)`-style checks.
 * Loading is idempotent: existing schemas of the same names are dropped first.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type pg from 'pg';
import type { DemoDescription } from '../../cli/demo/index.js';
import { copyFromBuffer } from './pg-copy.js';

const SIMPLE: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  HUGEINT: 'numeric(39,0)',
  UTINYINT: 'smallint',
  USMALLINT: 'integer',
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  FLOAT: 'real',
  REAL: 'real',
  DOUBLE: 'double precision',
  VARCHAR: 'text',
  TEXT: 'text',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  TIMESTAMPTZ: 'timestamptz',
  INTERVAL: 'interval',
  BLOB: 'bytea',
  UUID: 'uuid',
  JSON: 'json',
};

/** Maps a DuckDB type string (as DuckDB prints it) to the PostgreSQL type of the same values. */
export function duckdbToPostgresType(type: string): string {
  const t = type.trim().toUpperCase();
  if (t.endsWith('[]')) return `${duckdbToPostgresType(t.slice(0, -2))}[]`;
  const dec = /^(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `numeric(${dec[1]},${dec[2]})`;
  const mapped = SIMPLE[t];
  if (!mapped) throw new Error(`no PostgreSQL mapping for DuckDB type ${type}`);
  return mapped;
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Anything that can hand out a connected client: a `PostgresServer`, or a client itself. */
export type PgTarget = pg.Client | { client(): Promise<pg.Client> };

export interface LoadSummary {
  schemas: string[];
  tables: number;
  rows: number;
  views: string[];
  ms: number;
}

export async function loadDemoIntoPostgres(target: PgTarget, dir: string, description: DemoDescription): Promise<LoadSummary> {
  const started = performance.now();
  const own = 'client' in target && typeof target.client === 'function';
  const client: pg.Client = own ? await (target as { client(): Promise<pg.Client> }).client() : (target as pg.Client);
  try {
    const parties = [...new Set(description.tables.map((t) => t.party))];
    const federations = [...new Set(description.federatedTables.map((f) => f.schema))];
    const schemas = [...parties, ...federations];
    await client.query(schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE; CREATE SCHEMA ${quoteIdent(s)};`).join('\n'));

    let rows = 0;
    for (const t of description.tables) {
      const qualified = `${quoteIdent(t.party)}.${quoteIdent(t.name)}`;
      const cols = t.columns.map((c) => `${quoteIdent(c.name)} ${duckdbToPostgresType(c.type)}`).join(', ');
      await client.query(`CREATE TABLE ${qualified} (${cols})`);
      const csv = readFileSync(isAbsolute(t.csvRelPath) ? t.csvRelPath : join(dir, t.csvRelPath));
      const colList = t.columns.map((c) => quoteIdent(c.name)).join(', ');
      const n = await copyFromBuffer(client, `COPY ${qualified} (${colList}) FROM STDIN WITH (FORMAT csv, HEADER true)`, csv);
      if (n !== t.rowCount) throw new Error(`${t.party}.${t.name}: PostgreSQL loaded ${n} rows, the demo has ${t.rowCount}`);
      rows += n;
    }

    const views: string[] = [];
    for (const f of description.federatedTables) {
      const members = f.parties.map((p) => `${quoteIdent(p)}.${quoteIdent(f.table)}`);
      const view = `${quoteIdent(f.schema)}.${quoteIdent(f.name)}`;
      const withParty = `${quoteIdent(f.schema)}.${quoteIdent(`${f.name}_with_party`)}`;
      await client.query(`CREATE VIEW ${view} AS ${members.map((m) => `SELECT * FROM ${m}`).join(' UNION ALL ')}`);
      await client.query(
        `CREATE VIEW ${withParty} AS ${f.parties
          .map((p, i) => `SELECT ${client.escapeLiteral(p)}::text AS party, * FROM ${members[i]}`)
          .join(' UNION ALL ')}`,
      );
      views.push(f.qualifiedName, `${f.qualifiedName}_with_party`);
    }
    await client.query('ANALYZE');
    return { schemas, tables: description.tables.length, rows, views, ms: Math.round(performance.now() - started) };
  } finally {
    if (own) await client.end();
  }
}
