/**
 * In-process test hooks of the DP aggregate operator: a seeded CSPRNG per (party, query) so the
 * statistical tests are deterministic in CI, and the negative controls the acceptance tests must
 * see FAIL (doubled ε, bounding disabled, a float sampler, a dropped noise share).
 *
 * Hooks are module state of this process only: nothing on the wire can set them, so a requester
 * can never switch a party's mechanism off. Production code never calls `setDpTestHooks`.
 */
import { cryptoRandomSource, deriveSeed, seededRandomSource, type RandomSource } from '../../protocols/dp/random.js';

export interface DpTestHooks {
  /** Seed of the per-(party, query, purpose) ChaCha20 streams; absent: the OS CSPRNG. */
  seed?: string;
  /** Negative control: this party adds no noise share. */
  dropShareOf?: string;
  /** Negative control: parties skip contribution bounding (while still claiming it). */
  disableBounding?: boolean;
  /** Negative control: noise calibrated for ε × factor while the query still claims ε. */
  epsilonFactor?: number;
  /**
   * Negative control: contributors add no shares and the requester releases each COUNT/SUM value
   * as `replaceRelease(exact total)`, typed DOUBLE (e.g. a floating-point Laplace sampler).
   */
  replaceRelease?: (exact: number) => number;
}

let hooks: DpTestHooks = {};
const counters = new Map<string, number>();

export function setDpTestHooks(h: DpTestHooks | undefined): void {
  hooks = h ?? {};
  counters.clear();
}

export function dpTestHooks(): Readonly<DpTestHooks> {
  return hooks;
}

/**
 * The random source of one mechanism instance. Seeded runs number the queries each party sees,
 * so a test's n-th query draws the same noise every time (query ids are random UUIDs).
 */
export function randomFor(party: string, purpose: string): RandomSource {
  if (hooks.seed === undefined) return cryptoRandomSource();
  const key = `${party}/${purpose}`;
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  return seededRandomSource(deriveSeed(hooks.seed, party, purpose, n));
}
