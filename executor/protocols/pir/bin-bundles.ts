/**
 * The owner's encoded table for PRIVATE LOOKUP: entries placed into bins (by their item's bin)
 * and bundles (at most K entries per bin per bundle), and, per bundle, the coefficient vectors
 * the BFV evaluation multiplies the requester's query powers by.
 *
 * Placement rules (APSI's labeled BinBundle): an entry goes into the first bundle whose bin has
 * room and where no entry of that bin shares any of its 5 felt values at the same position
 * (interpolation needs distinct x per felt position). The same key listed several times (a
 * multi-label key) therefore lands in different bundles, and a lookup returns every label.
 * Inserts and deletes touch one bin of one bundle and mark it dirty; only dirty bundles are
 * re-interpolated (incremental updates without a rebuild).
 *
 * Reveals nothing by itself (owner-local data). Cost: O(K²) field operations per (bin, felt,
 * label polynomial) of a dirty bundle. I/O-free; imports no other layer of the project.
 */
import { interpolateInto } from './field.js';
import { BINS_PER_BUNDLE, FELTS_PER_ITEM, MAX_BUNDLES, POLY_MODULUS_DEGREE, type TableShape } from './params.js';

export interface EntryLocation {
  bundle: number;
  bin: number;
  slot: number;
}

class Bundle {
  readonly counts = new Uint8Array(BINS_PER_BUNDLE);
  readonly items: Uint16Array;
  readonly labels: Uint16Array;
  /** Owner-side entry ids, so a swap-remove can report which entry moved. */
  readonly ids: Float64Array;
  dirty = true;

  constructor(readonly k: number, readonly labelFelts: number) {
    this.items = new Uint16Array(BINS_PER_BUNDLE * k * FELTS_PER_ITEM);
    this.labels = new Uint16Array(BINS_PER_BUNDLE * k * labelFelts);
    this.ids = new Float64Array(BINS_PER_BUNDLE * k);
  }

  fits(bin: number, felts: Uint16Array): boolean {
    const n = this.counts[bin];
    if (n >= this.k) return false;
    for (let s = 0; s < n; s++) {
      const at = (bin * this.k + s) * FELTS_PER_ITEM;
      for (let j = 0; j < FELTS_PER_ITEM; j++) if (this.items[at + j] === felts[j]) return false;
    }
    return true;
  }

  put(bin: number, slot: number, id: number, felts: Uint16Array, label: Uint16Array): void {
    this.items.set(felts, (bin * this.k + slot) * FELTS_PER_ITEM);
    this.labels.set(label, (bin * this.k + slot) * this.labelFelts);
    this.ids[bin * this.k + slot] = id;
    this.dirty = true;
  }
}

export class BinBundles {
  private readonly bundles: Bundle[] = [];
  private readonly labelFelts: number;

  constructor(readonly shape: TableShape) {
    this.labelFelts = shape.labelPolys * FELTS_PER_ITEM;
  }

  get bundleCount(): number {
    return this.bundles.length;
  }

  /** Places a new entry; returns where it went. */
  insert(id: number, bin: number, felts: Uint16Array, label: Uint16Array): EntryLocation {
    this.checkLabel(label);
    let bundle = this.bundles.findIndex((b) => b.fits(bin, felts));
    if (bundle < 0) {
      if (this.bundles.length >= MAX_BUNDLES) {
        throw new RangeError(`the lookup table needs more than ${MAX_BUNDLES} bundles (bin ${bin} is full)`);
      }
      this.bundles.push(new Bundle(this.shape.itemsPerBin, this.labelFelts));
      bundle = this.bundles.length - 1;
    }
    const b = this.bundles[bundle];
    const slot = b.counts[bin]++;
    b.put(bin, slot, id, felts, label);
    return { bundle, bin, slot };
  }

  /** Restores an entry at a known location (loading a persisted table). */
  place(id: number, at: EntryLocation, felts: Uint16Array, label: Uint16Array): void {
    this.checkLabel(label);
    while (this.bundles.length <= at.bundle) this.bundles.push(new Bundle(this.shape.itemsPerBin, this.labelFelts));
    const b = this.bundles[at.bundle];
    if (at.slot !== b.counts[at.bin]) throw new RangeError(`entry ${id}: slot ${at.slot} of bin ${at.bin} in bundle ${at.bundle} is not the next free slot`);
    b.counts[at.bin]++;
    b.put(at.bin, at.slot, id, felts, label);
  }

  /**
   * Removes the entry at `at`. The bin's last entry moves into the freed slot; returns that
   * entry's id and new location (or undefined when nothing moved) so the caller can persist it.
   */
  remove(at: EntryLocation): { id: number; to: EntryLocation } | undefined {
    const b = this.bundles[at.bundle];
    if (!b || at.slot >= b.counts[at.bin]) throw new RangeError(`no entry at bundle ${at.bundle}, bin ${at.bin}, slot ${at.slot}`);
    const last = b.counts[at.bin] - 1;
    b.counts[at.bin] = last;
    b.dirty = true;
    if (last === at.slot) return undefined;
    const k = b.k;
    const from = at.bin * k + last;
    const to = at.bin * k + at.slot;
    b.items.copyWithin(to * FELTS_PER_ITEM, from * FELTS_PER_ITEM, (from + 1) * FELTS_PER_ITEM);
    b.labels.copyWithin(to * this.labelFelts, from * this.labelFelts, (from + 1) * this.labelFelts);
    b.ids[to] = b.ids[from];
    return { id: b.ids[to], to: { ...at } };
  }

  /** Bundles changed since the last `markClean`. */
  dirtyBundles(): number[] {
    return this.bundles.flatMap((b, i) => (b.dirty ? [i] : []));
  }

  markClean(bundle: number): void {
    this.bundles[bundle].dirty = false;
  }

  /** Entries in the fullest bin, per bundle (diagnostics and tests). */
  loads(): number[] {
    return this.bundles.map((b) => b.counts.reduce((n, c) => n + c, 0));
  }

  /**
   * The plaintext slot vectors of one bundle: for label polynomial ℓ and degree d (0 … K−1),
   * vector[ℓ·K + d] holds, at slot bin·5 + j, the degree-d coefficient of the polynomial through
   * (item felt j, label felt ℓ·5 + j) of the bin's entries. Unused slots are zero.
   */
  coefficients(bundle: number): Uint32Array[] {
    const b = this.bundles[bundle];
    const k = b.k;
    const polys = this.shape.labelPolys;
    const vectors = Array.from({ length: polys * k }, () => new Uint32Array(POLY_MODULUS_DEGREE));
    const xs = new Array<number>(k);
    const ys = new Array<number>(k);
    const scratch = new Uint32Array(k);
    for (let bin = 0; bin < BINS_PER_BUNDLE; bin++) {
      const n = b.counts[bin];
      if (n === 0) continue;
      for (let j = 0; j < FELTS_PER_ITEM; j++) {
        for (let s = 0; s < n; s++) xs[s] = b.items[(bin * k + s) * FELTS_PER_ITEM + j];
        for (let l = 0; l < polys; l++) {
          for (let s = 0; s < n; s++) ys[s] = b.labels[(bin * k + s) * this.labelFelts + l * FELTS_PER_ITEM + j];
          interpolateInto(xs, ys, n, scratch, 0, 1);
          const slot = bin * FELTS_PER_ITEM + j;
          for (let d = 0; d < n; d++) vectors[l * k + d][slot] = scratch[d];
        }
      }
    }
    return vectors;
  }

  private checkLabel(label: Uint16Array): void {
    if (label.length !== this.labelFelts) throw new RangeError(`a label has ${this.labelFelts} felts in this table, not ${label.length}`);
  }
}
