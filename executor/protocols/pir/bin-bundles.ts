/**
 * The owner's encoded table for PRIVATE LOOKUP in one geometry: items placed into bins and
 * bundles (at most K items per bin per bundle). A bundle spans all the geometry's bins, i.e.
 * `blocks` cells of 409 bins; each cell becomes K·L BFV plaintexts (cell-polynomials.ts).
 *
 * Placement rules (APSI's labeled BinBundle): an item goes into the first bundle whose bin has
 * room and where no item of that bin shares any of its 5 felt values at the same position
 * (interpolation needs distinct x per felt position). The same key listed several times (a
 * multi-label key) therefore lands in different bundles, and a lookup returns every label.
 * Every placed item has a caller-chosen integer handle; inserts and removals touch one bin of
 * one bundle and mark that cell dirty, so only dirty cells are re-interpolated (incremental
 * updates without a rebuild).
 *
 * Reveals nothing by itself (owner-local data). Cost: O(bundles) per insert (a per-bin cursor
 * skips full bundles), O(1) per removal. I/O-free; imports no other layer of the project.
 */
import type { CellData } from './cell-polynomials.js';
import { BINS_PER_BLOCK, FELTS_PER_ITEM, MAX_BUNDLES, type TableShape } from './params.js';

class Bundle {
  readonly counts: Uint16Array;
  readonly items: Uint16Array;
  readonly labels: Uint16Array;
  /** Handle of the item in each slot (so a swap-remove can update the moved item's location). */
  readonly handles: Int32Array;
  /** Per block: changed since last exported. */
  readonly dirty: Uint8Array;

  constructor(readonly bins: number, readonly k: number, readonly labelFelts: number, blocks: number) {
    this.counts = new Uint16Array(bins);
    this.items = new Uint16Array(bins * k * FELTS_PER_ITEM);
    this.labels = new Uint16Array(bins * k * labelFelts);
    this.handles = new Int32Array(bins * k);
    this.dirty = new Uint8Array(blocks).fill(1);
  }

  fits(bin: number, felts: ArrayLike<number>, at: number): boolean {
    const n = this.counts[bin];
    if (n >= this.k) return false;
    const items = this.items;
    for (let s = 0; s < n; s++) {
      const base = (bin * this.k + s) * FELTS_PER_ITEM;
      for (let j = 0; j < FELTS_PER_ITEM; j++) if (items[base + j] === felts[at + j]) return false;
    }
    return true;
  }
}

export class BinBundles {
  private readonly bundles: Bundle[] = [];
  private readonly labelFelts: number;
  readonly blocks: number;
  /** Per bin: the first bundle that may still have room (bundles before it are full there). */
  private readonly cursor: Uint16Array;
  /** Location of each handle: bundle, bin, slot (−1: not placed). */
  private bundleOf = new Int32Array(0);
  private binOfHandle = new Int32Array(0);
  private slotOf = new Int32Array(0);
  private placed = 0;

  constructor(readonly shape: TableShape, readonly bins = BINS_PER_BLOCK) {
    if (bins % BINS_PER_BLOCK !== 0) throw new RangeError(`a table has a multiple of ${BINS_PER_BLOCK} bins`);
    this.blocks = bins / BINS_PER_BLOCK;
    this.labelFelts = shape.labelPolys * FELTS_PER_ITEM;
    this.cursor = new Uint16Array(bins);
  }

  get bundleCount(): number {
    return this.bundles.length;
  }

  /** Items placed. */
  get size(): number {
    return this.placed;
  }

  has(handle: number): boolean {
    return handle < this.bundleOf.length && this.bundleOf[handle] >= 0;
  }

  /**
   * Places an item (5 felts at `felts[at…]`, label felts at `label[labelAt…]`) in `bin` under
   * `handle`. Throws when the table would need more than MAX_BUNDLES bundles.
   */
  insert(handle: number, bin: number, felts: ArrayLike<number>, label: ArrayLike<number>, at = 0, labelAt = 0): void {
    if (bin < 0 || bin >= this.bins) throw new RangeError(`bin ${bin} out of range`);
    if (this.has(handle)) throw new RangeError(`handle ${handle} is already placed`);
    let b = this.cursor[bin];
    while (b < this.bundles.length && !this.bundles[b].fits(bin, felts, at)) b++;
    if (b === this.bundles.length) {
      if (this.bundles.length >= MAX_BUNDLES) {
        throw new RangeError(`the lookup table needs more than ${MAX_BUNDLES} bundles (bin ${bin} is full): it is too large for the false-positive bound`);
      }
      this.bundles.push(new Bundle(this.bins, this.shape.itemsPerBin, this.labelFelts, this.blocks));
    }
    const bundle = this.bundles[b];
    const slot = bundle.counts[bin]++;
    const k = bundle.k;
    for (let j = 0; j < FELTS_PER_ITEM; j++) bundle.items[(bin * k + slot) * FELTS_PER_ITEM + j] = felts[at + j];
    const lbase = (bin * k + slot) * this.labelFelts;
    for (let i = 0; i < this.labelFelts; i++) bundle.labels[lbase + i] = label[labelAt + i];
    bundle.handles[bin * k + slot] = handle;
    bundle.dirty[Math.floor(bin / BINS_PER_BLOCK)] = 1;
    // Advance the cursor past bundles whose bin is full.
    let c = this.cursor[bin];
    while (c < this.bundles.length && this.bundles[c].counts[bin] >= k) c++;
    this.cursor[bin] = c;
    this.setLocation(handle, b, bin, slot);
    this.placed++;
  }

  /** Removes the item `handle`; the bin's last item moves into the freed slot. */
  remove(handle: number): void {
    if (!this.has(handle)) throw new RangeError(`handle ${handle} is not placed`);
    const b = this.bundleOf[handle];
    const bin = this.binOfHandle[handle];
    const slot = this.slotOf[handle];
    const bundle = this.bundles[b];
    const k = bundle.k;
    const last = --bundle.counts[bin];
    if (last !== slot) {
      const from = bin * k + last;
      const to = bin * k + slot;
      bundle.items.copyWithin(to * FELTS_PER_ITEM, from * FELTS_PER_ITEM, (from + 1) * FELTS_PER_ITEM);
      bundle.labels.copyWithin(to * this.labelFelts, from * this.labelFelts, (from + 1) * this.labelFelts);
      const moved = bundle.handles[from];
      bundle.handles[to] = moved;
      this.slotOf[moved] = slot;
    }
    bundle.dirty[Math.floor(bin / BINS_PER_BLOCK)] = 1;
    if (b < this.cursor[bin]) this.cursor[bin] = b;
    this.bundleOf[handle] = -1;
    this.placed--;
  }

  /** Cells (bundle, block) changed since they were last exported. */
  dirtyCells(): { bundle: number; block: number }[] {
    const out: { bundle: number; block: number }[] = [];
    this.bundles.forEach((b, bundle) => b.dirty.forEach((d, block) => d && out.push({ bundle, block })));
    return out;
  }

  /** Every cell, dirty or not. */
  allCells(): { bundle: number; block: number }[] {
    const out: { bundle: number; block: number }[] = [];
    for (let bundle = 0; bundle < this.bundles.length; bundle++) for (let block = 0; block < this.blocks; block++) out.push({ bundle, block });
    return out;
  }

  /**
   * A copy of one cell's entries (for interpolation in a worker thread); marks it clean.
   * Empty cells (no entry in any of its bins) return counts that are all zero.
   */
  exportCell(bundle: number, block: number): CellData {
    const b = this.bundles[bundle];
    if (!b || block < 0 || block >= this.blocks) throw new RangeError(`no cell (${bundle}, ${block})`);
    b.dirty[block] = 0;
    const k = b.k;
    const first = block * BINS_PER_BLOCK;
    return {
      itemsPerBin: k,
      labelPolys: this.shape.labelPolys,
      counts: b.counts.slice(first, first + BINS_PER_BLOCK),
      items: b.items.slice(first * k * FELTS_PER_ITEM, (first + BINS_PER_BLOCK) * k * FELTS_PER_ITEM),
      labels: b.labels.slice(first * k * this.labelFelts, (first + BINS_PER_BLOCK) * k * this.labelFelts),
    };
  }

  /**
   * Where item `handle` is stored: its 5 felts at `items[itemAt…]`, its label felts at
   * `labels[labelAt…]` (live views: valid until the next insert or removal). Lets the owner
   * copy its single-geometry items into the cuckoo geometry without re-deriving them.
   */
  itemView(handle: number): { items: Uint16Array; itemAt: number; labels: Uint16Array; labelAt: number } {
    if (!this.has(handle)) throw new RangeError(`handle ${handle} is not placed`);
    const bundle = this.bundles[this.bundleOf[handle]];
    const index = this.binOfHandle[handle] * bundle.k + this.slotOf[handle];
    return { items: bundle.items, itemAt: index * FELTS_PER_ITEM, labels: bundle.labels, labelAt: index * this.labelFelts };
  }

  /** Items per bundle (diagnostics and tests). */
  loads(): number[] {
    return this.bundles.map((b) => b.counts.reduce((n, c) => n + c, 0));
  }

  private setLocation(handle: number, bundle: number, bin: number, slot: number): void {
    if (handle < 0 || !Number.isInteger(handle)) throw new RangeError(`bad handle ${handle}`);
    if (handle >= this.bundleOf.length) {
      const size = Math.max(1024, this.bundleOf.length * 2, handle + 1);
      const grow = (a: Int32Array, fill: number) => {
        const n = new Int32Array(size).fill(fill);
        n.set(a);
        return n;
      };
      this.bundleOf = grow(this.bundleOf, -1);
      this.binOfHandle = grow(this.binOfHandle, 0);
      this.slotOf = grow(this.slotOf, 0);
    }
    this.bundleOf[handle] = bundle;
    this.binOfHandle[handle] = bin;
    this.slotOf[handle] = slot;
  }
}
