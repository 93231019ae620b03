/**
 * Streams a query's Arrow batches to the client as DataRows, with a row limit (Execute's
 * max_rows: the cursor stays open between calls, keeping the engine's batch iterator alive) and
 * output backpressure (the writer is flushed every ~64 KB and the stream waits for 'drain').
 * Also builds RowDescription, whose types must equal the ones the rows are encoded with.
 */
import type { RecordBatch } from 'apache-arrow';
import type { QueryOutcome, ResultColumn } from '../../executor/session-types.js';
import { cellReader, type CellReader } from './arrow-read.js';
import { writeBinaryValue } from './encode-binary.js';
import { cellText, type EncodeEnv } from './encode-text.js';
import { queryCanceled } from './errors.js';
import { pgTypeFor, type PgType } from './types.js';
import type { WireSession } from './wire-session.js';
import type { MessageWriter } from './writer.js';

const DUCKDB_TYPE_KEY = 'veilsql.type';

export function rowDescription(w: MessageWriter, columns: ResultColumn[], formats: number[]): void {
  w.begin('T').int16(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const t = pgTypeFor(columns[i].type);
    // Table OID and attnum stay 0: a non-zero table OID makes PgJDBC query pg_attribute.
    w.cstring(columns[i].name).int32(0).int16(0).uint32(t.oid).int16(t.typlen).int32(t.typmod).int16(formats[i] ?? 0);
  }
  w.end();
}

/** Expands Bind's result-format codes (0, 1 or N of them) to one per column. */
export function expandFormats(codes: number[], columns: number): number[] {
  if (codes.length === 0) return new Array<number>(columns).fill(0);
  if (codes.length === 1) return new Array<number>(columns).fill(codes[0]);
  return codes;
}

type FieldWriter = (w: MessageWriter, row: number) => void;

function fieldWriter(read: CellReader, pg: PgType, format: number, env: EncodeEnv): FieldWriter {
  if (format === 1) {
    return (w, row) => {
      const c = read(row);
      if (c === null) {
        w.int32(-1);
        return;
      }
      const at = w.reserveLength();
      writeBinaryValue(w, c, pg, env);
      w.patchLength(at);
    };
  }
  return (w, row) => {
    const c = read(row);
    if (c === null) w.int32(-1);
    else w.lengthPrefixedText(cellText(c, pg, env));
  };
}

/** The Postgres type used to encode each column: the declared column type, as described. */
export function columnTypes(columns: ResultColumn[]): PgType[] {
  return columns.map((c) => pgTypeFor(c.type));
}

/** Column readers for one batch; the batch field's own type is only a fallback. */
export function batchReaders(batch: RecordBatch, types: PgType[]): CellReader[] {
  const children = batch.data.children;
  return types.map((t, i) => {
    const data = children[i];
    if (data === undefined) return () => null;
    const pg = t ?? pgTypeFor(batch.schema.fields[i].metadata.get(DUCKDB_TYPE_KEY) ?? 'VARCHAR');
    return cellReader(data, pg);
  });
}

export class RowCursor {
  private readonly iterator: AsyncIterator<RecordBatch>;
  private batch: RecordBatch | null = null;
  private writers: FieldWriter[] = [];
  private row = 0;
  private exhausted = false;
  /** Rows sent by the latest `send` call: Postgres' `SELECT n` counts one Execute's rows. */
  sent = 0;

  constructor(
    outcome: QueryOutcome,
    private readonly types: PgType[],
    private readonly formats: number[],
    private readonly signal: AbortSignal,
  ) {
    this.iterator = outcome.batches[Symbol.asyncIterator]();
  }

  get done(): boolean {
    return this.exhausted;
  }

  /**
   * Sends up to `maxRows` rows (0 = all). Returns true when the result is exhausted, false
   * when the limit was hit first (the caller answers PortalSuspended).
   */
  async send(session: WireSession, maxRows: number): Promise<boolean> {
    const w = session.out;
    let budget = maxRows > 0 ? maxRows : Infinity;
    const ncols = this.types.length;
    this.sent = 0;
    while (budget > 0) {
      if (this.batch === null || this.row >= this.batch.numRows) {
        if (this.signal.aborted) throw queryCanceled();
        const next = await this.iterator.next();
        if (this.signal.aborted) throw queryCanceled();
        if (next.done) {
          this.exhausted = true;
          this.batch = null;
          return true;
        }
        this.batch = next.value;
        this.row = 0;
        const readers = batchReaders(this.batch, this.types);
        this.writers = readers.map((r, i) => fieldWriter(r, this.types[i], this.formats[i] ?? 0, session.env));
        continue;
      }
      const end = Math.min(this.batch.numRows, this.row + Math.min(budget, 1 << 30));
      for (let r = this.row; r < end; r++) {
        w.begin('D').int16(ncols);
        for (let c = 0; c < ncols; c++) this.writers[c](w, r);
        w.end();
        this.sent++;
        budget--;
        this.row = r + 1;
        if (w.size >= 65_536) {
          await session.maybeFlush();
          if (session.isClosed) throw queryCanceled();
        }
      }
    }
    // Limit reached: Postgres suspends without looking ahead, even when no rows are left (the
    // next Execute then completes with `SELECT 0`); clients such as PgJDBC expect exactly that.
    return false;
  }

  /** Releases the engine's iterator early (portal closed, error, disconnect). */
  async close(): Promise<void> {
    if (this.exhausted) return;
    this.exhausted = true;
    try {
      await this.iterator.return?.();
    } catch {
      // The iterator may already have failed; nothing left to release.
    }
  }
}

/** CommandComplete tag: Postgres appends the row count only to SELECT-like tags. */
export function completionTag(tag: string, rows: number): string {
  if (tag === 'SELECT' || tag === 'FETCH' || tag === 'MOVE' || tag === 'COPY') return `${tag} ${rows}`;
  return tag;
}
