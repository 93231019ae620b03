/**
 * Loads a party's configured tables into its DuckDB database and refreshes them when their
 * CSV/Parquet source changes (size or modification time). A reload replaces the table in one
 * transaction; if the new file cannot be read the previous version stays (nothing lost on bad
 * input) and the error is reported.
 */
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError, SqlState } from '../../parser/errors.js';
import type { TableConfig } from '../config-types.js';
import { quoteIdent, quoteLiteral } from '../duckdb-session.js';
import { loadPlinkTable, plinkSourceVersion, plinkStorage } from '../plink/plink-table.js';

const META = '__veilsql_sources';

export interface TableLoadResult {
  table: string;
  status: 'loaded' | 'unchanged' | 'existing' | 'failed';
  rows?: number;
  error?: SqlError;
}

/** The DuckDB name (schema, table) holding a configured table's rows. */
export function localTableName(table: TableConfig): [string, string] {
  if (table.format === 'table' && table.sourceTable) {
    const parts = table.sourceTable.split('.');
    return parts.length === 2 ? [parts[0], parts[1]] : ['main', parts[0]];
  }
  return ['main', table.name];
}

export async function loadTables(connection: DuckDBConnection, tables: Iterable<TableConfig>): Promise<TableLoadResult[]> {
  await connection.run(`CREATE TABLE IF NOT EXISTS ${META} (name VARCHAR PRIMARY KEY, source VARCHAR, size BIGINT, mtime DOUBLE, rows BIGINT)`);
  const results: TableLoadResult[] = [];
  for (const table of tables) results.push(await loadTable(connection, table));
  return results;
}

async function tableExists(connection: DuckDBConnection, [schema, name]: [string, string]): Promise<boolean> {
  const r = await connection.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE schema_name = ${quoteLiteral(schema)} AND table_name = ${quoteLiteral(name)}`,
  );
  return Number(r.getRows()[0][0]) > 0;
}

async function loadTable(connection: DuckDBConnection, table: TableConfig): Promise<TableLoadResult> {
  const local = localTableName(table);
  const qualified = `${quoteIdent(local[0])}.${quoteIdent(local[1])}`;
  if (!table.source || table.format === 'table') {
    if (await tableExists(connection, local)) return { table: table.name, status: 'existing', rows: await countRows(connection, qualified) };
    return {
      table: table.name,
      status: 'failed',
      error: new SqlError(SqlState.undefinedTable, `table "${table.name}" has no source file and no table ${local.join('.')} exists in the database`),
    };
  }
  if (table.format === 'plink') return loadPlink(connection, table);
  const source = table.source;
  let info;
  try {
    info = await stat(source);
  } catch (e) {
    return {
      table: table.name,
      status: 'failed',
      error: new SqlError(SqlState.configFileError, `table "${table.name}": cannot read source ${source}: ${(e as Error).message}`),
    };
  }
  const prev = await connection.runAndReadAll(`SELECT source, size, mtime FROM ${META} WHERE name = ${quoteLiteral(table.name)}`);
  const row = prev.getRows()[0];
  const unchanged = row && row[0] === source && Number(row[1]) === info.size && Number(row[2]) === info.mtimeMs;
  if (unchanged && (await tableExists(connection, local))) {
    return { table: table.name, status: 'unchanged', rows: await countRows(connection, qualified) };
  }
  const reader = table.format === 'parquet' || source.endsWith('.parquet')
    ? `read_parquet(${quoteLiteral(source)})`
    : `read_csv(${quoteLiteral(source)}, header = true, auto_detect = true, sample_size = -1)`;
  try {
    await connection.run('BEGIN TRANSACTION');
    await connection.run(`CREATE OR REPLACE TABLE ${qualified} AS SELECT * FROM ${reader}`);
    const rows = await countRows(connection, qualified);
    await connection.run(`DELETE FROM ${META} WHERE name = ${quoteLiteral(table.name)}`);
    await connection.run(
      `INSERT INTO ${META} VALUES (${quoteLiteral(table.name)}, ${quoteLiteral(source)}, ${info.size}, ${info.mtimeMs}, ${rows})`,
    );
    await connection.run('COMMIT');
    return { table: table.name, status: 'loaded', rows };
  } catch (e) {
    await connection.run('ROLLBACK').catch(() => undefined);
    const kept = await tableExists(connection, local);
    return {
      table: table.name,
      status: 'failed',
      error: new SqlError(
        SqlState.configFileError,
        `table "${table.name}": cannot load ${source}: ${(e as Error).message}${kept ? ' (the previous version stays published)' : ''}`,
      ),
    };
  }
}

async function countRows(connection: DuckDBConnection, qualified: string): Promise<number> {
  const r = await connection.runAndReadAll(`SELECT count(*) FROM ${qualified}`);
  return Number(r.getRows()[0][0]);
}

/** Column names, DuckDB types and nullability of a local table. */
export async function describeTable(
  connection: DuckDBConnection,
  [schema, name]: [string, string],
): Promise<{ name: string; type: string; nullable: boolean }[]> {
  const r = await connection.runAndReadAll(
    `SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE schema_name = ${quoteLiteral(schema)} AND table_name = ${quoteLiteral(name)} ORDER BY column_index`,
  );
  return r.getRows().map((row) => ({ name: String(row[0]), type: String(row[1]), nullable: Boolean(row[2]) }));
}

/**
 * A PLINK-backed table (`format: plink`): packed genotypes in storage tables behind a
 * long-format view (connectors/plink/plink-table.ts); reloaded when any of the three files changes.
 */
async function loadPlink(connection: DuckDBConnection, table: TableConfig): Promise<TableLoadResult> {
  const prefix = table.source!;
  let version;
  try {
    version = await plinkSourceVersion(prefix);
  } catch (e) {
    return {
      table: table.name,
      status: 'failed',
      error: new SqlError(SqlState.configFileError, `table "${table.name}": cannot read PLINK fileset ${prefix}.bed/.bim/.fam: ${(e as Error).message}`),
    };
  }
  const prev = await connection.runAndReadAll(`SELECT source, size, mtime, rows FROM ${META} WHERE name = ${quoteLiteral(table.name)}`);
  const row = prev.getRows()[0];
  const stored = await tableExists(connection, ['main', plinkStorage(table.name).variants]);
  if (row && stored && row[0] === prefix && Number(row[1]) === version.size && Number(row[2]) === version.mtime) {
    return { table: table.name, status: 'unchanged', rows: Number(row[3]) };
  }
  try {
    await connection.run('BEGIN TRANSACTION');
    const rows = await loadPlinkTable(connection, table);
    await connection.run(`DELETE FROM ${META} WHERE name = ${quoteLiteral(table.name)}`);
    await connection.run(`INSERT INTO ${META} VALUES (${quoteLiteral(table.name)}, ${quoteLiteral(prefix)}, ${version.size}, ${version.mtime}, ${rows})`);
    await connection.run('COMMIT');
    return { table: table.name, status: 'loaded', rows };
  } catch (e) {
    await connection.run('ROLLBACK').catch(() => undefined);
    const err = e instanceof SqlError ? e : new SqlError(SqlState.configFileError, `table "${table.name}": cannot load PLINK fileset ${prefix}: ${(e as Error).message}`);
    return { table: table.name, status: 'failed', error: err };
  }
}
