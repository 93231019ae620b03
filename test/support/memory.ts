/**
 * Memory readings for leak tests. vitest runs without --expose-gc, so `global.gc` is undefined
 * there: the flag is set at run time and `gc` taken from a fresh context, so every reading
 * follows a real full collection and garbage is not mistaken for a leak.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** A full garbage collection, then the process' memory usage. */
export function memoryAfterGc(): NodeJS.MemoryUsage {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  return process.memoryUsage();
}

/** The median of a few readings taken `gapMs` apart (RSS moves as the allocator returns pages). */
export async function medianRss(readings = 5, gapMs = 50): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < readings; i++) {
    xs.push(memoryAfterGc().rss);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}
