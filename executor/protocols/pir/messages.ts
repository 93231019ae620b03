/**
 * Frames of the `private-lookup/1` session, in order:
 *   owner → requester  HELLO   table shape (K, label polynomials, check bytes) and bundle count
 *   requester → owner  OPRF    padded count, rounds, then the blinded elements (32 B each)
 *   owner → requester  EVAL    the evaluated elements (32 B each)
 *   requester → owner  QUERY   per round: K serialized ciphertexts Enc(q^0 … q^(K−1))
 *   owner → requester  RESULT  per round: bundles × label-polynomial ciphertexts
 * Each frame starts with a one-byte tag; lengths are 32-bit big-endian. Decoders check every
 * length against the frame, so a malformed frame is a clean RangeError, never an over-read.
 *
 * Reveals (to anyone who sees the frames, i.e. the two parties): the shape and bundle count
 * (≈ table size), the padded batch size and round count. I/O-free; imports no other layer.
 */
import type { TableShape } from './params.js';

export const TAG_HELLO = 0x48;
export const TAG_OPRF = 0x4f;
export const TAG_EVAL = 0x45;
export const TAG_QUERY = 0x51;
export const TAG_RESULT = 0x52;

export interface Hello {
  shape: TableShape;
  bundles: number;
}

class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  u8(v: number): this {
    return this.bytes(new Uint8Array([v]));
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, false);
    return this.bytes(b);
  }

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  blob(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  done(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

class Reader {
  private at = 0;

  constructor(private readonly frame: Uint8Array, tag: number, what: string) {
    if (frame.length === 0 || frame[0] !== tag) throw new RangeError(`expected a ${what} frame`);
    this.at = 1;
  }

  u32(): number {
    if (this.at + 4 > this.frame.length) throw new RangeError('frame too short');
    const v = new DataView(this.frame.buffer, this.frame.byteOffset + this.at, 4).getUint32(0, false);
    this.at += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.frame.length) throw new RangeError('frame too short');
    const v = this.frame.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  blob(): Uint8Array {
    return this.bytes(this.u32());
  }

  end(): void {
    if (this.at !== this.frame.length) throw new RangeError('trailing bytes in frame');
  }
}

export function encodeHello(h: Hello): Uint8Array {
  return new Writer()
    .u8(TAG_HELLO)
    .u32(h.shape.itemsPerBin)
    .u32(h.shape.labelPolys)
    .u32(h.shape.labelCapacity)
    .u32(h.shape.checkBytes)
    .u32(h.bundles)
    .done();
}

export function decodeHello(frame: Uint8Array): Hello {
  const r = new Reader(frame, TAG_HELLO, 'HELLO');
  const shape: TableShape = { itemsPerBin: r.u32(), labelPolys: r.u32(), labelCapacity: r.u32(), checkBytes: r.u32() };
  const bundles = r.u32();
  r.end();
  return { shape, bundles };
}

export function encodeOprfRequest(rounds: number, blinded: Uint8Array): Uint8Array {
  return new Writer().u8(TAG_OPRF).u32(rounds).blob(blinded).done();
}

export function decodeOprfRequest(frame: Uint8Array): { rounds: number; blinded: Uint8Array } {
  const r = new Reader(frame, TAG_OPRF, 'OPRF');
  const rounds = r.u32();
  const blinded = r.blob();
  r.end();
  return { rounds, blinded };
}

export function encodeOprfResponse(evaluated: Uint8Array): Uint8Array {
  return new Writer().u8(TAG_EVAL).blob(evaluated).done();
}

export function decodeOprfResponse(frame: Uint8Array): Uint8Array {
  const r = new Reader(frame, TAG_EVAL, 'EVAL');
  const v = r.blob();
  r.end();
  return v;
}

export function encodeQuery(round: number, powers: Uint8Array[]): Uint8Array {
  const w = new Writer().u8(TAG_QUERY).u32(round).u32(powers.length);
  for (const p of powers) w.blob(p);
  return w.done();
}

export function decodeQuery(frame: Uint8Array): { round: number; powers: Uint8Array[] } {
  const r = new Reader(frame, TAG_QUERY, 'QUERY');
  const round = r.u32();
  const n = r.u32();
  if (n > 64) throw new RangeError(`a query has at most 64 powers, not ${n}`);
  const powers = Array.from({ length: n }, () => r.blob());
  r.end();
  return { round, powers };
}

/** `results[bundle][ℓ]`; an empty ciphertext means "zero in every slot" (an empty bundle). */
export function encodeResult(round: number, results: Uint8Array[][]): Uint8Array {
  const w = new Writer().u8(TAG_RESULT).u32(round).u32(results.length).u32(results[0]?.length ?? 0);
  for (const perBundle of results) for (const ct of perBundle) w.blob(ct);
  return w.done();
}

export function decodeResult(frame: Uint8Array): { round: number; results: Uint8Array[][] } {
  const r = new Reader(frame, TAG_RESULT, 'RESULT');
  const round = r.u32();
  const bundles = r.u32();
  const polys = r.u32();
  if (bundles > 4096 || polys > 64) throw new RangeError('implausible result dimensions');
  const results = Array.from({ length: bundles }, () => Array.from({ length: polys }, () => r.blob()));
  r.end();
  return { round, results };
}
