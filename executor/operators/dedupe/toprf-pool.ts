/**
 * Where the dedupe's curve work runs: small batches (a single-applicant query) inline on the
 * calling thread, large ones (a lender tokenising its table, a key holder answering it) split
 * into chunks over a `worker_threads` pool — one worker per core, each with its own libsodium —
 * so a key holder uses both cores of the 2-core boxes.
 *
 * Lifecycle: one pool per process, shared by every dedupe role this process runs (in-process
 * test federations run a hundred nodes on one pool), started lazily; workers are `unref`'d and
 * exit after `idleMs` without work. An aborted caller's queued chunks are dropped.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cpuBudget } from '../../../connectors/cpu-budget.js';
import { loadSodium } from '../../protocols/pir/oprf.js';
import { SCALAR_BYTES } from '../../protocols/toprf/scalars.js';
import { blindInputs, ELEMENT_BYTES, evaluateBlinded, finalizeTokens, TOKEN_BYTES } from '../../protocols/toprf/threshold-oprf.js';

export type ToprfTask =
  | { id: number; op: 'evaluate'; scalar: Uint8Array; elements: Uint8Array }
  | { id: number; op: 'blind'; inputs: Uint8Array; offsets: Uint32Array }
  | { id: number; op: 'finalize'; inputs: Uint8Array; offsets: Uint32Array; unblinds: Uint8Array; answers: Uint8Array[] };

type TaskInput = ToprfTask extends infer T ? (T extends ToprfTask ? Omit<T, 'id'> : never) : never;

export interface ToprfTaskReply {
  id: number;
  result?: Uint8Array[];
  error?: string;
}

/** Variable-length inputs as one buffer plus offsets (structured-clone friendly). */
export function packInputs(inputs: readonly Uint8Array[]): { inputs: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(inputs.length + 1);
  let total = 0;
  inputs.forEach((x, i) => {
    offsets[i] = total;
    total += x.length;
  });
  offsets[inputs.length] = total;
  const out = new Uint8Array(total);
  inputs.forEach((x, i) => out.set(x, offsets[i]));
  return { inputs: out, offsets };
}

export function splitPacked(bytes: Uint8Array, offsets: Uint32Array): Uint8Array[] {
  return Array.from({ length: offsets.length - 1 }, (_, i) => bytes.subarray(offsets[i], offsets[i + 1]));
}

/**
 * Batches up to this size run inline: for a single applicant a worker round trip costs more
 * than the work; anything larger goes to the workers so the calling thread stays free.
 */
const INLINE_ELEMENTS = 4;
/** Elements per worker task: small enough to spread over the cores, large enough to amortise. */
const CHUNK_ELEMENTS = 1024;

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'toprf-worker.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  // Tests run from TypeScript sources; the worker always runs the compiled dist/ copy.
  const root = join(dirname(here), '..', '..', '..');
  const compiled = join(root, 'dist', relative(root, dirname(here)).split(sep).join('/'), 'toprf-worker.js');
  if (!existsSync(compiled)) throw new Error(`threshold-OPRF worker script not found at ${compiled}: run "npm run build" first`);
  return compiled;
}

interface Pending {
  task: ToprfTask;
  resolve: (r: Uint8Array[]) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
}

const aborted = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));

export class ToprfPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(readonly size = Math.max(1, Math.min(cpuBudget(), 8)), private readonly idleMs = 10_000) {}

  /** `scalar`·B for every element (a key holder's answer). */
  async evaluate(scalar: Uint8Array, elements: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const n = elements.length / ELEMENT_BYTES;
    if (n <= INLINE_ELEMENTS) return evaluateBlinded(await loadSodium(), scalar, elements);
    const parts = await Promise.all(
      chunks(n).map(([a, b]) => this.run({ op: 'evaluate', scalar, elements: elements.slice(a * ELEMENT_BYTES, b * ELEMENT_BYTES) }, signal)),
    );
    return concat(parts.map((p) => p[0]), elements.length);
  }

  /** Blinded elements and unblinding scalars for `inputs` (a lender's request). */
  async blind(inputs: readonly Uint8Array[], signal?: AbortSignal): Promise<{ blinded: Uint8Array; unblinds: Uint8Array }> {
    if (inputs.length <= INLINE_ELEMENTS) return blindInputs(await loadSodium(), inputs);
    const parts = await Promise.all(chunks(inputs.length).map(([a, b]) => this.run({ op: 'blind', ...packInputs(inputs.slice(a, b)) }, signal)));
    return {
      blinded: concat(parts.map((p) => p[0]), inputs.length * ELEMENT_BYTES),
      unblinds: concat(parts.map((p) => p[1]), inputs.length * SCALAR_BYTES),
    };
  }

  /** Tokens from the key holders' answers (see threshold-oprf.ts `finalizeTokens`). */
  async finalize(inputs: readonly Uint8Array[], unblinds: Uint8Array, answers: readonly Uint8Array[], signal?: AbortSignal): Promise<Uint8Array> {
    if (inputs.length <= INLINE_ELEMENTS) return finalizeTokens(await loadSodium(), inputs, unblinds, answers);
    const parts = await Promise.all(
      chunks(inputs.length).map(([a, b]) =>
        this.run({
          op: 'finalize',
          ...packInputs(inputs.slice(a, b)),
          unblinds: unblinds.slice(a * SCALAR_BYTES, b * SCALAR_BYTES),
          answers: answers.map((ans) => ans.slice(a * ELEMENT_BYTES, b * ELEMENT_BYTES)),
        }, signal),
      ),
    );
    return concat(parts.map((p) => p[0]), inputs.length * TOKEN_BYTES);
  }

  private run(input: TaskInput, signal?: AbortSignal): Promise<Uint8Array[]> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    // No abort listener per task (a large batch is hundreds of tasks on one signal): an aborted
    // caller's tasks are dropped when they reach the head of the queue, and its running ones
    // finish within milliseconds and are discarded.
    return new Promise<Uint8Array[]>((resolve, reject) => {
      this.queue.push({ task: { ...input, id: this.nextId++ } as ToprfTask, resolve, reject, signal });
      this.pump();
    });
  }

  /** Terminates every worker (pending tasks fail). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const slots = this.slots.splice(0);
    for (const p of this.queue.splice(0)) this.settle(p, new Error('threshold-OPRF worker pool closed'));
    for (const s of slots) if (s.busy) this.settle(s.busy, new Error('threshold-OPRF worker pool closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      if (pending.signal?.aborted) {
        pending.reject(aborted(pending.signal));
        continue;
      }
      slot.busy = pending;
      slot.worker.postMessage(pending.task);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerPath());
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (reply: ToprfTaskReply) => {
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending && pending.task.id === reply.id) {
        if (reply.error !== undefined) this.settle(pending, new RangeError(reply.error));
        else this.settle(pending, undefined, reply.result!);
      }
      this.pump();
      this.scheduleIdle();
    });
    const fail = (e: Error) => {
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      if (slot.busy) this.settle(slot.busy, e);
      slot.busy = undefined;
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`threshold-OPRF worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private settle(p: Pending, error?: Error, result?: Uint8Array[]): void {
    if (p.signal?.aborted) return p.reject(aborted(p.signal));
    if (error) p.reject(error);
    else p.resolve(result!);
  }

  private scheduleIdle(): void {
    if (this.queue.length > 0 || this.slots.some((s) => s.busy) || this.slots.length === 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.queue.length === 0 && !this.slots.some((s) => s.busy)) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }
}

function chunks(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a += CHUNK_ELEMENTS) out.push([a, Math.min(n, a + CHUNK_ELEMENTS)]);
  return out;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let shared: ToprfPool | undefined;

/** The process-wide pool. */
export function toprfPool(): ToprfPool {
  shared ??= new ToprfPool();
  return shared;
}
