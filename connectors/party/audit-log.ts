/**
 * The party's append-only, hash-chained audit log (SPEC.md §4): one record per fragment
 * received, with its requester, query id, SQL and outcome. Each record's hash covers the
 * previous record's hash, so deleting or editing a past record breaks the chain, which
 * `verify()` detects. Records live in the party's own DuckDB file.
 */
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';

export interface AuditRecord {
  seq: number;
  at: string;
  requester: string;
  queryId: string;
  event:
    | 'fragment' | 'fragment_done' | 'fragment_failed' | 'fragment_refused'
    | 'protocol' | 'protocol_done' | 'protocol_failed' | 'protocol_input' | 'protocol_note';
  detail: string;
  prevHash: string;
  hash: string;
}

const TABLE = '__veilsql_audit';
const GENESIS = '0'.repeat(64);

export class AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private lastHash = GENESIS;
  private seq = 0;

  private constructor(private readonly connection: DuckDBConnection) {}

  static async open(connection: DuckDBConnection): Promise<AuditLog> {
    await connection.run(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (seq BIGINT PRIMARY KEY, "at" VARCHAR, requester VARCHAR, query_id VARCHAR, event VARCHAR, detail VARCHAR, prev_hash VARCHAR, hash VARCHAR)`,
    );
    const log = new AuditLog(connection);
    const last = await connection.runAndReadAll(`SELECT seq, hash FROM ${TABLE} ORDER BY seq DESC LIMIT 1`);
    const row = last.getRows()[0];
    if (row) {
      log.seq = Number(row[0]);
      log.lastHash = String(row[1]);
    }
    return log;
  }

  /** Appends one record; appends are serialised so the chain has no forks. */
  append(entry: Pick<AuditRecord, 'requester' | 'queryId' | 'event' | 'detail'>): Promise<void> {
    const run = async () => {
      const seq = this.seq + 1;
      const at = new Date().toISOString();
      const prevHash = this.lastHash;
      const hash = recordHash({ seq, at, ...entry, prevHash });
      const p = await this.connection.prepare(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`);
      p.bindBigInt(1, BigInt(seq));
      p.bindVarchar(2, at);
      p.bindVarchar(3, entry.requester);
      p.bindVarchar(4, entry.queryId);
      p.bindVarchar(5, entry.event);
      p.bindVarchar(6, entry.detail);
      p.bindVarchar(7, prevHash);
      p.bindVarchar(8, hash);
      await p.run();
      this.seq = seq;
      this.lastHash = hash;
    };
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }

  async records(): Promise<AuditRecord[]> {
    await this.tail;
    const r = await this.connection.runAndReadAll(`SELECT seq, "at", requester, query_id, event, detail, prev_hash, hash FROM ${TABLE} ORDER BY seq`);
    return r.getRows().map((row) => ({
      seq: Number(row[0]),
      at: String(row[1]),
      requester: String(row[2]),
      queryId: String(row[3]),
      event: String(row[4]) as AuditRecord['event'],
      detail: String(row[5]),
      prevHash: String(row[6]),
      hash: String(row[7]),
    }));
  }

  /** Checks the whole chain; returns the sequence number of the first broken record, or undefined. */
  async verify(): Promise<number | undefined> {
    let prev = GENESIS;
    let expectedSeq = 1;
    for (const r of await this.records()) {
      if (r.seq !== expectedSeq || r.prevHash !== prev || recordHash(r) !== r.hash) return r.seq;
      prev = r.hash;
      expectedSeq++;
    }
    return undefined;
  }
}

function recordHash(r: Omit<AuditRecord, 'hash'>): string {
  const canonical = JSON.stringify([r.seq, r.at, r.requester, r.queryId, r.event, r.detail, r.prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}
