/**
 * One process of the SECURE JOIN benchmark (bench/secure-join.ts), in one of two roles:
 *
 * - `party <node.yaml>`: the other party — its Party (own DuckDB, policy) served over mutual
 *   TLS by a PartyEndpoint speaking only the SECURE JOIN protocol; prints `ready`, and on a
 *   `stats` line on stdin prints its peak RSS as JSON.
 * - `requester <node.yaml> <party> <sql>`: the requester's gateway — its own party embedded,
 *   the other party reached over mTLS — runs the query once and prints wall time, rows, bytes
 *   sent/received on the protocol channel and its peak RSS as JSON.
 *
 * Only the SECURE JOIN operator is loaded, so the benchmark measures it alone.
 */
import { createInterface } from 'node:readline';
import { loadNodeConfig } from '../connectors/config.js';
import type { FrameChannel, PartyConnector } from '../connectors/connector.js';
import { EmbeddedPartyConnector } from '../connectors/embedded-duckdb.js';
import { Party } from '../connectors/party/party.js';
import { RemotePartyConnector } from '../connectors/remote.js';
import { FederatedEngine } from '../executor/engine.js';
import '../executor/operators/secure-join/index.js';
import { SECURE_JOIN_PROTOCOL } from '../planner/operators/secure-join.js';
import { registerPartyProtocols } from '../executor/operators/registry.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { PartyEndpoint } from '../server/party-endpoint.js';

const peakRssMB = () => process.resourceUsage().maxRSS / 1024;
/** CPU seconds of the whole process (all threads): a figure that load from other work inflates far less than wall time. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function party(configPath: string): Promise<void> {
  const config = loadNodeConfig(configPath);
  const p = await Party.open(config);
  registerPartyProtocols(p);
  const endpoint = await PartyEndpoint.fromNodeConfig(config, p, {});
  // Only SECURE JOIN is served: the benchmark measures this operator alone.
  for (const name of p.protocols().filter((n) => n === SECURE_JOIN_PROTOCOL)) {
    endpoint.registerProtocol(name, async (session) => {
      const first = await session.channel.receive();
      if (first === null) throw new SqlError(SqlState.protocolViolation, 'no request');
      await p.runProtocol(session.requester, JSON.parse(new TextDecoder().decode(first)), session.channel, session.signal);
    });
  }
  const cpuAtReady = cpuSeconds();
  console.log(`ready ${config.name}`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'stats') console.log(JSON.stringify({ peakRssMB: peakRssMB(), cpuSeconds: cpuSeconds() - cpuAtReady }));
    if (line.trim() === 'exit') break;
  }
  await endpoint.close(1000);
  await p.close();
  process.exit(0);
}

async function requester(configPath: string, other: string, sql: string): Promise<void> {
  const config = loadNodeConfig(configPath);
  const own = await Party.open(config);
  let sent = 0;
  let received = 0;
  const remote = RemotePartyConnector.fromNodeConfig(config, other, { requestTimeoutMs: 600_000 });
  const counted: PartyConnector = {
    party: remote.party,
    catalog: (s) => remote.catalog(s),
    execute: (r, s) => remote.execute(r, s),
    close: () => remote.close(),
    async openProtocol(request, signal) {
      const channel = await remote.openProtocol(request, signal);
      const wrapped: FrameChannel = {
        send: (f) => {
          sent += f.byteLength + 4;
          return channel.send(f);
        },
        receive: async () => {
          const f = await channel.receive();
          if (f) received += f.byteLength + 4;
          return f;
        },
        end: () => channel.end(),
        destroy: (e) => channel.destroy(e),
        [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
      };
      return wrapped;
    },
  };
  const engine = await FederatedEngine.create({
    self: config.name,
    connectors: new Map<string, PartyConnector>([[config.name, new EmbeddedPartyConnector(own, config.name)], [other, counted]]),
    federatedTables: [],
    fragmentTimeoutMs: 900_000,
  });
  const session = await engine.openSession('bench', 'veilsql', {});
  // The protocol runs for minutes at 1M keys: the session's 30 s default would stop it.
  for await (const _ of (await session.execute("SET fragment_timeout = '30min'", [], { signal: new AbortController().signal, notice: () => undefined })).batches) void _;
  const started = performance.now();
  const cpuAtStart = cpuSeconds();
  const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: (n) => console.error(n.message) });
  let rows = 0;
  for await (const batch of outcome.batches) rows += batch.numRows;
  const ms = performance.now() - started;
  console.log(JSON.stringify({ ms, rows, sentBytes: sent, receivedBytes: received, peakRssMB: peakRssMB(), cpuSeconds: cpuSeconds() - cpuAtStart }));
  await engine.close();
  await own.close();
  await remote.close();
  process.exit(0);
}

const [role, ...args] = process.argv.slice(2);
(role === 'party' ? party(args[0]) : requester(args[0], args[1], args[2])).catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
