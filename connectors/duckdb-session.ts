/**
 * Every DuckDB connection VeilSQL opens (a party's and the gateway's) runs with Postgres'
 * semantics where DuckDB's defaults differ, so that a query means the same at every party,
 * at the gateway, and in PostgreSQL: integer division truncates, and NULLs sort last
 * ascending / first descending.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** DuckDB settings that differ from Postgres' meaning, as DuckDB instance configuration. */
const POSTGRES_SEMANTICS_CONFIG: Record<string, string> = {
  integer_division: 'true',
  default_null_order: 'nulls_last_on_asc_first_on_desc',
};

/** The same settings as statements, for instances VeilSQL did not open itself. */
const POSTGRES_SEMANTICS = Object.entries(POSTGRES_SEMANTICS_CONFIG).map(([name, value]) => `SET ${name} = '${value}'`);

/** Instances opened by `openWithPostgresSemantics`: their connections need no SET of their own. */
const configured = new WeakSet<DuckDBInstance>();

/**
 * Opens a DuckDB database whose connections all have Postgres semantics from the start. VeilSQL's
 * own instances (each party's, the gateway's) are opened this way because a connection is opened
 * per fragment and per query: two SET statements on each cost two round trips to DuckDB's threads,
 * which on a busy machine were several milliseconds of every fragment.
 */
export async function openWithPostgresSemantics(path: string, options: Record<string, string> = {}): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(path, { ...options, ...POSTGRES_SEMANTICS_CONFIG });
  configured.add(instance);
  return instance;
}

export async function connectWithPostgresSemantics(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  if (!configured.has(instance)) for (const statement of POSTGRES_SEMANTICS) await connection.run(statement);
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
