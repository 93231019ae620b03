/**
 * The owner's preprocessed lookup table: its entries (OPRF output of the key, label, nonce)
 * persisted in the party's own DuckDB file, the bin bundles of each geometry in memory, and
 * their cells' NTT plaintexts sharded over the worker threads.
 *
 * Geometries (params.ts): the single-key geometry (one hash function, 409 bins) is kept up to
 * date by every sync; the cuckoo geometry (3 hash functions, 1636 bins, for batches) is built
 * from the single geometry's items on the first cuckoo batch — no OPRF or label work — and from
 * then on kept up to date alongside it. Only the entries are persisted: after a restart the
 * bundles are re-placed from them (no OPRF work) and re-interpolated in the workers.
 *
 * Sync is incremental: the current input rows are fingerprinted (SHA-256 of key and label
 * bytes) into a temp table, DuckDB computes which stored entries disappeared and which rows
 * are new (as multisets: a row listed twice is two entries), deleted entries leave their bins,
 * new ones get one OPRF evaluation each and a place, and only the cells that changed are
 * re-interpolated and reloaded. A full rebuild happens only for a new table, or when a new label
 * no longer fits the table's label capacity (then stored OPRF outputs are reused).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BinBundles } from '../../protocols/pir/bin-bundles.js';
import { distinctBins, hashValue, itemFromOprfOutput, MAX_HASH_FUNCTIONS } from '../../protocols/pir/items.js';
import { encryptLabel } from '../../protocols/pir/label-cipher.js';
import { OprfKey, type Sodium } from '../../protocols/pir/oprf.js';
import { BINS_PER_BLOCK, binsOf, chooseShape, labelCapacityOf, NONCE_BYTES, type Geometry, type TableShape } from '../../protocols/pir/params.js';
import { lookupWorkers, type LookupWorkerPool } from './worker-pool.js';

// Version 2: entries no longer persist a bin location (placement is recomputed on restore).
const TABLES = '__veilsql_lookup_tables_v2';
const ENTRIES = '__veilsql_lookup_entries_v2';
const META = '__veilsql_lookup_meta';

/** Cells sent to the workers at once while (re)loading (bounds the copies in flight). */
const CELLS_IN_FLIGHT = 4;

export interface SourceRow {
  key: Uint8Array;
  label: Uint8Array;
}

export interface SyncReport {
  inserted: number;
  deleted: number;
  rebuilt: boolean;
  /** Cells (block of a bundle, any geometry) re-interpolated and reloaded. */
  cellsReloaded: number;
  oprfEvaluations: number;
}

interface NewEntry {
  id: number;
  fp: Uint8Array;
  oprf: Uint8Array;
  label: Uint8Array;
  nonce: Uint8Array;
}

const tables = new Map<string, LookupTable>();
const locks = new Map<string, Promise<unknown>>();

function blobOf(v: unknown): Uint8Array {
  const b = (v as { bytes?: Uint8Array }).bytes;
  if (!b) throw new Error('expected a BLOB');
  return b;
}

async function ensureSchema(db: DuckDBConnection): Promise<string> {
  await db.run(`CREATE TABLE IF NOT EXISTS ${META} (db_id VARCHAR)`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${TABLES} (id VARCHAR PRIMARY KEY, definition VARCHAR, oprf_key BLOB, items_per_bin INTEGER, label_polys INTEGER, check_bytes INTEGER, stamp VARCHAR)`);
  await db.run(`CREATE TABLE IF NOT EXISTS ${ENTRIES} (table_id VARCHAR, entry_id BIGINT, fp BLOB, oprf BLOB, label BLOB, nonce BLOB)`);
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
  private single: BinBundles;
  private cuckoo: BinBundles | undefined;
  /** The pool whose workers hold each geometry's cells (absent: must be loaded in full). */
  private readonly loadedIn = new Map<Geometry, LookupWorkerPool>();
  /** The 3 hash values of each entry, by entry id (placement in either geometry). */
  private hashes = new Uint32Array(0);
  private nextEntry = 1;

  private constructor(
    readonly cacheKey: string,
    readonly id: string,
    private readonly oprfKey: Uint8Array,
    shape: TableShape,
    public stamp: string,
  ) {
    this.single = new BinBundles(shape);
  }

  /** The single-geometry shape (its label layout is shared by the cuckoo geometry). */
  get shape(): TableShape {
    return this.single.shape;
  }

  get bundleCount(): number {
    return this.single.bundleCount;
  }

  /** Entries in the table. */
  get size(): number {
    return this.single.size;
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
      const labelPolys = Number(row[2]);
      const checkBytes = Number(row[3]);
      const shape: TableShape = { itemsPerBin: Number(row[1]), labelPolys, checkBytes, labelCapacity: labelCapacityOf(labelPolys, checkBytes) };
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
    const r = await db.runAndReadAll(`SELECT entry_id, oprf, label, nonce FROM ${ENTRIES} WHERE table_id = '${this.id}' ORDER BY entry_id`);
    for (const row of r.getRows()) this.place(Number(row[0]), blobOf(row[1]), blobOf(row[2]), blobOf(row[3]));
  }

  /** Places one entry in the single geometry (and the cuckoo geometry once it exists). */
  private place(id: number, oprf: Uint8Array, label: Uint8Array, nonce: Uint8Array): void {
    const item = itemFromOprfOutput(oprf);
    const felts = encryptLabel(label, item.labelKey, nonce, this.shape.labelPolys, this.shape.checkBytes);
    this.rememberHashes(id, oprf);
    this.single.insert(id, this.hashes[id * MAX_HASH_FUNCTIONS] % BINS_PER_BLOCK, item.felts, felts);
    if (this.cuckoo) this.placeInCuckoo(this.cuckoo, id, item.felts, 0, felts, 0);
    this.nextEntry = Math.max(this.nextEntry, id + 1);
  }

  /** Cuckoo handles: entry id · 3 + index of the distinct bin (each entry sits in ≤ 3 bins). */
  private placeInCuckoo(cuckoo: BinBundles, id: number, felts: ArrayLike<number>, at: number, label: ArrayLike<number>, labelAt: number): void {
    const bins = distinctBins(this.hashes.subarray(id * MAX_HASH_FUNCTIONS, (id + 1) * MAX_HASH_FUNCTIONS), MAX_HASH_FUNCTIONS, cuckoo.bins);
    bins.forEach((bin, i) => cuckoo.insert(id * MAX_HASH_FUNCTIONS + i, bin, felts, label, at, labelAt));
  }

  private removeEntry(id: number): void {
    this.single.remove(id);
    if (!this.cuckoo) return;
    for (let i = 0; i < MAX_HASH_FUNCTIONS; i++) if (this.cuckoo.has(id * MAX_HASH_FUNCTIONS + i)) this.cuckoo.remove(id * MAX_HASH_FUNCTIONS + i);
  }

  private rememberHashes(id: number, oprf: Uint8Array): void {
    if ((id + 1) * MAX_HASH_FUNCTIONS > this.hashes.length) {
      const grown = new Uint32Array(Math.max(3 * 1024, this.hashes.length * 2, (id + 1) * MAX_HASH_FUNCTIONS));
      grown.set(this.hashes);
      this.hashes = grown;
    }
    for (let f = 0; f < MAX_HASH_FUNCTIONS; f++) this.hashes[id * MAX_HASH_FUNCTIONS + f] = hashValue(oprf, f);
  }

  /**
   * The cuckoo geometry, built on first use from the single geometry's items (K chosen for the
   * current size; same label layout). Cost: ~3 placements per entry; interpolation follows in
   * the workers when its cells are loaded.
   */
  private cuckooBundles(): BinBundles {
    if (this.cuckoo) return this.cuckoo;
    const k = chooseShape(this.single.size, this.shape.labelCapacity, 'cuckoo', this.shape.checkBytes).itemsPerBin;
    const cuckoo = new BinBundles({ ...this.shape, itemsPerBin: k }, binsOf('cuckoo'));
    for (let id = 1; id < this.nextEntry; id++) {
      if (!this.single.has(id)) continue;
      const v = this.single.itemView(id);
      this.placeInCuckoo(cuckoo, id, v.items, v.itemAt, v.labels, v.labelAt);
    }
    this.cuckoo = cuckoo;
    this.loadedIn.delete('cuckoo');
    return cuckoo;
  }

  private bundlesOf(geometry: Geometry): BinBundles {
    return geometry === 'single' ? this.single : this.cuckooBundles();
  }

  /** Makes sure the workers hold every cell of `geometry` (after a build, restart or worker crash). */
  private async ensureLoaded(geometry: Geometry): Promise<number> {
    const bundles = this.bundlesOf(geometry);
    const pool = lookupWorkers();
    let cells: { bundle: number; block: number }[];
    if (this.loadedIn.get(geometry) !== pool) {
      await pool.dropTable(this.cacheKey, geometry);
      cells = bundles.allCells();
    } else {
      cells = bundles.dirtyCells();
    }
    // Until every cell is in, a failure must force a full reload next time.
    this.loadedIn.delete(geometry);
    for (let i = 0; i < cells.length; i += CELLS_IN_FLIGHT) {
      await Promise.all(cells.slice(i, i + CELLS_IN_FLIGHT).map((c) => pool.loadCell(this.cacheKey, geometry, c.bundle, c.block, bundles.exportCell(c.bundle, c.block))));
    }
    this.loadedIn.set(geometry, pool);
    return cells.length;
  }

  /**
   * Readies `geometry` for a session (building the cuckoo geometry on its first batch); returns
   * its shape and bundle count for the HELLO, and how many cells had to be (re)loaded.
   */
  async prepare(geometry: Geometry): Promise<{ shape: TableShape; bundles: number; cellsLoaded: number }> {
    const cellsLoaded = await this.ensureLoaded(geometry);
    const bundles = this.bundlesOf(geometry);
    return { shape: bundles.shape, bundles: bundles.bundleCount, cellsLoaded };
  }

  /** Brings the table up to date with `rows` (all current input rows of the owner). */
  async sync(db: DuckDBConnection, rows: AsyncIterable<SourceRow[]>, stamp: string): Promise<SyncReport> {
    const report: SyncReport = { inserted: 0, deleted: 0, rebuilt: false, cellsReloaded: 0, oprfEvaluations: 0 };
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
      const numbered = (t: string, cols: string, order: string) => `SELECT ${cols}, row_number() OVER (PARTITION BY fp ORDER BY ${order}) AS occ FROM ${t}`;
      const stored = `(${numbered(`${ENTRIES} WHERE table_id = '${this.id}'`, 'entry_id, fp', 'entry_id')})`;
      const fresh = `(${numbered(current, 'fp, k, label', 'k')})`;
      const gone = (await db.runAndReadAll(`SELECT s.entry_id FROM ${stored} s ANTI JOIN ${fresh} c ON s.fp = c.fp AND s.occ = c.occ`)).getRows().map((r) => Number(r[0]));
      const added = (await db.runAndReadAll(`SELECT c.fp, c.k, c.label FROM ${fresh} c ANTI JOIN ${stored} s ON s.fp = c.fp AND s.occ = c.occ`)).getRows();
      const firstBuild = this.single.size === 0 && gone.length === 0;
      const needShape = firstBuild || longest > this.shape.labelCapacity ? chooseShape(count, longest) : undefined;
      await db.run('BEGIN TRANSACTION');
      try {
        await this.applyDeletes(db, gone);
        report.deleted = gone.length;
        if (needShape && !firstBuild) {
          await this.rebuild(db, needShape);
          report.rebuilt = true;
        } else if (needShape) {
          this.single = new BinBundles(needShape);
          this.cuckoo = undefined;
          this.loadedIn.clear();
        }
        const keys = added.map((r) => blobOf(r[1]));
        const outputs = await lookupWorkers().evaluateOprf(this.oprfKey, keys);
        report.oprfEvaluations = outputs.length;
        const inserted: NewEntry[] = added.map((r, i) => {
          const entry = { id: this.nextEntry++, fp: blobOf(r[0]), oprf: outputs[i], label: blobOf(r[2]), nonce: new Uint8Array(randomBytes(NONCE_BYTES)) };
          this.place(entry.id, entry.oprf, entry.label, entry.nonce);
          return entry;
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
        for (const pool of new Set(this.loadedIn.values())) await pool.dropTable(this.cacheKey).catch(() => undefined);
        throw e;
      }
    } finally {
      await db.run(`DROP TABLE IF EXISTS ${current}`).catch(() => undefined);
    }
    report.cellsReloaded = await this.ensureLoaded('single');
    if (this.cuckoo) report.cellsReloaded += await this.ensureLoaded('cuckoo');
    return report;
  }

  private async applyDeletes(db: DuckDBConnection, gone: number[]): Promise<void> {
    if (gone.length === 0) return;
    for (const id of gone) this.removeEntry(id);
    for (let i = 0; i < gone.length; i += 10_000) {
      await db.run(`DELETE FROM ${ENTRIES} WHERE table_id = '${this.id}' AND entry_id IN (${gone.slice(i, i + 10_000).join(', ')})`);
    }
  }

  /** New label capacity: re-place every stored entry with a fresh nonce (OPRF outputs reused). */
  private async rebuild(db: DuckDBConnection, shape: TableShape): Promise<void> {
    this.single = new BinBundles(shape);
    this.cuckoo = undefined;
    this.loadedIn.clear();
    const r = await db.runAndReadAll(`SELECT entry_id, oprf, label, fp FROM ${ENTRIES} WHERE table_id = '${this.id}' ORDER BY entry_id`);
    await db.run(`DELETE FROM ${ENTRIES} WHERE table_id = '${this.id}'`);
    const rows = r.getRows().map((row) => {
      const entry = { id: Number(row[0]), oprf: blobOf(row[1]), label: blobOf(row[2]), fp: blobOf(row[3]), nonce: new Uint8Array(randomBytes(NONCE_BYTES)) };
      this.place(entry.id, entry.oprf, entry.label, entry.nonce);
      return entry;
    });
    await this.persistInserted(db, rows);
  }

  private async persistInserted(db: DuckDBConnection, rows: NewEntry[]): Promise<void> {
    if (rows.length === 0) return;
    const appender = await db.createAppender(ENTRIES);
    for (const r of rows) {
      appender.appendVarchar(this.id);
      appender.appendBigInt(BigInt(r.id));
      appender.appendBlob(r.fp);
      appender.appendBlob(r.oprf);
      appender.appendBlob(r.label);
      appender.appendBlob(r.nonce);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  }

  /** The OPRF on a requester's blinded elements, with this table's key. */
  blindEvaluate(sodium: Sodium, blinded: Uint8Array): Uint8Array {
    return OprfKey.fromBytes(sodium, this.oprfKey).blindEvaluate(blinded);
  }

  /** Evaluates one query unit (block `block` of `geometry`) on the workers; call `prepare` first. */
  evaluate(geometry: Geometry, block: number, query: Uint8Array[]): Promise<Uint8Array[][]> {
    const pool = this.loadedIn.get(geometry);
    if (!pool) throw new Error(`the ${geometry} geometry is not loaded`);
    return pool.evaluate(this.cacheKey, geometry, this.bundlesOf(geometry).bundleCount, block, query);
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Forgets every cached table (tests: simulate a restart). */
export function forgetLookupTables(): void {
  tables.clear();
}
