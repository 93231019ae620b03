/**
 * Every DuckDB connection VeilSQL opens (a party's and the gateway's) runs with Postgres'
 * semantics where DuckDB's defaults differ, so that a query means the same at every party,
 * at the gateway, and in PostgreSQL: integer division truncates, and NULLs sort last
 * ascending / first descending.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export const POSTGRES_SEMANTICS = [
  'SET integer_division = true',
  "SET default_null_order = 'nulls_last_on_asc_first_on_desc'",
];

export async function connectWithPostgresSemantics(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  for (const statement of POSTGRES_SEMANTICS) await connection.run(statement);
  return connection;
}

/** `name` as a DuckDB identifier, always quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `value` as a DuckDB string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
