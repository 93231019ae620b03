#!/usr/bin/env node
/**
 * The `veilsql` command (SPEC.md §2): init, node, demo, query, bench, plot.
 */
import { parseArgs } from 'node:util';
import { SqlError } from '../parser/errors.js';

const USAGE = `usage:
  veilsql init <federation.yaml>                 create the federation CA and node certificates
  veilsql node --config <node.yaml>              run one node until SIGINT/SIGTERM
  veilsql demo [--dir DIR] [--seed N] [--lenders N]   generate and run the demo federation
  veilsql query --gateway postgres://user:pw@host:port/veilsql "SQL"
  veilsql bench [name …]                         run benchmarks (see bench/)
  veilsql plot manhattan (--input FILE | --query SQL [--gateway URL]) [--out PREFIX] [--title T]
                                                 Manhattan and QQ plots (SVG) of a GWAS result`;

function fail(message: string, code = 2): never {
  console.error(`veilsql: ${message}`);
  process.exit(code);
}

function describeError(e: unknown): string {
  if (e instanceof SqlError) return `${e.message}${e.hint ? `\nHINT: ${e.hint}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'init': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) fail(`init takes one federation.yaml\n${USAGE}`);
      const { initFederation } = await import('../server/certs.js');
      const summary = await initFederation(positionals[0]);
      console.log(`federation ${summary.federation}: CA ${summary.ca.status} (${summary.ca.cert})`);
      for (const n of summary.nodes) console.log(`  ${n.name}: ${n.status}${n.reason ? ` (${n.reason})` : ''} ${n.cert}`);
      return;
    }
    case 'node': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, verbose: { type: 'boolean' } } });
      if (!values.config) fail(`node needs --config node.yaml\n${USAGE}`);
      const { runNode } = await import('../server/node.js');
      const node = await runNode(values.config, { requestLog: values.verbose });
      const stop = () => {
        void node.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Started by `veilsql demo`: stop when the launcher goes away, even if it was killed.
      if (process.send) process.once('disconnect', stop);
      return;
    }
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: { dir: { type: 'string', default: 'demo-data' }, seed: { type: 'string', default: '42' }, lenders: { type: 'string' } },
      });
      const seed = Number(values.seed);
      if (!Number.isInteger(seed)) fail(`--seed must be an integer, not "${values.seed}"`);
      const lenders = values.lenders === undefined ? undefined : Number(values.lenders);
      if (lenders !== undefined && !(Number.isInteger(lenders) && lenders > 0)) fail(`--lenders must be a positive integer`);
      const { launchDemo } = await import('./demo-launcher.js');
      await launchDemo({ dir: values.dir!, seed, lenders });
      return;
    }
    case 'query': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { gateway: { type: 'string', short: 'g' } } });
      const gateway = values.gateway ?? process.env.VEILSQL_GATEWAY ?? 'postgres://analyst:analyst@127.0.0.1:5433/veilsql';
      if (positionals.length === 0) fail(`query needs the SQL text\n${USAGE}`);
      const { runQueryCommand } = await import('./query.js');
      const ok = await runQueryCommand(gateway, positionals.join(' '), (s) => console.log(s), (s) => console.error(s));
      process.exitCode = ok ? 0 : 1;
      return;
    }
    case 'bench': {
      const { runBenchmarks } = await import('../bench/run.js');
      await runBenchmarks(rest);
      return;
    }
    case 'plot': {
      const [kind, ...args] = rest;
      if (kind !== 'manhattan') fail(`plot supports: manhattan\n${USAGE}`);
      const { values } = parseArgs({
        args,
        options: {
          input: { type: 'string', short: 'i' }, query: { type: 'string', short: 'q' }, gateway: { type: 'string', short: 'g' },
          out: { type: 'string', short: 'o', default: 'gwas' }, title: { type: 'string' },
          'genome-wide': { type: 'string' }, suggestive: { type: 'string' }, 'label-top': { type: 'string' },
        },
      });
      if (!values.input === !values.query) fail(`plot manhattan needs exactly one of --input FILE or --query SQL\n${USAGE}`);
      const { runPlotCommand } = await import('./plot/command.js');
      const files = await runPlotCommand({
        input: values.input,
        query: values.query,
        gateway: values.gateway ?? process.env.VEILSQL_GATEWAY ?? 'postgres://analyst:analyst@127.0.0.1:5433/veilsql',
        out: values.out!,
        options: {
          title: values.title,
          genomeWide: values['genome-wide'] ? Number(values['genome-wide']) : undefined,
          suggestive: values.suggestive ? Number(values.suggestive) : undefined,
          labelTop: values['label-top'] ? Number(values['label-top']) : undefined,
        },
      });
      for (const f of files) console.log(`wrote ${f}`);
      return;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e) => fail(describeError(e), 1));
