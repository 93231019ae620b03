/**
 * Ports for test federations must not come from the kernel's ephemeral range: a port picked
 * there can be taken as the source port of an outgoing connection before the node listens on it
 * (EADDRINUSE, a red CI run). These tests pin the properties freePort() promises.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portSlice, usablePortRange } from '../../cli/free-port.js';

const [ephLow, ephHigh] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];

describe('freePort', () => {
  it('hands out distinct ports outside the ephemeral range that can be listened on', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) {
      expect(p >= ephLow && p <= ephHigh).toBe(false);
      expect(p).toBeGreaterThanOrEqual(1024);
    }
    const s = createServer();
    await new Promise<void>((r, j) => s.once('error', j).listen(ports.at(-1)!, '127.0.0.1', () => r()));
    await new Promise<void>((r) => s.close(() => r()));
  });

  it('skips a port another program listens on', async () => {
    // Occupy the next candidates: freePort walks its slice one port at a time (and wraps round at
    // its end, where the ports after the probe would not be candidates).
    const { high } = portSlice();
    let probe = await freePort();
    while (probe + 4 > high) probe = await freePort();
    const held: Server[] = [];
    for (const port of [probe + 1, probe + 2, probe + 3]) {
      const s = createServer();
      const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(port, '127.0.0.1', () => r(true)));
      if (ok) held.push(s);
    }
    try {
      expect(held.length).toBeGreaterThan(0);
      const next = await freePort();
      for (const s of held) expect(next).not.toBe((s.address() as { port: number }).port);
      expect(next).toBeGreaterThan(probe);
    } finally {
      await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  });

  it('picks the larger unprivileged stretch beside the ephemeral range', () => {
    expect(usablePortRange({ low: 32768, high: 60999 })).toEqual({ low: 16384, high: 32767 });
    expect(usablePortRange({ low: 1024, high: 49151 })).toEqual({ low: 49152, high: 65535 });
    expect(() => usablePortRange({ low: 1024, high: 65535 })).toThrow(/no room/);
  });
});
