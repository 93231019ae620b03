/**
 * The external clients the client suites drive (java + PgJDBC, Debian's python3 with psycopg2
 * and psycopg 3, pgbench): where they are, a loud failure naming the package to install when
 * one is missing (never a silent skip), and an asynchronous runner (the gateway may live in the
 * test process, so a synchronous spawn must not block its event loop).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, LC_ALL: 'C.UTF-8', ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

function missing(what: string, install: string): Error {
  return new Error(`${what} is required by the client tests but was not found; install it with: ${install}`);
}

/** PgJDBC from Debian's libpostgresql-jdbc-java (or VEILSQL_PGJDBC_JAR). */
export function pgjdbcJar(): string {
  const candidates = [process.env.VEILSQL_PGJDBC_JAR, '/usr/share/java/postgresql.jar'].filter((p): p is string => !!p);
  const listed = spawnSync('dpkg', ['-L', 'libpostgresql-jdbc-java'], { encoding: 'utf8' });
  if (listed.status === 0) candidates.push(...listed.stdout.split('\n').filter((l) => /postgresql-[0-9.]+\.jar$/.test(l)));
  const jar = candidates.find((p) => existsSync(p));
  if (!jar) throw missing('PgJDBC (postgresql.jar)', 'apt-get install -y libpostgresql-jdbc-java');
  return jar;
}

/** A Java runtime that runs single-file programs (`java Probe.java`, Java 11+). */
export function requireJava(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw missing('java', 'apt-get install -y default-jre-headless');
  return 'java';
}

/** Debian's own python3 (psycopg2 and psycopg 3 are installed for it, not for pyenv's). */
export function systemPython(modules: string[]): string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) throw missing('/usr/bin/python3', 'apt-get install -y python3');
  for (const m of modules) {
    const r = spawnSync(python, ['-c', `import ${m}`], { encoding: 'utf8' });
    if (r.status !== 0) throw missing(`python module ${m}`, `apt-get install -y python3-${m}`);
  }
  return python;
}

export function requirePgbench(): string {
  const r = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw missing('pgbench', 'apt-get install -y postgresql-client-15');
  return 'pgbench';
}
