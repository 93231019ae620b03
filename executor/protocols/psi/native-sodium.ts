/**
 * libsodium as a native addon (`sodium-native`, prebuilt for linux-x64 inside the npm package),
 * typed down to the few functions SECURE JOIN's bulk path calls. Why not the WASM build we
 * already use elsewhere: measured on this 2-core box (bench/secure-join prints the figures of
 * each run), the native Elligator2 map is ~4× faster than libsodium-wrappers' and native
 * X25519 is ~1.4× faster than Node's OpenSSL X25519 once the per-call KeyObject (JWK import)
 * that Node's API forces is counted; SHA-512 and ChaCha20 calls cost ~1 µs instead of the
 * 3–5 µs of a `createHash`/`createCipheriv` object per record.
 *
 * Every function writes into caller-provided buffers and throws on libsodium's error returns.
 * Reveals nothing. I/O-free; imports no other layer of the project.
 */
import { createRequire } from 'node:module';

/** The subset of sodium-native we use (its own package ships no TypeScript types). */
export interface NativeSodium {
  /** Elligator2 onto edwards25519, cofactor cleared: a point of the prime-order subgroup. */
  crypto_core_ed25519_from_uniform(point: Uint8Array, r: Uint8Array): void;
  /** X25519 (RFC 7748): clamps the scalar; throws when the result is all-zero (small-order input). */
  crypto_scalarmult(out: Uint8Array, scalar: Uint8Array, u: Uint8Array): void;
  crypto_hash_sha512(out: Uint8Array, message: Uint8Array): void;
  /** IETF ChaCha20 (96-bit nonce, 32-bit counter from 0), XORed onto `message`. */
  crypto_stream_chacha20_ietf_xor(out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /** BLAKE2b, keyed when `key` is given. */
  crypto_generichash(out: Uint8Array, message: Uint8Array, key?: Uint8Array): void;
}

let loaded: NativeSodium | undefined;

/** The addon, loaded once per thread (it is context-aware, so worker threads load it too). */
export function nativeSodium(): NativeSodium {
  loaded ??= createRequire(import.meta.url)('sodium-native') as NativeSodium;
  return loaded;
}
