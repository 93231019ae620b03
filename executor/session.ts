/**
 * One analyst session at a gateway: parses each statement, rewrites the PostgreSQL-isms clients
 * send (`pg-catalog/rewrite.ts`), plans queries against the current catalog (policy checks
 * happen before any data moves), runs them, and handles the session statements clients send
 * (SET/SHOW/RESET, transaction control, DISCARD, DEALLOCATE, EXPLAIN).
 *
 * Describe answers with DuckDB's exact types (`pg-catalog/exact-types.ts`) and remembers them:
 * a later execution of the same statement with the same parameter types is cast to them if it
 * came out differently, because clients decode rows with the types they were told.
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { connectWithPostgresSemantics } from '../connectors/duckdb-session.js';
import type { Expr, Query, SetStatement, Statement } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { parseStatement } from '../parser/index.js';
import { explainPlan, type ExplainStats } from '../planner/explain.js';
import { planQuery, type PlannedQuery } from '../planner/index.js';
import { formatDuckDBType, parseDuckDBType, type SqlType } from '../planner/types.js';
import type { CatalogSnapshot, FederatedEngine } from './engine.js';
import { cachedConstant, constantBatch, constantSelect, oneBatch, rememberConstant } from './constant-select.js';
import { fromDuckDBError, translatingErrors } from './duckdb-errors.js';
import { checkParams } from './param-check.js';
import { castBatches, exactTypes } from './pg-catalog/exact-types.js';
import { refuseMacrosAtParties } from './pg-catalog/macros.js';
import { rewritePostgresisms, type PostgresContext } from './pg-catalog/rewrite.js';
import { once, rowsToBatch, type CellValue } from './result-batches.js';
import { runPlan } from './run-plan.js';
import type {
  EngineSession, ExecutionContext, ParamValue, QueryOutcome, ResultColumn, StatementDescription,
} from './session-types.js';
import { canonicalName, SessionSettings } from './settings.js';
import { runShow } from './show.js';
// DP aggregates (issue 6): EXPLAIN DP, SHOW PRIVACY BUDGET, `SET dp.*` defaults.
import { dpSessionDefaults } from '../planner/binder/privacy-options.js';
import { BUDGET_COLUMNS, explainDp, hasDpAggregate, privacyBudgetRows } from './operators/dp-aggregate/index.js';

const NO_ROWS: AsyncIterable<never> = { async *[Symbol.asyncIterator]() {} };

/** An outcome of this module, marked when it never touched DuckDB. */
type Outcome = QueryOutcome & { constant?: boolean };

/** Startup-packet parameters that become the session's initial settings. */
const STARTUP_SETTINGS = ['timezone', 'datestyle', 'application_name', 'client_encoding', 'extra_float_digits', 'search_path', 'intervalstyle'];

/** How many statement descriptions a session remembers (prepared statements in use). */
const DESCRIPTION_CACHE = 256;

export class Session implements EngineSession {
  readonly settings: SessionSettings;
  private shadow?: Promise<DuckDBConnection>;
  private readonly described = new Map<string, ResultColumn[]>();
  /** Reported settings changed by a statement whose outcome has not gone out yet. */
  private pendingReport?: Record<string, string>;

  constructor(private readonly engine: FederatedEngine, readonly user: string, startup: Record<string, string>) {
    // Unqualified names resolve in this gateway's own party first: that is the search path.
    const overrides: Record<string, string> = { session_authorization: user, search_path: `${engine.self}, public` };
    for (const [k, val] of Object.entries(startup)) {
      const key = k.toLowerCase();
      if (STARTUP_SETTINGS.includes(key)) overrides[key] = val;
    }
    this.settings = new SessionSettings(overrides);
  }

  async describe(sql: string, paramTypeHints: (string | undefined)[]): Promise<StatementDescription> {
    const cached = paramTypeHints.length === 0 ? cachedConstant(sql) : undefined;
    if (cached) return { paramTypes: [], columns: cached.columns };
    const stmt = parseStatement(sql);
    switch (stmt.kind) {
      case 'query': {
        const hints = paramTypeHints.map(hintType);
        const prepared = await this.prepare(stmt, false);
        const constant = constantSelect(prepared.query);
        if (constant && paramTypeHints.length === 0) return { paramTypes: [], columns: constant.columns };
        const snapshot = await prepared.fresh();
        // Planned with `$n` left open (no values): the description is for every execution.
        const planned = this.plan(snapshot, prepared.query, hints, undefined);
        // DP aggregates have no DuckDB rendering: their plans keep the planner's types (which the
        // DP operator's output table uses exactly).
        const exact = hasDpAggregate(planned) ? undefined : await exactTypes(await this.shadowConnection(), planned, hints, snapshot.generation);
        const inferred = planned.bound.ctx.paramTypes;
        const count = Math.max(paramTypeHints.length, exact?.params.length ?? 0, ...[...inferred.keys()], 0);
        const paramTypes = Array.from({ length: count }, (_, i) => {
          const hint = hints[i];
          if (hint) return formatDuckDBType(hint);
          const t = exact?.params[i] ?? (inferred.get(i + 1) ? formatDuckDBType(inferred.get(i + 1)!) : undefined);
          return t ?? 'VARCHAR';
        });
        const columns = planned.physical.columns.map((c, i) => ({ name: c.label, type: exact?.columns[i] ?? formatDuckDBType(c.type) }));
        this.remember(sql, paramTypes, columns);
        return { paramTypes, columns };
      }
      case 'explain':
        return { paramTypes: paramTypeHints.map((h) => h ?? 'VARCHAR'), columns: [{ name: 'QUERY PLAN', type: 'VARCHAR' }] };
      case 'show': {
        if (stmt.target.what === 'privacy_budget') return { paramTypes: [], columns: [...BUDGET_COLUMNS] };
        const shown = runShow(stmt, await this.engine.catalog(), this.settings, this.engine.options.nodeUrls ?? new Map());
        return { paramTypes: [], columns: shown.columns };
      }
      default:
        return { paramTypes: [], columns: null };
    }
  }

  async execute(sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    const cached = params.length === 0 ? cachedConstant(sql) : undefined;
    if (cached) return { columns: cached.columns, batches: oneBatch(cached.batch), commandTag: 'SELECT' };
    const stmt = parseStatement(sql);
    let outcome: Outcome;
    try {
      outcome = await this.executeStatement(stmt, sql, params, ctx);
    } catch (e) {
      throw fromDuckDBError(e);
    } finally {
      // A failed statement may still have changed settings (set_config before the error).
      this.pendingReport = this.settings.takeReported() ?? this.pendingReport;
    }
    const changed = this.pendingReport;
    this.pendingReport = undefined;
    if (stmt.kind === 'query' && !outcome.constant) outcome = { ...outcome, batches: translatingErrors(outcome.batches) };
    delete outcome.constant;
    return changed ? { ...outcome, parameterStatus: changed } : outcome;
  }

  private async executeStatement(stmt: Statement, sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<Outcome> {
    switch (stmt.kind) {
      case 'query':
        return this.runQuery(stmt, sql, params, ctx);
      case 'explain':
        return this.explain(stmt.statement, stmt.mode, params, ctx);
      case 'show': {
        if (stmt.target.what === 'privacy_budget') {
          // Every party reports this requester's budget from its own ledger.
          const rows = await privacyBudgetRows(this.engine.connectors, randomUUID(), this.settings.fragmentTimeoutMs(), ctx.signal);
          return this.rows([...BUDGET_COLUMNS], rows, 'SHOW');
        }
        const catalog = await this.engine.catalog({ fresh: stmt.target.what === 'parties' });
        const shown = runShow(stmt, catalog, this.settings, this.engine.options.nodeUrls ?? new Map());
        return this.rows(shown.columns, shown.rows, 'SHOW');
      }
      case 'set':
        this.applySet(stmt);
        return { columns: null, batches: NO_ROWS, commandTag: 'SET' };
      case 'reset':
        this.settings.reset(stmt.name);
        return { columns: null, batches: NO_ROWS, commandTag: 'RESET' };
      case 'transaction': {
        const begin = stmt.action === 'begin' || stmt.action === 'start';
        const commit = stmt.action === 'commit' || stmt.action === 'end';
        const tag = begin ? (stmt.action === 'start' ? 'START TRANSACTION' : 'BEGIN') : commit ? 'COMMIT' : 'ROLLBACK';
        return { columns: null, batches: NO_ROWS, commandTag: tag, transaction: begin ? 'begin' : commit ? 'commit' : 'rollback' };
      }
      case 'discard':
        if (stmt.target === 'all') {
          this.settings.reset('all');
          this.described.clear();
        }
        return { columns: null, batches: NO_ROWS, commandTag: `DISCARD ${stmt.target.toUpperCase()}` };
      case 'deallocate':
        return { columns: null, batches: NO_ROWS, commandTag: stmt.all ? 'DEALLOCATE ALL' : 'DEALLOCATE' };
    }
  }

  private rewrite(query: Query, snapshot: CatalogSnapshot, applySideEffects: boolean): Query {
    const settings = this.settings;
    const context: PostgresContext = {
      model: snapshot.generation.model,
      user: this.user,
      schema: this.engine.self,
      applySideEffects,
      startedAt: this.engine.startedAt,
      settings: {
        find: (name) => settings.find(name),
        set: (name, value) => settings.set(name, value),
        list: () => settings.all().map(([k, v]) => [canonicalName(k), v]),
      },
    };
    return rewritePostgresisms(query, context);
  }

  private plan(snapshot: CatalogSnapshot, query: Query, hints: (SqlType | undefined)[], params: ParamValue[] | undefined): PlannedQuery {
    const planned = planQuery(query, snapshot.catalog, {
      requester: this.engine.self,
      paramHints: hints,
      params: params?.map((p, i) => ({ text: p.text, type: p.type ? hintType(p.type) : hints[i] })),
      privacyDefaults: dpSessionDefaults(this.settings.all()),
    });
    refuseMacrosAtParties(planned.physical.fragments);
    return planned;
  }

  /**
   * Rewrites a query's Postgres-isms. A select without FROM is rewritten against the catalog
   * already at hand (it is likely a constant select: no party needs asking); `fresh` gives the
   * up-to-date snapshot for planning.
   */
  private async prepare(stmt: Query, applySideEffects: boolean): Promise<{ query: Query; fresh: () => Promise<CatalogSnapshot> }> {
    const fromless = stmt.body.kind === 'select' && stmt.body.from === undefined;
    const peeked = fromless ? this.engine.peekSnapshot() : undefined;
    const snapshot = peeked ?? (await this.engine.snapshot());
    const query = this.rewrite(stmt, snapshot, applySideEffects);
    return { query, fresh: async () => (peeked ? this.engine.snapshot() : snapshot) };
  }

  private async runQuery(stmt: Query, sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<Outcome> {
    checkParams(params);
    const prepared = await this.prepare(stmt, true);
    const constant = params.length === 0 ? constantSelect(prepared.query) : undefined;
    if (constant) {
      const batch = constantBatch(constant);
      // Literals only before the rewrite too: nothing session-specific, the text fixes the result.
      if (constantSelect(stmt)) rememberConstant(sql, constant, batch);
      return { columns: constant.columns, batches: oneBatch(batch), commandTag: 'SELECT', constant: true };
    }
    const snapshot = await prepared.fresh();
    const planned = this.plan(snapshot, prepared.query, params.map((p) => hintType(p.type)), params);
    const result = await runPlan(planned.physical, {
      gateway: this.engine.gateway,
      requester: this.engine.self,
      notice: ctx.notice,
      connectors: this.engine.connectors,
      fragmentTimeoutMs: this.settings.fragmentTimeoutMs(),
      signal: ctx.signal,
    });
    const promised = this.described.get(descriptionKey(sql, params.map((p) => p.type ?? 'VARCHAR')));
    if (promised && promised.length === result.columns.length && promised.some((c, i) => c.type !== result.columns[i].type)) {
      // The client decodes with the types Describe announced: make the rows match them.
      const cast = await castBatches(this.engine.gateway, result.columns, result.batches, promised, ctx.signal);
      return { columns: cast.columns, batches: cast.batches, commandTag: 'SELECT' };
    }
    return { columns: result.columns, batches: result.batches, commandTag: 'SELECT' };
  }

  private async explain(query: Query, mode: 'plan' | 'analyze' | 'dp', params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    const snapshot = await this.engine.snapshot();
    const planned = this.plan(snapshot, this.rewrite(query, snapshot, false), params.map((p) => hintType(p.type)), params);
    if (mode === 'dp') {
      // Noise scales, interval widths and cost from the plan alone: no party is asked, nothing is spent.
      const lines = [...explainDp(planned.physical, this.engine.self), '', ...explainPlan(planned.physical, planned.bound.ctx, this.engine.self)];
      return this.rows([{ name: 'QUERY PLAN', type: 'VARCHAR' }], lines.map((l) => [l]), 'EXPLAIN');
    }
    let stats: ExplainStats | undefined;
    if (mode === 'analyze') {
      const started = performance.now();
      const fragments = new Map<number, { rows: number; bytes: number; ms: number }>();
      const result = await runPlan(planned.physical, {
        gateway: this.engine.gateway,
        requester: this.engine.self,
        notice: ctx.notice,
        connectors: this.engine.connectors,
        fragmentTimeoutMs: this.settings.fragmentTimeoutMs(),
        signal: ctx.signal,
        onFragmentDone: (id, s) => fragments.set(id, s),
      });
      let resultRows = 0;
      for await (const b of result.batches) resultRows += b.numRows;
      if (planned.physical.root.kind === 'fragment') {
        fragments.set(planned.physical.root.fragment.id, { rows: resultRows, bytes: 0, ms: performance.now() - started });
      }
      stats = { fragments, totalMs: performance.now() - started, resultRows };
    }
    const lines = explainPlan(planned.physical, planned.bound.ctx, this.engine.self, stats);
    return this.rows([{ name: 'QUERY PLAN', type: 'VARCHAR' }], lines.map((l) => [l]), 'EXPLAIN');
  }

  private rows(columns: ResultColumn[], rows: CellValue[][], tag: string): QueryOutcome {
    const { batch } = rowsToBatch(columns, rows);
    return { columns, batches: once(batch), commandTag: tag };
  }

  private applySet(stmt: SetStatement): void {
    if (stmt.name === 'session_characteristics' || stmt.name === 'transaction') return;
    if (stmt.values === 'default') {
      this.settings.set(stmt.name, undefined);
      return;
    }
    this.settings.set(stmt.name, stmt.values.map(setValueText).join(', '));
  }

  private shadowConnection(): Promise<DuckDBConnection> {
    this.shadow ??= connectWithPostgresSemantics(this.engine.gateway);
    return this.shadow;
  }

  private remember(sql: string, paramTypes: string[], columns: ResultColumn[]): void {
    const key = descriptionKey(sql, paramTypes);
    this.described.delete(key);
    this.described.set(key, columns);
    if (this.described.size > DESCRIPTION_CACHE) this.described.delete(this.described.keys().next().value as string);
  }

  async close(): Promise<void> {
    const shadow = this.shadow;
    this.shadow = undefined;
    if (shadow) (await shadow.catch(() => undefined))?.closeSync();
  }
}

function descriptionKey(sql: string, paramTypes: string[]): string {
  return `${paramTypes.join('\u0001')}\u0000${sql}`;
}

function setValueText(e: Expr): string {
  switch (e.kind) {
    case 'string': return e.value;
    case 'number': return e.text;
    case 'boolean': return e.value ? 'on' : 'off';
    case 'column': return e.name.join('.');
    case 'unary': return e.op === '-' && e.operand.kind === 'number' ? `-${e.operand.text}` : '';
    default:
      throw new SqlError(SqlState.syntaxError, 'SET values must be literals or identifiers');
  }
}

/**
 * A client's declared parameter type as a planner type. Postgres' unconstrained `numeric`
 * (PgJDBC's BigDecimal, psycopg's Decimal) has no DuckDB equivalent; DECIMAL(38,12) keeps 26
 * integer and 12 fractional digits, where plain DECIMAL would round to 3.
 */
function hintType(t: string | undefined): SqlType | undefined {
  if (!t) return undefined;
  if (/^\s*(decimal|numeric)\s*$/i.test(t)) return { id: 'decimal', precision: 38, scale: 12 };
  return parseDuckDBType(t);
}
