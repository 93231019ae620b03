/**
 * The requester creates a fresh BFV secret key for every lookup session. node-seal 6.0.3's
 * `KeyGenerator.secretKey()` loses the SecretKey that SEAL returns by value (~22 KB of WASM heap
 * per call); before the workaround (`ownedSecretKey` in executor/protocols/seal/node-seal.ts) that made a process's RSS grow by
 * ~21 KB per lookup (1.36× over 10,000 lookups in bench/private-lookup). WebAssembly memory is
 * reported in V8's `external` memory and never shrinks, so growth there is a leak.
 */
import { describe, expect, it } from 'vitest';
import { BfvContext, QueryKeys } from '../../executor/protocols/pir/bfv.js';
import { memoryAfterGc } from '../support/memory.js';

const SESSIONS = 3000;
const MB = 1e6;

function externalAfterGc(): number {
  return memoryAfterGc().external;
}

describe('SEAL memory of the requester', () => {
  it(`${SESSIONS} sessions' keys (generate, encrypt, decrypt, delete) leave the WASM heap where it was`, async () => {
    const bfv = await BfvContext.create();
    const values = new Uint32Array(2048).fill(7);
    const session = () => {
      const keys = new QueryKeys(bfv);
      try {
        expect(keys.decrypt(keys.encrypt(values))[0]).toBe(7);
      } finally {
        keys.delete();
      }
    };
    for (let i = 0; i < 200; i++) session();
    const before = externalAfterGc();
    for (let i = 0; i < SESSIONS; i++) session();
    const grown = (externalAfterGc() - before) / MB;
    expect(grown).toBeLessThan(8);

    // Negative control: node-seal's own secretKey() leaks, and this measurement sees it.
    const seal = bfv.seal;
    const start = externalAfterGc();
    for (let i = 0; i < SESSIONS; i++) {
      const keygen = seal.KeyGenerator(bfv.context);
      keygen.secretKey().delete();
      keygen.delete();
    }
    const leaked = (externalAfterGc() - start) / MB;
    expect(leaked).toBeGreaterThan(20);
    bfv.delete();
  }, 120_000);
});
