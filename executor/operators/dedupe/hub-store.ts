/**
 * The hub's durable state in its own DuckDB: the epochs of each dedupe table (state, key
 * holders, public key), which lenders have completed an epoch's upload, and one table of
 * (token, lender, bucket) rows per (table, epoch). The in-memory `TokenIndex` is rebuilt from
 * these tables when the hub starts. Tokens are stored as two BIGINTs (the 16 bytes, big-endian).
 *
 * Every upload is applied in one transaction (rows appended with DuckDB's appender inside it),
 * so a failed upload leaves no partial rows behind.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../../../connectors/duckdb-session.js';
import { TOKEN_BYTES } from '../../protocols/toprf/threshold-oprf.js';
import type { TokenIndex } from './hub-index.js';

export type EpochState = 'filling' | 'active' | 'retired';

export interface EpochRecord {
  table: string;
  epoch: number;
  state: EpochState;
  threshold: number;
  holders: string[];
  /** K = k·G (hex), from the key generation's commitments. */
  publicKey: string;
  createdAt: number;
  activatedAt?: number;
  /** Lenders that completed an upload for this epoch. */
  filled: Set<string>;
}

const EPOCHS = '__dedupe_hub_epochs';
const FILLED = '__dedupe_hub_filled';

export async function ensureHubSchema(c: DuckDBConnection): Promise<void> {
  await c.run(`CREATE TABLE IF NOT EXISTS ${EPOCHS} (tbl VARCHAR, epoch INTEGER, state VARCHAR, threshold INTEGER, holders VARCHAR, public_key VARCHAR, created_at BIGINT, activated_at BIGINT, PRIMARY KEY (tbl, epoch))`);
  await c.run(`CREATE TABLE IF NOT EXISTS ${FILLED} (tbl VARCHAR, epoch INTEGER, lender VARCHAR, filled_at BIGINT, PRIMARY KEY (tbl, epoch, lender))`);
}

export function tokenTable(table: string, epoch: number): string {
  return `__dedupe_tokens_${table.replace(/[^A-Za-z0-9_]/g, '_')}_${epoch}`;
}

export async function loadEpochs(c: DuckDBConnection): Promise<EpochRecord[]> {
  const rows = (await c.runAndReadAll(`SELECT tbl, epoch, state, threshold, holders, public_key, created_at, activated_at FROM ${EPOCHS} ORDER BY tbl, epoch`)).getRows();
  const filled = (await c.runAndReadAll(`SELECT tbl, epoch, lender FROM ${FILLED}`)).getRows();
  return rows.map((r) => ({
    table: String(r[0]),
    epoch: Number(r[1]),
    state: String(r[2]) as EpochState,
    threshold: Number(r[3]),
    holders: JSON.parse(String(r[4])) as string[],
    publicKey: String(r[5]),
    createdAt: Number(r[6]),
    ...(r[7] === null ? {} : { activatedAt: Number(r[7]) }),
    filled: new Set(filled.filter((f) => f[0] === r[0] && Number(f[1]) === Number(r[1])).map((f) => String(f[2]))),
  }));
}

export async function saveEpoch(c: DuckDBConnection, e: EpochRecord): Promise<void> {
  await c.run(
    `INSERT OR REPLACE INTO ${EPOCHS} VALUES (${quoteLiteral(e.table)}, ${e.epoch}, ${quoteLiteral(e.state)}, ${e.threshold}, ${quoteLiteral(JSON.stringify(e.holders))}, ${quoteLiteral(e.publicKey)}, ${e.createdAt}, ${e.activatedAt ?? 'NULL'})`,
  );
  await c.run(`CREATE TABLE IF NOT EXISTS ${quoteIdent(tokenTable(e.table, e.epoch))} (hi BIGINT, lo BIGINT, lender SMALLINT, bucket INTEGER)`);
}

export async function markFilled(c: DuckDBConnection, table: string, epoch: number, lender: string): Promise<void> {
  await c.run(`INSERT OR REPLACE INTO ${FILLED} VALUES (${quoteLiteral(table)}, ${epoch}, ${quoteLiteral(lender)}, ${Date.now()})`);
}

/** Drops a retired epoch's rows (its key shares are deleted at the holders too). */
export async function dropEpochTokens(c: DuckDBConnection, table: string, epoch: number): Promise<void> {
  await c.run(`DROP TABLE IF EXISTS ${quoteIdent(tokenTable(table, epoch))}`);
  await c.run(`DELETE FROM ${FILLED} WHERE tbl = ${quoteLiteral(table)} AND epoch = ${epoch}`);
}

export function tokenWords(token: Uint8Array): [bigint, bigint] {
  const v = new DataView(token.buffer, token.byteOffset, TOKEN_BYTES);
  return [v.getBigInt64(0), v.getBigInt64(8)];
}

export function tokenFromWords(hi: bigint, lo: bigint): Uint8Array {
  const out = new Uint8Array(TOKEN_BYTES);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, hi);
  v.setBigInt64(8, lo);
  return out;
}

/** Streams an epoch's rows into `index`; returns the row count. */
export async function loadTokens(c: DuckDBConnection, table: string, epoch: number, index: TokenIndex): Promise<number> {
  const result = await c.stream(`SELECT hi, lo, lender, bucket FROM ${quoteIdent(tokenTable(table, epoch))}`);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const [hi, lo, lender, bucket] = chunk.getColumns() as [bigint[], bigint[], number[], number[]];
    for (let i = 0; i < chunk.rowCount; i++) index.add(tokenFromWords(hi[i], lo[i]), lender[i], bucket[i]);
    rows += chunk.rowCount;
  }
  return rows;
}

export interface UploadChange {
  /** Rows to add (not yet stored), to remove (stored), or every row of the lender first. */
  adds: { token: Uint8Array; bucket: number }[];
  removes: { token: Uint8Array; bucket: number }[];
  replace: boolean;
}

/** Applies one lender's upload in a single transaction. */
export async function applyUpload(c: DuckDBConnection, table: string, epoch: number, lender: number, change: UploadChange): Promise<void> {
  const name = quoteIdent(tokenTable(table, epoch));
  await c.run('BEGIN TRANSACTION');
  try {
    if (change.replace) await c.run(`DELETE FROM ${name} WHERE lender = ${lender}`);
    for (let i = 0; i < change.removes.length; i += 1000) {
      const values = change.removes.slice(i, i + 1000).map((r) => {
        const [hi, lo] = tokenWords(r.token);
        return `(${hi}, ${lo}, ${r.bucket})`;
      });
      await c.run(`DELETE FROM ${name} USING (VALUES ${values.join(', ')}) AS v(hi, lo, bucket) WHERE ${name}.lender = ${lender} AND ${name}.hi = v.hi AND ${name}.lo = v.lo AND ${name}.bucket = v.bucket`);
    }
    if (change.adds.length) {
      const appender = await c.createAppender(tokenTable(table, epoch));
      try {
        for (const r of change.adds) {
          const [hi, lo] = tokenWords(r.token);
          appender.appendBigInt(hi);
          appender.appendBigInt(lo);
          appender.appendSmallInt(lender);
          appender.appendInteger(r.bucket);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    }
    await c.run('COMMIT');
  } catch (e) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
