/**
 * Implementations of `GroupEngine` (see group-engine.ts for the suites and their costs):
 * the two fast engines used in production and the plain @noble/curves one that serves as test
 * oracle and benchmark baseline. All are synchronous batch functions meant to run inside a
 * worker thread (worker-pool.ts); libsodium must be `ready` before `createEngine` returns.
 *
 * Reveals nothing by itself. I/O-free; imports no other layer of the project.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { ed25519, ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import sodiumModule from 'libsodium-wrappers-sumo';
import { ELEMENT_BYTES, type GroupEngine, type PsiSuite } from './group-engine.js';

type Sodium = typeof sodiumModule;

function digest(dst: Uint8Array, message: Uint8Array): Buffer {
  return createHash('sha512').update(dst).update(message).digest();
}

function elementCount(elements: Uint8Array): number {
  if (elements.byteLength % ELEMENT_BYTES !== 0) throw new RangeError(`element batch of ${elements.byteLength} bytes is not a multiple of ${ELEMENT_BYTES}`);
  return elements.byteLength / ELEMENT_BYTES;
}

/** PKCS#8 / SPKI wrappers for raw X25519 keys (RFC 8410), so OpenSSL takes them as KeyObjects. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Curve25519 via Elligator2 hash-to-curve (libsodium) and native X25519 (OpenSSL). */
export class X25519Engine implements GroupEngine {
  readonly suite: PsiSuite = 'x25519-elligator2-sha512';
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly sodium: Sodium) {}

  hashToGroup(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    const Fp = ed25519.Point.Fp;
    const ys: bigint[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      // Elligator2 onto edwards25519 with the cofactor cleared: a prime-order point.
      const point = this.sodium.crypto_core_ed25519_from_hash(digest(dst, messages[i]));
      point[31] &= 0x7f; // drop the sign of x: the Montgomery u-coordinate depends on y only
      ys[i] = Fp.fromBytes(point);
    }
    // u = (1 + y) / (1 − y), with one field inversion per batch (Montgomery's trick, in noble).
    const inverses = Fp.invertBatch(ys.map((y) => Fp.sub(Fp.ONE, y)));
    const out = new Uint8Array(messages.length * ELEMENT_BYTES);
    for (let i = 0; i < messages.length; i++) out.set(Fp.toBytes(Fp.mul(Fp.add(Fp.ONE, ys[i]), inverses[i])), i * ELEMENT_BYTES);
    return out;
  }

  multiply(elements: Uint8Array, scalar: Uint8Array): Uint8Array {
    const n = elementCount(elements);
    const privateKey = this.privateKey(scalar);
    const out = new Uint8Array(elements.byteLength);
    for (let i = 0; i < n; i++) {
      const u = elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(u).toString('base64url') }, format: 'jwk' });
      // OpenSSL refuses small-order inputs (all-zero result): a peer's malformed element.
      out.set(diffieHellman({ privateKey, publicKey }), i * ELEMENT_BYTES);
    }
    return out;
  }

  private privateKey(scalar: Uint8Array): KeyObject {
    const id = Buffer.from(scalar).toString('base64');
    let key = this.keys.get(id);
    if (!key) {
      key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]), format: 'der', type: 'pkcs8' });
      // A session uses two or three scalars; keep only the latest few.
      if (this.keys.size > 8) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
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
  const sodium = await loadSodium();
  return suite === 'x25519-elligator2-sha512' ? new X25519Engine(sodium) : new SodiumRistrettoEngine(sodium);
}
