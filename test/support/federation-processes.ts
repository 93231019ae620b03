/**
 * A demo federation of real `veilsql node` processes (mutual TLS on loopback) for integration
 * tests: generates the seeded demo into a temp dir on free ports, creates certificates, starts
 * the requested nodes and connects a `pg` client to bank_a's gateway.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateDemo, demoNodes, type DemoDescription } from '../../cli/demo/index.js';
import { startNodeProcesses, type NodeProcesses } from '../../cli/node-processes.js';
import { initFederation } from '../../server/certs.js';

export interface TestFederation {
  dir: string;
  description: DemoDescription;
  nodes: NodeProcesses;
  gatewayPort: number;
  /** Lines every node printed (for assertions about logs). */
  logs: Map<string, string[]>;
  /** A new client of bank_a's gateway; every value comes back as the text the gateway sent. */
  client(): Promise<pg.Client>;
  stop(): Promise<void>;
}

/** Every value as text, exactly as sent: no JS number conversion on either side of a comparison. */
export const TEXT_TYPES = { getTypeParser: () => (v: string) => v };

async function freeRange(size: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Below Linux's ephemeral range (32768–60999): an outgoing connection elsewhere in the test
    // run can take an ephemeral port between this probe and the node's bind.
    const base = 10_000 + randomInt(0, 22_000 - size);
    // Probe the contiguous range by binding each port briefly.
    const { createServer } = await import('node:net');
    const ok = await Promise.all(
      Array.from({ length: size }, (_, i) =>
        new Promise<boolean>((resolve) => {
          const s = createServer();
          s.once('error', () => resolve(false));
          s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
        }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

export async function startTestFederation(nodeNames: string[], options: { lenders?: number; hospitals?: number } = {}): Promise<TestFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-fed-'));
  const lenders = options.lenders ?? 2;
  const hospitals = options.hospitals ?? 2;
  const size = 6 + lenders + hospitals;
  const basePort = await freeRange(size + 2);
  const description = await generateDemo(dir, 42, { lenders, hospitals, basePort, gatewayPort: basePort + size });
  const listing = demoNodes(dir);
  await initFederation(listing.federationPath);
  const logs = new Map<string, string[]>();
  const wanted = listing.nodes.filter((n) => nodeNames.includes(n.name));
  const nodes = await startNodeProcesses(
    wanted.map((n) => ({ name: n.name, configPath: n.configPath })),
    {
      onLine: (node, line) => {
        if (!logs.has(node)) logs.set(node, []);
        logs.get(node)!.push(line);
      },
      // A node that dies on its own is a bug (tests that kill one use kill(), which is expected).
      onUnexpectedExit: (node, code, signal) => {
        process.stderr.write(`node ${node} exited unexpectedly (${signal ?? `code ${code}`}); last lines:\n${(logs.get(node) ?? []).slice(-20).join('\n')}\n`);
      },
    },
  );
  const gatewayPort = listing.gateway.port;
  return {
    dir,
    description,
    nodes,
    gatewayPort,
    logs,
    async client() {
      const c = new pg.Client({ host: '127.0.0.1', port: gatewayPort, user: 'analyst', password: 'analyst', database: 'veilsql', types: TEXT_TYPES });
      await c.connect();
      return c;
    },
    async stop() {
      await nodes.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
