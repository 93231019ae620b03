/**
 * Starts `veilsql node` processes (one per node config) and waits until each prints its
 * `ready` line. Used by `veilsql demo`, the benchmarks and the integration tests, so all three
 * exercise real processes talking mutual TLS over loopback.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface NodeProcessSpec {
  name: string;
  configPath: string;
}

export interface NodeProcesses {
  readonly children: Map<string, ChildProcess>;
  /** Sends SIGTERM to every node and resolves when all have exited. */
  stop(): Promise<void>;
  /** Kills one node abruptly (SIGKILL), e.g. to test a dead party. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
}

export interface StartNodesOptions {
  readyTimeoutMs?: number;
  /** Every line a node prints (default: dropped). */
  onLine?: (node: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Called when a node exits while it was supposed to run. */
  onUnexpectedExit?: (node: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** The compiled CLI: next to this file in dist/, or dist/ of the package when run from source (tests). */
function cliPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'veilsql.js');
  return existsSync(sibling) ? sibling : join(here, '..', 'dist', 'cli', 'veilsql.js');
}

const CLI = cliPath();

export async function startNodeProcesses(specs: NodeProcessSpec[], options: StartNodesOptions = {}): Promise<NodeProcesses> {
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  /** Nodes stopped on purpose through kill(): their exit is not reported as unexpected. */
  const killed = new Set<string>();
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const waitExit = (c: ChildProcess) => (exited(c) ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  const handle: NodeProcesses = {
    children,
    async stop() {
      stopping = true;
      for (const c of children.values()) if (!exited(c)) c.kill('SIGTERM');
      await Promise.all([...children.values()].map(waitExit));
    },
    async kill(name, signal = 'SIGKILL') {
      const c = children.get(name);
      if (!c) throw new Error(`no node ${name}`);
      killed.add(name);
      c.kill(signal);
      await waitExit(c);
    },
  };
  const ready = specs.map(
    (spec) =>
      new Promise<void>((resolve, reject) => {
        const child = fork(CLI, ['node', '--config', spec.configPath], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
        children.set(spec.name, child);
        let isReady = false;
        const recent: string[] = [];
        const watch = (stream: NodeJS.ReadableStream, kind: 'stdout' | 'stderr') =>
          createInterface({ input: stream }).on('line', (line) => {
            recent.push(line);
            if (recent.length > 5) recent.shift();
            if (!isReady && line.startsWith(`ready ${spec.name}`)) {
              isReady = true;
              resolve();
            }
            options.onLine?.(spec.name, line, kind);
          });
        watch(child.stdout!, 'stdout');
        watch(child.stderr!, 'stderr');
        child.once('exit', (code, signal) => {
          if (!isReady) {
            const said = recent.length ? `: ${recent.join(' | ')}` : '';
            reject(new Error(`node ${spec.name} exited (${signal ?? `code ${code}`}) before it was ready${said}`));
          }
          else if (!stopping && !killed.has(spec.name)) options.onUnexpectedExit?.(spec.name, code, signal);
        });
      }),
  );
  const timeout = options.readyTimeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(ready),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`nodes not ready within ${Math.round(timeout / 1000)} s`)), timeout);
      }),
    ]);
  } catch (e) {
    await handle.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return handle;
}
