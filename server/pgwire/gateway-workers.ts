/**
 * The worker processes of a multi-process gateway (`gateway.workers` in node.yaml): forks them,
 * waits until each has its engine, hands client sockets to them, routes CancelRequests between
 * them and the node, and restarts one that dies (its sessions are lost, like a Postgres backend
 * that crashed; the others keep serving). Processes, not worker threads: a socket can move to
 * another process but not to another thread of Node 20.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionProcesses } from './server.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js';

/** The compiled entry point: next to this file in dist/, or in dist/ when run from source (tests). */
function workerEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'gateway-worker-main.js');
  return existsSync(sibling) ? sibling : join(here, '..', '..', 'dist', 'server', 'pgwire', 'gateway-worker-main.js');
}

export interface GatewayWorkersOptions {
  /** Number of worker processes (the node's own process serves sessions too). */
  count: number;
  /** Everything but the index. */
  init: Omit<WorkerInit, 't' | 'index'>;
  logger: { info(line: string): void; warn(line: string): void };
  /** How long a worker may take to start (default 60 s). */
  startTimeoutMs?: number;
}

interface Slot {
  child: ChildProcess;
  /** Sessions handed to it and not yet ended. */
  load: number;
  ready: boolean;
  lastStart: number;
}

const RESTART_MIN_INTERVAL_MS = 5_000;

export class GatewayWorkers implements SessionProcesses {
  private readonly slots: Slot[] = [];
  private primaryCancel: (pid: number, secret: number) => void = () => undefined;
  private closing = false;

  private constructor(private readonly options: GatewayWorkersOptions) {}

  static async start(options: GatewayWorkersOptions): Promise<GatewayWorkers> {
    const workers = new GatewayWorkers(options);
    try {
      await Promise.all(Array.from({ length: options.count }, (_, i) => workers.spawn(i)));
    } catch (e) {
      await workers.close();
      throw e;
    }
    return workers;
  }

  /** Starts worker i (process index i + 1) and resolves once it serves sessions. */
  private spawn(i: number): Promise<void> {
    const child = fork(workerEntry(), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot: Slot = { child, load: 0, ready: false, lastStart: Date.now() };
    this.slots[i] = slot;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway worker ${i + 1} did not start within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s`)), this.options.startTimeoutMs ?? 60_000);
      timer.unref();
      child.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            slot.ready = true;
            clearTimeout(timer);
            resolve();
            return;
          case 'failed':
            clearTimeout(timer);
            reject(new Error(`gateway worker ${i + 1} failed to start: ${m.message}`));
            return;
          case 'ended':
            slot.load = Math.max(0, slot.load - 1);
            return;
          case 'cancel':
            this.deliverCancel(m.owner, m.pid, m.secret);
            return;
          case 'log':
            (m.level === 'info' ? this.options.logger.info : this.options.logger.warn)(m.line);
            return;
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        slot.ready = false;
        if (this.closing || this.slots[i] !== slot) return;
        reject(new Error(`gateway worker ${i + 1} exited during start-up (${signal ?? `code ${code}`})`));
        this.options.logger.warn(`gateway worker ${i + 1} exited (${signal ?? `code ${code}`}); its ${slot.load} session(s) are lost`);
        this.restartLater(i, slot);
      });
    });
    const init: ToWorker = { t: 'init', index: i + 1, ...this.options.init };
    child.send(init);
    return ready;
  }

  private restartLater(i: number, dead: Slot): void {
    const wait = Math.max(0, dead.lastStart + RESTART_MIN_INTERVAL_MS - Date.now());
    setTimeout(() => {
      if (this.closing) return;
      this.spawn(i).then(
        () => this.options.logger.info(`gateway worker ${i + 1} restarted`),
        (e: unknown) => this.options.logger.warn(`gateway worker ${i + 1}: ${(e as Error).message}`),
      );
    }, wait).unref();
  }

  loads(): number[] {
    // A worker that is (re)starting takes no sessions.
    return this.slots.map((s) => (s.ready ? s.load : Number.POSITIVE_INFINITY));
  }

  handOff(worker: number, socket: net.Socket): void {
    const slot = this.slots[worker]!;
    slot.load++;
    const message: ToWorker = { t: 'session' };
    slot.child.send(message, socket, { keepOpen: false }, (err) => {
      if (err) {
        slot.load = Math.max(0, slot.load - 1);
        socket.destroy();
      }
    });
  }

  deliverCancel(owner: number, pid: number, secret: number): void {
    if (owner === 0) {
      this.primaryCancel(pid, secret);
      return;
    }
    const slot = this.slots[owner - 1];
    if (!slot?.ready) return;
    const message: ToWorker = { t: 'cancel', pid, secret };
    slot.child.send(message);
  }

  onCancelForPrimary(handler: (pid: number, secret: number) => void): void {
    this.primaryCancel = handler;
  }

  /** Asks every worker to end its sessions and exit; kills those still alive after 10 s. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        const message: ToWorker = { t: 'close' };
        if (child.connected) child.send(message);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
