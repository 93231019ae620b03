/**
 * Benchmark runner (`npm run bench [name …]`). Every benchmark measures our figure and its
 * baseline in the same run on the same machine, prints both and their ratio, and writes
 * `bench/results/<name>.json`. Targets live here, never in timed tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchMetric {
  name: string;
  ours: number;
  baseline: number;
  unit: string;
  /** ours / baseline. */
  ratio: number;
  /** The goal for the ratio, when the issue sets one (e.g. ≤ 3). */
  goal?: number;
}

export interface BenchResult {
  name: string;
  description: string;
  metrics: BenchMetric[];
  details?: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  run(): Promise<BenchResult>;
}

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  'federated-aggregate': async () => (await import('./federated-aggregate.js')).benchmark,
  'secure-join': async () => (await import('./secure-join.js')).benchmark,
  'pgwire-load': async () => (await import('./pgwire-load.js')).benchmark,
  gwas: async () => (await import('./gwas.js')).benchmark,
  'private-lookup': async () => (await import('./private-lookup.js')).benchmark,
  dedupe: async () => (await import('./dedupe.js')).benchmark,
  dp: async () => (await import('./dp.js')).benchmark,
};

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

export async function runBenchmarks(names: string[]): Promise<void> {
  const selected = names.length ? names : Object.keys(BENCHMARKS);
  for (const name of selected) {
    const load = BENCHMARKS[name];
    if (!load) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    const bench = await load();
    console.log(`== ${name}`);
    const result = await bench.run();
    for (const m of result.metrics) {
      const goal = m.goal !== undefined ? `  goal ≤ ${m.goal}× ${m.ratio <= m.goal ? 'met' : 'NOT met'}` : '';
      console.log(`${m.name}: ours ${fmt(m.ours)} ${m.unit}, baseline ${fmt(m.baseline)} ${m.unit}, ratio ${m.ratio.toFixed(2)}×${goal}`);
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${name}.json`);
    writeFileSync(file, `${JSON.stringify({ ...result, at: new Date().toISOString(), node: process.version }, null, 2)}\n`);
    console.log(`results: ${file}`);
  }
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runBenchmarks(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(1);
  });
}
