/**
 * A small federation in one process for the DP tests: parties p1, p2, p3 (p1 is the requester)
 * with tables written by the test, federated tables over them, a privacy budget per party and
 * bank_a-style embedded connectors. Lets a test build neighbouring databases D and D′ as two
 * tables and run the whole SQL path on both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFederation } from '../../cli/federation-files.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { PrivacyBudgetConfig } from '../../connectors/config-types.js';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
// The DP operator registers itself on import (executor/operators/index.ts loads it too).
import '../../executor/operators/dp-aggregate/index.js';
import type { EngineSession, Notice } from '../../executor/session-types.js';
import { arrowCellToText } from '../support/arrow-text.js';

export interface DpTable {
  name: string;
  /** Header then rows, per party. */
  columns: Record<string, string>;
  header: string[];
  rows: Record<string, (string | number | null)[][]>;
}

export interface DpFederation {
  parties: Map<string, Party>;
  connectors: Map<string, PartyConnector>;
  engine: FederatedEngine;
  session: EngineSession;
  query(sql: string): Promise<{ columns: string[]; rows: (string | null)[][]; notices: Notice[] }>;
  close(): Promise<void>;
}

export const PARTIES = ['p1', 'p2', 'p3'];

function csv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => (v === null ? '' : typeof v === 'number' ? String(v) : `"${v.replace(/"/g, '""')}"`);
  return [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

export async function startDpFederation(
  tables: DpTable[],
  options: { budget?: PrivacyBudgetConfig | null; budgetFor?: (party: string) => PrivacyBudgetConfig | undefined; database?: (party: string) => string } = {},
): Promise<DpFederation & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-dp-'));
  const written = await writeFederation(dir, {
    name: 'dptest',
    nodes: PARTIES.map((name, i) => ({
      name,
      port: 40_000 + i,
      tables: tables.map((t) => {
        const source = join(dir, `${name}_${t.name}.csv`);
        writeFileSync(source, csv(t.header, t.rows[name] ?? []));
        return { name: t.name, source, columns: { ...t.columns } };
      }),
    })),
    federatedTables: Object.fromEntries(tables.map((t) => [`stat.${t.name}`, { table: t.name, parties: [...PARTIES] }])),
  });
  const budget = options.budget === undefined ? { epsilon: 1e6, delta: 0.5, periodSeconds: 86_400 } : options.budget ?? undefined;
  const parties = new Map<string, Party>();
  const connectors = new Map<string, PartyConnector>();
  for (const n of written.nodes) {
    const partyBudget = options.budgetFor ? options.budgetFor(n.name) : budget;
    const config = { ...loadNodeConfig(n.configPath), database: options.database?.(n.name) ?? ':memory:', ...(partyBudget ? { privacy: partyBudget } : {}) };
    const party = await Party.open(config);
    registerPartyProtocols(party);
    parties.set(n.name, party);
    connectors.set(n.name, new EmbeddedPartyConnector(party, 'p1'));
  }
  const federation = loadNodeConfig(written.nodes[0].configPath).federation;
  const engine = await FederatedEngine.create({
    self: 'p1',
    connectors,
    federatedTables: [...federation.federatedTables.values()],
    fragmentTimeoutMs: 30_000,
  });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    dir,
    parties,
    connectors,
    engine,
    session,
    async query(sql) {
      const notices: Notice[] = [];
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: (n) => notices.push(n) });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        for (let r = 0; r < batch.numRows; r++) rows.push(batch.schema.fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], rows, notices };
    },
    async close() {
      await engine.close();
      for (const p of parties.values()) await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
