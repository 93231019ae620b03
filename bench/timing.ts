/** Wall-time helpers shared by the benchmarks. */

/** Median wall time in ms of `runs` calls of `f`, after one warm-up call. */
export async function medianTime(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
