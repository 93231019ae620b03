/**
 * The owner's preprocessed lookup table: its entries (OPRF output of the key, label, nonce,
 * location) persisted in the party's own DuckDB file, the bin bundles in memory, and their
 * NTT plaintexts sharded over the worker threads.
 *
 * Sync is incremental: the current input rows are fingerprinted (SHA-256 of key and label
 * bytes) into a temp table, DuckDB computes which stored entries disappeared and which rows
 * are new (as multisets: a row listed twice is two entries), deleted entries leave their bins,
 * new ones get one OPRF evaluation each and a place, and only the bundles that changed are
 * re-interpolated and reloaded. A full rebuild happens only for a new table, or when a new label
 * no longer fits the table's label capacity (then stored OPRF outputs are reused).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BinBundles, type EntryLocation } from '../../protocols/pir/bin-bundles.js';
import { binOf, itemFromOprfOutput } from '../../protocols/pir/items.js';
import { encryptLabel } from '../../protocols/pir/label-cipher.js';
import { OprfKey, type Sodium } from '../../protocols/pir/oprf.js';
import { chooseShape, NONCE_BYTES, type TableShape } from '../../protocols/pir/params.js';
import { lookupWorkers, type LookupWorkerPool } from './worker-pool.js';

const TABLES = '__veilsql_lookup_tables';
const ENTRIES = '__veilsql_lookup_entries';
const META = '__veilsql_lookup_meta';

export interface SourceRow {
  key: Uint8Array;
  label: Uint8Array;
}

export interface SyncReport {
  inserted: number;
  deleted: number;
  rebuilt: boolean;
  bundlesReloaded: number;
  oprfEvaluations: number;
}

interface StoredEntry {
  id: number;
  fp: Uint8Array;
  oprf: Uint8Array;
  label: Uint8Array;
  nonce: Uint8Array;
  at: EntryLocation;
}

const tables = new Map<string, LookupTable>();
const locks = new Map<string, Promise<unknown>>();

function blobOf(v: unknown): Uint8Array {
  const b = (v as { bytes?: Uint8Array }).bytes;
  if (!b) throw new Error('expected a BLOB');
  return b;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

async function ensureSchema(db: DuckDBConnection): Promise<string> {
  await db.run(`CREATE TABLE IF NOT EXISTS ${META} (db_id VARCHAR)`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${TABLES} (id VARCHAR PRIMARY KEY, definition VARCHAR, oprf_key BLOB, items_per_bin INTEGER, label_polys INTEGER, check_bytes INTEGER, stamp VARCHAR)`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${ENTRIES} (table_id VARCHAR, entry_id BIGINT, fp BLOB, oprf BLOB, label BLOB, nonce BLOB, bundle INTEGER, bin INTEGER, slot INTEGER)`);
  const r = await db.runAndReadAll(`SELECT db_id FROM ${META}`);
  const row = r.getRows()[0];
  if (row) return String(row[0]);
  const id = randomBytes(8).toString('hex');
  await db.run(`INSERT INTO ${META} VALUES ('${id}')`);
  return id;
}

/** Runs `f` exclusively for one table (sessions on the same table queue up). */
export async function withTableLock<T>(key: string, f: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(f);
  locks.set(key, run);
  try {
    return await run;
  } finally {
    if (locks.get(key) === run) locks.delete(key);
  }
}

export class LookupTable {
  private bundles: BinBundles;
  private pool: LookupWorkerPool | undefined;
  private nextEntry = 1;

  private constructor(
    readonly cacheKey: string,
    readonly id: string,
    private readonly oprfKey: Uint8Array,
    shape: TableShape,
    public stamp: string,
  ) {
    this.bundles = new BinBundles(shape);
  }

  get shape(): TableShape {
    return this.bundles.shape;
  }

  get bundleCount(): number {
    return this.bundles.bundleCount;
  }

  /** The cache key for a table definition in this database (and the database's id). */
  static async key(db: DuckDBConnection, definition: string): Promise<{ cacheKey: string; id: string }> {
    const dbId = await ensureSchema(db);
    const id = createHash('sha256').update(definition).digest('hex').slice(0, 24);
    return { cacheKey: `${dbId}/${id}`, id };
  }

  /** The table for `definition`, from memory, else from the database, else new (empty). */
  static async open(db: DuckDBConnection, definition: string, sodiumKey: () => Uint8Array): Promise<LookupTable> {
    const { cacheKey, id } = await LookupTable.key(db, definition);
    const cached = tables.get(cacheKey);
    if (cached) return cached;
    const r = await db.runAndReadAll(`SELECT oprf_key, items_per_bin, label_polys, check_bytes, stamp FROM ${TABLES} WHERE id = '${id}'`);
    const row = r.getRows()[0];
    let table: LookupTable;
    if (row) {
      const shape = chooseShape(0, 0);
      shape.itemsPerBin = Number(row[1]);
      shape.labelPolys = Number(row[2]);
      shape.checkBytes = Number(row[3]);
      shape.labelCapacity = shape.labelPolys * 10 - NONCE_BYTES - shape.checkBytes - 1;
      table = new LookupTable(cacheKey, id, blobOf(row[0]), shape, String(row[4] ?? ''));
      await table.restore(db);
    } else {
      const key = sodiumKey();
      table = new LookupTable(cacheKey, id, key, chooseShape(0, 0), '');
      const p = await db.prepare(`INSERT INTO ${TABLES} VALUES ($1, $2, $3, $4, $5, $6, $7)`);
      p.bindVarchar(1, id);
      p.bindVarchar(2, definition);
      p.bindBlob(3, key);
      p.bindInteger(4, table.shape.itemsPerBin);
      p.bindInteger(5, table.shape.labelPolys);
      p.bindInteger(6, table.shape.checkBytes);
      p.bindVarchar(7, '');
      await p.run();
    }
    tables.set(cacheKey, table);
    return table;
  }

  /** Re-places every persisted entry (after a restart); no OPRF work. */
  private async restore(db: DuckDBConnection): Promise<void> {
    const r = await db.runAndReadAll(`SELECT entry_id, oprf, label, nonce, bundle, bin, slot FROM ${ENTRIES} WHERE table_id = '${this.id}' ORDER BY bundle, bin, slot`);
    for (const row of r.getRows()) {
      const id = Number(row[0]);
      const item = itemFromOprfOutput(blobOf(row[1]));
      const felts = encryptLabel(blobOf(row[2]), item.labelKey, blobOf(row[3]), this.shape.labelPolys, this.shape.checkBytes);
      this.bundles.place(id, { bundle: Number(row[4]), bin: Number(row[5]), slot: Number(row[6]) }, item.felts, felts);
      this.nextEntry = Math.max(this.nextEntry, id + 1);
    }
  }

  /** Makes sure the workers hold every bundle (after a restart or a worker crash). */
  private async ensureLoaded(): Promise<number> {
    const pool = lookupWorkers();
    if (this.pool !== pool) {
      this.pool = pool;
      await pool.dropTable(this.cacheKey);
      for (let b = 0; b < this.bundles.bundleCount; b++) await this.loadBundle(b);
      return this.bundles.bundleCount;
    }
    const dirty = this.bundles.dirtyBundles();
    for (const b of dirty) await this.loadBundle(b);
    return dirty.length;
  }

  private async loadBundle(b: number): Promise<void> {
    this.bundles.markClean(b);
    await this.pool!.loadBundle(this.cacheKey, b, this.bundles.coefficients(b), this.shape.itemsPerBin, this.shape.labelPolys);
  }

  /** Brings the table up to date with `rows` (all current input rows of the owner). */
  async sync(db: DuckDBConnection, rows: AsyncIterable<SourceRow[]>, stamp: string): Promise<SyncReport> {
    const report: SyncReport = { inserted: 0, deleted: 0, rebuilt: false, bundlesReloaded: 0, oprfEvaluations: 0 };
    const current = `__lookup_current_${randomBytes(4).toString('hex')}`;
    await db.run(`CREATE TABLE ${current} (fp BLOB, k BLOB, label BLOB)`);
    try {
      const appender = await db.createAppender(current);
      let count = 0;
      let longest = 0;
      for await (const batch of rows) {
        for (const row of batch) {
          const fp = createHash('sha256').update(new Uint8Array([row.key.length >> 8, row.key.length & 0xff])).update(row.key).update(row.label).digest().subarray(0, 16);
          appender.appendBlob(fp);
          appender.appendBlob(row.key);
          appender.appendBlob(row.label);
          appender.endRow();
          count++;
          longest = Math.max(longest, row.label.length);
        }
      }
      appender.flushSync();
      appender.closeSync();
      const numbered = (t: string, cols: string) => `SELECT ${cols}, row_number() OVER (PARTITION BY fp ORDER BY ${cols.includes('entry_id') ? 'entry_id' : 'k'}) AS occ FROM ${t}`;
      const stored = `(${numbered(`${ENTRIES} WHERE table_id = '${this.id}'`, 'entry_id, fp, bundle, bin, slot')})`;
      const fresh = `(${numbered(current, 'fp, k, label')})`;
      const gone = (await db.runAndReadAll(`SELECT s.entry_id, s.bundle, s.bin, s.slot FROM ${stored} s ANTI JOIN ${fresh} c ON s.fp = c.fp AND s.occ = c.occ`)).getRows();
      const added = (await db.runAndReadAll(`SELECT c.fp, c.k, c.label FROM ${fresh} c ANTI JOIN ${stored} s ON s.fp = c.fp AND s.occ = c.occ`)).getRows();
      const firstBuild = this.bundles.bundleCount === 0 && gone.length === 0;
      const needShape = firstBuild ? chooseShape(count, longest) : longest > this.shape.labelCapacity ? chooseShape(count, longest) : undefined;
      await db.run('BEGIN TRANSACTION');
      try {
        await this.applyDeletes(db, gone.map((r) => ({ id: Number(r[0]), at: { bundle: Number(r[1]), bin: Number(r[2]), slot: Number(r[3]) } })));
        report.deleted = gone.length;
        if (needShape && !firstBuild) {
          await this.rebuild(db, needShape);
          report.rebuilt = true;
        } else if (needShape) {
          this.bundles = new BinBundles(needShape);
        }
        const keys = added.map((r) => blobOf(r[1]));
        const outputs = await lookupWorkers().evaluateOprf(this.oprfKey, keys);
        report.oprfEvaluations = outputs.length;
        const inserted: StoredEntry[] = [];
        added.forEach((r, i) => {
          const label = blobOf(r[2]);
          const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
          const item = itemFromOprfOutput(outputs[i]);
          const felts = encryptLabel(label, item.labelKey, nonce, this.shape.labelPolys, this.shape.checkBytes);
          const id = this.nextEntry++;
          const at = this.bundles.insert(id, binOf(item.output), item.felts, felts);
          inserted.push({ id, fp: blobOf(r[0]), oprf: outputs[i], label, nonce, at });
        });
        await this.persistInserted(db, inserted);
        report.inserted = inserted.length;
        this.stamp = stamp;
        await db.run(
          `UPDATE ${TABLES} SET stamp = ${sqlString(stamp)}, items_per_bin = ${this.shape.itemsPerBin}, label_polys = ${this.shape.labelPolys}, check_bytes = ${this.shape.checkBytes} WHERE id = '${this.id}'`,
        );
        await db.run('COMMIT');
      } catch (e) {
        await db.run('ROLLBACK').catch(() => undefined);
        // The in-memory bundles may be half-updated: forget them; the next session restores.
        tables.delete(this.cacheKey);
        await this.pool?.dropTable(this.cacheKey).catch(() => undefined);
        throw e;
      }
    } finally {
      await db.run(`DROP TABLE IF EXISTS ${current}`).catch(() => undefined);
    }
    report.bundlesReloaded = await this.ensureLoaded();
    return report;
  }

  /** Loads bundles into the workers if needed, without reading the input (table unchanged). */
  async ready(): Promise<void> {
    await this.ensureLoaded();
  }

  private async applyDeletes(db: DuckDBConnection, gone: { id: number; at: EntryLocation }[]): Promise<void> {
    if (gone.length === 0) return;
    // Locations move as swap-removes happen; track them so later deletes find their entry.
    const where = new Map<number, EntryLocation>(gone.map((g) => [g.id, g.at]));
    const moved = new Map<number, EntryLocation>();
    for (const g of gone) {
      const at = moved.get(g.id) ?? where.get(g.id)!;
      const shift = this.bundles.remove(at);
      moved.delete(g.id);
      if (shift) moved.set(shift.id, shift.to);
    }
    const ids = gone.map((g) => g.id).join(', ');
    await db.run(`DELETE FROM ${ENTRIES} WHERE table_id = '${this.id}' AND entry_id IN (${ids})`);
    for (const [id, at] of moved) {
      await db.run(`UPDATE ${ENTRIES} SET bundle = ${at.bundle}, bin = ${at.bin}, slot = ${at.slot} WHERE table_id = '${this.id}' AND entry_id = ${id}`);
    }
  }

  /** New label capacity: re-place every stored entry with a fresh nonce (OPRF outputs reused). */
  private async rebuild(db: DuckDBConnection, shape: TableShape): Promise<void> {
    this.bundles = new BinBundles(shape);
    const r = await db.runAndReadAll(`SELECT entry_id, oprf, label, fp FROM ${ENTRIES} WHERE table_id = '${this.id}' ORDER BY entry_id`);
    await db.run(`DELETE FROM ${ENTRIES} WHERE table_id = '${this.id}'`);
    const rows = r.getRows().map((row) => {
      const oprf = blobOf(row[1]);
      const label = blobOf(row[2]);
      const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
      const item = itemFromOprfOutput(oprf);
      const felts = encryptLabel(label, item.labelKey, nonce, shape.labelPolys, shape.checkBytes);
      const id = Number(row[0]);
      return { id, fp: blobOf(row[3]), oprf, label, nonce, at: this.bundles.insert(id, binOf(item.output), item.felts, felts) };
    });
    await this.persistInserted(db, rows);
    this.pool = undefined;
  }

  private async persistInserted(db: DuckDBConnection, rows: StoredEntry[]): Promise<void> {
    if (rows.length === 0) return;
    const appender = await db.createAppender(ENTRIES);
    for (const r of rows) {
      appender.appendVarchar(this.id);
      appender.appendBigInt(BigInt(r.id));
      appender.appendBlob(r.fp);
      appender.appendBlob(r.oprf);
      appender.appendBlob(r.label);
      appender.appendBlob(r.nonce);
      appender.appendInteger(r.at.bundle);
      appender.appendInteger(r.at.bin);
      appender.appendInteger(r.at.slot);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  }

  /** The OPRF on a requester's blinded elements, with this table's key. */
  blindEvaluate(sodium: Sodium, blinded: Uint8Array): Uint8Array {
    return OprfKey.fromBytes(sodium, this.oprfKey).blindEvaluate(blinded);
  }

  /** Evaluates one query round on the workers. */
  evaluate(query: Uint8Array[]): Promise<Uint8Array[][]> {
    return this.pool!.evaluate(this.cacheKey, this.bundles.bundleCount, query);
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Forgets every cached table (tests: simulate a restart). */
export function forgetLookupTables(): void {
  tables.clear();
}
