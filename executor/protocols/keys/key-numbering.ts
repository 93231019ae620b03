/**
 * Numbers distinct canonical keys 0, 1, 2 … in first-seen order: the deduplication every
 * protocol does before it sends or evaluates each distinct key once. Reveals nothing; I/O-free.
 */

/** A byte string as a Map key (latin1: one char per byte, no copies of the bytes). */
export function keyId(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export class KeyNumbering {
  private readonly numbers = new Map<string, number>();

  /** How many distinct keys were numbered. */
  get size(): number {
    return this.numbers.size;
  }

  /** The number of `key`; a key not seen before gets the next one (so it equals `size` before the call). */
  number(key: Uint8Array): number {
    const id = keyId(key);
    let k = this.numbers.get(id);
    if (k === undefined) {
      k = this.numbers.size;
      this.numbers.set(id, k);
    }
    return k;
  }

  /** Drops the lookup table (the numbers already handed out stay valid). */
  clear(): void {
    this.numbers.clear();
  }
}
