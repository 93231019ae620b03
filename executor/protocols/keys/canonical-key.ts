/**
 * Canonical bytes of a join / lookup key, shared by every protocol that hashes keys (PRIVATE
 * LOOKUP's OPRF, SECURE JOIN's hash-to-group): both sides must turn the same logical key into
 * exactly the same bytes, or matches are silently lost.
 *
 * - Each key column arrives as text (the operators cast key columns to VARCHAR in DuckDB on both
 *   sides after aligning their types, so `5`, `5::BIGINT` and `'5'` agree).
 * - Text is normalised by the owner's published rule for that column (`normalize:` in node.yaml):
 *   trim, Unicode normal form, case. Both sides apply the owner's rule.
 * - A NULL in any key column means "no key": it never matches (SQL equality semantics).
 * - Several columns are length-prefixed, so ('ab','c') and ('a','bc') differ.
 *
 * Reveals nothing by itself (pure function); the bytes it returns are secret key material and
 * must only ever be fed to a keyed or blinded hash. Cost: one string normalisation per column.
 * I/O-free; imports no other layer of the project.
 */

/** The same shape as the catalog's KeyNormalization (kept local: protocols import no layer). */
export interface KeyNormalizationRule {
  trim: boolean;
  unicode: 'NFC' | 'NFKC' | 'none';
  case: 'lower' | 'upper' | 'preserve';
}

const encoder = new TextEncoder();

/** Applies a column's normalisation rule to one text key value. */
export function normalizeKeyText(value: string, rule: KeyNormalizationRule | undefined): string {
  if (!rule) return value;
  let v = value;
  // Normalise first: NFKC may turn compatibility spaces into plain ones that trim then removes.
  if (rule.unicode !== 'none') v = v.normalize(rule.unicode);
  if (rule.trim) v = v.trim();
  // Locale-independent case mapping: both parties must agree whatever their system locale.
  if (rule.case === 'lower') v = v.toLowerCase();
  else if (rule.case === 'upper') v = v.toUpperCase();
  return v;
}

/**
 * The canonical bytes of a (possibly multi-column) key, or `null` when any part is NULL.
 * Layout: one byte with the column count, then per column a 4-byte big-endian length and the
 * UTF-8 bytes of the normalised text.
 */
export function canonicalKeyBytes(parts: readonly (string | null | undefined)[], rules: readonly (KeyNormalizationRule | undefined)[]): Uint8Array | null {
  if (parts.length === 0 || parts.length > 255) throw new RangeError(`a key has 1…255 columns, not ${parts.length}`);
  const encoded: Uint8Array[] = [];
  let total = 1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === null || p === undefined) return null;
    const bytes = encoder.encode(normalizeKeyText(p, rules[i]));
    encoded.push(bytes);
    total += 4 + bytes.byteLength;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = parts.length;
  let at = 1;
  for (const bytes of encoded) {
    view.setUint32(at, bytes.byteLength, false);
    out.set(bytes, at + 4);
    at += 4 + bytes.byteLength;
  }
  return out;
}
