/**
 * Binary frames of the multi-lender dedupe protocols (lender ⟷ hub ⟷ key holders). Every frame
 * starts with a type byte; integers are big-endian; decoders check every length exactly and
 * throw `ToprfProtocolError` on anything malformed, so a hostile or broken peer costs one
 * session and never a node.
 *
 * | frame    | layout                                                            | used for |
 * |----------|-------------------------------------------------------------------|----------|
 * | JSON     | 1, UTF-8 JSON object                                              | hellos, acknowledgements, key-generation messages, a query's upload status |
 * | ELEMENTS | 2, u32 epoch, u32 n, n × 32-byte ristretto255 encodings           | blinded elements (lender→hub→holder), one holder's answers |
 * | ANSWERS  | 3, u32 epoch, u8 m, u32 n, m × n × 32                             | the m holders' answers, relayed hub→lender |
 * | ROWS     | 4, u32 epoch, u8 op (1 add, 2 remove), u32 n, n × (16-byte token, i32 bucket) | a lender's upload |
 * | COMMIT   | 5, u32 epoch, u8 replace                                          | end of a lender's upload for one epoch |
 * | GROUPS   | 6, u32 epoch, u32 g, u32 n, n × 16-byte token, (g+1) × u32 offsets | a query: group i = tokens[offsets[i]…offsets[i+1]) |
 * | COUNTS   | 7, u32 n, n × u32                                                 | per group: distinct lenders (count mode) or 0/1 (flag mode) |
 *
 * Reveals nothing by itself (a codec). Cost: one copy per frame. I/O-free; imports no other layer.
 */
import { ELEMENT_BYTES, TOKEN_BYTES } from './threshold-oprf.js';

export class ToprfProtocolError extends Error {
  override readonly name = 'ToprfProtocolError';
}

export const FrameType = { Json: 1, Elements: 2, Answers: 3, Rows: 4, Commit: 5, Groups: 6, Counts: 7 } as const;
export type FrameTypeId = (typeof FrameType)[keyof typeof FrameType];

/** Largest batch of elements in one frame (2 MiB of encodings). */
export const MAX_ELEMENTS_PER_FRAME = 65_536;
/** Largest batch of upload rows in one frame (2 MiB). */
export const MAX_ROWS_PER_FRAME = 100_000;
/** Largest query in one frame (16 MiB of tokens). */
export const MAX_QUERY_TOKENS = 1_000_000;
/** Key holders in one relayed answer. */
export const MAX_HOLDERS = 64;
export const ROW_BYTES = TOKEN_BYTES + 4;
export const UPLOAD_ADD = 1;
export const UPLOAD_REMOVE = 2;

const FRAME_NAMES: Record<number, string> = { 1: 'JSON', 2: 'ELEMENTS', 3: 'ANSWERS', 4: 'ROWS', 5: 'COMMIT', 6: 'GROUPS', 7: 'COUNTS' };

function fail(message: string): never {
  throw new ToprfProtocolError(message);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The type byte of a frame, checked to be `expected` (one of them). */
export function expectFrame(bytes: Uint8Array | null, ...expected: FrameTypeId[]): FrameTypeId {
  if (bytes === null) fail(`the session ended where a ${expected.map((t) => FRAME_NAMES[t]).join(' or ')} frame was expected`);
  if (bytes.length === 0) fail('empty frame');
  const type = bytes[0] as FrameTypeId;
  if (!expected.includes(type)) fail(`expected a ${expected.map((t) => FRAME_NAMES[t]).join(' or ')} frame, got ${FRAME_NAMES[type] ?? `type ${type}`}`);
  return type;
}

function checkEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff) throw new RangeError(`epoch ${epoch} out of range`);
}

// ---- JSON --------------------------------------------------------------------------------------

export function encodeJson(value: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(1 + body.length);
  out[0] = FrameType.Json;
  out.set(body, 1);
  return out;
}

export function decodeJson(bytes: Uint8Array | null): Record<string, unknown> {
  expectFrame(bytes, FrameType.Json);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes!.subarray(1)));
  } catch {
    fail('JSON frame is not valid UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('JSON frame is not an object');
  return value as Record<string, unknown>;
}

// ---- ELEMENTS / ANSWERS ------------------------------------------------------------------------

export function encodeElements(epoch: number, elements: Uint8Array): Uint8Array {
  checkEpoch(epoch);
  const n = elements.length / ELEMENT_BYTES;
  if (!Number.isInteger(n) || n > MAX_ELEMENTS_PER_FRAME) throw new RangeError(`cannot frame ${elements.length} bytes of elements`);
  const out = new Uint8Array(9 + elements.length);
  out[0] = FrameType.Elements;
  view(out).setUint32(1, epoch);
  view(out).setUint32(5, n);
  out.set(elements, 9);
  return out;
}

export function decodeElements(bytes: Uint8Array | null): { epoch: number; count: number; elements: Uint8Array } {
  expectFrame(bytes, FrameType.Elements);
  const b = bytes!;
  if (b.length < 9) fail('ELEMENTS frame shorter than its header');
  const epoch = view(b).getUint32(1);
  const count = view(b).getUint32(5);
  if (count > MAX_ELEMENTS_PER_FRAME) fail(`ELEMENTS frame of ${count} elements exceeds the limit of ${MAX_ELEMENTS_PER_FRAME}`);
  if (b.length !== 9 + count * ELEMENT_BYTES) fail(`ELEMENTS frame announces ${count} elements but carries ${b.length - 9} bytes`);
  return { epoch, count, elements: b.subarray(9) };
}

export function encodeAnswers(epoch: number, answers: readonly Uint8Array[]): Uint8Array {
  checkEpoch(epoch);
  if (answers.length === 0 || answers.length > MAX_HOLDERS) throw new RangeError(`cannot frame answers of ${answers.length} holders`);
  const size = answers[0].length;
  if (answers.some((a) => a.length !== size) || size % ELEMENT_BYTES !== 0) throw new RangeError('answers of different sizes');
  const out = new Uint8Array(10 + answers.length * size);
  out[0] = FrameType.Answers;
  view(out).setUint32(1, epoch);
  out[5] = answers.length;
  view(out).setUint32(6, size / ELEMENT_BYTES);
  answers.forEach((a, i) => out.set(a, 10 + i * size));
  return out;
}

export function decodeAnswers(bytes: Uint8Array | null, expectedCount: number): { epoch: number; answers: Uint8Array[] } {
  expectFrame(bytes, FrameType.Answers);
  const b = bytes!;
  if (b.length < 10) fail('ANSWERS frame shorter than its header');
  const epoch = view(b).getUint32(1);
  const m = b[5];
  const count = view(b).getUint32(6);
  if (m === 0 || m > MAX_HOLDERS) fail(`ANSWERS frame from ${m} key holders`);
  if (count !== expectedCount) fail(`ANSWERS frame for ${count} elements, ${expectedCount} were sent`);
  const size = count * ELEMENT_BYTES;
  if (b.length !== 10 + m * size) fail('ANSWERS frame length does not match its header');
  return { epoch, answers: Array.from({ length: m }, (_, i) => b.subarray(10 + i * size, 10 + (i + 1) * size)) };
}

// ---- ROWS / COMMIT -----------------------------------------------------------------------------

export interface UploadRows {
  epoch: number;
  op: typeof UPLOAD_ADD | typeof UPLOAD_REMOVE;
  count: number;
  /** n × (16-byte token, big-endian i32 bucket). */
  rows: Uint8Array;
}

export function encodeRows(epoch: number, op: typeof UPLOAD_ADD | typeof UPLOAD_REMOVE, rows: Uint8Array): Uint8Array {
  checkEpoch(epoch);
  const n = rows.length / ROW_BYTES;
  if (!Number.isInteger(n) || n > MAX_ROWS_PER_FRAME) throw new RangeError(`cannot frame ${rows.length} bytes of rows`);
  const out = new Uint8Array(10 + rows.length);
  out[0] = FrameType.Rows;
  view(out).setUint32(1, epoch);
  out[5] = op;
  view(out).setUint32(6, n);
  out.set(rows, 10);
  return out;
}

export function decodeRows(bytes: Uint8Array): UploadRows {
  expectFrame(bytes, FrameType.Rows);
  if (bytes.length < 10) fail('ROWS frame shorter than its header');
  const epoch = view(bytes).getUint32(1);
  const op = bytes[5];
  const count = view(bytes).getUint32(6);
  if (op !== UPLOAD_ADD && op !== UPLOAD_REMOVE) fail(`ROWS frame with unknown operation ${op}`);
  if (count > MAX_ROWS_PER_FRAME) fail(`ROWS frame of ${count} rows exceeds the limit of ${MAX_ROWS_PER_FRAME}`);
  if (bytes.length !== 10 + count * ROW_BYTES) fail(`ROWS frame announces ${count} rows but carries ${bytes.length - 10} bytes`);
  return { epoch, op, count, rows: bytes.subarray(10) };
}

/** Writes row i (token, bucket) into `into`. */
export function putRow(into: Uint8Array, i: number, token: Uint8Array, bucket: number): void {
  into.set(token, i * ROW_BYTES);
  view(into).setInt32(i * ROW_BYTES + TOKEN_BYTES, bucket);
}

export function rowToken(rows: Uint8Array, i: number): Uint8Array {
  return rows.subarray(i * ROW_BYTES, i * ROW_BYTES + TOKEN_BYTES);
}

export function rowBucket(rows: Uint8Array, i: number): number {
  return view(rows).getInt32(i * ROW_BYTES + TOKEN_BYTES);
}

export function encodeCommit(epoch: number, replace: boolean): Uint8Array {
  checkEpoch(epoch);
  const out = new Uint8Array(6);
  out[0] = FrameType.Commit;
  view(out).setUint32(1, epoch);
  out[5] = replace ? 1 : 0;
  return out;
}

export function decodeCommit(bytes: Uint8Array): { epoch: number; replace: boolean } {
  expectFrame(bytes, FrameType.Commit);
  if (bytes.length !== 6 || bytes[5] > 1) fail('malformed COMMIT frame');
  return { epoch: view(bytes).getUint32(1), replace: bytes[5] === 1 };
}

// ---- GROUPS / COUNTS ---------------------------------------------------------------------------

export interface QueryGroups {
  epoch: number;
  /** Tokens, concatenated. */
  tokens: Uint8Array;
  /** Group i is tokens offsets[i] … offsets[i+1] (indices in tokens). */
  offsets: Uint32Array;
}

export function encodeGroups(epoch: number, tokens: Uint8Array, offsets: Uint32Array): Uint8Array {
  checkEpoch(epoch);
  const n = tokens.length / TOKEN_BYTES;
  const g = offsets.length - 1;
  if (!Number.isInteger(n) || n > MAX_QUERY_TOKENS || g < 0 || offsets[g] !== n) throw new RangeError('malformed query groups');
  const out = new Uint8Array(13 + tokens.length + offsets.length * 4);
  out[0] = FrameType.Groups;
  const v = view(out);
  v.setUint32(1, epoch);
  v.setUint32(5, g);
  v.setUint32(9, n);
  out.set(tokens, 13);
  offsets.forEach((o, i) => v.setUint32(13 + tokens.length + i * 4, o));
  return out;
}

export function decodeGroups(bytes: Uint8Array | null): QueryGroups {
  expectFrame(bytes, FrameType.Groups);
  const b = bytes!;
  if (b.length < 13) fail('GROUPS frame shorter than its header');
  const v = view(b);
  const epoch = v.getUint32(1);
  const g = v.getUint32(5);
  const n = v.getUint32(9);
  if (n > MAX_QUERY_TOKENS || g > MAX_QUERY_TOKENS) fail(`GROUPS frame of ${g} groups / ${n} tokens exceeds the limit of ${MAX_QUERY_TOKENS}`);
  const tokenBytes = n * TOKEN_BYTES;
  if (b.length !== 13 + tokenBytes + (g + 1) * 4) fail('GROUPS frame length does not match its header');
  const offsets = new Uint32Array(g + 1);
  let previous = 0;
  for (let i = 0; i <= g; i++) {
    const o = v.getUint32(13 + tokenBytes + i * 4);
    if (o < previous || o > n || (i === 0 && o !== 0)) fail('GROUPS frame offsets are not increasing from 0');
    offsets[i] = o;
    previous = o;
  }
  if (offsets[g] !== n) fail('GROUPS frame offsets do not cover its tokens');
  return { epoch, tokens: b.subarray(13, 13 + tokenBytes), offsets };
}

export function encodeCounts(counts: Uint32Array): Uint8Array {
  const out = new Uint8Array(5 + counts.length * 4);
  out[0] = FrameType.Counts;
  const v = view(out);
  v.setUint32(1, counts.length);
  counts.forEach((c, i) => v.setUint32(5 + i * 4, c));
  return out;
}

export function decodeCounts(bytes: Uint8Array | null, expected: number): Uint32Array {
  expectFrame(bytes, FrameType.Counts);
  const b = bytes!;
  if (b.length < 5) fail('COUNTS frame shorter than its header');
  const n = view(b).getUint32(1);
  if (n !== expected || b.length !== 5 + n * 4) fail(`COUNTS frame for ${n} groups, ${expected} were asked`);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = view(b).getUint32(5 + i * 4);
  return out;
}
