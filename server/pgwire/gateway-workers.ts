/**
 * The worker processes of a multi-process gateway (`gateway.workers` in node.yaml): forks them,
 * waits until each has its engine, hands client sockets to them, routes CancelRequests between
 * them and the node, and restarts one that dies (its sessions are lost, like a Postgres backend
 * that crashed; the others keep serving). Processes, not worker threads: a socket can move to
 * another process but not to another thread of Node 20.
 *
 * A socket stays open in the node until its worker confirms it serves it (`adopted`): Node
 * queues handles one at a time, and a worker that dies before taking one would otherwise leave
 * the client hanging on a socket nobody reads.
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
  ready: boolean;
  /** Sessions handed to it that have not ended. */
  sessions: Set<number>;
  /** Sockets sent but not yet confirmed: the node's copies, closed on `adopted`. */
  unconfirmed: Map<number, net.Socket>;
}

const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 60_000;

export class GatewayWorkers implements SessionProcesses {
  private readonly slots: Slot[] = [];
  /** Consecutive failed starts per worker, for the restart back-off. */
  private readonly failures: number[] = [];
  private primaryCancel: (pid: number, secret: number) => void = () => undefined;
  private closing = false;
  private nextSession = 1;

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
    const name = `gateway worker ${i + 1}`;
    let child: ChildProcess;
    try {
      child = fork(workerEntry(), [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // A debugger port of the node would be taken twice.
        execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
      });
    } catch (e) {
      return Promise.reject(new Error(`${name} could not be started: ${(e as Error).message}`));
    }
    const slot: Slot = { child, ready: false, sessions: new Set(), unconfirmed: new Map() };
    this.slots[i] = slot;
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start within ${timeoutMs / 1000} s`));
        child.kill('SIGKILL');
      }, timeoutMs);
      timer.unref();
      child.on('error', (e) => this.options.logger.warn(`${name}: ${e.message}`));
      child.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            clearTimeout(timer);
            started = true;
            slot.ready = true;
            this.failures[i] = 0;
            resolve();
            return;
          case 'failed':
            clearTimeout(timer);
            reject(new Error(`${name} failed to start: ${m.message}`));
            return;
          case 'adopted':
            slot.unconfirmed.get(m.id)?.destroy();
            slot.unconfirmed.delete(m.id);
            return;
          case 'ended':
            slot.unconfirmed.get(m.id)?.destroy();
            slot.unconfirmed.delete(m.id);
            slot.sessions.delete(m.id);
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
        // Sockets it never took: their clients see the connection close and may retry.
        for (const socket of slot.unconfirmed.values()) socket.destroy();
        slot.unconfirmed.clear();
        const lost = slot.sessions.size;
        slot.sessions.clear();
        reject(new Error(`${name} exited during start-up (${signal ?? `code ${code}`})`));
        if (this.closing || this.slots[i] !== slot) return;
        if (started) this.options.logger.warn(`${name} exited (${signal ?? `code ${code}`}); its ${lost} session(s) are lost`);
        else this.failures[i] = (this.failures[i] ?? 0) + 1;
        this.restartLater(i);
      });
      const init: ToWorker = { t: 'init', index: i + 1, ...this.options.init };
      child.send(init, (e) => {
        if (e) reject(new Error(`${name} could not be started: ${e.message}`));
      });
    });
  }

  /** Restarts worker i after a delay that doubles with each failed start (1 s … 60 s). */
  private restartLater(i: number): void {
    const failures = this.failures[i] ?? 0;
    const wait = Math.min(RESTART_DELAY_MAX_MS, RESTART_DELAY_MS * 2 ** failures);
    setTimeout(() => {
      if (this.closing) return;
      this.spawn(i).then(
        () => this.options.logger.info(`gateway worker ${i + 1} restarted`),
        (e: unknown) => this.options.logger.warn(`${(e as Error).message}; retrying`),
      );
    }, wait).unref();
  }

  loads(): number[] {
    // A worker that is (re)starting takes no sessions.
    return this.slots.map((s) => (s.ready ? s.sessions.size : Number.POSITIVE_INFINITY));
  }

  handOff(worker: number, socket: net.Socket): void {
    const slot = this.slots[worker]!;
    const id = this.nextSession++;
    slot.sessions.add(id);
    slot.unconfirmed.set(id, socket);
    const message: ToWorker = { t: 'session', id };
    slot.child.send(message, socket, { keepOpen: true }, (err) => {
      if (!err) return;
      slot.sessions.delete(id);
      slot.unconfirmed.delete(id);
      socket.destroy();
    });
  }

  deliverCancel(owner: number, pid: number, secret: number): void {
    if (owner === 0) {
      this.primaryCancel(pid, secret);
      return;
    }
    const slot = this.slots[owner - 1];
    if (!slot?.ready || !slot.child.connected) return;
    const message: ToWorker = { t: 'cancel', pid, secret };
    // A worker exiting right now cannot be told; nothing to do about it (Postgres neither answers).
    slot.child.send(message, () => undefined);
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
        if (child.connected) child.send(message, (e) => e && child.kill('SIGTERM'));
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
