/**
 * The hub's in-memory index of one epoch's tokens: which lenders uploaded each token, in which
 * time bucket. DuckDB (hub-store.ts) is the durable copy; this index answers queries in
 * microseconds (a DuckDB point lookup on 10M rows costs tens of milliseconds here) and makes
 * uploads idempotent (a row already present is not stored twice).
 *
 * Layout, in typed arrays so that 10M rows cost ~30 bytes each rather than hundreds as JS
 * objects: tokens (16 bytes) live in a growable table with open addressing on their first 32
 * bits (tokens are pseudorandom, so that is a uniform hash); each token heads a singly linked
 * list of (lender, bucket) entries; removed entries go to a free list.
 */
import { TOKEN_BYTES } from '../../protocols/toprf/threshold-oprf.js';

const EMPTY = -1;

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

export class TokenIndex {
  /** Token words (4 × u32 per token). */
  private words: Uint32Array;
  private tokenCount = 0;
  /** Open-addressing slots holding token ids (−1 = empty). */
  private slots: Int32Array;
  private heads: Int32Array;
  private next: Int32Array;
  private lenders: Uint16Array;
  private buckets: Int32Array;
  private entryCount = 0;
  private freeHead = EMPTY;
  private live = 0;
  private readonly perLender: Uint32Array;
  /** Scratch marks for distinct-lender counting (stamp per query avoids clearing). */
  private readonly marks: Uint32Array;
  private stamp = 0;

  constructor(readonly lenderCount: number, expectedRows = 1024) {
    const tokens = Math.max(1024, expectedRows);
    this.words = new Uint32Array(tokens * 4);
    this.heads = new Int32Array(tokens);
    this.slots = new Int32Array(slotCapacity(tokens)).fill(EMPTY);
    this.next = new Int32Array(tokens);
    this.lenders = new Uint16Array(tokens);
    this.buckets = new Int32Array(tokens);
    this.perLender = new Uint32Array(lenderCount);
    this.marks = new Uint32Array(lenderCount);
  }

  /** Rows stored. */
  get size(): number {
    return this.live;
  }

  /** Distinct tokens ever stored (tokens whose rows were all removed stay, with no rows). */
  get tokens(): number {
    return this.tokenCount;
  }

  /** Rows stored for one lender (a lender compares it with its own record to detect drift). */
  rowsOf(lender: number): number {
    return this.perLender[lender] ?? 0;
  }

  /** Approximate bytes held by the index. */
  get bytes(): number {
    return this.words.byteLength + this.slots.byteLength + this.heads.byteLength + this.next.byteLength + this.lenders.byteLength + this.buckets.byteLength;
  }

  /** Adds (token, lender, bucket); false when that row was already present. */
  add(token: Uint8Array, lender: number, bucket: number): boolean {
    this.checkLender(lender);
    const id = this.findOrInsert(token);
    for (let e = this.heads[id]; e !== EMPTY; e = this.next[e]) {
      if (this.lenders[e] === lender && this.buckets[e] === bucket) return false;
    }
    const e = this.newEntry();
    this.lenders[e] = lender;
    this.buckets[e] = bucket;
    this.next[e] = this.heads[id];
    this.heads[id] = e;
    this.live++;
    this.perLender[lender]++;
    return true;
  }

  /** True when (token, lender, bucket) is stored. */
  has(token: Uint8Array, lender: number, bucket: number): boolean {
    const id = this.find(token);
    if (id === EMPTY) return false;
    for (let e = this.heads[id]; e !== EMPTY; e = this.next[e]) {
      if (this.lenders[e] === lender && this.buckets[e] === bucket) return true;
    }
    return false;
  }

  /** Removes (token, lender, bucket); false when it was not present. */
  remove(token: Uint8Array, lender: number, bucket: number): boolean {
    this.checkLender(lender);
    const id = this.find(token);
    if (id === EMPTY) return false;
    let prev = EMPTY;
    for (let e = this.heads[id]; e !== EMPTY; prev = e, e = this.next[e]) {
      if (this.lenders[e] !== lender || this.buckets[e] !== bucket) continue;
      if (prev === EMPTY) this.heads[id] = this.next[e];
      else this.next[prev] = this.next[e];
      this.next[e] = this.freeHead;
      this.freeHead = e;
      this.live--;
      this.perLender[lender]--;
      return true;
    }
    return false;
  }

  /** Removes every row of one lender (a lender's full re-upload). */
  removeLender(lender: number): number {
    this.checkLender(lender);
    let removed = 0;
    for (let id = 0; id < this.tokenCount; id++) {
      let prev = EMPTY;
      let e = this.heads[id];
      while (e !== EMPTY) {
        const after = this.next[e];
        if (this.lenders[e] === lender) {
          if (prev === EMPTY) this.heads[id] = after;
          else this.next[prev] = after;
          this.next[e] = this.freeHead;
          this.freeHead = e;
          removed++;
        } else {
          prev = e;
        }
        e = after;
      }
    }
    this.live -= removed;
    this.perLender[lender] -= removed;
    return removed;
  }

  /**
   * Distinct lenders with at least one row for any of `tokens` (16-byte tokens, concatenated,
   * items `from` … `to`) whose bucket is in [lo, hi) and whose lender is allowed.
   */
  countLenders(tokens: Uint8Array, from: number, to: number, lo: number, hi: number, allowed: Uint8Array): number {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.marks.fill(0);
      this.stamp = 1;
    }
    let count = 0;
    for (let i = from; i < to; i++) {
      const id = this.find(tokens.subarray(i * TOKEN_BYTES, (i + 1) * TOKEN_BYTES));
      if (id === EMPTY) continue;
      for (let e = this.heads[id]; e !== EMPTY; e = this.next[e]) {
        const l = this.lenders[e];
        const b = this.buckets[e];
        if (b < lo || b >= hi || !allowed[l] || this.marks[l] === this.stamp) continue;
        this.marks[l] = this.stamp;
        count++;
      }
    }
    return count;
  }

  /** Every row, for tests and audits: (token, lender, bucket). */
  *rows(): Generator<{ token: Uint8Array; lender: number; bucket: number }> {
    for (let id = 0; id < this.tokenCount; id++) {
      for (let e = this.heads[id]; e !== EMPTY; e = this.next[e]) {
        const token = new Uint8Array(TOKEN_BYTES);
        const v = new DataView(token.buffer);
        for (let w = 0; w < 4; w++) v.setUint32(w * 4, this.words[id * 4 + w]);
        yield { token, lender: this.lenders[e], bucket: this.buckets[e] };
      }
    }
  }

  private checkLender(lender: number): void {
    if (!Number.isInteger(lender) || lender < 0 || lender >= this.lenderCount) throw new RangeError(`lender index ${lender} out of range`);
  }

  private matches(id: number, token: Uint8Array): boolean {
    const w = id * 4;
    return this.words[w] === readU32(token, 0) && this.words[w + 1] === readU32(token, 4) && this.words[w + 2] === readU32(token, 8) && this.words[w + 3] === readU32(token, 12);
  }

  private find(token: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = readU32(token, 0) & mask; ; s = (s + 1) & mask) {
      const id = this.slots[s];
      if (id === EMPTY) return EMPTY;
      if (this.matches(id, token)) return id;
    }
  }

  private findOrInsert(token: Uint8Array): number {
    if (token.length !== TOKEN_BYTES) throw new RangeError(`a token is ${TOKEN_BYTES} bytes`);
    const found = this.find(token);
    if (found !== EMPTY) return found;
    if ((this.tokenCount + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (this.tokenCount * 4 >= this.words.length) {
      this.words = grow32(this.words, this.words.length * 2);
      this.heads = growI32(this.heads, this.heads.length * 2);
    }
    const id = this.tokenCount++;
    for (let w = 0; w < 4; w++) this.words[id * 4 + w] = readU32(token, w * 4);
    this.heads[id] = EMPTY;
    const mask = this.slots.length - 1;
    let s = readU32(token, 0) & mask;
    while (this.slots[s] !== EMPTY) s = (s + 1) & mask;
    this.slots[s] = id;
    return id;
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity).fill(EMPTY);
    const mask = capacity - 1;
    for (let id = 0; id < this.tokenCount; id++) {
      let s = this.words[id * 4] & mask;
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      slots[s] = id;
    }
    this.slots = slots;
  }

  private newEntry(): number {
    if (this.freeHead !== EMPTY) {
      const e = this.freeHead;
      this.freeHead = this.next[e];
      return e;
    }
    if (this.entryCount >= this.next.length) {
      const n = this.next.length * 2;
      this.next = growI32(this.next, n);
      const lenders = new Uint16Array(n);
      lenders.set(this.lenders);
      this.lenders = lenders;
      this.buckets = growI32(this.buckets, n);
    }
    return this.entryCount++;
  }
}

function slotCapacity(tokens: number): number {
  let c = 1024;
  while (c < tokens * 2) c *= 2;
  return c;
}

function grow32(a: Uint32Array, n: number): Uint32Array {
  const out = new Uint32Array(n);
  out.set(a);
  return out;
}

function growI32(a: Int32Array, n: number): Int32Array {
  const out = new Int32Array(n);
  out.set(a);
  return out;
}
