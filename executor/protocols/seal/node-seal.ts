/**
 * Our one door to node-seal 6.0.3 (Microsoft SEAL 4.1 compiled to WASM, single-threaded): the
 * library loaded once per thread — PRIVATE LOOKUP and PSI-sum share one WASM instance, one heap —
 * readable SEAL errors, and a workaround for a leak in node-seal's key-generator wrapper.
 *
 * I/O-free; imports no other layer of the project.
 */
import SEAL from 'node-seal/throws_wasm_node_umd.js';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';

let library: Promise<SEALLibrary> | undefined;

/** node-seal, loaded once per thread (~100 ms: the WASM is inlined in the package). */
export function loadSeal(): Promise<SEALLibrary> {
  library ??= loadSealInstance();
  return library;
}

/**
 * A SEAL instance of its own: its own WASM memory (~20 MB to start), freed by the garbage
 * collector once nothing references the instance or an object of it. ~30 ms.
 */
export function loadSealInstance(): Promise<SEALLibrary> {
  return (SEAL as unknown as () => Promise<SEALLibrary>)();
}

/** SEAL's WASM exceptions are numbers or objects without a message; make them readable. */
export function describeSealError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'number' ? `SEAL exception ${e}` : String(e);
}

/**
 * The generator's secret key as an object the caller owns (and deletes). node-seal 6.0.3's
 * `KeyGenerator.secretKey()` copies the key SEAL returns by value into a new wrapper and never
 * deletes the returned embind object: the key's polynomial (16 KB at n = 2048, 64 KB at 8192) is
 * lost in the WASM heap, which never shrinks, at every call. With a fresh key per session that
 * made RSS grow ~21 KB per PRIVATE LOOKUP. Here the embind call is made directly and its result
 * deleted after the copy (test/private-lookup/seal-memory.test.ts).
 */
export function ownedSecretKey(seal: SEALLibrary, keygen: KeyGenerator): SecretKey {
  const returned = (keygen.instance as { secretKey(): { delete(): void } }).secretKey();
  const secret = seal.SecretKey();
  try {
    secret.inject(returned);
    return secret;
  } catch (e) {
    secret.delete();
    throw e;
  } finally {
    returned.delete();
  }
}
