/**
 * A two-party federation for SECURE JOIN tests, in one process: `alpha` (the requester, with
 * gateway) and `beta`, each a real `Party` over an in-memory DuckDB reading Parquet files the
 * test rewrites between cases (`setTables`). Connectors can be wrapped to capture or break the
 * traffic between the gateway and beta.
 *
 * alpha.t(id INTEGER, k1 VARCHAR, k2 INTEGER, g VARCHAR, x INTEGER)   — the requester's own table
 * beta.t(rid INTEGER public, k1 VARCHAR join_key, k2 DECIMAL(10,2) join_key, w VARCHAR public,
 *        amount DECIMAL(12,2) aggregate, secret VARCHAR private)
 * Both k1 columns declare normalize { trim, NFC, lower }.
 */
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFederation } from '../../cli/federation-files.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import type { EngineSession, Notice } from '../../executor/session-types.js';
import { arrowCellToText } from '../support/arrow-text.js';

export interface AlphaRow { id: number; k1: string | null; k2: number | null; g: string | null; x: number | null }
export interface BetaRow { rid: number; k1: string | null; k2: string | null; w: string | null; amount: string | null; secret?: string | null }

export const NORMALIZE = { trim: true, unicode: 'NFC', case: 'lower' } as const;

export interface PsiFederation {
  dir: string;
  alpha: Party;
  beta: Party;
  engine: FederatedEngine;
  session: EngineSession;
  setTables(alpha: AlphaRow[], beta: BetaRow[]): Promise<void>;
  query(sql: string, options?: { signal?: AbortSignal; onNotice?: (n: Notice) => void }): Promise<{ columns: string[]; rows: (string | null)[][]; notices: Notice[] }>;
  close(): Promise<void>;
}

const quote = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

async function writeParquet(file: string, ddl: string, rows: (string | number | null)[][]): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`CREATE TABLE t (${ddl})`);
    for (let i = 0; i < rows.length; i += 500) {
      const values = rows.slice(i, i + 500).map((r) => `(${r.map((v) => (typeof v === 'number' ? String(v) : quote(v))).join(', ')})`);
      await c.run(`INSERT INTO t VALUES ${values.join(', ')}`);
    }
    await c.run(`COPY t TO '${file}' (FORMAT parquet)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const ALPHA_DDL = 'id INTEGER, k1 VARCHAR, k2 INTEGER, g VARCHAR, x INTEGER';
const BETA_DDL = 'rid INTEGER, k1 VARCHAR, k2 DECIMAL(10,2), w VARCHAR, amount DECIMAL(12,2), secret VARCHAR';

export async function startPsiFederation(options: { wrapBeta?: (c: PartyConnector) => PartyConnector; fragmentTimeoutMs?: number } = {}): Promise<PsiFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-psi-'));
  const alphaFile = join(dir, 'alpha.parquet');
  const betaFile = join(dir, 'beta.parquet');
  await writeParquet(alphaFile, ALPHA_DDL, []);
  await writeParquet(betaFile, BETA_DDL, []);
  const fed = await writeFederation(dir, {
    name: 'psi',
    nodes: [
      {
        name: 'alpha',
        port: 1,
        gateway: { port: 2 },
        tables: [{ name: 't', source: alphaFile, columns: { id: 'public', k1: { level: 'join_key', normalize: NORMALIZE }, k2: 'join_key', g: 'public', x: 'aggregate' } }],
      },
      {
        name: 'beta',
        port: 3,
        tables: [{ name: 't', source: betaFile, min_group: 3, columns: { rid: 'public', k1: { level: 'join_key', normalize: NORMALIZE }, k2: 'join_key', w: 'public', amount: 'aggregate', secret: 'private' } }],
      },
    ],
  });
  const parties: Party[] = [];
  for (const n of fed.nodes) {
    const party = await Party.open({ ...loadNodeConfig(n.configPath), database: ':memory:' });
    registerPartyProtocols(party);
    parties.push(party);
  }
  const [alpha, beta] = parties;
  const connectors = new Map<string, PartyConnector>([
    ['alpha', new EmbeddedPartyConnector(alpha, 'alpha')],
    ['beta', (options.wrapBeta ?? ((c) => c))(new EmbeddedPartyConnector(beta, 'alpha'))],
  ]);
  const engine = await FederatedEngine.create({ self: 'alpha', connectors, federatedTables: [], fragmentTimeoutMs: options.fragmentTimeoutMs ?? 60_000 });
  const session = await engine.openSession('analyst', 'veilsql', {});
  let version = 1_000_000;
  return {
    dir,
    alpha,
    beta,
    engine,
    session,
    async setTables(a, b) {
      await writeParquet(alphaFile, ALPHA_DDL, a.map((r) => [r.id, r.k1, r.k2, r.g, r.x]));
      await writeParquet(betaFile, BETA_DDL, b.map((r) => [r.rid, r.k1, r.k2, r.w, r.amount, r.secret ?? null]));
      // A new modification time marks the sources as changed even within one second.
      version += 10;
      utimesSync(alphaFile, version, version);
      utimesSync(betaFile, version, version);
      await alpha.refresh();
      await beta.refresh();
    },
    async query(sql, opts = {}) {
      const notices: Notice[] = [];
      const outcome = await session.execute(sql, [], {
        signal: opts.signal ?? new AbortController().signal,
        notice: (n) => {
          notices.push(n);
          opts.onNotice?.(n);
        },
      });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        for (let r = 0; r < batch.numRows; r++) rows.push(batch.schema.fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], rows, notices };
    },
    async close() {
      await engine.close();
      for (const p of parties) await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
