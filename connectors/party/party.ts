/**
 * The owner side of a party: its DuckDB database, its tables and policies, and the handling of
 * every fragment a requester sends. A fragment is treated as untrusted input: it is parsed with
 * the VeilSQL parser, bound against this party's own tables only, checked against this party's
 * policy for that requester, rendered to DuckDB SQL by this party, and only then run. The same
 * `Party` serves its own gateway in-process and remote requesters over mutual TLS.
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { RecordBatch } from 'apache-arrow';
import { parseStatement } from '../../parser/index.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { Catalog } from '../../planner/catalog.js';
import type { PartyCatalog, PolicyLevel, PublishedTable } from '../../planner/catalog-types.js';
import { planFragment } from '../../planner/index.js';
import type { TableSource } from '../../planner/logical-plan.js';
import { queryToArrow } from '../arrow/duckdb-to-arrow.js';
import type { NodeConfig, PrivacyBudgetConfig, TableConfig } from '../config-types.js';
import type { FragmentRequest, FragmentStream, FrameChannel, PartyService, ProtocolRequest } from '../connector.js';
import { DuckDBConnectionPool } from '../duckdb-connection-pool.js';
import { connectWithPostgresSemantics, openWithPostgresSemantics } from '../duckdb-session.js';
import type { ColumnUse } from '../../planner/policy.js';
import { AuditLog } from './audit-log.js';
import type { PartyProtocolContext, PartyProtocolHandler } from './protocol-context.js';
import { describeTable, loadTables, localTableName, type TableLoadResult } from './table-loader.js';

export interface PartyLogger {
  info(message: string): void;
  warn(message: string): void;
}

const silent: PartyLogger = { info: () => undefined, warn: () => undefined };

interface LoadedTable {
  config: TableConfig;
  local: [string, string];
  columns: { name: string; type: string; nullable: boolean }[];
  rows: number;
}

export class Party implements PartyService {
  readonly name: string;
  private readonly tables = new Map<string, LoadedTable>();
  private audit!: AuditLog;
  private admin!: DuckDBConnection;
  private closed = false;
  private readonly active = new Set<AbortController>();
  private readonly protocolHandlers = new Map<string, PartyProtocolHandler>();

  private constructor(
    private readonly config: NodeConfig,
    private readonly instance: DuckDBInstance,
    private readonly logger: PartyLogger,
  ) {
    this.name = config.name;
  }

  static async open(config: NodeConfig, logger: PartyLogger = silent): Promise<Party> {
    const instance = await openWithPostgresSemantics(config.database);
    const party = new Party(config, instance, logger);
    party.admin = await connectWithPostgresSemantics(instance);
    party.audit = await AuditLog.open(party.admin);
    await party.refresh();
    return party;
  }

  /** (Re)loads every configured table whose source changed; returns what happened per table. */
  async refresh(): Promise<TableLoadResult[]> {
    const results = await loadTables(this.admin, this.config.tables.values());
    for (const r of results) {
      const config = this.config.tables.get(r.table)!;
      if (r.status === 'failed') {
        this.logger.warn(`${this.name}: ${r.error?.message}`);
        if (!this.tables.has(r.table)) continue;
      }
      const local = localTableName(config);
      const columns = (await describeTable(this.admin, local)).map((c) => ({ ...c, name: c.name.toLowerCase() }));
      if (columns.length === 0) continue;
      this.tables.set(r.table, { config, local, columns, rows: r.rows ?? this.tables.get(r.table)?.rows ?? 0 });
      if (r.status === 'loaded') this.logger.info(`${this.name}: loaded table ${r.table} (${r.rows} rows)`);
    }
    return results;
  }

  /** The party's per-requester privacy budget from node.yaml (`privacy.budget`), if it grants one. */
  privacyBudget(): PrivacyBudgetConfig | undefined {
    return this.config.privacy;
  }

  /** The policy level of a column for a requester: per-requester grant, else the column's level, else private. */
  policyFor(requester: string, table: TableConfig, column: string): PolicyLevel {
    return table.grants.get(requester)?.get(column) ?? table.columns.get(column)?.level ?? 'private';
  }

  async catalogFor(requester: string): Promise<PartyCatalog> {
    const tables: PublishedTable[] = [];
    for (const t of this.tables.values()) {
      tables.push({
        name: t.config.name,
        minGroup: t.config.minGroup,
        rowCount: t.rows,
        columns: t.columns.map((c) => {
          const policy = t.config.columns.get(c.name);
          return {
            name: c.name,
            type: c.type,
            nullable: c.nullable,
            policy: this.policyFor(requester, t.config, c.name),
            ...(policy?.normalization ? { normalization: policy.normalization } : {}),
          };
        }),
      });
    }
    return { party: this.name, tables };
  }

  private isKnownRequester(requester: string): boolean {
    return requester === this.name || this.config.federation.nodes.has(requester);
  }

  async executeFragment(requester: string, request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    const queryId = typeof request.queryId === 'string' && request.queryId ? request.queryId : randomUUID();
    const { sql, audited } = await this.check(requester, queryId, request.sql, undefined, 'fragment');
    // The audit record's durable write overlaps with opening the query; the stream waits for
    // it before its first row, so nothing is released unaudited.
    audited.catch(() => undefined); // observed by the stream; a failed open must not leave it unhandled
    return this.run(sql, requester, queryId, request.timeoutMs, signal, audited);
  }

  private async prepare(requester: string, queryId: string, text: string, uses: ColumnUse[] | undefined, kind: 'fragment' | 'protocol_input'): Promise<string> {
    const { sql, audited } = await this.check(requester, queryId, text, uses, kind);
    await audited;
    return sql;
  }

  /**
   * Parses, binds (against this party's tables only) and policy-checks SQL a requester sent,
   * returning the DuckDB SQL this party will run and the pending durable write of its audit
   * record (`prepare` waits for it). Every refusal is audited before it is thrown.
   */
  private async check(
    requester: string,
    queryId: string,
    text: string,
    uses: ColumnUse[] | undefined,
    kind: 'fragment' | 'protocol_input',
  ): Promise<{ sql: string; audited: Promise<void> }> {
    if (this.closed) throw new SqlError(SqlState.connectionFailure, `party "${this.name}" is shutting down`);
    if (!this.isKnownRequester(requester)) {
      await this.audit.append({ requester, queryId, event: 'fragment_refused', detail: 'unknown requester' });
      throw new SqlError(SqlState.insufficientPrivilege, `party "${this.name}" does not know requester "${requester}"`);
    }
    let sql: string;
    try {
      const statement = parseStatement(text);
      if (statement.kind !== 'query') {
        throw new SqlError(SqlState.featureNotSupported, `party "${this.name}" only runs SELECT fragments, not ${statement.kind.toUpperCase()}`);
      }
      const catalog = new Catalog(requester, [await this.catalogFor(requester)]);
      sql = planFragment(statement, catalog, requester, (source) => this.localName(source), uses).sql;
    } catch (e) {
      const err = e instanceof SqlError ? e : new SqlError(SqlState.internalError, `party "${this.name}" could not plan the fragment`);
      await this.audit.append({ requester, queryId, event: 'fragment_refused', detail: `${err.sqlstate} ${err.message} | ${text}` });
      throw annotate(err, this.name);
    }
    const audited = this.audit.append({ requester, queryId, event: kind, detail: uses ? `${text} | uses: ${uses.join(', ')}` : text });
    return { sql, audited };
  }

  /** Makes `handler` the party side of protocol `name` (see `protocol-context.ts`). */
  registerProtocol(name: string, handler: PartyProtocolHandler): void {
    if (this.protocolHandlers.has(name)) throw new Error(`protocol "${name}" is already registered`);
    this.protocolHandlers.set(name, handler);
  }

  protocols(): string[] {
    return [...this.protocolHandlers.keys()];
  }

  async runProtocol(requester: string, request: ProtocolRequest, channel: FrameChannel, signal: AbortSignal): Promise<void> {
    const queryId = typeof request?.queryId === 'string' && request.queryId ? request.queryId : randomUUID();
    if (this.closed) throw new SqlError(SqlState.connectionFailure, `party "${this.name}" is shutting down`);
    if (!this.isKnownRequester(requester)) {
      await this.audit.append({ requester, queryId, event: 'fragment_refused', detail: 'unknown requester' });
      throw new SqlError(SqlState.insufficientPrivilege, `party "${this.name}" does not know requester "${requester}"`);
    }
    const handler = this.protocolHandlers.get(request?.protocol);
    if (!handler) {
      throw new SqlError(SqlState.featureNotSupported, `party "${this.name}" does not speak protocol "${String(request?.protocol)}"`);
    }
    const controller = new AbortController();
    this.active.add(controller);
    const onAbort = () => controller.abort(signal.reason ?? new SqlError(SqlState.queryCanceled, 'canceling statement due to user request'));
    signal.addEventListener('abort', onAbort, { once: true });
    const limit = Number.isFinite(request.timeoutMs) && request.timeoutMs > 0 ? request.timeoutMs : 30_000;
    const timer = setTimeout(
      () => controller.abort(new SqlError(SqlState.queryCanceled, `canceling protocol ${request.protocol} due to its timeout at party "${this.name}" (${limit} ms)`)),
      limit,
    );
    const onStop = () => channel.destroy(controller.signal.reason instanceof Error ? controller.signal.reason : new Error('aborted'));
    controller.signal.addEventListener('abort', onStop, { once: true });
    await this.audit.append({ requester, queryId, event: 'protocol', detail: request.protocol });
    const ctx: PartyProtocolContext = {
      party: this.name,
      requester,
      request,
      channel,
      signal: controller.signal,
      catalog: () => this.catalogFor(requester),
      input: async (sql, uses) => {
        const prepared = await this.prepare(requester, queryId, sql, uses, 'protocol_input');
        return this.run(prepared, requester, queryId, limit, controller.signal);
      },
      // Same check and audit record as `input`; the protocol runs the SQL in its own connection.
      inputSql: (sql, uses) => this.prepare(requester, queryId, sql, uses, 'protocol_input'),
      database: () => connectWithPostgresSemantics(this.instance),
      audit: (detail) => this.audit.append({ requester, queryId, event: 'protocol_note', detail }),
    };
    try {
      await handler(ctx);
      await this.audit.append({ requester, queryId, event: 'protocol_done', detail: request.protocol });
    } catch (e) {
      const err = controller.signal.aborted && controller.signal.reason instanceof SqlError ? controller.signal.reason : e;
      await this.audit.append({ requester, queryId, event: 'protocol_failed', detail: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err instanceof SqlError ? annotate(err, this.name) : new SqlError(SqlState.internalError, `party "${this.name}": protocol ${request.protocol} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      controller.signal.removeEventListener('abort', onStop);
      this.active.delete(controller);
    }
  }

  private localName(source: TableSource): string[] {
    if (source.kind !== 'party' || source.party !== this.name) throw new SqlError(SqlState.undefinedTable, `party "${this.name}" has no such table`);
    const t = this.tables.get(source.table.name);
    if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${source.table.name}" does not exist at party "${this.name}"`);
    return t.local;
  }

  private async run(sql: string, requester: string, queryId: string, timeoutMs: number, signal: AbortSignal, audited?: Promise<void>): Promise<FragmentStream> {
    const controller = new AbortController();
    this.active.add(controller);
    const onAbort = () => controller.abort(signal.reason ?? new SqlError(SqlState.queryCanceled, 'canceling statement due to user request'));
    signal.addEventListener('abort', onAbort, { once: true });
    const limit = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 30_000;
    const timer = setTimeout(
      () => controller.abort(new SqlError(SqlState.queryCanceled, `canceling statement due to statement timeout at party "${this.name}" (${limit} ms)`)),
      limit,
    );
    let connection: DuckDBConnection | undefined;
    const pool = DuckDBConnectionPool.of(this.instance);
    const cleanup = (reusable: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      this.active.delete(controller);
      if (connection) pool.release(connection, reusable && !controller.signal.aborted && !this.closed);
      connection = undefined;
    };
    try {
      connection = await pool.acquire();
      const stream = await queryToArrow(connection, sql, { signal: controller.signal });
      const audit = this.audit;
      const party = this.name;
      let rows = 0;
      async function* batches(): AsyncGenerator<RecordBatch> {
        let outcome: 'fragment_done' | 'fragment_failed' = 'fragment_failed';
        let detail = 'stopped by the requester';
        const source = stream[Symbol.asyncIterator]();
        try {
          // DuckDB computes the first batch while the audit record is committed; the batch is
          // released only once the record is durable.
          let next = source.next();
          // Observed at once: a cancel or DuckDB error while the record commits must not become an
          // unhandled rejection (which would end the process); it is rethrown when awaited below.
          next.catch(() => undefined);
          if (audited) {
            try {
              await audited;
            } catch (e) {
              // Nothing leaves: stop DuckDB and wait for it before the connection is closed.
              controller.abort(new SqlError(SqlState.internalError, 'the audit record could not be written'));
              await next.catch(() => undefined);
              throw new SqlError(SqlState.internalError, `could not write the audit log: ${e instanceof Error ? e.message : String(e)}`);
            }
          }
          for (let r = await next; !r.done; r = await next) {
            rows += r.value.numRows;
            yield r.value;
            next = source.next();
          }
          outcome = 'fragment_done';
          detail = `${rows} rows`;
        } catch (e) {
          detail = e instanceof Error ? e.message : String(e);
          throw annotate(e instanceof SqlError ? e : new SqlError(SqlState.internalError, detail), party);
        } finally {
          // No fetch is pending here (each ended or was awaited): the source can close at once.
          await source.return?.(undefined).catch(() => undefined);
          cleanup(outcome === 'fragment_done');
          // Chained now, written with the next group commit (close() drains it): the end of the
          // stream does not wait for a commit of its own.
          void audit.append({ requester, queryId, event: outcome, detail }).catch(() => undefined);
        }
      }
      const iterable = batches();
      return { schema: stream.schema, [Symbol.asyncIterator]: () => iterable };
    } catch (e) {
      cleanup(false);
      await this.audit.append({ requester, queryId, event: 'fragment_failed', detail: e instanceof Error ? e.message : String(e) });
      throw annotate(e instanceof SqlError ? e : new SqlError(SqlState.internalError, String((e as Error).message ?? e)), this.name);
    }
  }

  auditLog(): AuditLog {
    return this.audit;
  }

  /** Stops accepting fragments, interrupts running ones and closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.active) c.abort(new SqlError(SqlState.connectionFailure, `party "${this.name}" is shutting down`));
    // Aborted work still writes its audit records; closing DuckDB under a running write blocks
    // the thread. Let sessions wind down (briefly), then wait for the audit log to be durable.
    const deadline = Date.now() + 3_000;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.audit.drain();
    DuckDBConnectionPool.of(this.instance).close();
    this.admin.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Names the party in its error (unless the message already does) and drops the position: it
 * points into the fragment's SQL, which the analyst never wrote.
 */
function annotate(e: SqlError, party: string): SqlError {
  const message = e.message.includes(`"${party}"`) ? e.message : `${e.message} (at party "${party}")`;
  return new SqlError(e.sqlstate, message, { detail: e.detail, hint: e.hint });
}
