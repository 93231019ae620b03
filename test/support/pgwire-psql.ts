/**
 * Runs the system psql (PostgreSQL 15 client) asynchronously: the gateway under test lives in
 * the same process, so a synchronous spawn would block the event loop it needs to answer.
 */
import { spawn } from 'node:child_process';

export interface PsqlResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PsqlRun extends Promise<PsqlResult> {
  /** Sends a signal to psql (SIGINT = Ctrl-C, which makes psql send a CancelRequest). */
  kill(signal: NodeJS.Signals): void;
}

export function psql(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): PsqlRun {
  const child = spawn('psql', args, {
    env: { ...process.env, PGCONNECT_TIMEOUT: '5', PGOPTIONS: '', LC_ALL: 'C.UTF-8', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<PsqlResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  }) as PsqlRun;
  done.kill = (signal) => child.kill(signal);
  return done;
}

/** Connection arguments for a gateway on loopback. */
export function psqlConn(port: number, user = 'alice', extra = ''): string {
  return `host=127.0.0.1 port=${port} user=${user} dbname=d ${extra}`.trim();
}
