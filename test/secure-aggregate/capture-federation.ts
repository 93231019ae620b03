/**
 * The seeded demo federation in this process (like test/support/in-process-federation.ts), with
 * every node-to-node byte recorded: each connector is wrapped so that protocol frames in both
 * directions and fragment results (as Arrow IPC) land in `traffic`, per party. Tests search the
 * capture for values that must never travel (a party's partial aggregates).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemo, demoNodes } from '../../cli/demo/index.js';
import { arrowToIpcStream } from '../../connectors/arrow/ipc.js';
import { loadNodeConfig } from '../../connectors/config.js';
import type { FragmentRequest, FragmentStream, FrameChannel, PartyConnector, ProtocolRequest } from '../../connectors/connector.js';
import { EmbeddedPartyConnector } from '../../connectors/embedded-duckdb.js';
import { Party } from '../../connectors/party/party.js';
import { FederatedEngine } from '../../executor/engine.js';
import { registerPartyProtocols } from '../../executor/operators/index.js';
import '../../executor/operators/secure-aggregate/index.js';
import type { Notice } from '../../executor/session-types.js';
import { arrowCellToText } from '../support/arrow-text.js';

class CapturingConnector implements PartyConnector {
  readonly party: string;
  constructor(private readonly inner: PartyConnector, private readonly sink: Uint8Array[]) {
    this.party = inner.party;
  }
  catalog(signal?: AbortSignal) {
    return this.inner.catalog(signal);
  }
  async execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    this.sink.push(Buffer.from(JSON.stringify(request)));
    const stream = await this.inner.execute(request, signal);
    const sink = this.sink;
    // Record the rows exactly as they would cross the wire (Arrow IPC).
    const recorded: FragmentStream = {
      schema: stream.schema,
      async *[Symbol.asyncIterator]() {
        const all = [];
        for await (const b of stream) all.push(b);
        for await (const c of arrowToIpcStream({ schema: stream.schema, async *[Symbol.asyncIterator]() { yield* all; } })) sink.push(c);
        yield* all;
      },
    };
    return recorded;
  }
  async openProtocol(request: ProtocolRequest, signal: AbortSignal): Promise<FrameChannel> {
    this.sink.push(Buffer.from(JSON.stringify(request)));
    const ch = await this.inner.openProtocol(request, signal);
    const sink = this.sink;
    return {
      async send(frame) {
        sink.push(frame.slice());
        return ch.send(frame);
      },
      async receive() {
        const f = await ch.receive();
        if (f) sink.push(f.slice());
        return f;
      },
      end: () => ch.end(),
      destroy: (e) => ch.destroy(e),
      [Symbol.asyncIterator]: () => ch[Symbol.asyncIterator](),
    };
  }
  close() {
    return this.inner.close();
  }
}

export interface CaptureFederation {
  parties: Map<string, Party>;
  traffic: Map<string, Uint8Array[]>;
  query(sql: string): Promise<{ columns: string[]; rows: (string | null)[][]; notices: Notice[] }>;
  close(): Promise<void>;
}

export async function startCaptureFederation(nodeNames: string[], options: { hospitals?: number } = {}): Promise<CaptureFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'veilsql-capture-'));
  await generateDemo(dir, 42, { lenders: 1, hospitals: options.hospitals ?? 2 });
  const listing = demoNodes(dir);
  const requester = 'bank_a';
  const parties = new Map<string, Party>();
  const connectors = new Map<string, PartyConnector>();
  const traffic = new Map<string, Uint8Array[]>();
  for (const n of listing.nodes) {
    if (!nodeNames.includes(n.name)) continue;
    const party = await Party.open({ ...loadNodeConfig(n.configPath), database: ':memory:' });
    registerPartyProtocols(party);
    parties.set(n.name, party);
    traffic.set(n.name, []);
    connectors.set(n.name, new CapturingConnector(new EmbeddedPartyConnector(party, requester), traffic.get(n.name)!));
  }
  const federation = loadNodeConfig(listing.nodes.find((n) => n.name === requester)!.configPath).federation;
  const engine = await FederatedEngine.create({ self: requester, connectors, federatedTables: [...federation.federatedTables.values()], fragmentTimeoutMs: 30_000 });
  const session = await engine.openSession('analyst', 'veilsql', {});
  return {
    parties,
    traffic,
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

/** Rows of `sql` run by `party` over its own tables (its own data: no policy restriction). */
export async function ownRows(party: Party, sql: string): Promise<unknown[][]> {
  const stream = await party.executeFragment(party.name, { queryId: 'reference', sql, timeoutMs: 30_000 }, new AbortController().signal);
  const rows: unknown[][] = [];
  for await (const b of stream) {
    for (let r = 0; r < b.numRows; r++) rows.push(b.schema.fields.map((_, c) => b.getChildAt(c)!.get(r)));
  }
  return rows;
}

export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const h = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  return h.indexOf(Buffer.from(needle)) >= 0;
}
