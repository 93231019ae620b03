/**
 * How a PRIVATE LOOKUP label (the owner's selected label columns of one row) becomes bytes and
 * back. Both sides cast label columns to VARCHAR in DuckDB (the requester casts them back to
 * the owner's types when it writes the result), so a label is a list of texts or NULLs:
 * per column a varint of (length + 1) — 0 for NULL — then the UTF-8 bytes.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeLabel(values: readonly (string | null)[]): Uint8Array {
  const parts: number[] = [];
  for (const v of values) {
    if (v === null) {
      parts.push(0);
      continue;
    }
    const bytes = encoder.encode(v);
    let n = bytes.length + 1;
    if (n >= 1 << 21) throw new RangeError('label value too long');
    while (n >= 0x80) {
      parts.push((n & 0x7f) | 0x80);
      n >>= 7;
    }
    parts.push(n);
    for (const b of bytes) parts.push(b);
  }
  return Uint8Array.from(parts);
}

export function decodeLabel(bytes: Uint8Array, columns: number): (string | null)[] {
  const out: (string | null)[] = [];
  let at = 0;
  for (let c = 0; c < columns; c++) {
    if (at >= bytes.length) throw new RangeError('label ended early');
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      n |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 14) throw new RangeError('bad label length');
    }
    if (n === 0) {
      out.push(null);
      continue;
    }
    n -= 1;
    if (at + n > bytes.length) throw new RangeError('label value runs past the end');
    out.push(decoder.decode(bytes.subarray(at, at + n)));
    at += n;
  }
  if (at !== bytes.length) throw new RangeError('trailing bytes after the label');
  return out;
}
