/**
 * SECURE JOIN (issue 4): row-mode ECDH-PSI between two processes on this machine — the
 * requester (gateway + its own embedded party) and the other party behind its mTLS endpoint
 * (bench/secure-join-process.ts) — over n × n text keys with 50% overlap, for n = 100K and
 * 1M (`VEILSQL_BENCH_PSI_SIZES=100000,1000000`). Reports wall time (query start → last row at
 * the requester), protocol bytes sent by each side and peak RSS of each process.
 *
 * Baseline (same run): the same protocol done straightforwardly with @noble/curves
 * (ristretto255: hash-to-group, blind, evaluate, unblind, the party's own set; SHA-512 tags),
 * single-threaded in this process. Its cost is linear in the set sizes, so it is measured on
 * `VEILSQL_BENCH_PSI_NOBLE` keys per side (default 2,000; set 100000 for the full run) and
 * scaled to n. Goals (issue 4): 1M × 1M ≤ 180 s (stretch 60 s), ≤ 100 MB traffic, ≤ 1 GB
 * RSS per party.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort } from '../cli/free-port.js';
import { writeFederation } from '../cli/federation-files.js';
import { hashDomain } from '../executor/protocols/psi/ecdh-psi.js';
import { NobleRistrettoEngine } from '../executor/protocols/psi/engines.js';
import { ELEMENT_BYTES, newBlinding, newPsiKey } from '../executor/protocols/psi/group-engine.js';
import type { Benchmark, BenchMetric, BenchResult } from './run.js';

const SIZES = (process.env.VEILSQL_BENCH_PSI_SIZES ?? '100000,1000000').split(',').map(Number);
const NOBLE_KEYS = Number(process.env.VEILSQL_BENCH_PSI_NOBLE ?? 2000);
/** Extra Node flags for the two processes, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile them. */
const CHILD_FLAGS = (process.env.VEILSQL_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'secure-join-process.js');

async function makeTables(dir: string, n: number): Promise<{ requester: string; party: string }> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const requester = join(dir, `requester_${n}.parquet`);
  const party = join(dir, `party_${n}.parquet`);
  // Keys shaped like national IDs; the party's set overlaps the requester's by half.
  await c.run(`COPY (SELECT i AS id, 'ID' || lpad(CAST(i * 7919 % 1000000007 AS VARCHAR), 12, '0') AS k FROM range(${n}) t(i)) TO '${requester}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT i AS rid, 'ID' || lpad(CAST(i * 7919 % 1000000007 AS VARCHAR), 12, '0') AS k FROM range(${n / 2}, ${n + n / 2}) t(i)) TO '${party}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  return { requester, party };
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (process.env.VEILSQL_BENCH_VERBOSE || !/^SECURE JOIN/.test(l)) console.error(`  ${l}`);
  });
}

interface RunFigures {
  n: number;
  ms: number;
  matched: number;
  requesterSentMB: number;
  partySentMB: number;
  requesterPeakRssMB: number;
  partyPeakRssMB: number;
  requesterCpuS: number;
  partyCpuS: number;
}

async function runOnce(dir: string, n: number): Promise<RunFigures> {
  const tables = await makeTables(dir, n);
  const [p1, p2] = [await freePort(), await freePort()];
  const fed = await writeFederation(join(dir, `fed_${n}`), {
    name: 'bench_psi',
    nodes: [
      { name: 'requester', port: p1, tables: [{ name: 't', source: tables.requester, columns: { id: 'public', k: 'join_key' } }] },
      { name: 'party', port: p2, tables: [{ name: 't', source: tables.party, columns: { rid: 'public', k: 'join_key' } }] },
    ],
  });
  const cfg = (name: string) => fed.nodes.find((x) => x.name === name)!.configPath;
  const party = spawn(process.execPath, [...CHILD_FLAGS, SCRIPT, 'party', cfg('party')], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const stats = new Promise<{ peakRssMB: number; cpuSeconds: number }>((resolve, reject) => {
      let ready: () => void;
      const readyP = new Promise<void>((r) => (ready = r));
      lines(party, (l) => {
        if (l.startsWith('ready')) ready();
        else if (l.startsWith('{')) resolve(JSON.parse(l));
      });
      party.once('exit', (code) => reject(new Error(`party process exited (${code})`)));
      (party as ChildProcess & { ready?: Promise<void> }).ready = readyP;
    });
    stats.catch(() => undefined);
    await (party as ChildProcess & { ready?: Promise<void> }).ready;
    // Row mode; the requester streams every matched row (its own id) to the end.
    const sql = 'SELECT a.id FROM requester.t a SECURE JOIN party.t b ON a.k = b.k';
    const requester = spawn(process.execPath, [...CHILD_FLAGS, SCRIPT, 'requester', cfg('requester'), 'party', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await new Promise<{ ms: number; rows: number; sentBytes: number; receivedBytes: number; peakRssMB: number; cpuSeconds: number }>((resolve, reject) => {
      lines(requester, (l) => {
        if (l.startsWith('{')) resolve(JSON.parse(l));
      });
      requester.once('exit', (code) => code !== 0 && reject(new Error(`requester process exited (${code})`)));
    });
    party.stdin!.write('stats\n');
    const partyStats = await stats;
    party.stdin!.write('exit\n');
    // Let it exit on its own (so a --cpu-prof profile gets written); SIGTERM after 10 s.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      party.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return {
      n,
      ms: result.ms,
      matched: result.rows,
      requesterSentMB: result.sentBytes / 1e6,
      partySentMB: result.receivedBytes / 1e6,
      requesterPeakRssMB: result.peakRssMB,
      partyPeakRssMB: partyStats.peakRssMB,
      requesterCpuS: result.cpuSeconds,
      partyCpuS: partyStats.cpuSeconds,
    };
  } finally {
    if (party.exitCode === null) party.kill('SIGTERM');
  }
}

/** The same protocol, straightforwardly, in @noble/curves on one thread (per-key cost × n). */
function nobleBaseline(keysPerSide: number): { ms: number; perKeyPairMs: number; matched: number } {
  const engine = new NobleRistrettoEngine();
  const suite = 'ristretto255-sha512' as const;
  const dst = hashDomain(suite, ['VARCHAR'], 'row');
  const key = (i: number) => new TextEncoder().encode(`ID${String(i).padStart(12, '0')}`);
  const mine = Array.from({ length: keysPerSide }, (_, i) => key(i));
  const theirs = Array.from({ length: keysPerSide }, (_, i) => key(i + keysPerSide / 2));
  const started = performance.now();
  const { blind, unblind } = newBlinding(suite);
  const b = newPsiKey(suite);
  const blinded = engine.multiply(engine.hashToGroup(mine, dst), blind);
  const evaluated = engine.multiply(blinded, b);
  const oprf = engine.multiply(evaluated, unblind);
  const own = engine.multiply(engine.hashToGroup(theirs, dst), b);
  const tag = (f: Uint8Array) => createHash('sha512').update(f).digest().subarray(0, 16).toString('hex');
  const theirTags = new Set<string>();
  for (let i = 0; i < keysPerSide; i++) theirTags.add(tag(own.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)));
  let matched = 0;
  for (let i = 0; i < keysPerSide; i++) if (theirTags.has(tag(oprf.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES)))) matched++;
  const ms = performance.now() - started;
  return { ms, perKeyPairMs: ms / keysPerSide, matched };
}

export const benchmark: Benchmark = {
  name: 'secure-join',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'veilsql-bench-psi-'));
    try {
      const base = nobleBaseline(NOBLE_KEYS);
      if (base.matched !== NOBLE_KEYS / 2) throw new Error(`noble baseline matched ${base.matched} of ${NOBLE_KEYS / 2}`);
      console.log(`noble baseline: ${NOBLE_KEYS} × ${NOBLE_KEYS} keys in ${(base.ms / 1000).toFixed(1)} s (${base.perKeyPairMs.toFixed(2)} ms per key per side, one thread)`);
      const metrics: BenchMetric[] = [];
      const runs: RunFigures[] = [];
      for (const n of SIZES) {
        const r = await runOnce(dir, n);
        if (r.matched !== n / 2) throw new Error(`SECURE JOIN matched ${r.matched} keys, expected ${n / 2}`);
        runs.push(r);
        const baselineMs = base.perKeyPairMs * n;
        console.log(
          `${n} × ${n}: ${(r.ms / 1000).toFixed(1)} s; sent: requester ${r.requesterSentMB.toFixed(1)} MB, party ${r.partySentMB.toFixed(1)} MB (total ${(r.requesterSentMB + r.partySentMB).toFixed(1)} MB); ` +
            `peak RSS: requester ${r.requesterPeakRssMB.toFixed(0)} MB, party ${r.partyPeakRssMB.toFixed(0)} MB; CPU: requester ${r.requesterCpuS.toFixed(1)} s, party ${r.partyCpuS.toFixed(1)} s`,
        );
        metrics.push({ name: `${n} x ${n} keys, wall time (baseline: noble, one thread, scaled from ${NOBLE_KEYS} keys)`, ours: r.ms, baseline: baselineMs, unit: 'ms', ratio: r.ms / baselineMs });
        metrics.push({ name: `${n} x ${n} keys, total traffic (baseline: the 100 MB goal at 1M, scaled)`, ours: r.requesterSentMB + r.partySentMB, baseline: (100 * n) / 1_000_000, unit: 'MB', ratio: (r.requesterSentMB + r.partySentMB) / ((100 * n) / 1_000_000), goal: 1 });
      }
      return {
        name: 'secure-join',
        description: 'row-mode SECURE JOIN (ECDH-PSI, X25519/Elligator2, 2 worker threads per process), requester and party as separate processes over mTLS on loopback, 50% overlap',
        metrics,
        details: { nobleKeys: NOBLE_KEYS, nobleMs: base.ms, runs, goals: { wall1M_s: 180, stretch1M_s: 60, traffic1M_MB: 100, rssPerParty_MB: 1024 } },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
