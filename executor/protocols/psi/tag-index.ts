/**
 * A compact hash index from 16-byte record tags to record numbers: open addressing over a
 * Uint32Array with the tags themselves in one flat buffer (≈ 16 + 8 bytes per record instead of
 * a JS Map's ~100). Tags are pseudorandom (SHA-512 outputs), so their first bytes are a good
 * hash. Duplicate tags (a 2^-128 event, or a hostile peer) keep the first record.
 *
 * Reveals nothing. Cost: O(1) expected per insert and lookup. I/O-free; no project imports.
 */
import { TAG_BYTES } from './record-cipher.js';

export class TagIndex {
  private tags: Uint8Array;
  private slots: Uint32Array;
  private count = 0;

  constructor(expected = 1024) {
    this.tags = new Uint8Array(Math.max(16, expected) * TAG_BYTES);
    this.slots = new Uint32Array(TagIndex.capacityFor(expected));
  }

  private static capacityFor(n: number): number {
    let c = 1024;
    while (c < n * 2) c *= 2;
    return c;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `tag` as record number `size` (returned); a duplicate tag returns the existing number. */
  add(tag: Uint8Array): number {
    const existing = this.get(tag);
    if (existing >= 0) return existing;
    if ((this.count + 1) * TAG_BYTES > this.tags.byteLength) {
      const grown = new Uint8Array(this.tags.byteLength * 2);
      grown.set(this.tags);
      this.tags = grown;
    }
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const n = this.count++;
    this.tags.set(tag.subarray(0, TAG_BYTES), n * TAG_BYTES);
    this.place(n);
    return n;
  }

  /** The record number of `tag`, or −1. */
  get(tag: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = this.hash(tag, 0) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s];
      if (v === 0) return -1;
      if (this.equals(v - 1, tag)) return v - 1;
    }
  }

  private hash(tag: Uint8Array, at: number): number {
    return (tag[at] | (tag[at + 1] << 8) | (tag[at + 2] << 16) | (tag[at + 3] << 24)) >>> 0;
  }

  private equals(n: number, tag: Uint8Array): boolean {
    const base = n * TAG_BYTES;
    for (let i = 0; i < TAG_BYTES; i++) if (this.tags[base + i] !== tag[i]) return false;
    return true;
  }

  private place(n: number): void {
    const mask = this.slots.length - 1;
    let s = this.hash(this.tags, n * TAG_BYTES) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = n + 1;
  }

  private rehash(capacity: number): void {
    this.slots = new Uint32Array(capacity);
    for (let n = 0; n < this.count; n++) this.place(n);
  }
}
