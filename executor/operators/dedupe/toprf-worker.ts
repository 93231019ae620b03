/**
 * Worker-thread entry of the dedupe's threshold-OPRF pool (toprf-pool.ts): runs batches of
 * blinding, share evaluation and token finalisation off the main thread, each with its own
 * libsodium instance. Pure computation on what the pool hands it.
 */
import { parentPort } from 'node:worker_threads';
import { loadSodium } from '../../protocols/pir/oprf.js';
import { blindInputs, evaluateBlinded, finalizeTokens } from '../../protocols/toprf/threshold-oprf.js';
import { splitPacked, type ToprfTask, type ToprfTaskReply } from './toprf-pool.js';

async function run(task: ToprfTask): Promise<Uint8Array[]> {
  const sodium = await loadSodium();
  switch (task.op) {
    case 'evaluate':
      return [evaluateBlinded(sodium, task.scalar, task.elements)];
    case 'blind': {
      const b = blindInputs(sodium, splitPacked(task.inputs, task.offsets));
      return [b.blinded, b.unblinds];
    }
    case 'finalize':
      return [finalizeTokens(sodium, splitPacked(task.inputs, task.offsets), task.unblinds, task.answers)];
  }
}

parentPort!.on('message', (task: ToprfTask) => {
  run(task).then(
    (result) => {
      const reply: ToprfTaskReply = { id: task.id, result };
      parentPort!.postMessage(reply, result.map((r) => r.buffer as ArrayBuffer));
    },
    (e: unknown) => {
      const reply: ToprfTaskReply = { id: task.id, error: e instanceof Error ? e.message : String(e) };
      parentPort!.postMessage(reply);
    },
  );
});
