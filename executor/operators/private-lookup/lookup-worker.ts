/**
 * One PRIVATE LOOKUP worker thread: its own libsodium and SEAL instances (SEAL's WASM is
 * single-threaded; both cores are used by running one worker per core). It evaluates the
 * owner's OPRF over its own entries in bulk, interpolates and holds a shard of every table's
 * cells (one block of one bundle) as NTT plaintexts, and evaluates queries against that shard. Messages carry bytes only.
 */
import { parentPort } from 'node:worker_threads';
import { BfvContext, BundleEvaluator } from '../../protocols/pir/bfv.js';
import { describeSealError } from '../../protocols/seal/node-seal.js';
import { loadSodium, OprfKey } from '../../protocols/pir/oprf.js';
import type { WorkerReply, WorkerRequest } from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('lookup-worker must run as a worker thread');

const ready = (async () => {
  const [sodium, bfv] = await Promise.all([loadSodium(), BfvContext.create()]);
  return { sodium, evaluator: new BundleEvaluator(bfv) };
})();

port.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const { sodium, evaluator } = await ready;
    switch (request.op) {
      case 'oprf': {
        const key = OprfKey.fromBytes(sodium, request.key);
        const outputs = request.inputs.map((input) => key.evaluate(input));
        for (const o of outputs) transfer.push(o.buffer as ArrayBuffer);
        reply = { id: request.id, ok: true, outputs };
        break;
      }
      case 'loadCell':
        evaluator.loadCell(request.key, request.cell);
        reply = { id: request.id, ok: true };
        break;
      case 'drop':
        evaluator.dropPrefix(request.prefix);
        reply = { id: request.id, ok: true };
        break;
      case 'eval': {
        const results = evaluator.evaluate(request.query, request.keys);
        for (const perBundle of results) for (const r of perBundle) transfer.push(r.buffer as ArrayBuffer);
        reply = { id: request.id, ok: true, results };
        break;
      }
      case 'memory':
        {
          // heapUsed and external are this thread's isolate (rss would be the whole process').
          const { heapUsed, external } = process.memoryUsage();
          reply = { id: request.id, ok: true, memory: { heapUsed, external } };
        }
        break;
    }
  } catch (e) {
    reply = { id: request.id, ok: false, error: describeSealError(e) };
  }
  // Transfer only buffers we own outright (fresh copies), never views into WASM memory.
  port.postMessage(reply, transfer.filter((b, i) => transfer.indexOf(b) === i));
});
