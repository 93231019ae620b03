/**
 * The requester's SEAL context for PRIVATE LOOKUP sessions, renewed every
 * `SESSIONS_PER_CONTEXT` sessions. Each session creates a fresh BFV key set; with SEAL's
 * allocation pattern (keys, public key, encryptor, decryptor, then ciphertexts of other sizes)
 * the WASM heap of one instance keeps growing by a few KB per session although every object is
 * freed, and a WASM heap never shrinks. A context on a SEAL instance of its own is dropped once
 * its last session ends, and its whole heap with it, so the process' memory stays flat over any
 * number of lookups. Renewal costs one SEAL load (~30 ms) per `SESSIONS_PER_CONTEXT` sessions,
 * prepared ahead so no session waits for it.
 */
import { BfvContext } from '../../protocols/pir/bfv.js';

/** Sessions served by one context before new sessions move to a fresh one. */
export const SESSIONS_PER_CONTEXT = 256;

interface Generation {
  readonly bfv: BfvContext;
  started: number;
  active: number;
  retired: boolean;
}

let generations = 0;
let current: Promise<Generation> | undefined;
let next: Promise<Generation> | undefined;
const live = new Set<Generation>();

/** A new context; a failed load is forgotten, so the next session tries again. */
function createGeneration(): Promise<Generation> {
  const created = (async () => {
    generations++;
    const g: Generation = { bfv: await BfvContext.create({ ownInstance: true }), started: 0, active: 0, retired: false };
    live.add(g);
    return g;
  })();
  created.catch(() => {
    if (current === created) current = undefined;
    if (next === created) next = undefined;
  });
  return created;
}

function dispose(g: Generation): void {
  live.delete(g);
  g.bfv.delete();
}

/** Moves new sessions to the next context; `g` is freed now if idle, else by its last session. */
function retire(g: Generation): void {
  g.retired = true;
  current = next ?? createGeneration();
  next = undefined;
  if (g.active === 0) dispose(g);
}

/** A context for one session; call `release` when the session's keys are deleted. */
export async function acquireRequesterBfv(): Promise<{ bfv: BfvContext; release: () => void }> {
  let g = await (current ??= createGeneration());
  if (g.started >= SESSIONS_PER_CONTEXT && !g.retired) retire(g);
  while (g.retired) g = await (current ??= createGeneration());
  g.started++;
  g.active++;
  // Load the successor ahead of time, so the session that retires this context does not wait.
  if (g.started === SESSIONS_PER_CONTEXT - 16 && !next) next = createGeneration();
  let released = false;
  return {
    bfv: g.bfv,
    release: () => {
      if (released) return;
      released = true;
      g.active--;
      if (g.retired && g.active === 0) dispose(g);
    },
  };
}

/** Diagnostics and tests: contexts created so far, and those still alive. */
export function requesterBfvStats(): { generation: number; live: number } {
  return { generation: generations, live: live.size };
}
