/**
 * One analyst session at a gateway: parses each statement, plans queries against the current
 * catalog (policy checks happen before any data moves), runs them, and handles the session
 * statements clients send (SET/SHOW/RESET, transaction control, DISCARD, DEALLOCATE, EXPLAIN).
 */
import type { Expr, Query, SetStatement, Statement } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { parseStatement } from '../parser/index.js';
import { explainPlan, type ExplainStats } from '../planner/explain.js';
import { planQuery, type PlannedQuery } from '../planner/index.js';
import { formatDuckDBType, parseDuckDBType, type SqlType } from '../planner/types.js';
import type { FederatedEngine } from './engine.js';
import { once, rowsToBatch, type CellValue } from './result-batches.js';
import { runPlan } from './run-plan.js';
import type {
  EngineSession, ExecutionContext, ParamValue, QueryOutcome, ResultColumn, StatementDescription,
} from './session-types.js';
import { SessionSettings } from './settings.js';
import { runShow } from './show.js';

const NO_ROWS: AsyncIterable<never> = { async *[Symbol.asyncIterator]() {} };

export class Session implements EngineSession {
  readonly settings: SessionSettings;

  constructor(private readonly engine: FederatedEngine, readonly user: string, startup: Record<string, string>) {
    const overrides: Record<string, string> = {};
    for (const [k, val] of Object.entries(startup)) {
      const key = k.toLowerCase();
      if (['timezone', 'datestyle', 'application_name', 'client_encoding', 'extra_float_digits', 'search_path'].includes(key)) overrides[key] = val;
    }
    this.settings = new SessionSettings(overrides);
  }

  async describe(sql: string, paramTypeHints: (string | undefined)[]): Promise<StatementDescription> {
    const stmt = parseStatement(sql);
    switch (stmt.kind) {
      case 'query': {
        const planned = await this.plan(stmt, paramTypeHints.map(hintType), undefined);
        const inferred = planned.bound.ctx.paramTypes;
        const count = Math.max(paramTypeHints.length, ...[...inferred.keys()], 0);
        const paramTypes = Array.from({ length: count }, (_, i) => paramTypeHints[i] ?? (inferred.get(i + 1) ? formatDuckDBType(inferred.get(i + 1)!) : 'VARCHAR'));
        return { paramTypes, columns: planned.physical.columns.map((c) => ({ name: c.label, type: formatDuckDBType(c.type) })) };
      }
      case 'explain':
        return { paramTypes: paramTypeHints.map((h) => h ?? 'VARCHAR'), columns: [{ name: 'QUERY PLAN', type: 'VARCHAR' }] };
      case 'show': {
        const shown = runShow(stmt, await this.engine.catalog(), this.settings, this.engine.options.nodeUrls ?? new Map());
        return { paramTypes: [], columns: shown.columns };
      }
      default:
        return { paramTypes: [], columns: null };
    }
  }

  async execute(sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    const stmt = parseStatement(sql);
    return this.executeStatement(stmt, params, ctx);
  }

  private async executeStatement(stmt: Statement, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    switch (stmt.kind) {
      case 'query':
        return this.runQuery(stmt, params, ctx);
      case 'explain':
        return this.explain(stmt.statement, stmt.mode, params, ctx);
      case 'show': {
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
        if (stmt.target === 'all') this.settings.reset('all');
        return { columns: null, batches: NO_ROWS, commandTag: `DISCARD ${stmt.target.toUpperCase()}` };
      case 'deallocate':
        return { columns: null, batches: NO_ROWS, commandTag: stmt.all ? 'DEALLOCATE ALL' : 'DEALLOCATE' };
    }
  }

  private async plan(query: Query, hints: (SqlType | undefined)[], params: ParamValue[] | undefined): Promise<PlannedQuery> {
    const catalog = await this.engine.catalog();
    return planQuery(query, catalog, {
      requester: this.engine.self,
      paramHints: hints,
      params: params?.map((p, i) => ({ text: p.text, type: p.type ? parseDuckDBType(p.type) : hints[i] })),
    });
  }

  private async runQuery(query: Query, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    const planned = await this.plan(query, params.map((p) => hintType(p.type)), params);
    const result = await runPlan(planned.physical, {
      gateway: this.engine.gateway,
      connectors: this.engine.connectors,
      fragmentTimeoutMs: this.settings.fragmentTimeoutMs(),
      signal: ctx.signal,
    });
    return { columns: result.columns, batches: result.batches, commandTag: 'SELECT' };
  }

  private async explain(query: Query, mode: 'plan' | 'analyze' | 'dp', params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    if (mode === 'dp') {
      throw new SqlError(SqlState.featureNotSupported, 'EXPLAIN DP needs the differential-privacy aggregate operator, which this VeilSQL version does not provide yet');
    }
    const planned = await this.plan(query, params.map((p) => hintType(p.type)), params);
    let stats: ExplainStats | undefined;
    if (mode === 'analyze') {
      const started = performance.now();
      const fragments = new Map<number, { rows: number; bytes: number; ms: number }>();
      const result = await runPlan(planned.physical, {
        gateway: this.engine.gateway,
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
    if (stmt.name === 'session_characteristics') return;
    if (stmt.values === 'default') {
      this.settings.set(stmt.name, undefined);
      return;
    }
    this.settings.set(stmt.name, stmt.values.map(setValueText).join(', '));
  }

  async close(): Promise<void> {
    // Sessions hold no server-side resources between statements.
  }
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

function hintType(t: string | undefined): SqlType | undefined {
  return t ? parseDuckDBType(t) : undefined;
}
