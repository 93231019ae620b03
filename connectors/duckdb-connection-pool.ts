/**
 * Idle DuckDB connections of one instance, reused for work that leaves nothing behind on the
 * connection: a party's fragments (planned SELECTs) and gateway plans without temp tables.
 * Opening a connection is a round trip to DuckDB's threads, and on a busy machine every round
 * trip on a fragment's path costs milliseconds of scheduling.
 *
 * A connection goes back to the pool only when its statement ended normally; one that was
 * interrupted, failed or belongs to a cancelled query is closed instead.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { connectWithPostgresSemantics } from './duckdb-session.js';

const pools = new WeakMap<DuckDBInstance, DuckDBConnectionPool>();

export class DuckDBConnectionPool {
  private readonly idle: DuckDBConnection[] = [];

  private constructor(private readonly instance: DuckDBInstance, private readonly maxIdle: number) {}

  /** The pool of `instance` (one per instance). */
  static of(instance: DuckDBInstance, maxIdle = 8): DuckDBConnectionPool {
    let pool = pools.get(instance);
    if (!pool) pools.set(instance, (pool = new DuckDBConnectionPool(instance, maxIdle)));
    return pool;
  }

  async acquire(): Promise<DuckDBConnection> {
    return this.idle.pop() ?? connectWithPostgresSemantics(this.instance);
  }

  release(connection: DuckDBConnection, reusable: boolean): void {
    if (reusable && this.idle.length < this.maxIdle) this.idle.push(connection);
    else connection.closeSync();
  }

  /** Closes the idle connections (before the instance itself is closed). */
  close(): void {
    for (const c of this.idle.splice(0)) c.closeSync();
  }
}
