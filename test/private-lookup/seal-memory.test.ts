/**
 * The requester creates a fresh BFV secret key for every lookup session. node-seal 6.0.3's
 * `KeyGenerator.secretKey()` loses the SecretKey that SEAL returns by value (~22 KB of WASM heap
 * per call); before the workaround (`ownedSecretKey` in executor/protocols/seal/node-seal.ts) that made a process's RSS grow by
 * ~21 KB per lookup (1.36× over 10,000 lookups in bench/private-lookup). WebAssembly memory is
 * reported in V8's `external` memory and never shrinks, so growth there is a leak. What SEAL's
 * allocation pattern still adds per session is bounded by renewing the requester's SEAL instance
 * (requester-bfv.ts), tested last.
 */
import { describe, expect, it } from 'vitest';
import { BfvContext, QueryKeys } from '../../executor/protocols/pir/bfv.js';
import { acquireRequesterBfv, requesterBfvStats, SESSIONS_PER_CONTEXT } from '../../executor/operators/private-lookup/requester-bfv.js';
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

describe('the requester context is renewed', () => {
  it(`every ${SESSIONS_PER_CONTEXT} sessions, and a retired context is freed when its last session ends`, async () => {
    const start = requesterBfvStats().generation;
    const held = await acquireRequesterBfv(); // a session that outlives the renewal
    const first = held.bfv;
    const seen = new Set<BfvContext>([first]);
    for (let i = 0; i < SESSIONS_PER_CONTEXT + 5; i++) {
      const s = await acquireRequesterBfv();
      seen.add(s.bfv);
      const keys = new QueryKeys(s.bfv);
      expect(keys.decrypt(keys.encrypt(new Uint32Array(2048).fill(i % 65537)))[0]).toBe(i % 65537);
      keys.delete();
      s.release();
    }
    expect(seen.size).toBe(2);
    expect(requesterBfvStats().generation - start).toBe(2);
    // The first context is retired but still in use by `held`: it stays usable until released.
    const keys = new QueryKeys(first);
    expect(keys.decrypt(keys.encrypt(new Uint32Array(2048).fill(5)))[0]).toBe(5);
    keys.delete();
    const liveBefore = requesterBfvStats().live;
    held.release();
    held.release(); // idempotent
    expect(requesterBfvStats().live).toBe(liveBefore - 1);
  }, 120_000);
});
