/**
 * Worker-thread entry of the PSI pool (worker-pool.ts): runs group-engine batches off the main
 * thread. One engine per (suite, kind) per thread; libsodium's WASM is instantiated once.
 *
 * Reveals nothing (computes on what the pool hands it). I/O-free; imports no other layer.
 */
import { parentPort } from 'node:worker_threads';
import { createEngine, type EngineKind } from './engines.js';
import type { GroupEngine, PsiSuite } from './group-engine.js';
import type { PsiTask, PsiTaskReply } from './worker-pool.js';

const engines = new Map<string, Promise<GroupEngine>>();

function engine(suite: PsiSuite, kind: EngineKind): Promise<GroupEngine> {
  const id = `${suite}/${kind}`;
  let e = engines.get(id);
  if (!e) {
    e = createEngine(suite, kind);
    engines.set(id, e);
  }
  return e;
}

function split(bytes: Uint8Array, offsets: Uint32Array): Uint8Array[] {
  const out: Uint8Array[] = new Array(offsets.length - 1);
  for (let i = 0; i + 1 < offsets.length; i++) out[i] = bytes.subarray(offsets[i], offsets[i + 1]);
  return out;
}

async function run(task: PsiTask): Promise<Uint8Array> {
  const e = await engine(task.suite, task.kind);
  switch (task.op) {
    case 'hash':
      return e.hashToGroup(split(task.messages, task.offsets), task.dst);
    case 'hash_multiply':
      return e.multiply(e.hashToGroup(split(task.messages, task.offsets), task.dst), task.scalar);
    case 'multiply':
      return e.multiply(task.elements, task.scalar);
  }
}

parentPort!.on('message', (task: PsiTask) => {
  run(task).then(
    (result) => {
      const reply: PsiTaskReply = { id: task.id, result };
      parentPort!.postMessage(reply, [result.buffer as ArrayBuffer]);
    },
    (e: unknown) => {
      const reply: PsiTaskReply = { id: task.id, error: e instanceof Error ? e.message : String(e) };
      parentPort!.postMessage(reply);
    },
  );
});
