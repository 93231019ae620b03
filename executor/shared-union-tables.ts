/**
 * Loading the member fragments of a UNION ALL that the planner marked as sharing one gateway
 * table (`Fragment.shared`, planner/physical-plan.ts) into the query's DuckDB connection.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RecordBatch, Schema } from 'apache-arrow';
import { raceAbort } from '../connectors/abort.js';
import { createArrowTable, loadArrowIntoDuckDB, type ArrowTable } from '../connectors/arrow/arrow-to-duckdb.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../connectors/connector.js';
import { quoteIdent } from '../connectors/duckdb-session.js';
import type { Fragment } from '../planner/physical-plan.js';

/**
 * The temp tables a query's federated unions share among their member fragments
 * (`Fragment.shared`). Each member announces its schema as soon as its party answers; once all
 * have, the union is loaded one of two ways. Members whose DuckDB types are all the same append
 * into one table, named by the union's columns (the last one flushes). Otherwise (e.g. DECIMAL
 * literals of different scales) each member gets its own table and the union's name becomes a
 * view doing the UNION ALL, so DuckDB unifies the types exactly as for any UNION ALL.
 */
export class SharedUnionTables {
  private readonly unions = new Map<string, UnionLoad>();

  constructor(private readonly connection: DuckDBConnection) {}

  private state(shared: SharedUnion): UnionLoad {
    let u = this.unions.get(shared.table);
    if (!u) {
      let decide!: (mode: 'shared' | 'separate') => void;
      const mode = new Promise<'shared' | 'separate'>((r) => (decide = r));
      this.unions.set(shared.table, (u = { schemas: new Map(), mode, decide, remaining: shared.members, members: [] }));
    }
    return u;
  }

  /** Called when member `id`'s party has answered (outside the exclusive section). */
  announce(shared: SharedUnion, id: number, schema: Schema): void {
    const u = this.state(shared);
    u.schemas.set(id, schema);
    if (u.schemas.size < shared.members) return;
    const signatures = new Set([...u.schemas.values()].map(typeSignature));
    u.decide(signatures.size === 1 ? 'shared' : 'separate');
  }

  async append(shared: SharedUnion, id: number, schema: Schema, batches: AsyncIterable<RecordBatch>, signal: AbortSignal): Promise<void> {
    const u = this.state(shared);
    const mode = await raceAbort(u.mode, signal);
    if (mode === 'shared') {
      u.target ??= await createArrowTable(this.connection, shared.table, schema, { columnNames: shared.columns.map((c) => c.name) });
      await u.target.append(schema, batches, signal);
      if (--u.remaining === 0) u.target.close();
      return;
    }
    const own = `${shared.table}_${id}`;
    await loadArrowIntoDuckDB(this.connection, own, schema, batches, { signal });
    u.members.push({ id, table: own });
    if (--u.remaining > 0) return;
    const names = shared.columns.map((c) => quoteIdent(c.name)).join(', ');
    const selects = u.members.sort((a, b) => a.id - b.id).map((m) => `SELECT * FROM ${quoteIdent(m.table)}`).join(' UNION ALL ');
    await this.connection.run(`CREATE TEMP VIEW ${quoteIdent(shared.table)} (${names}) AS ${selects}`);
  }

  /** Releases the appenders of unions not complete (the query failed; the connection goes). */
  abandon(): void {
    for (const u of this.unions.values()) u.target?.abandon();
  }
}

type SharedUnion = NonNullable<Fragment['shared']>;

interface UnionLoad {
  schemas: Map<number, Schema>;
  mode: Promise<'shared' | 'separate'>;
  decide: (mode: 'shared' | 'separate') => void;
  target?: ArrowTable;
  remaining: number;
  members: { id: number; table: string }[];
}

/** The DuckDB types of a stream's columns, as the parties declared them. */
function typeSignature(schema: Schema): string {
  return JSON.stringify(schema.fields.map((f) => f.metadata.get(DUCKDB_TYPE_METADATA_KEY) ?? String(f.type)));
}
