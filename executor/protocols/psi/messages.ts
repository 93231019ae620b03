/**
 * The byte frames of a SECURE JOIN session (one FrameChannel, both directions). Every frame is
 * `u8 type ‖ u32 a ‖ u32 b ‖ body`; `a`/`b` are small counters whose meaning depends on the type.
 * Decoding validates sizes against the session's state so a malformed or hostile frame is
 * refused with a `PsiProtocolError` (the operator reports it as SQLSTATE 08P01) before anything
 * is computed on it.
 *
 * Reveals nothing by itself. I/O-free; imports no other layer of the project.
 */
import { ELEMENT_BYTES } from './group-engine.js';
import { TAG_BYTES } from './record-cipher.js';

export class PsiProtocolError extends Error {}

export const enum FrameType {
  /** requester → party: a batch of blinded elements of class `a`; `b` = batch number. */
  Blinded = 1,
  /** requester → party: no more blinded elements; `a` = batches sent, `b` = classes. */
  BlindedEnd = 2,
  /** requester → party (aggregate): masked result ciphertext of group `a`. */
  AggregateResult = 3,
  /** requester → party (aggregate): all results sent; `a` = groups. */
  AggregateResultsEnd = 4,
  /** party → requester: evaluated elements (row mode: batch `b` in order; aggregate: class `a`, shuffled). */
  Evaluated = 17,
  /** party → requester (row mode): `a` = record count, `b` = sealed record length. */
  RecordsBegin = 18,
  /** party → requester (row mode): `a` records of `tag ‖ sealed`. */
  Records = 19,
  /** party → requester: end of the party's data. */
  PartyEnd = 20,
  /** party → requester (aggregate): BFV public key and layout; body = JSON header ‖ key bytes. */
  AggregateSetup = 21,
  /** party → requester (aggregate): tags of block `a` (`b` tags). */
  AggregateTags = 22,
  /** party → requester (aggregate): the value ciphertext of block `a`. */
  AggregateValues = 23,
  /** party → requester (aggregate): decrypted, masked per-group totals (JSON body). */
  AggregateTotals = 24,
}

export interface Frame {
  type: FrameType;
  a: number;
  b: number;
  body: Uint8Array;
}

const HEADER = 9;

export function encodeFrame(type: FrameType, a: number, b: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER + body.byteLength);
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint32(1, a >>> 0, false);
  view.setUint32(5, b >>> 0, false);
  out.set(body, HEADER);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.byteLength < HEADER) throw new PsiProtocolError(`frame of ${bytes.byteLength} bytes is shorter than its ${HEADER}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { type: bytes[0] as FrameType, a: view.getUint32(1, false), b: view.getUint32(5, false), body: bytes.subarray(HEADER) };
}

/** Checks that `body` is a whole number of group elements, at most `max` of them. */
export function elementsOf(frame: Frame, max: number): Uint8Array {
  if (frame.body.byteLength % ELEMENT_BYTES !== 0 || frame.body.byteLength === 0) {
    throw new PsiProtocolError(`a batch of ${frame.body.byteLength} bytes is not a non-empty list of ${ELEMENT_BYTES}-byte elements`);
  }
  if (frame.body.byteLength / ELEMENT_BYTES > max) throw new PsiProtocolError(`a batch of ${frame.body.byteLength / ELEMENT_BYTES} elements exceeds the limit of ${max}`);
  return frame.body;
}

/** Splits a Records frame into (tag, sealed) pairs of the announced sealed length. */
export function recordsOf(frame: Frame, sealedLength: number): { tags: Uint8Array[]; sealed: Uint8Array[] } {
  const size = TAG_BYTES + sealedLength;
  if (frame.body.byteLength !== frame.a * size) {
    throw new PsiProtocolError(`records frame of ${frame.body.byteLength} bytes does not hold ${frame.a} records of ${size} bytes`);
  }
  const tags: Uint8Array[] = [];
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < frame.a; i++) {
    tags.push(frame.body.subarray(i * size, i * size + TAG_BYTES));
    sealed.push(frame.body.subarray(i * size + TAG_BYTES, (i + 1) * size));
  }
  return { tags, sealed };
}

export function expectType(frame: Frame, ...types: FrameType[]): void {
  if (!types.includes(frame.type)) throw new PsiProtocolError(`unexpected frame type ${frame.type} (expected ${types.join(' or ')})`);
}
