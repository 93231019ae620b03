/**
 * Shared fixtures for the transport tests: a federation with real certificates in a temp dir,
 * a fake PartyService that streams synthetic Arrow batches and records what happened to its
 * producer, and a TCP proxy that can be killed to simulate a dead party.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, makeData, RecordBatch, Schema, Struct, Utf8 } from 'apache-arrow';
import type { FragmentRequest, FragmentStream, PartyService } from '../../connectors/connector.js';
import type { PartyCatalog } from '../../planner/catalog-types.js';
import { SqlError } from '../../parser/errors.js';
import { initFederation } from '../../server/certs.js';
import { PartyEndpoint, type PartyEndpointOptions } from '../../server/party-endpoint.js';
import { RemotePartyConnector, type RemotePartyOptions } from '../../connectors/remote.js';

export interface Federation {
  dir: string;
  yaml: string;
  pem(name: string): { key: Buffer; cert: Buffer; ca: Buffer };
  /** Removes the temp directory (keys included). */
  remove(): void;
}

/** A federation of `names` (all on 127.0.0.1) with certificates issued by `veilsql init`. */
export async function makeFederation(names: string[], prefix = 'veilsql-transport-'): Promise<Federation> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const nodes = names.map((n, i) => `  ${n}: { url: https://127.0.0.1:${17100 + i}, cert: certs/${n}.pem }`).join('\n');
  const yaml = join(dir, 'federation.yaml');
  writeFileSync(yaml, `name: test\nca: certs/ca.pem\nnodes:\n${nodes}\n`);
  await initFederation(yaml);
  return {
    dir,
    yaml,
    pem: (name: string) => ({
      key: readFileSync(join(dir, 'certs', `${name}.key`)),
      cert: readFileSync(join(dir, 'certs', `${name}.pem`)),
      ca: readFileSync(join(dir, 'certs', 'ca.pem')),
    }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const testSchema = new Schema([
  new Field('id', new Int64(), true, new Map([['veilsql.type', 'BIGINT']])),
  new Field('label', new Utf8(), true, new Map([['veilsql.type', 'VARCHAR']])),
]);

const encoder = new TextEncoder();

/** A batch of rows [from, from + n): id = row, label = `row-<row>`. */
export function makeBatch(from: number, n: number): RecordBatch {
  const ids = new BigInt64Array(n);
  const offsets = new Int32Array(n + 1);
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(from + i);
    const b = encoder.encode(`row-${from + i}`);
    parts.push(b);
    bytes += b.byteLength;
    offsets[i + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.byteLength;
  }
  const children = [
    makeData({ type: new Int64(), length: n, data: ids }),
    makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data }),
  ];
  return new RecordBatch(testSchema, makeData({ type: new Struct(testSchema.fields), length: n, children, nullCount: 0 }));
}

export interface ProducerRecord {
  request: FragmentRequest;
  requester: string;
  /** Batches handed to the endpoint so far. */
  produced: number;
  aborted: boolean;
  /** The generator's finally block ran. */
  finished: boolean;
}

/**
 * Fake party. Fragment "SQL" is a tiny command language:
 * - `rows <total> <batch>`: stream total rows in batches
 * - `fail-before`: reject with 42501 before streaming
 * - `fail-after <batches>`: stream some batches, then throw 22012
 * - `forever <delayMs>`: one batch every delayMs until aborted
 * - `crash`: throw a plain Error (a bug in the party)
 */
export class FakeParty implements PartyService {
  readonly producers: ProducerRecord[] = [];
  catalogCalls: string[] = [];

  constructor(readonly name: string) {}

  async catalogFor(requester: string): Promise<PartyCatalog> {
    this.catalogCalls.push(requester);
    return {
      party: this.name,
      tables: [
        {
          name: 'users',
          columns: [
            { name: 'id_key', type: 'VARCHAR', policy: 'join_key', nullable: false, normalization: { trim: true, unicode: 'NFC', case: 'lower' } },
            { name: 'age_band', type: 'VARCHAR', policy: 'public', nullable: true },
            { name: 'note', type: 'VARCHAR', policy: requester === 'bank_a' ? 'public' : 'private', nullable: true },
          ],
          minGroup: 10,
          rowCount: 500_000,
        },
      ],
    };
  }

  async executeFragment(requester: string, request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    const [command, a, b] = request.sql.trim().split(/\s+/);
    const record: ProducerRecord = { request, requester, produced: 0, aborted: false, finished: false };
    this.producers.push(record);
    signal.addEventListener('abort', () => (record.aborted = true), { once: true });
    if (command === 'fail-before') throw new SqlError('42501', 'permission denied for column "balance" of table "customers"', { hint: 'ask the owner for a grant' });
    if (command === 'crash') throw new Error('oops');
    async function* produce(): AsyncGenerator<RecordBatch> {
      try {
        if (command === 'rows') {
          const total = Number(a);
          const size = Number(b);
          for (let from = 0; from < total; from += size) {
            if (signal.aborted) return;
            record.produced++;
            yield makeBatch(from, Math.min(size, total - from));
          }
        } else if (command === 'fail-after') {
          for (let i = 0; i < Number(a); i++) {
            record.produced++;
            yield makeBatch(i * 100, 100);
          }
          throw new SqlError('22012', 'division by zero', { position: 17 });
        } else if (command === 'forever') {
          for (let i = 0; ; i++) {
            if (signal.aborted) return;
            await new Promise((r) => setTimeout(r, Number(a)));
            record.produced++;
            yield makeBatch(i * 10, 10);
          }
        } else {
          throw new SqlError('42601', `unknown fake command "${command}"`);
        }
      } finally {
        record.finished = true;
      }
    }
    return { schema: testSchema, [Symbol.asyncIterator]: produce };
  }
}

/** Starts an endpoint for `party` of federation `fed`. */
export async function startEndpoint(fed: Federation, service: PartyService, nodes: string[], extra: Partial<PartyEndpointOptions> = {}): Promise<{ endpoint: PartyEndpoint; logs: string[] }> {
  const logs: string[] = [];
  const endpoint = await PartyEndpoint.start({ service, nodes, tls: fed.pem(service.name), logger: (l) => logs.push(l), ...extra });
  return { endpoint, logs };
}

export function connector(fed: Federation, self: string, party: string, port: number, extra: Partial<RemotePartyOptions> = {}): RemotePartyConnector {
  return new RemotePartyConnector({ party, url: `https://127.0.0.1:${port}`, tls: fed.pem(self), ...extra });
}

/** A TCP proxy in front of `targetPort` whose `kill()` resets every connection and stops listening. */
export async function startProxy(targetPort: number): Promise<{ port: number; kill(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.resetAndDestroy();
      }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves once `condition()` holds, polling every 10 ms; rejects after `timeoutMs` (state changes that follow I/O, not a fixed sleep). */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await sleep(10);
  }
}
