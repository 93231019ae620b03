/**
 * A party's list of GROUP BY keys (one row per group, in the order of its partials), served
 * from its own DuckDB instead of being materialised as Arrow up front:
 *
 * - `digest`: SHA-256 over the column types and an injective text encoding of every key
 *   (NULL → `N`, a value → `V<length>:<text>`), computed by DuckDB in one pass. Parties whose
 *   digests are equal hold the same list, so the requester fetches it once, a slice from each;
 * - `slice(first, count)`: those rows of the list as an Arrow IPC stream (columns k0…).
 *
 * The keys are public by policy (the party checked them as revealed outputs).
 */
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryToArrow } from '../../../connectors/arrow/duckdb-to-arrow.js';
import { arrowToIpcStream } from '../../../connectors/arrow/ipc.js';

export interface KeyList {
  /** Empty without GROUP BY. */
  digest: Uint8Array;
  slice(first: number, count: number): Promise<Uint8Array>;
}

export const NO_KEYS: KeyList = {
  digest: new Uint8Array(0),
  slice: async () => new Uint8Array(0),
};

/**
 * The key list of `relation` (a table name or parenthesised SELECT): columns `keys` (SQL
 * expressions over it), rows in `order`.
 */
export async function sqlKeyList(connection: DuckDBConnection, relation: string, keys: string[], order: string, signal?: AbortSignal): Promise<KeyList> {
  if (keys.length === 0) return NO_KEYS;
  const encoded = keys.map((k) => {
    const text = `CAST(${k} AS VARCHAR)`;
    return `CASE WHEN ${k} IS NULL THEN 'N' ELSE 'V' || CAST(length(${text}) AS VARCHAR) || ':' || ${text} END`;
  });
  const r = await connection.runAndReadAll(
    `SELECT ${keys.map((k) => `any_value(typeof(${k}))`).join(', ')}, sha256(coalesce(string_agg(${encoded.join(' || ')}, '' ORDER BY ${order}), '')) FROM ${relation}`,
  );
  const row = r.getRows()[0] as (string | null)[];
  const digest = new Uint8Array(createHash('sha256').update(JSON.stringify(row.slice(0, keys.length))).update(String(row[keys.length])).digest());
  const select = keys.map((k, i) => `${k} AS k${i}`).join(', ');
  return {
    digest,
    async slice(first, count) {
      const stream = await queryToArrow(connection, `SELECT ${select} FROM ${relation} ORDER BY ${order} LIMIT ${count} OFFSET ${first}`, { signal });
      const chunks: Uint8Array[] = [];
      for await (const c of arrowToIpcStream(stream)) chunks.push(c);
      return Buffer.concat(chunks);
    },
  };
}
