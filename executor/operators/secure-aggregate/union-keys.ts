/**
 * The requester's group-slot assignment: the union of the GROUP BY keys all parties announced
 * (public values), one slot per distinct key, and for each party the slot of each of its groups.
 * Computed in the gateway's DuckDB so every key type compares with SQL semantics (NULL keys form
 * one group). When every party announced the same key list (equal digests) — the usual GWAS
 * case of one SNP panel everywhere — that list is the union and every map is the identity,
 * which the SETUP then omits.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { loadArrowIntoDuckDB } from '../../../connectors/arrow/arrow-to-duckdb.js';
import { ipcStreamToArrow } from '../../../connectors/arrow/ipc.js';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { Announce } from './messages.js';

export interface SlotAssignment {
  slotCount: number;
  /** Per party: the slot of each of its announced groups (undefined: slot = row). */
  maps: (Int32Array | undefined)[];
  /** Temp table with the key columns k0… and `__slot` (absent without GROUP BY). */
  table?: string;
}

async function loadKeys(connection: DuckDBConnection, table: string, bytes: Uint8Array, party: string, rows: number): Promise<void> {
  const stream = await ipcStreamToArrow((async function* () { yield bytes; })());
  const loaded = await loadArrowIntoDuckDB(connection, table, stream.schema, stream, { replace: true });
  if (loaded.rows !== rows) throw new SqlError(SqlState.protocolViolation, `party "${party}" announced ${rows} groups but sent ${loaded.rows} keys`);
}

/** Key lists as fetched: one common list in slices (one per party), or every party's own list. */
export type KeyLists =
  | { kind: 'none' }
  | { kind: 'shared'; rows: number; slices: Uint8Array[] }
  | { kind: 'each'; lists: Uint8Array[] };

export async function assignSlots(
  connection: DuckDBConnection,
  prefix: string,
  parties: string[],
  announces: Announce[],
  keys: KeyLists,
  groupCount: number,
): Promise<SlotAssignment> {
  if (groupCount === 0 || keys.kind === 'none') {
    announces.forEach((a, i) => {
      if (a.rows !== 1) throw new SqlError(SqlState.protocolViolation, `party "${parties[i]}" sent ${a.rows} rows for an aggregate without GROUP BY`);
    });
    return { slotCount: 1, maps: announces.map(() => undefined) };
  }
  const union = `${prefix}_union`;
  const keyCols = Array.from({ length: groupCount }, (_, i) => `k${i}`);
  if (keys.kind === 'shared') {
    // Every party holds the same list: slices in party order are the list, slot = row number.
    const tables = keys.slices.map((_, i) => `${prefix}_s${i}`);
    let total = 0;
    for (let i = 0; i < tables.length; i++) {
      const stream = await ipcStreamToArrow((async function* () { yield keys.slices[i]; })());
      total += (await loadArrowIntoDuckDB(connection, tables[i], stream.schema, stream, { replace: true })).rows;
    }
    if (total !== keys.rows) throw new SqlError(SqlState.protocolViolation, `the parties sent ${total} keys for ${keys.rows} announced groups`);
    const parts = tables.map((t, i) => `SELECT ${i} AS __part, rowid AS __row, ${keyCols.join(', ')} FROM ${quoteIdent(t)}`);
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${quoteIdent(union)} AS SELECT ${keyCols.join(', ')}, CAST(row_number() OVER (ORDER BY __part, __row) - 1 AS INTEGER) AS __slot FROM (${parts.join(' UNION ALL ')}) u`,
    );
    for (const t of tables) await connection.run(`DROP TABLE ${quoteIdent(t)}`);
    return { slotCount: keys.rows, maps: announces.map(() => undefined), table: union };
  }
  const tables = parties.map((_, i) => `${prefix}_k${i}`);
  for (let i = 0; i < parties.length; i++) await loadKeys(connection, tables[i], keys.lists[i], parties[i], announces[i].rows);
  const select = (t: string) => `SELECT ${keyCols.join(', ')} FROM ${quoteIdent(t)}`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${quoteIdent(union)} AS SELECT *, CAST(row_number() OVER () - 1 AS INTEGER) AS __slot FROM (${tables.map(select).join(' UNION ')}) u`,
  );
  const count = await connection.runAndReadAll(`SELECT count(*) FROM ${quoteIdent(union)}`);
  const slotCount = Number(count.getRows()[0][0]);
  const maps: Int32Array[] = [];
  for (const t of tables) {
    const on = keyCols.map((k) => `p.${k} IS NOT DISTINCT FROM u.${k}`).join(' AND ');
    const r = await connection.runAndReadAll(`SELECT u.__slot FROM ${quoteIdent(t)} p JOIN ${quoteIdent(union)} u ON ${on} ORDER BY p.rowid`);
    maps.push(Int32Array.from(r.getColumns()[0] as number[]));
    await connection.run(`DROP TABLE ${quoteIdent(t)}`);
  }
  return { slotCount, maps, table: union };
}
