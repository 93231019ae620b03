/**
 * `gateway.workers: auto` and the worker pools size themselves by the CPUs a node may use: the
 * cores, capped by a cgroup CPU quota (containers, Kubernetes limits). Fake cgroup trees.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuQuota, cpuBudget } from '../../connectors/cpu-budget.js';

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'veilsql-cgroup-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('cpu budget', () => {
  it('cgroup v2: the quota of the process cgroup, rounded up, never above the cores', () => {
    const root = tree({ 'kubepods/pod1/cpu.max': '150000 100000\n', 'kubepods/cpu.max': 'max 100000\n', 'cpu.max': 'max 100000\n' });
    const sources = { procSelfCgroup: '0::/kubepods/pod1\n', root };
    expect(cgroupCpuQuota(sources)).toBe(1.5);
    expect(cpuBudget(sources, 64)).toBe(2);
    expect(cpuBudget(sources, 1)).toBe(1);
  });

  it('cgroup v2: a tighter limit on an ancestor wins; "max" everywhere means no limit', () => {
    const limited = tree({ 'a/b/cpu.max': '400000 100000', 'a/cpu.max': '200000 100000' });
    expect(cpuBudget({ procSelfCgroup: '0::/a/b', root: limited }, 16)).toBe(2);
    const unlimited = tree({ 'a/cpu.max': 'max 100000', 'cpu.max': 'max 100000' });
    expect(cgroupCpuQuota({ procSelfCgroup: '0::/a', root: unlimited })).toBeUndefined();
    expect(cpuBudget({ procSelfCgroup: '0::/a', root: unlimited }, 16)).toBe(16);
  });

  it('cgroup v1: cfs quota over period; quota -1 is no limit', () => {
    const root = tree({ 'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000', 'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000' });
    const sources = { procSelfCgroup: '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n', root };
    expect(cpuBudget(sources, 32)).toBe(3);
    const none = tree({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' });
    expect(cpuBudget({ procSelfCgroup: '1:cpu:/\n', root: none }, 8)).toBe(8);
  });

  it('reads a cgroup path that contains colons', () => {
    const root = tree({ 'kubepods/pod:a:b/cpu.max': '300000 100000' });
    expect(cpuBudget({ procSelfCgroup: '0::/kubepods/pod:a:b\n', root }, 16)).toBe(3);
  });

  it('a missing or unreadable cgroup file system falls back to the cores; at least one CPU', () => {
    expect(cpuBudget({ procSelfCgroup: '', root: '/nonexistent' }, 4)).toBe(4);
    const tiny = tree({ 'cpu.max': '10000 100000' });
    expect(cpuBudget({ procSelfCgroup: '0::/', root: tiny }, 4)).toBe(1);
  });

  it('on this machine it is a whole number between 1 and the cores', async () => {
    const { availableParallelism } = await import('node:os');
    const n = cpuBudget();
    expect(Number.isInteger(n) && n >= 1 && n <= availableParallelism()).toBe(true);
  });
});
