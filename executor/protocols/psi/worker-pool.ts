/**
 * A `worker_threads` pool for the bulk curve work of ECDH-PSI: one worker per core (two on the
 * dev/CI boxes), each with its own libsodium instance, fed batches of a few thousand elements.
 * Batches are independent, so a session keeps every core busy by having several in flight.
 *
 * Lifecycle: one pool per process, started lazily; its workers are `unref`'d (they never keep a
 * process alive) and are terminated after `idleMs` without work, so an idle node holds no
 * threads. A task whose abort signal fires is dropped from the queue (or its result discarded
 * if it already runs: batches are small, so a worker is free again within milliseconds) — an
 * aborted query leaves no queued work behind.
 *
 * Reveals nothing. Cost: one structured-clone copy of each batch in, a transfer out.
 * I/O-free (threads only); imports no other layer of the project.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cpuBudget } from '../../../connectors/cpu-budget.js';
import type { EngineKind } from './engines.js';
import type { PsiSuite } from './group-engine.js';

interface TaskBase {
  id: number;
  suite: PsiSuite;
  kind: EngineKind;
}

export type PsiTask =
  | (TaskBase & { op: 'hash'; messages: Uint8Array; offsets: Uint32Array; dst: Uint8Array })
  | (TaskBase & { op: 'hash_multiply'; messages: Uint8Array; offsets: Uint32Array; dst: Uint8Array; scalar: Uint8Array })
  | (TaskBase & { op: 'multiply'; elements: Uint8Array; scalar: Uint8Array });

/** A task as callers submit it (the pool assigns ids). */
export type PsiTaskInput = PsiTask extends infer T ? (T extends PsiTask ? Omit<T, 'id'> : never) : never;

export interface PsiTaskReply {
  id: number;
  result?: Uint8Array;
  error?: string;
}

interface Pending {
  task: PsiTask;
  resolve: (r: Uint8Array) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
}

/** Packs variable-length messages for a task (one buffer plus offsets). */
export function packMessages(messages: readonly Uint8Array[]): { messages: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(messages.length + 1);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    offsets[i] = total;
    total += messages[i].byteLength;
  }
  offsets[messages.length] = total;
  const out = new Uint8Array(total);
  for (let i = 0; i < messages.length; i++) out.set(messages[i], offsets[i]);
  return { messages: out, offsets };
}

/** The compiled worker script (tests run from TypeScript sources; workers always run dist/). */
function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'psi-worker.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  // executor/protocols/psi/worker-pool.ts → <root>/dist/executor/protocols/psi/psi-worker.js
  const root = join(dirname(here), '..', '..', '..');
  const compiled = join(root, 'dist', relative(root, dirname(here)).split(sep).join('/'), 'psi-worker.js');
  if (!existsSync(compiled)) throw new Error(`PSI worker script not found at ${compiled}: run "npm run build" first`);
  return compiled;
}

export class PsiWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Workers started over the pool's lifetime (tests check that idle pools release them). */
  started = 0;

  constructor(readonly size = Math.max(1, Math.min(cpuBudget(), 8)), private readonly idleMs = 5_000) {}

  /** Workers currently alive. */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /** Tasks queued or running. */
  get pendingTasks(): number {
    return this.queue.length + this.slots.filter((s) => s.busy).length;
  }

  run(input: PsiTaskInput, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    return new Promise<Uint8Array>((resolve, reject) => {
      const task = { ...input, id: this.nextId++ } as PsiTask;
      const pending: Pending = { task, resolve, reject, signal };
      if (signal) {
        pending.onAbort = () => {
          const at = this.queue.indexOf(pending);
          if (at >= 0) this.queue.splice(at, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          this.scheduleIdle();
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Terminates every worker now (pending tasks fail). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const slots = this.slots.splice(0);
    for (const p of this.queue.splice(0)) this.settle(p, new Error('PSI worker pool closed'));
    for (const s of slots) if (s.busy) this.settle(s.busy, new Error('PSI worker pool closed'));
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
      slot.busy = pending;
      const t = pending.task;
      const transfer: ArrayBuffer[] = [];
      slot.worker.postMessage(t, transfer);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerPath());
    worker.unref();
    this.started++;
    const slot: Slot = { worker };
    worker.on('message', (reply: PsiTaskReply) => {
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending && pending.task.id === reply.id) {
        if (reply.error !== undefined) this.settle(pending, new Error(reply.error));
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
    worker.on('exit', (code) => fail(new Error(`PSI worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private settle(p: Pending, error?: Error, result?: Uint8Array): void {
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    if (p.signal?.aborted) return; // already rejected by the abort handler
    if (error) p.reject(error);
    else p.resolve(result!);
  }

  private scheduleIdle(): void {
    if (this.pendingTasks > 0 || this.slots.length === 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pendingTasks === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }
}

let shared: PsiWorkerPool | undefined;

/** The process-wide pool. */
export function psiWorkerPool(): PsiWorkerPool {
  shared ??= new PsiWorkerPool();
  return shared;
}
