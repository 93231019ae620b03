/**
 * How many CPUs this process may really use: the cores it may run on
 * (`os.availableParallelism()`, which honours the affinity mask) capped by the CPU quota of its
 * cgroup — a container started with `--cpus 2` or a Kubernetes pod with `limits.cpu: 2` on a
 * 64-core host. Node 20's libuv does not read the quota, and sizing gateway processes and worker
 * pools by the host's cores makes them fight over a quota they cannot exceed (throttling).
 *
 * cgroup v2: `cpu.max` ("max 100000" or "<quota> <period>") of the process's cgroup and of every
 * ancestor (a limit may be set higher up); cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us`
 * (quota -1 = none). The smallest quota wins, rounded up to whole CPUs.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

export interface CgroupSources {
  /** Contents of /proc/self/cgroup. */
  procSelfCgroup: string;
  /** Where the cgroup file systems are mounted (/sys/fs/cgroup). */
  root: string;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The cgroup's directory and each ancestor up to the mount point, innermost first. */
function lineage(mount: string, path: string): string[] {
  const dirs: string[] = [];
  for (let p = posix.normalize(path || '/'); ; p = posix.dirname(p)) {
    dirs.push(join(mount, p));
    if (p === '/' || p === '.') break;
  }
  return dirs;
}

/** The CPU quota (in CPUs, possibly fractional) of the process's cgroups, if any is set. */
export function cgroupCpuQuota(sources: CgroupSources): number | undefined {
  const quotas: number[] = [];
  for (const line of sources.procSelfCgroup.split('\n')) {
    // "id:controllers:path"; the path itself may contain ':'.
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const [id, controllers, path] = [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
    if (id === '0' && controllers === '') {
      // v2 (unified); on hybrid hosts it is mounted at <root>/unified.
      for (const mount of [sources.root, join(sources.root, 'unified')]) {
        for (const dir of lineage(mount, path)) {
          const [quota, period] = (read(join(dir, 'cpu.max')) ?? '').split(/\s+/);
          if (quota && quota !== 'max' && Number(quota) > 0 && Number(period) > 0) quotas.push(Number(quota) / Number(period));
        }
      }
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of [join(sources.root, controllers), join(sources.root, 'cpu'), join(sources.root, 'cpu,cpuacct')]) {
        for (const dir of lineage(mount, path)) {
          const quota = Number(read(join(dir, 'cpu.cfs_quota_us')));
          const period = Number(read(join(dir, 'cpu.cfs_period_us')));
          if (quota > 0 && period > 0) quotas.push(quota / period);
        }
      }
    }
  }
  return quotas.length ? Math.min(...quotas) : undefined;
}

let cached: number | undefined;

/** Whole CPUs this process may use (at least 1). */
export function cpuBudget(sources?: CgroupSources, cores = availableParallelism()): number {
  if (!sources && cached !== undefined) return cached;
  const quota = cgroupCpuQuota(sources ?? { procSelfCgroup: read('/proc/self/cgroup') ?? '', root: '/sys/fs/cgroup' });
  const budget = Math.max(1, quota === undefined ? cores : Math.min(cores, Math.ceil(quota - 1e-9)));
  if (!sources) cached = budget;
  return budget;
}
