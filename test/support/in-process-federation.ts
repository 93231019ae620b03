/**
 * A whole demo federation inside the test process: every party a `Party` over an in-memory
 * DuckDB, reached through embedded connectors, with bank_a's engine on top. No sockets, no
 * TLS — for fast tests of planning and execution; the transport has its own tests and the
 * integration suite runs real processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemo, demoNodes, type DemoDescription } from '../../cli/demo/index.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import type { EngineSession, Notice } from '../../executor/session-types.js';
import { arrowCellToText } from './arrow-text.js';

export interface InProcessFederation {
  dir: string;
  description: DemoDescription;
  parties: Map<string, Party>;
  engine: FederatedEngine;
  session: EngineSession;
  /** Runs one statement; every value as text (NULL as null), plus the column names. */
  query(sql: string): Promise<{ columns: string[]; types: string[]; rows: (string | null)[][]; notices: Notice[] }>;
  close(): Promise<void>;
}

export async function startInProcessFederation(
  nodeNames: string[],
  options: { requester?: string; lenders?: number; hospitals?: number; fragmentTimeoutMs?: number } = {},
): Promise<InProcessFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-inproc-'));
  const description = await generateDemo(dir, 42, { lenders: options.lenders ?? 2, hospitals: options.hospitals ?? 2 });
  const listing = demoNodes(dir);
  const requester = options.requester ?? 'bank_a';
  const parties = new Map<string, Party>();
  const connectors = new Map<string, PartyConnector>();
  for (const n of listing.nodes) {
    if (!nodeNames.includes(n.name)) continue;
    const config = { ...loadNodeConfig(n.configPath), database: ':memory:' };
    const party = await Party.open(config);
    registerPartyProtocols(party);
    parties.set(n.name, party);
    connectors.set(n.name, new EmbeddedPartyConnector(party, requester));
  }
  const federation = loadNodeConfig(listing.nodes.find((n) => n.name === requester)!.configPath).federation;
  const engine = await FederatedEngine.create({
    self: requester,
    connectors,
    federatedTables: [...federation.federatedTables.values()],
    fragmentTimeoutMs: options.fragmentTimeoutMs ?? 30_000,
  });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    dir,
    description,
    parties,
    engine,
    session,
    async query(sql) {
      const notices: Notice[] = [];
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: (n) => notices.push(n) });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        for (let r = 0; r < batch.numRows; r++) {
          rows.push(batch.schema.fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
        }
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], types: outcome.columns?.map((c) => c.type) ?? [], rows, notices };
    },
    async close() {
      await engine.close();
      for (const p of parties.values()) await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
