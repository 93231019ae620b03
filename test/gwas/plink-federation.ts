/**
 * A federation of PLINK-backed parties inside the test process: each party publishes its
 * fileset as table `genotypes` (format plink, member of the federated `cohort.genotypes`), and a
 * separate node `lab` (no data) asks the questions. Embedded connectors, in-memory DuckDB.
 */
import { loadNodeConfig } from '../../connectors/config.js';
import type { PartyConnector } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import '../../executor/operators/secure-aggregate/index.js';
import type { EngineSession } from '../../executor/session-types.js';
import { freePort } from '../../cli/free-port.js';
import { writeFederation } from '../../cli/federation-files.js';
import { arrowCellToText } from '../support/arrow-text.js';

export const PLINK_COLUMNS = {
  fid: 'private', iid: 'private', pat: 'private', mat: 'private', sex: 'aggregate', phenotype: 'aggregate',
  chr: 'public', snp: 'public', cm: 'public', bp: 'public', allele1: 'public', allele2: 'public', genotype: 'aggregate',
};

export interface PlinkFederation {
  parties: Map<string, Party>;
  engine: FederatedEngine;
  session: EngineSession;
  query(sql: string): Promise<{ columns: string[]; rows: (string | null)[][] }>;
  close(): Promise<void>;
}

export async function startPlinkFederation(dir: string, parties: string[], prefixes: string[], options: { minGroup?: number } = {}): Promise<PlinkFederation> {
  const ports = await Promise.all([...parties, 'lab'].map(() => freePort()));
  const fed = await writeFederation(dir, {
    name: 'gwas',
    nodes: [
      ...parties.map((name, i) => ({
        name,
        port: ports[i],
        tables: [{ name: 'genotypes', source: `${prefixes[i]}.bed`, columns: PLINK_COLUMNS, ...(options.minGroup ? { min_group: options.minGroup } : {}) }],
      })),
      { name: 'lab', port: ports[parties.length], tables: [] },
    ],
    federatedTables: { 'cohort.genotypes': { table: 'genotypes', parties } },
  });
  const opened = new Map<string, Party>();
  const connectors = new Map<string, PartyConnector>();
  for (const n of fed.nodes) {
    if (n.name === 'lab') continue;
    const party = await Party.open({ ...loadNodeConfig(n.configPath), database: ':memory:' });
    registerPartyProtocols(party);
    opened.set(n.name, party);
    connectors.set(n.name, new EmbeddedPartyConnector(party, 'lab'));
  }
  const federation = loadNodeConfig(fed.nodes.find((n) => n.name === 'lab')!.configPath).federation;
  const engine = await FederatedEngine.create({ self: 'lab', connectors, federatedTables: [...federation.federatedTables.values()], fragmentTimeoutMs: 120_000 });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    parties: opened,
    engine,
    session,
    async query(sql) {
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: () => undefined });
      const rows: (string | null)[][] = [];
      for await (const batch of outcome.batches) {
        for (let r = 0; r < batch.numRows; r++) rows.push(batch.schema.fields.map((f, c) => arrowCellToText(batch.getChildAt(c)!, r, f)));
      }
      return { columns: outcome.columns?.map((c) => c.name) ?? [], rows };
    },
    async close() {
      await engine.close();
      for (const p of opened.values()) await p.close();
    },
  };
}
