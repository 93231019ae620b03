/**
 * The process-wide pool of PRIVATE LOOKUP worker threads (one per core, two on the dev box).
 * Cells (one block of one bundle of one geometry) are sharded across workers by bundle (every
 * cell of bundle i of a table lives on worker i mod W), so a query unit, which reads one block of
 * every bundle, is evaluated by all workers at once; bulk OPRF evaluation is split the same way. Workers are
 * unref'd: they never keep a process alive.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cpuBudget } from '../../../connectors/cpu-budget.js';
import type { CellData } from '../../protocols/pir/cell-polynomials.js';
import type { Geometry } from '../../protocols/pir/params.js';
import type { WorkerMemory, WorkerReply, WorkerRequest } from './worker-messages.js';

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };

/** Distributes an Omit over each member of a union. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return fileURLToPath(new URL('./lookup-worker.js', import.meta.url));
  // Running from TypeScript sources (vitest): use the compiled worker; `npm test` builds first.
  return here.replace(/[\\/]executor[\\/]operators[\\/]private-lookup[\\/][^\\/]+\.ts$/, '/dist/executor/operators/private-lookup/lookup-worker.js');
}

class LookupWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(workerPath());
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply);
      else p.reject(new Error(reply.error));
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`PRIVATE LOOKUP worker exited with code ${code}`)));
  }

  get dead(): boolean {
    return this.failure !== undefined;
  }

  call(request: RequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The pending request keeps the worker referenced so the process waits for the answer.
      this.worker.ref();
      const done = () => {
        if (this.pending.size === 0) this.worker.unref();
      };
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class LookupWorkerPool {
  private readonly workers: LookupWorker[];

  constructor(size = Math.max(1, Math.min(2, cpuBudget()))) {
    this.workers = Array.from({ length: size }, () => new LookupWorker());
  }

  get size(): number {
    return this.workers.length;
  }

  /** The worker that holds bundle `bundle` of a table. */
  private holder(bundle: number): LookupWorker {
    return this.workers[bundle % this.workers.length];
  }

  /** F(k, x) for every input, split across the workers. */
  async evaluateOprf(key: Uint8Array, inputs: Uint8Array[]): Promise<Uint8Array[]> {
    if (inputs.length === 0) return [];
    const per = Math.ceil(inputs.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((w, i) => {
        const slice = inputs.slice(i * per, (i + 1) * per);
        return slice.length ? w.call({ op: 'oprf', key, inputs: slice }).then((r) => r.outputs!) : Promise.resolve([]);
      }),
    );
    return parts.flat();
  }

  /** Interpolates and loads one cell on the worker that holds its bundle (the cell's arrays are transferred). */
  async loadCell(table: string, geometry: Geometry, bundle: number, block: number, cell: CellData): Promise<void> {
    await this.holder(bundle).call(
      { op: 'loadCell', key: cellKey(table, geometry, bundle, block), cell },
      [cell.items.buffer as ArrayBuffer, cell.labels.buffer as ArrayBuffer],
    );
  }

  /** Drops every cell of a table (all geometries), or of one geometry. */
  async dropTable(table: string, geometry?: Geometry): Promise<void> {
    const prefix = geometry ? `${table}|${geometry}#` : `${table}|`;
    await Promise.all(this.workers.map((w) => w.call({ op: 'drop', prefix })));
  }

  /** Evaluates one query unit against block `block` of `bundles` bundles; results in bundle order. */
  async evaluate(table: string, geometry: Geometry, bundles: number, block: number, query: Uint8Array[]): Promise<Uint8Array[][]> {
    const byWorker = new Map<LookupWorker, number[]>();
    for (let b = 0; b < bundles; b++) {
      const w = this.holder(b);
      if (!byWorker.has(w)) byWorker.set(w, []);
      byWorker.get(w)!.push(b);
    }
    const out: Uint8Array[][] = new Array(bundles);
    await Promise.all(
      [...byWorker].map(async ([w, list]) => {
        const reply = await w.call({ op: 'eval', query, keys: list.map((b) => cellKey(table, geometry, b, block)) });
        list.forEach((b, i) => {
          out[b] = reply.results![i];
        });
      }),
    );
    return out;
  }

  /** Each worker thread's own memory (diagnostics and leak tests; the process RSS includes them). */
  async memory(): Promise<WorkerMemory[]> {
    return Promise.all(this.workers.map(async (w) => (await w.call({ op: 'memory' })).memory!));
  }

  get healthy(): boolean {
    return this.workers.every((w) => !w.dead);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function cellKey(table: string, geometry: Geometry, bundle: number, block: number): string {
  return `${table}|${geometry}#${bundle}.${block}`;
}

let shared: LookupWorkerPool | undefined;

/** The process-wide pool, created on first use (and again if a worker died). */
export function lookupWorkers(): LookupWorkerPool {
  if (!shared || !shared.healthy) shared = new LookupWorkerPool();
  return shared;
}
