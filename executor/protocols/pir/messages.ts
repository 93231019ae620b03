/**
 * Frames of the `private-lookup/3` session, in order:
 *   requester → owner  OPRF    geometry (single/cuckoo), announced query units, then the
 *                              blinded elements (32 B each, padded to the batch bucket)
 *   owner → requester  HELLO   the shape of the table in that geometry (K, label polynomials,
 *                              check bytes) and its bundle count
 *   owner → requester  EVAL    the evaluated elements (32 B each)
 *   requester → owner  QUERY   per unit: unit number, block, K ciphertexts Enc(q^0 … q^(K−1));
 *                              the requester ends its side after the last
 *   owner → requester  RESULT  per unit, in slices of bundles: (bundle, ℓ) ciphertexts
 * Ciphertexts travel in the wire form of ct-wire.ts (version 3: uncompressed, 6 bytes per
 * coefficient; version 2 used SEAL's zstd mode).
 * The requester speaks first so the owner knows the geometry before it describes (and, for a
 * first cuckoo batch, builds) the encoding: two round trips per session.
 * Each frame starts with a one-byte tag; lengths are 32-bit big-endian. Decoders check every
 * length against the frame, so a malformed frame is a clean RangeError, never an over-read.
 *
 * Reveals (to anyone who sees the frames, i.e. the two parties): the shape and bundle count
 * (≈ table size), the padded batch size, the geometry and unit count that follow from it.
 * I/O-free; imports no other layer.
 */
import type { Geometry, TableShape } from './params.js';

export const TAG_HELLO = 0x48;
export const TAG_OPRF = 0x4f;
export const TAG_EVAL = 0x45;
export const TAG_QUERY = 0x51;
export const TAG_RESULT = 0x52;

export interface Hello {
  geometry: Geometry;
  shape: TableShape;
  bundles: number;
}

export interface OprfRequest {
  geometry: Geometry;
  units: number;
  blinded: Uint8Array;
}

const GEOMETRY_CODES: Record<Geometry, number> = { single: 1, cuckoo: 3 };

function geometryOf(code: number): Geometry {
  if (code === 1) return 'single';
  if (code === 3) return 'cuckoo';
  throw new RangeError(`unknown geometry ${code}`);
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

  u8(): number {
    if (this.at + 1 > this.frame.length) throw new RangeError('frame too short');
    return this.frame[this.at++];
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
    .u8(GEOMETRY_CODES[h.geometry])
    .u32(h.shape.itemsPerBin)
    .u32(h.shape.labelPolys)
    .u32(h.shape.labelCapacity)
    .u32(h.shape.checkBytes)
    .u32(h.bundles)
    .done();
}

export function decodeHello(frame: Uint8Array): Hello {
  const r = new Reader(frame, TAG_HELLO, 'HELLO');
  const geometry = geometryOf(r.u8());
  const shape: TableShape = { itemsPerBin: r.u32(), labelPolys: r.u32(), labelCapacity: r.u32(), checkBytes: r.u32() };
  const bundles = r.u32();
  r.end();
  return { geometry, shape, bundles };
}

export function encodeOprfRequest(request: OprfRequest): Uint8Array {
  return new Writer().u8(TAG_OPRF).u8(GEOMETRY_CODES[request.geometry]).u32(request.units).blob(request.blinded).done();
}

export function decodeOprfRequest(frame: Uint8Array): OprfRequest {
  const r = new Reader(frame, TAG_OPRF, 'OPRF');
  const geometry = geometryOf(r.u8());
  const units = r.u32();
  const blinded = r.blob();
  r.end();
  return { geometry, units, blinded };
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

export interface QueryFrame {
  unit: number;
  block: number;
  powers: Uint8Array[];
}

export function encodeQuery(q: QueryFrame): Uint8Array {
  const w = new Writer().u8(TAG_QUERY).u32(q.unit).u32(q.block).u32(q.powers.length);
  for (const p of q.powers) w.blob(p);
  return w.done();
}

export function decodeQuery(frame: Uint8Array): QueryFrame {
  const r = new Reader(frame, TAG_QUERY, 'QUERY');
  const unit = r.u32();
  const block = r.u32();
  const n = r.u32();
  if (n > 256) throw new RangeError(`a query has at most 256 powers, not ${n}`);
  const powers = Array.from({ length: n }, () => r.blob());
  r.end();
  return { unit, block, powers };
}

export interface ResultFrame {
  unit: number;
  /** First bundle in this slice. */
  firstBundle: number;
  /** `results[i][ℓ]` for bundle firstBundle + i; an empty ciphertext means "zero in every slot". */
  results: Uint8Array[][];
}

export function encodeResult(f: ResultFrame): Uint8Array {
  const w = new Writer().u8(TAG_RESULT).u32(f.unit).u32(f.firstBundle).u32(f.results.length).u32(f.results[0]?.length ?? 0);
  for (const perBundle of f.results) for (const ct of perBundle) w.blob(ct);
  return w.done();
}

export function decodeResult(frame: Uint8Array): ResultFrame {
  const r = new Reader(frame, TAG_RESULT, 'RESULT');
  const unit = r.u32();
  const firstBundle = r.u32();
  const bundles = r.u32();
  const polys = r.u32();
  if (bundles > 4096 || polys > 64) throw new RangeError('implausible result dimensions');
  const results = Array.from({ length: bundles }, () => Array.from({ length: polys }, () => r.blob()));
  r.end();
  return { unit, firstBundle, results };
}
