/**
 * `veilsql demo`: generates the demo federation (seeded data, configs), creates its CA and
 * certificates, starts one `veilsql node` process per node on loopback, waits until every
 * node is ready and prints how to connect. Ctrl-C stops them all; a node that dies takes the
 * demo down with a message saying which and why.
 */
import { resolve } from 'node:path';
import { initFederation } from '../server/certs.js';
import { demoNodes, generateDemo } from './demo/index.js';
import { startNodeProcesses, type NodeProcesses } from './node-processes.js';

export interface DemoLaunchOptions {
  dir: string;
  seed: number;
  lenders?: number;
}

export async function launchDemo(options: DemoLaunchOptions): Promise<void> {
  const started = performance.now();
  const dir = resolve(options.dir);
  const today = new Date().toISOString().slice(0, 10);
  console.log(`Generating demo data in ${dir} (seed ${options.seed}) …`);
  await generateDemo(dir, options.seed, { asOf: today, ...(options.lenders ? { lenders: options.lenders } : {}) });
  const listing = demoNodes(dir);
  await initFederation(listing.federationPath);
  console.log(`Starting ${listing.nodes.length} nodes …`);
  let nodes: NodeProcesses | undefined;
  const shutdown = async (code: number) => {
    await nodes?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    nodes = await startNodeProcesses(
      listing.nodes.map((n) => ({ name: n.name, configPath: n.configPath })),
      {
        onLine: (node, line, stream) => (stream === 'stderr' ? console.error : console.log)(`[${node}] ${line}`),
        onUnexpectedExit: (node, code, signal) => {
          console.error(`veilsql demo: node ${node} stopped (${signal ?? `code ${code}`}); shutting the demo down`);
          void shutdown(1);
        },
      },
    );
  } catch (e) {
    console.error(`veilsql demo: ${(e as Error).message}`);
    process.exit(1);
  }
  const g = listing.gateway;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`
VeilSQL demo federation is up: ${listing.nodes.length} nodes in ${seconds} s (data and configs in ${dir}).
Connect as bank_a's analyst:
  psql "host=${g.host} port=${g.port} user=${g.user} dbname=${g.database}"
  npx veilsql query --gateway postgres://${g.user}:${g.password}@${g.host}:${g.port}/${g.database} "SHOW PARTIES"
Try: SHOW TABLES; SHOW POLICIES FROM telco; EXPLAIN SELECT region, count(*) FROM banks.customers GROUP BY region;${listing.gateways
    .slice(1)
    .map((o) => `\nAs ${o.node}'s analyst (e.g. the multi-lender dedupe, once the lenders have uploaded their tokens):\n  psql "host=${o.host} port=${o.port} user=${o.user} dbname=${o.database}"`)
    .join('')}
Press Ctrl-C to stop.`);
}
