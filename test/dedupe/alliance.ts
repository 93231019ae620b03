/**
 * A lending alliance for the dedupe tests: N lenders (`lender_001` …) with overlapping
 * applicant sets, a hub, three key holders (`regulator`, a key holder only, and the first two
 * lenders, which are parties *and* key holders), `lender_001` with a Postgres gateway.
 *
 * Two ways to run it:
 * - `embedded`: every node a `Party` over in-memory DuckDB in this process, reached through
 *   embedded connectors (fast; for semantics, errors and rotation);
 * - `mtls`: every node a real `runNode` in this process — its own HTTP/2 + mutual TLS party
 *   endpoint on loopback, its own DuckDB — talking to the others over real sockets. 100 node
 *   *processes* would need ~100 × 80 MB and 100 Node runtimes competing for 2 cores; one process
 *   with 100 real endpoints exercises the same transport, certificates and code paths.
 *
 * Data: persons from a shared pool apply at 1–6 lenders within a few days (keys stored untidy:
 * case and surrounding spaces vary per lender, as the demo's do; a few keys are NULL); the
 * expected answer of any dedupe query is computed by plain DuckDB SQL over all lenders' rows.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parse, stringify } from 'yaml';
import { freePort } from '../../cli/free-port.js';
import { writeFederation, type NodeSpec } from '../../cli/federation-files.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { NodeConfig } from '../../connectors/config-types.js';
import type { FrameChannel, PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import { startDedupeServices, type DedupeNode } from '../../executor/operators/dedupe/index.js';
import type { EngineSession, Notice } from '../../executor/session-types.js';
import { runNode, type RunningNode } from '../../server/node.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { arrowCellToText } from '../support/arrow-text.js';

export const TABLE = 'alliance.applications';
export const AS_OF = '2024-06-30';
const AS_OF_DAY = Date.UTC(2024, 5, 30) / 86_400_000;

export interface Application {
  app_id: number;
  id_key: string | null;
  /** `YYYY-MM-DD HH:MM:SS`. */
  applied_at: string;
  product: string;
}

export interface AllianceOptions {
  lenders: number;
  /** Applications per lender (approximate: multi-lender persons add a few). */
  perLender: number;
  mode: 'embedded' | 'mtls';
  seed?: number;
  /** Overrides of the dedupe section (e.g. `threshold`, `epoch`). */
  dedupe?: Record<string, unknown>;
  /** Policy of applied_at at every lender (default public). */
  timePolicy?: string;
}

/** A seeded PRNG (tests are reproducible; this is test data, not cryptography). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function timestamp(day: number, seconds: number): string {
  const d = new Date((day * 86_400 + seconds) * 1000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** Generates every lender's applications (deterministic for a seed). */
export function generateApplications(lenders: string[], perLender: number, seed = 7): Map<string, Application[]> {
  const r = rng(seed);
  const out = new Map<string, Application[]>(lenders.map((l) => [l, []]));
  const persons = Math.max(4, Math.round((lenders.length * perLender) / 2.2));
  const key = (p: number) => `ID${pad(p * 7919 % 1_000_003, 7)}X`;
  const untidy = (k: string) => {
    const v = r();
    return v < 0.15 ? k.toLowerCase() : v < 0.25 ? `  ${k} ` : k;
  };
  const push = (l: string, idKey: string | null, day: number) => {
    const list = out.get(l)!;
    list.push({ app_id: (lenders.indexOf(l) + 1) * 1_000_000 + list.length + 1, id_key: idKey, applied_at: timestamp(day, 7 * 3600 + Math.floor(r() * 16 * 3600)), product: r() < 0.5 ? 'cash_loan' : 'credit_card' });
  };
  for (const l of lenders) {
    for (let i = 0; i < perLender; i++) {
      if (r() < 0.01) {
        push(l, null, AS_OF_DAY - Math.floor(r() * 20));
        continue;
      }
      const p = Math.floor(r() * persons);
      // A "hot" person applies at several lenders within a few days of each other.
      const burst = AS_OF_DAY - Math.floor(r() * 20);
      push(l, untidy(key(p)), burst);
      if (r() < 0.25) {
        const extra = 1 + Math.floor(r() * 4);
        for (let j = 0; j < extra; j++) push(lenders[Math.floor(r() * lenders.length)], untidy(key(p)), Math.min(AS_OF_DAY, burst + Math.floor(r() * 7) - 3));
      }
    }
  }
  return out;
}

function csv(apps: Application[]): string {
  const q = (v: string | null) => (v === null ? '' : `"${v}"`);
  return ['app_id,id_key,applied_at,product', ...apps.map((a) => `${a.app_id},${q(a.id_key)},${a.applied_at},${a.product}`)].join('\n') + '\n';
}

export interface Alliance {
  dir: string;
  lenders: string[];
  holders: string[];
  hub: string;
  applications: Map<string, Application[]>;
  configs: Map<string, NodeConfig>;
  parties: Map<string, Party>;
  services: Map<string, DedupeNode>;
  /** Real nodes (mtls mode). */
  nodes: Map<string, RunningNode>;
  gatewayPort?: number;
  engine?: FederatedEngine;
  session?: EngineSession;
  /** lender_001's query through the engine (embedded mode) — values as text. */
  query(sql: string): Promise<{ columns: string[]; rows: (string | null)[][]; notices: Notice[] }>;
  /** Records (embedded mode) every frame `from` receives in its sessions with `to`. */
  tap(from: string, to: string): Uint8Array[];
  /** Cuts (embedded mode) the link from one node to another: its sessions fail with 08006. */
  partition(from: string, to: string): void;
  /**
   * Stops a node (embedded mode) as a crash would: it is closed and every connection to it —
   * catalog, fragments, protocol sessions, from any node or the gateway — is refused (08006).
   * The gateway's catalog cache forgets it, as it would once the cache entry expires.
   */
  stop(name: string): Promise<void>;
  /** Rewrites a lender's source file (new applications arrive). */
  setApplications(lender: string, apps: Application[]): void;
  /** Every lender uploads (in parallel, `concurrency` at a time). */
  syncAll(concurrency?: number): Promise<void>;
  /** The plaintext answer, by DuckDB over everyone's rows. */
  expected(sql: (all: string, me: string) => string): Promise<(string | null)[][]>;
  close(): Promise<void>;
}

async function inBatches<T>(items: T[], width: number, f: (item: T) => Promise<unknown>): Promise<void> {
  const queue = items.slice();
  await Promise.all(Array.from({ length: width }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await f(item);
  }));
}

export async function startAlliance(options: AllianceOptions): Promise<Alliance> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-dedupe-'));
  const lenders = Array.from({ length: options.lenders }, (_, i) => `lender_${pad(i + 1, 3)}`);
  const holders = ['lender_001', 'lender_002', 'regulator'];
  const hub = 'hub';
  const applications = generateApplications(lenders, options.perLender, options.seed);
  const files = new Map<string, string>();
  for (const l of lenders) {
    const file = join(dir, `${l}.csv`);
    writeFileSync(file, csv(applications.get(l)!));
    files.set(l, file);
  }
  const names = [hub, 'regulator', ...lenders];
  const ports = options.mode === 'mtls' ? await Promise.all(names.map(() => freePort())) : names.map((_, i) => 40_000 + i);
  const gatewayPort = options.mode === 'mtls' ? await freePort() : undefined;
  const policy = options.timePolicy ?? 'public';
  const specs: NodeSpec[] = names.map((name, i) => ({
    name,
    port: ports[i],
    tables: files.has(name)
      ? [{ name: 'applications', source: files.get(name)!, columns: { app_id: 'public', id_key: { level: 'join_key', normalize: { trim: true, unicode: 'NFC', case: 'lower' } }, applied_at: policy, product: 'public' } }]
      : [],
    ...(name === 'lender_001' && gatewayPort !== undefined ? { gateway: { port: gatewayPort } } : {}),
  }));
  const written = await writeFederation(dir, { name: 'alliance', nodes: specs, federatedTables: { [TABLE]: { table: 'applications', parties: lenders } } });
  // Roles and the dedupe section (writeFederation knows only `role: hub`).
  const fed = parse(readFileSync(written.federationPath, 'utf8')) as { nodes: Record<string, Record<string, unknown>>; federated_tables: Record<string, Record<string, unknown>> };
  fed.nodes[hub].role = 'hub';
  fed.nodes.regulator.role = 'key_holder';
  for (const h of holders) if (h !== 'regulator') fed.nodes[h].role = ['party', 'key_holder'];
  fed.federated_tables[TABLE].dedupe = { hub, key: 'id_key', time: 'applied_at', bucket: '1d', threshold: 2, sync: '1h', ...options.dedupe };
  writeFileSync(written.federationPath, stringify(fed));
  const configs = new Map(written.nodes.map((n) => [n.name, loadNodeConfig(n.configPath)]));

  const parties = new Map<string, Party>();
  const services = new Map<string, DedupeNode>();
  // Simulated network partitions (embedded mode): sessions from → to fail as a dead node's would.
  const cut = new Set<string>();
  const open = new Map<string, Set<FrameChannel>>();
  const partitionable = (c: PartyConnector, from: string, to: string): PartyConnector => ({
    party: c.party,
    catalog: (signal) => c.catalog(signal),
    execute: (r, signal) => c.execute(r, signal),
    close: () => c.close(),
    openProtocol: async (r, signal) => {
      const link = `${from}>${to}`;
      if (cut.has(link)) throw unreachable(to);
      const channel = await c.openProtocol(r, signal);
      const live = open.get(link) ?? new Set<FrameChannel>();
      open.set(link, live);
      live.add(channel);
      const tap = taps.get(link);
      return {
        ...channel,
        send: (f) => channel.send(f),
        end: () => channel.end(),
        destroy: (e) => {
          live.delete(channel);
          channel.destroy(e);
        },
        receive: async () => {
          const f = await channel.receive();
          if (f) tap?.push(f.slice());
          return f;
        },
      };
    },
  });
  const unreachable = (to: string) => new SqlError(SqlState.connectionFailure, `party "${to}" is unreachable: connection reset (partitioned by the test)`);
  // Stopped nodes (embedded mode): every connector to them fails as one to a dead node would.
  const stopped = new Set<string>();
  const refused = (to: string) => new SqlError(SqlState.connectionFailure, `party "${to}" is unreachable: connection refused (stopped by the test)`);
  const stoppable = (c: PartyConnector, to: string): PartyConnector => {
    const alive = () => {
      if (stopped.has(to)) throw refused(to);
    };
    return {
      party: c.party,
      catalog: async (signal) => (alive(), c.catalog(signal)),
      execute: async (r, signal) => (alive(), c.execute(r, signal)),
      openProtocol: async (r, signal) => (alive(), c.openProtocol(r, signal)),
      close: () => c.close(),
    };
  };
  const taps = new Map<string, Uint8Array[]>();
  const nodes = new Map<string, RunningNode>();
  let engine: FederatedEngine | undefined;
  let session: EngineSession | undefined;
  const quiet = { info: () => undefined, warn: (l: string) => (process.env.VEILSQL_TEST_VERBOSE ? console.error(l) : undefined) };
  if (options.mode === 'embedded') {
    for (const name of names) {
      const party = await Party.open({ ...configs.get(name)!, database: ':memory:' });
      registerPartyProtocols(party);
      parties.set(name, party);
    }
    for (const name of names) {
      const connect = (target: string): PartyConnector => stoppable(partitionable(new EmbeddedPartyConnector(parties.get(target)!, name), name, target), target);
      const node = await startDedupeServices(configs.get(name)!, parties.get(name)!, { connect, timers: false, logger: quiet });
      if (node) services.set(name, node);
    }
    const connectors = new Map<string, PartyConnector>(lenders.map((l) => [l, stoppable(new EmbeddedPartyConnector(parties.get(l)!, 'lender_001'), l)]));
    const federation = configs.get('lender_001')!.federation;
    engine = await FederatedEngine.create({ self: 'lender_001', connectors, federatedTables: [...federation.federatedTables.values()], fragmentTimeoutMs: 60_000 });
    session = await engine.openSession('analyst', 'veilsql', {});
  } else {
    // A few nodes at a time: start-up is mostly waiting (files, sockets), not CPU.
    await inBatches(names, 8, async (name) => {
      const n = await runNode(configs.get(name)!, { logger: quiet });
      nodes.set(name, n);
      parties.set(name, n.party);
    });
    for (const name of names) {
      const { dedupeNode } = await import('../../executor/operators/dedupe/index.js');
      const node = dedupeNode(name);
      if (node) services.set(name, node);
    }
  }

  const alliance: Alliance = {
    dir,
    lenders,
    holders,
    hub,
    applications,
    configs,
    parties,
    services,
    nodes,
    ...(gatewayPort !== undefined ? { gatewayPort } : {}),
    ...(engine ? { engine } : {}),
    ...(session ? { session } : {}),
    async query(sql) {
      if (!session) throw new Error('query() needs embedded mode; use the gateway in mtls mode');
      const notices: Notice[] = [];
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: (n) => notices.push(n) });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        for (let r = 0; r < batch.numRows; r++) rows.push(batch.schema.fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], rows, notices };
    },
    tap(from, to) {
      const frames: Uint8Array[] = [];
      taps.set(`${from}>${to}`, frames);
      return frames;
    },
    partition(from, to) {
      cut.add(`${from}>${to}`);
      // Established sessions break too, as a real partition would break their connection.
      for (const ch of open.get(`${from}>${to}`) ?? []) ch.destroy(unreachable(to));
    },
    async stop(name) {
      if (!engine) throw new Error('stop() needs embedded mode; close the node in mtls mode');
      stopped.add(name);
      for (const [link, channels] of open) if (link.endsWith(`>${name}`)) for (const ch of channels) ch.destroy(refused(name));
      await services.get(name)?.close();
      await parties.get(name)!.close();
      engine.invalidate(name);
    },
    setApplications(lender, apps) {
      applications.set(lender, apps);
      writeFileSync(files.get(lender)!, csv(apps));
      // A new modification time marks the source as changed even within one second.
      const t = Date.now() / 1000 + Math.random();
      utimesSync(files.get(lender)!, t, t);
    },
    async syncAll(concurrency = 8) {
      const queue = lenders.slice();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        for (let l = queue.shift(); l; l = queue.shift()) await services.get(l)!.lender!.syncAll();
      }));
    },
    async expected(sql) {
      const db = await DuckDBInstance.create(':memory:');
      const c: DuckDBConnection = await db.connect();
      try {
        await c.run('SET integer_division = true');
        const union = lenders.map((l) => `SELECT '${l}' AS lender, * FROM read_csv('${files.get(l)}', header = true, types = {'id_key': 'VARCHAR', 'applied_at': 'TIMESTAMP'})`).join(' UNION ALL ');
        await c.run(`CREATE TABLE all_apps AS SELECT *, lower(trim(nfc_normalize(id_key))) AS k FROM (${union})`);
        await c.run(`CREATE TABLE me AS SELECT * FROM all_apps WHERE lender = 'lender_001'`);
        const rows = (await c.runAndReadAll(sql('all_apps', 'me'))).getRows();
        return rows.map((r) => r.map((v) => (v === null ? null : String(v))));
      } finally {
        c.closeSync();
        db.closeSync();
      }
    },
    async close() {
      await engine?.close().catch(() => undefined);
      for (const s of services.values()) if (!nodes.size) await s.close().catch(() => undefined);
      // The hub first: it ends its pooled sessions with the key holders cleanly before they stop.
      await nodes.get(hub)?.close().catch(() => undefined);
      await inBatches([...nodes.values()], nodes.size, (n) => n.close().catch(() => undefined));
      if (!nodes.size) for (const p of parties.values()) await p.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return alliance;
}
