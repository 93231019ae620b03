/**
 * RFC 9497 OPRF, mode 0x00 (base OPRF), ciphersuite ristretto255-SHA512, on libsodium's
 * ristretto255 (WASM, ~0.15–0.25 ms per scalar multiplication here vs ~1 ms for @noble/curves,
 * which is the test oracle: the outputs are byte-for-byte RFC 9497's, checked against noble).
 *
 * Roles in PRIVATE LOOKUP: the owner holds the key k. Its own entries are evaluated directly,
 * F(k, x) = SHA-512(len‖x‖len‖k·H(x)‖"Finalize") (`OprfKey.evaluate`). A requester blinds each
 * key, r·H(x), the owner multiplies by k, the requester unblinds with r⁻¹ and finalises.
 *
 * Reveals: to the owner, nothing about x (r·H(x) is a uniformly random group element) beyond
 * the number of elements; to the requester, F(k, x) for its own inputs only (one evaluation
 * per element it sends, which is why the owner rate-limits evaluations per requester).
 * Cost: requester 2 scalar multiplications + 1 hash-to-group per key; owner 1 scalar
 * multiplication per key (plus 1 hash-to-group per own entry when preprocessing). 32 bytes up,
 * 32 bytes down per key.
 *
 * I/O-free; imports no other layer of the project.
 */
import { createHash, randomBytes } from 'node:crypto';
import sodiumModule from 'libsodium-wrappers-sumo';

export type Sodium = typeof sodiumModule;

export const ELEMENT_BYTES = 32;
export const SCALAR_BYTES = 32;
export const OPRF_OUTPUT_BYTES = 64;

/** `HashToGroup-OPRFV1-\x00-ristretto255-SHA512` (RFC 9497 §4.1, contextString of mode 0x00). */
const HASH_TO_GROUP_DST = new Uint8Array([...Buffer.from('HashToGroup-OPRFV1-'), 0x00, ...Buffer.from('-ristretto255-SHA512')]);
const FINALIZE = Buffer.from('Finalize');

let loaded: Promise<Sodium> | undefined;

/** libsodium, initialised once per thread. */
export function loadSodium(): Promise<Sodium> {
  loaded ??= sodiumModule.ready.then(() => sodiumModule);
  return loaded;
}

/** A source of uniformly random bytes (tests may inject a seeded CSPRNG). */
export type RandomBytes = (n: number) => Uint8Array;
const defaultRandom: RandomBytes = (n) => new Uint8Array(randomBytes(n));

/** RFC 9380 expand_message_xmd with SHA-512 (b = 64, r = 128 bytes). */
export function expandMessageXmdSha512(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  const ell = Math.ceil(lenInBytes / 64);
  if (ell > 255 || dst.length > 255) throw new RangeError('expand_message_xmd: output or DST too long');
  const dstPrime = new Uint8Array([...dst, dst.length]);
  const b0 = createHash('sha512')
    .update(new Uint8Array(128))
    .update(msg)
    .update(new Uint8Array([(lenInBytes >> 8) & 0xff, lenInBytes & 0xff, 0]))
    .update(dstPrime)
    .digest();
  const out = new Uint8Array(ell * 64);
  let prev = createHash('sha512').update(b0).update(new Uint8Array([1])).update(dstPrime).digest();
  out.set(prev, 0);
  for (let i = 2; i <= ell; i++) {
    const mixed = new Uint8Array(64);
    for (let j = 0; j < 64; j++) mixed[j] = b0[j] ^ prev[j];
    prev = createHash('sha512').update(mixed).update(new Uint8Array([i])).update(dstPrime).digest();
    out.set(prev, (i - 1) * 64);
  }
  return out.subarray(0, lenInBytes);
}

/** RFC 9497 HashToGroup for ristretto255: the one-way map of 64 expanded bytes. */
export function hashToGroup(sodium: Sodium, input: Uint8Array): Uint8Array {
  return sodium.crypto_core_ristretto255_from_hash(expandMessageXmdSha512(input, HASH_TO_GROUP_DST, 64));
}

function lengthPrefix(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

/** RFC 9497 Finalize's hash: SHA-512(I2OSP(len(x),2)‖x‖I2OSP(32,2)‖element‖"Finalize"). */
function finalHash(input: Uint8Array, element: Uint8Array): Uint8Array {
  if (input.length > 0xffff) throw new RangeError('OPRF input longer than 65535 bytes');
  return new Uint8Array(
    createHash('sha512').update(lengthPrefix(input.length)).update(input).update(lengthPrefix(element.length)).update(element).update(FINALIZE).digest(),
  );
}

function randomScalar(sodium: Sodium, random: RandomBytes): Uint8Array {
  for (;;) {
    const s = sodium.crypto_core_ristretto255_scalar_reduce(random(64));
    if (s.some((b) => b !== 0)) return s;
  }
}

/** The owner's OPRF key. */
export class OprfKey {
  private constructor(private readonly sodium: Sodium, readonly secret: Uint8Array) {}

  static generate(sodium: Sodium, random: RandomBytes = defaultRandom): OprfKey {
    return new OprfKey(sodium, randomScalar(sodium, random));
  }

  static fromBytes(sodium: Sodium, secret: Uint8Array): OprfKey {
    if (secret.length !== SCALAR_BYTES || secret.every((b) => b === 0)) throw new RangeError('an OPRF key is a non-zero 32-byte scalar');
    return new OprfKey(sodium, new Uint8Array(secret));
  }

  /** F(k, input) computed directly (the owner's own entries). */
  evaluate(input: Uint8Array): Uint8Array {
    return finalHash(input, this.sodium.crypto_scalarmult_ristretto255(this.secret, hashToGroup(this.sodium, input)));
  }

  /**
   * k·B for each 32-byte blinded element in `blinded` (concatenated). Throws on an encoding
   * that is not a valid ristretto255 point (a malformed or hostile request).
   */
  blindEvaluate(blinded: Uint8Array): Uint8Array {
    if (blinded.length % ELEMENT_BYTES !== 0) throw new RangeError(`blinded elements must be ${ELEMENT_BYTES}-byte encodings`);
    const out = new Uint8Array(blinded.length);
    for (let at = 0; at < blinded.length; at += ELEMENT_BYTES) {
      const element = blinded.subarray(at, at + ELEMENT_BYTES);
      if (!this.sodium.crypto_core_ristretto255_is_valid_point(element)) throw new RangeError(`blinded element #${at / ELEMENT_BYTES} is not a valid ristretto255 point`);
      out.set(this.sodium.crypto_scalarmult_ristretto255(this.secret, element), at);
    }
    return out;
  }
}

/** The requester's side for one batch of inputs. */
export class OprfBlinding {
  private readonly blinds: Uint8Array[] = [];
  /** The blinded elements, concatenated: what the owner receives. */
  readonly blinded: Uint8Array;

  constructor(private readonly sodium: Sodium, private readonly inputs: readonly Uint8Array[], random: RandomBytes = defaultRandom) {
    this.blinded = new Uint8Array(inputs.length * ELEMENT_BYTES);
    inputs.forEach((input, i) => {
      const r = randomScalar(sodium, random);
      this.blinds.push(r);
      this.blinded.set(sodium.crypto_scalarmult_ristretto255(r, hashToGroup(sodium, input)), i * ELEMENT_BYTES);
    });
  }

  /** F(k, input_i) for every input, from the owner's evaluated elements (concatenated). */
  finalize(evaluated: Uint8Array): Uint8Array[] {
    if (evaluated.length !== this.blinded.length) {
      throw new RangeError(`expected ${this.inputs.length} evaluated elements, got ${evaluated.length / ELEMENT_BYTES}`);
    }
    return this.inputs.map((input, i) => {
      const element = evaluated.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
      if (!this.sodium.crypto_core_ristretto255_is_valid_point(element)) throw new RangeError(`evaluated element #${i} is not a valid ristretto255 point`);
      const inverse = this.sodium.crypto_core_ristretto255_scalar_invert(this.blinds[i]);
      return finalHash(input, this.sodium.crypto_scalarmult_ristretto255(inverse, element));
    });
  }
}
