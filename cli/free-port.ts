/**
 * Loopback ports for the nodes of test and benchmark federations, which must be written into
 * federation.yaml before any node starts.
 *
 * Why not "listen on port 0, read the port, close it": port 0 draws from the kernel's ephemeral
 * range, the same range it takes the source port of every outgoing connection from. Between our
 * close and the node's own listen, any connection made on the machine (another test file running
 * in parallel connects to its nodes all the time) may take that port as its source port, and the
 * node dies with EADDRINUSE. That made CI red once. So ports come from below (or above) the
 * ephemeral range, which the kernel never hands out on its own; each vitest worker takes ports
 * from its own slice, so test files running in parallel never pick the same one; a process hands
 * out each port once (walking its slice, wrapping round); and a port some other program listens
 * on is skipped because we bind it before handing it out.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Slices the usable range is cut into (512 ports each in a 16K range): vitest workers 1…32 get
 * distinct slices; the largest test federation (100 lenders and a hub) needs ~110 ports at once.
 */
const SLICES = 32;

interface PortRange {
  low: number;
  high: number;
}

/** The kernel's ephemeral range (Linux), or the Linux default elsewhere. */
function ephemeralRange(): PortRange {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > 0 && high >= low) return { low, high };
  } catch {
    // not Linux: fall through
  }
  return { low: 32768, high: 60999 };
}

/** The widest stretch of unprivileged ports outside the ephemeral range (at most 16K ports). */
export function usablePortRange(ephemeral: PortRange = ephemeralRange()): PortRange {
  const below: PortRange = { low: Math.max(1024, ephemeral.low - 16_384), high: ephemeral.low - 1 };
  const above: PortRange = { low: ephemeral.high + 1, high: Math.min(65535, ephemeral.high + 16_384) };
  const size = (r: PortRange) => r.high - r.low + 1;
  const best = size(below) >= size(above) ? below : above;
  if (size(best) < SLICES * 16) throw new Error(`no room for test ports outside the ephemeral range ${ephemeral.low}-${ephemeral.high}`);
  return best;
}

/** This process's slice: by vitest worker id when there is one, else by pid. */
export function portSlice(range: PortRange = usablePortRange()): PortRange {
  const id = Number(process.env['VITEST_POOL_ID'] ?? process.pid);
  const width = Math.floor((range.high - range.low + 1) / SLICES);
  const low = range.low + (Math.abs(id) % SLICES) * width;
  return { low, high: low + width - 1 };
}

let mine: PortRange | undefined;
let next = 0;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback port nobody listens on, not handed out before by this process, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  if (!mine) {
    mine = portSlice();
    next = mine.low + randomInt(mine.high - mine.low + 1);
  }
  const width = mine.high - mine.low + 1;
  for (let tried = 0; tried < width; tried++) {
    const port = next;
    next = next === mine.high ? mine.low : next + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${mine.low}-${mine.high}`);
}
