/**
 * A throwaway PostgreSQL 15 server for integration tests: the reference that every VeilSQL result
 * is compared with. `startPostgres()` finds Debian's server binaries, runs `initdb` into a fresh
 * temporary directory (`--locale=C -E UTF8 --auth=trust`, superuser `postgres`), starts `postgres`
 * on a free loopback port with its unix socket inside that directory and `fsync=off`, and waits
 * until it accepts connections. PostgreSQL refuses to run as root, so when the tests run as root
 * (CI) the server runs as the `postgres` OS user through `runuser` (or `su`), with the directory
 * chowned to it.
 *
 * `stop()` shuts the server down (fast shutdown, escalating to SIGQUIT/SIGKILL), waits until the
 * postmaster is gone and removes the directory; a process `exit` hook does the same synchronously
 * for servers a test forgot to stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../cli/free-port.js';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly dataDir: string;
  readonly socketDir: string;
  /** PID of the postmaster (not of a runuser/su wrapper). */
  readonly pid: number;
  /** `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`. */
  readonly version: string;
  /** A new connected client using `RAW_TYPES`; ended by `stop()` if the caller did not end it. */
  client(): Promise<pg.Client>;
  /** Runs one statement on a shared client. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  stop(): Promise<void>;
}

const OID = { int8: 20, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, numeric: 1700 } as const;

/**
 * Type parsers for comparisons: int8 → bigint, numeric → string (exact), date/time/timestamp(tz) →
 * the server's text (no JavaScript Date, no time-zone shifts). Pass as `types` to any pg.Client,
 * including clients of the VeilSQL gateway, so both sides decode alike.
 */
export const RAW_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    switch (oid) {
      case OID.int8:
        return (v: string) => BigInt(v);
      case OID.numeric:
      case OID.date:
      case OID.time:
      case OID.timestamp:
      case OID.timestamptz:
        return (v: string) => v;
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Debian's PostgreSQL 15 server binaries: `$VEILSQL_PG_BINDIR`, `/usr/lib/postgresql/15/bin`, or `pg_config --bindir`. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.VEILSQL_PG_BINDIR) candidates.push(process.env.VEILSQL_PG_BINDIR);
  candidates.push('/usr/lib/postgresql/15/bin');
  const cfg = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (cfg.status === 0 && cfg.stdout.trim()) candidates.push(cfg.stdout.trim());
  for (const dir of candidates) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new Error(
    `PostgreSQL server binaries not found (looked in ${candidates.join(', ')}); ` +
      'install them with: apt-get install -y --no-install-recommends postgresql-15',
  );
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

interface OsUser {
  uid: number;
  gid: number;
}

function postgresOsUser(): OsUser {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root but there is no `postgres` OS user to run the server as (the postgresql-15 package creates it)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** argv that runs `bin args…` as the postgres OS user when we are root, directly otherwise. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [bin, args];
  if (existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser') || spawnSync('sh', ['-c', 'command -v runuser']).status === 0) {
    return ['runuser', ['-u', 'postgres', '--', bin, ...args]];
  }
  return ['su', ['postgres', '-s', '/bin/sh', '-c', 'exec "$0" "$@"', bin, ...args]];
}


function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(path: string, bytes = 4000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Synchronous best-effort shutdown, for the process `exit` hook. */
function killSync(pid: number | undefined, dir: string): void {
  if (pid !== undefined && alive(pid)) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    spawnSync('sh', ['-c', `i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`]);
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

async function waitReady(port: number, child: ChildProcess, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail(logPath)}`);
    }
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (e) {
      lastError = (e as Error).message;
      await c.end().catch(() => undefined);
      await sleep(100);
    }
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms (${lastError}):\n${tail(logPath)}`);
}

export async function startPostgres(opts: { startTimeoutMs?: number } = {}): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  const root = mkdtempSync(join(tmpdir(), 'veilsql-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const logPath = join(root, 'postgres.log');
  mkdirSync(socketDir);
  let exitHook: (() => void) | undefined;
  try {
    if (isRoot()) {
      const u = postgresOsUser();
      chownSync(root, u.uid, u.gid);
      chownSync(socketDir, u.uid, u.gid);
    }
    const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', cwd: root });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout || init.error?.message}`);

    let child: ChildProcess | undefined;
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const logFd = openSync(logPath, 'a');
      const [cmd, args] = asServerUser(join(bin, 'postgres'), [
        '-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=40', '-c', 'shared_buffers=64MB', '-c', 'TimeZone=UTC',
      ]);
      child = spawn(cmd, args, { cwd: root, stdio: ['ignore', logFd, logFd] });
      closeSync(logFd);
      child.on('error', () => undefined);
      if (!exitHook) {
        exitHook = () => killSync(postmasterPid(dataDir), root);
        process.on('exit', exitHook);
      }
      try {
        await waitReady(port, child, logPath, opts.startTimeoutMs ?? 30_000);
        break;
      } catch (e) {
        const log = tail(logPath);
        const portClash = /could not bind|Address already in use/i.test(log);
        const pid = postmasterPid(dataDir);
        if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
        if (!portClash || attempt >= 5) throw e;
      }
    }
    const pid = postmasterPid(dataDir);
    if (pid === undefined) throw new Error(`postgres is up but ${dataDir}/postmaster.pid is unreadable`);

    const clients = new Set<pg.Client>();
    const connect = async (): Promise<pg.Client> => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', types: RAW_TYPES });
      await c.connect();
      clients.add(c);
      c.on('end', () => clients.delete(c));
      c.on('error', () => undefined);
      return c;
    };
    let shared: Promise<pg.Client> | undefined;
    const versionRow = await (async () => {
      const c = await connect();
      try {
        return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
      } finally {
        await c.end();
      }
    })();
    const spawned = child;
    let stopped = false;

    const server: PostgresServer = {
      host: '127.0.0.1',
      port,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dataDir,
      socketDir,
      pid,
      version: versionRow,
      client: connect,
      async query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]) {
        shared ??= connect();
        return (await shared).query<R>(text, params);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all([...clients].map((c) => c.end().catch(() => undefined)));
        const signals: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGKILL'];
        for (const sig of signals) {
          if (!alive(pid)) break;
          try {
            process.kill(pid, sig);
          } catch {
            break;
          }
          for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
        }
        if (spawned && spawned.exitCode === null && spawned.signalCode === null) {
          await Promise.race([new Promise((r) => spawned.once('exit', r)), sleep(2000)]);
        }
        if (exitHook) process.removeListener('exit', exitHook);
        rmSync(root, { recursive: true, force: true });
      },
    };
    return server;
  } catch (e) {
    if (exitHook) {
      process.removeListener('exit', exitHook);
      exitHook();
    } else {
      rmSync(root, { recursive: true, force: true });
    }
    throw e;
  }
}
