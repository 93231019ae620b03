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
  private pending: AuditRecord[] = [];
  private flushing: Promise<void> | undefined;

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

  /**
   * Appends one record. The chain is extended in memory at once (so it has no forks), and records
   * are written in group commits: concurrent appends share one transaction, and each append
   * resolves once its record is durable.
   */
  append(entry: Pick<AuditRecord, 'requester' | 'queryId' | 'event' | 'detail'>): Promise<void> {
    const seq = ++this.seq;
    const at = new Date().toISOString();
    const prevHash = this.lastHash;
    const hash = recordHash({ seq, at, ...entry, prevHash });
    this.lastHash = hash;
    this.pending.push({ seq, at, ...entry, prevHash, hash });
    if (!this.flushing) this.flushing = this.tail.then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    // Let appends issued in the same turn join this commit.
    await new Promise((r) => setImmediate(r));
    const batch = this.pending.splice(0);
    this.flushing = undefined;
    const write = async () => {
      if (batch.length === 0) return;
      const placeholders = batch.map((_, i) => `(${Array.from({ length: 8 }, (_, j) => `$${i * 8 + j + 1}`).join(', ')})`).join(', ');
      const p = await this.connection.prepare(`INSERT INTO ${TABLE} VALUES ${placeholders}`);
      batch.forEach((r, i) => {
        const o = i * 8;
        p.bindBigInt(o + 1, BigInt(r.seq));
        p.bindVarchar(o + 2, r.at);
        p.bindVarchar(o + 3, r.requester);
        p.bindVarchar(o + 4, r.queryId);
        p.bindVarchar(o + 5, r.event);
        p.bindVarchar(o + 6, r.detail);
        p.bindVarchar(o + 7, r.prevHash);
        p.bindVarchar(o + 8, r.hash);
      });
      await p.run();
    };
    const done = this.tail.then(write, write);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Resolves when every record appended so far is written (or its write failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    await this.tail;
  }

  async records(): Promise<AuditRecord[]> {
    while (this.flushing) await this.flushing;
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
