/**
 * Implementations of `GroupEngine` (see group-engine.ts for the suites and their costs):
 * the two fast engines used in production and the plain @noble/curves one that serves as test
 * oracle and benchmark baseline. All are synchronous batch functions meant to run inside a
 * worker thread (worker-pool.ts); libsodium must be `ready` before `createEngine` returns.
 *
 * Reveals nothing by itself. I/O-free; imports no other layer of the project.
 */
import { createHash } from 'node:crypto';
import { ed25519, ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import sodiumModule from 'libsodium-wrappers-sumo';
import { ELEMENT_BYTES, type GroupEngine, type PsiSuite } from './group-engine.js';
import { nativeSodium } from './native-sodium.js';

type Sodium = typeof sodiumModule;

function digest(dst: Uint8Array, message: Uint8Array): Buffer {
  return createHash('sha512').update(dst).update(message).digest();
}

function elementCount(elements: Uint8Array): number {
  if (elements.byteLength % ELEMENT_BYTES !== 0) throw new RangeError(`element batch of ${elements.byteLength} bytes is not a multiple of ${ELEMENT_BYTES}`);
  return elements.byteLength / ELEMENT_BYTES;
}

const MASK64 = (1n << 64n) - 1n;

/** A little-endian 32-byte field element as a BigInt (four 64-bit reads instead of a hex detour). */
function readLE256(bytes: Uint8Array, at: number): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 32);
  return v.getBigUint64(0, true) | (v.getBigUint64(8, true) << 64n) | (v.getBigUint64(16, true) << 128n) | (v.getBigUint64(24, true) << 192n);
}

function writeLE256(n: bigint, out: Uint8Array, at: number): void {
  const v = new DataView(out.buffer, out.byteOffset + at, 32);
  v.setBigUint64(0, n & MASK64, true);
  v.setBigUint64(8, (n >> 64n) & MASK64, true);
  v.setBigUint64(16, (n >> 128n) & MASK64, true);
  v.setBigUint64(24, n >> 192n, true);
}

/**
 * Curve25519 with native libsodium (sodium-native): SHA-512 → Elligator2 (`from_uniform`,
 * cofactor cleared) → Montgomery u → X25519. The map is an RFC 9380-style *nonuniform*
 * encoding (one Elligator2 map of a 255-bit hash output; roughly half of the group is in its
 * image). That is enough for DH-PSI/2HashDH: the map is efficiently invertible on its image,
 * so a simulator can still program H(x) to points of known discrete logarithm, and nobody —
 * the parties included — knows the logarithm of one H(x) to another.
 */
export class X25519Engine implements GroupEngine {
  readonly suite: PsiSuite = 'x25519-ell2nu-sha512';
  private readonly sodium = nativeSodium();
  private readonly digestBuffer = new Uint8Array(64);
  private scratch = new Uint8Array(256);

  hashToGroup(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    const Fp = ed25519.Point.Fp;
    const n = messages.length;
    const points = new Uint8Array(n * ELEMENT_BYTES);
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      const length = dst.byteLength + m.byteLength;
      if (length > this.scratch.byteLength) this.scratch = new Uint8Array(Math.max(length, this.scratch.byteLength * 2));
      this.scratch.set(dst, 0);
      this.scratch.set(m, dst.byteLength);
      this.sodium.crypto_hash_sha512(this.digestBuffer, this.scratch.subarray(0, length));
      // The first 255 bits are the field element; bit 255 only picks the sign of x, which the
      // Montgomery u-coordinate does not depend on.
      this.sodium.crypto_core_ed25519_from_uniform(points.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), this.digestBuffer.subarray(0, 32));
    }
    // u = (1 + y) / (1 − y) (RFC 7748 §4.1) in noble's field, one inversion per batch
    // (Montgomery's trick). y ≠ 1: the identity is not an Elligator2 output after cofactor
    // clearing except with probability ~2^-250, and would give u = 0, which X25519 refuses.
    const ys: bigint[] = new Array(n);
    const denominators: bigint[] = new Array(n);
    for (let i = 0; i < n; i++) {
      points[i * ELEMENT_BYTES + 31] &= 0x7f; // drop the sign bit of x: y alone
      ys[i] = readLE256(points, i * ELEMENT_BYTES);
      denominators[i] = Fp.sub(Fp.ONE, ys[i]);
    }
    const inverses = Fp.invertBatch(denominators);
    const out = new Uint8Array(n * ELEMENT_BYTES);
    for (let i = 0; i < n; i++) writeLE256(Fp.mul(Fp.add(Fp.ONE, ys[i]), inverses[i]), out, i * ELEMENT_BYTES);
    return out;
  }

  multiply(elements: Uint8Array, scalar: Uint8Array): Uint8Array {
    const n = elementCount(elements);
    const out = new Uint8Array(elements.byteLength);
    for (let i = 0; i < n; i++) {
      // Throws on an all-zero result (a small-order input): a peer's malformed element.
      this.sodium.crypto_scalarmult(out.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), scalar, elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
    }
    return out;
  }
}

/** ristretto255 via libsodium (WASM). */
export class SodiumRistrettoEngine implements GroupEngine {
  readonly suite: PsiSuite = 'ristretto255-sha512';

  constructor(private readonly sodium: Sodium) {}

  hashToGroup(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    const out = new Uint8Array(messages.length * ELEMENT_BYTES);
    for (let i = 0; i < messages.length; i++) out.set(this.sodium.crypto_core_ristretto255_from_hash(digest(dst, messages[i])), i * ELEMENT_BYTES);
    return out;
  }

  multiply(elements: Uint8Array, scalar: Uint8Array): Uint8Array {
    const n = elementCount(elements);
    const out = new Uint8Array(elements.byteLength);
    for (let i = 0; i < n; i++) {
      // Throws on a non-canonical encoding or the identity: a peer's malformed element.
      out.set(this.sodium.crypto_scalarmult_ristretto255(scalar, elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)), i * ELEMENT_BYTES);
    }
    return out;
  }
}

/** ristretto255 in plain @noble/curves: the reference the fast engines are tested against. */
export class NobleRistrettoEngine implements GroupEngine {
  readonly suite: PsiSuite = 'ristretto255-sha512';

  hashToGroup(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    const out = new Uint8Array(messages.length * ELEMENT_BYTES);
    for (let i = 0; i < messages.length; i++) out.set(ristretto255_hasher.deriveToCurve!(digest(dst, messages[i])).toBytes(), i * ELEMENT_BYTES);
    return out;
  }

  multiply(elements: Uint8Array, scalar: Uint8Array): Uint8Array {
    const n = elementCount(elements);
    const k = ristretto255.Point.Fn.fromBytes(scalar);
    const out = new Uint8Array(elements.byteLength);
    for (let i = 0; i < n; i++) {
      const p = ristretto255.Point.fromBytes(elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES));
      out.set(p.multiply(k).toBytes(), i * ELEMENT_BYTES);
    }
    return out;
  }
}

let sodiumReady: Promise<Sodium> | undefined;

/** libsodium, initialised once per thread. */
export function loadSodium(): Promise<Sodium> {
  sodiumReady ??= sodiumModule.ready.then(() => sodiumModule);
  return sodiumReady;
}

export type EngineKind = 'fast' | 'reference';

/** The engine for `suite`: the fast one, or the noble reference (ristretto255 only). */
export async function createEngine(suite: PsiSuite, kind: EngineKind = 'fast'): Promise<GroupEngine> {
  if (kind === 'reference') {
    if (suite !== 'ristretto255-sha512') throw new RangeError(`no reference engine for ${suite}`);
    return new NobleRistrettoEngine();
  }
  if (suite === 'x25519-ell2nu-sha512') return new X25519Engine();
  return new SodiumRistrettoEngine(await loadSodium());
}
