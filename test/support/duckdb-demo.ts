/**
 * A second plaintext oracle for tests: an in-memory DuckDB with the demo federation laid out like
 * the PostgreSQL reference (`loadDemoIntoPostgres`): one schema per party with a view per table
 * reading the demo CSV with its declared column types, and one schema per federation with
 * `UNION ALL` views (`banks.customers`, `hospitals.genotypes`, …) plus `<table>_with_party`.
 * Simple SQL therefore runs unchanged on both engines. Results come back as JSON-like values
 * (DECIMAL, BIGINT, DATE, TIMESTAMP as strings), which `compareResults` normalises.
 */
import { isAbsolute, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DemoDescription } from '../../cli/demo/index.js';
import { quoteIdent } from './postgres-load.js';

export interface DuckDbDemo {
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function openDuckDbDemo(dir: string, description: DemoDescription): Promise<DuckDbDemo> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const schemas = new Set<string>();
  const ensureSchema = async (s: string) => {
    if (schemas.has(s)) return;
    schemas.add(s);
    await conn.run(`CREATE SCHEMA ${quoteIdent(s)}`);
  };
  for (const t of description.tables) {
    await ensureSchema(t.party);
    const path = isAbsolute(t.csvRelPath) ? t.csvRelPath : join(dir, t.csvRelPath);
    const columns = `{${t.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
    await conn.run(
      `CREATE VIEW ${quoteIdent(t.party)}.${quoteIdent(t.name)} AS SELECT * FROM read_csv(${sqlString(path)}, ` +
        `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = ${columns})`,
    );
  }
  for (const f of description.federatedTables) {
    await ensureSchema(f.schema);
    const members = f.parties.map((p) => `${quoteIdent(p)}.${quoteIdent(f.table)}`);
    await conn.run(`CREATE VIEW ${quoteIdent(f.schema)}.${quoteIdent(f.name)} AS ${members.map((m) => `SELECT * FROM ${m}`).join(' UNION ALL ')}`);
    await conn.run(
      `CREATE VIEW ${quoteIdent(f.schema)}.${quoteIdent(`${f.name}_with_party`)} AS ` +
        f.parties.map((p, i) => `SELECT ${sqlString(p)} AS party, * FROM ${members[i]}`).join(' UNION ALL '),
    );
  }
  return {
    async query(sql: string) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
