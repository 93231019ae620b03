/**
 * Many small byte strings (canonical keys, row payloads) in one growing buffer with an offset
 * table, instead of one Uint8Array object each: at a million rows the per-object overhead of
 * separate typed arrays (~100 B each) would dominate a party's memory.
 *
 * Reveals nothing. Cost: amortised O(1) append, O(1) access. I/O-free; no project imports.
 */
export class ByteArena {
  private bytes: Uint8Array;
  private offsets: Uint32Array;
  private used = 0;
  private count = 0;

  constructor(expectedItems = 1024, expectedBytes = 64 * 1024) {
    this.bytes = new Uint8Array(expectedBytes);
    this.offsets = new Uint32Array(expectedItems + 1);
  }

  get length(): number {
    return this.count;
  }

  /** Appends `item`; returns its index. */
  push(item: Uint8Array): number {
    if (this.used + item.byteLength > this.bytes.byteLength) {
      let size = this.bytes.byteLength * 2;
      while (size < this.used + item.byteLength) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    if (this.count + 2 > this.offsets.length) {
      const grown = new Uint32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.bytes.set(item, this.used);
    this.used += item.byteLength;
    this.offsets[++this.count] = this.used;
    return this.count - 1;
  }

  /** A view of item `i` (valid until the next push that grows the buffer). */
  get(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** Items `from` … `to − 1` as separate views (for packing a batch). */
  slice(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = from; i < Math.min(to, this.count); i++) out.push(this.get(i));
    return out;
  }
}

/** A growable Int32 list (row → key index, copy numbers) without a JS array's per-element cost. */
export class IntList {
  private data: Int32Array;
  length = 0;
  constructor(expected = 1024) {
    this.data = new Int32Array(expected);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
}
