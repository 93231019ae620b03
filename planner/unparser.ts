/**
 * Renders a logical (sub)plan back to a SQL AST, which `parser/printer` prints either in the
 * VeilSQL dialect (fragments sent to parties, EXPLAIN) or in DuckDB's (execution). Operators
 * are merged into one SELECT block where SQL allows (FROM/WHERE/GROUP BY/HAVING/window/
 * SELECT/DISTINCT/ORDER BY/LIMIT, in that order); anything out of that order becomes a derived
 * table. Every output column is aliased to its plan name, so the consumer of the SQL (the
 * gateway's temp table, an enclosing query) sees the plan's column names.
 */
import type {
  Expr, FromItem, OrderItem, Query, QueryBody, Select, SelectItem, TableRef,
} from '../parser/ast.js';
import { joinConjuncts, mapExpr } from './expr-utils.js';
import {
  isSubplanQuery, outputColumns, type AggregateNode, type DistinctNode, type FilterNode, type LimitNode,
  type LogicalPlan, type ProjectNode, type SortNode, type TableSource, type WindowNode,
} from './logical-plan.js';

export interface UnparseOptions {
  /** How to name a scanned table in the generated SQL. */
  tableName: (source: TableSource) => string[];
  /** When a subtree has been materialised elsewhere (a fragment's temp table), its table name. */
  materialized?: (plan: LogicalPlan) => string | undefined;
  /** Names for the top-level result columns (default: their plan names). */
  outputNames?: string[];
}

/** Column name → how to reference it in the current SELECT; chained for correlation. */
class Env {
  constructor(readonly map = new Map<string, Expr>(), readonly parent?: Env) {}
  get(name: string): Expr | undefined {
    return this.map.get(name) ?? this.parent?.get(name);
  }
}

export function unparse(plan: LogicalPlan, options: UnparseOptions): Query {
  return new Unparser(options).query(plan, undefined, options.outputNames);
}

class Unparser {
  private counter = 0;
  constructor(private readonly options: UnparseOptions) {}

  /** A narrowing projection that is not itself a materialised fragment can be looked through. */
  private skippable(node: LogicalPlan): node is ProjectNode {
    return node.kind === 'project' && isTransparent(node) && !this.options.materialized?.(node);
  }

  private alias(prefix: string): string {
    return `${prefix}${++this.counter}`;
  }

  /** Substitutes plan column references by their SQL in `env`, unparsing subplans inline. */
  private sub(e: Expr, env: Env): Expr {
    return mapExpr(e, {
      expr: (x) => {
        if (x.kind === 'column' && x.name.length === 1) {
          const found = env.get(x.name[0]);
          if (found) return found;
        }
        return undefined;
      },
      query: (q) => (isSubplanQuery(q) ? this.query(q.subplan, env) : q),
    });
  }

  query(plan: LogicalPlan, outer: Env | undefined, outputNames?: string[]): Query {
    if (this.options.materialized?.(plan)) {
      // A materialised subtree (a fragment's temp table) is read as a whole.
      const from = this.from(plan, outer);
      const items = outputColumns(plan).map((c, i): SelectItem => ({ kind: 'expr_item', expr: from.env.get(c.name)!, alias: outputNames?.[i] ?? c.name }));
      return { kind: 'query', body: { kind: 'select', items, from: from.item ? [from.item] : undefined } };
    }
    let node = plan;
    let limit: LimitNode | undefined;
    let outerProject: ProjectNode | undefined;
    let sort: SortNode | undefined;
    let distinct: DistinctNode | undefined;
    let project: ProjectNode | undefined;
    let window: WindowNode | undefined;
    let aggregate: AggregateNode | undefined;
    let having: FilterNode[] = [];
    let where: FilterNode[] = [];

    if (node.kind === 'limit') { limit = node; node = node.input; }
    if (node.kind === 'project' && isPureReferences(node) && (node.input.kind === 'sort' || node.input.kind === 'distinct')) {
      let below: LogicalPlan = node.input;
      if (below.kind === 'sort') below = below.input;
      if (below.kind === 'distinct') below = below.input;
      if (below.kind === 'project') {
        // Project(Sort(Project …)): the outer projection drops hidden sort keys.
        outerProject = node;
        node = node.input;
      } else if (node.input.kind === 'sort') {
        // Project(Sort(X)): SELECT <projection> FROM X ORDER BY <keys over X>.
        project = node;
        sort = node.input;
        node = node.input.input;
      }
    }
    if (!project && node.kind === 'sort') { sort = node; node = node.input; }
    if (!project && node.kind === 'distinct') { distinct = node; node = node.input; }
    if (!project && node.kind === 'project') { project = node; node = node.input; }
    if (node.kind === 'window') { window = node; node = node.input; }
    // Projections that only narrow (same column in, same column out) are transparent here:
    // the select list is explicit, so the columns they drop are never selected anyway.
    const explicit = () => project !== undefined || aggregate !== undefined || window !== undefined;
    const filters: FilterNode[] = [];
    while (node.kind === 'filter' || (this.skippable(node) && explicit())) {
      if (node.kind === 'filter') filters.push(node);
      node = node.input;
    }
    // A materialised aggregate (a private operator's stage, e.g. secure aggregation) is read from
    // its temp table; the filters above it become a WHERE over that table.
    if (node.kind === 'aggregate' && !this.options.materialized?.(node)) {
      aggregate = node;
      having = filters;
      node = node.input;
      while (node.kind === 'filter' || this.skippable(node)) {
        if (node.kind === 'filter') where.push(node);
        node = node.input;
      }
    } else where = filters;

    const from = this.from(node, outer);
    const base = from.env;
    let env = base;
    const select: Select = { kind: 'select', items: [] };
    if (from.item) select.from = [from.item];
    const wherePreds = where.map((f) => this.sub(f.predicate, base));
    if (wherePreds.length) select.where = joinConjuncts(wherePreds.reverse());

    if (aggregate) {
      const aggEnv = new Env(new Map(), outer);
      const groupExprs = aggregate.groups.map((g) => protectOrdinal(this.sub(g.expr, base)));
      aggregate.groups.forEach((g, i) => aggEnv.map.set(g.column.name, groupExprs[i]));
      for (const a of aggregate.aggregates) aggEnv.map.set(a.column.name, this.sub(a.call, base));
      if (groupExprs.length) select.groupBy = { items: groupExprs };
      env = aggEnv;
      const havingPreds = having.map((f) => this.sub(f.predicate, env));
      if (havingPreds.length) select.having = joinConjuncts(havingPreds.reverse());
    }
    if (window) {
      const winEnv = new Env(new Map(env.map), outer);
      for (const w of window.items) winEnv.map.set(w.column.name, this.sub(w.call, env));
      env = winEnv;
    }

    // The SELECT list: the projection, or every column of what is below.
    const itemsSource = project
      ? project.items.map((i) => ({ name: i.column.name, expr: this.sub(i.expr, env) }))
      : outputColumns(window ?? aggregate ?? node).map((c) => ({ name: c.name, expr: env.get(c.name) ?? colRef(c.name) }));
    const projEnv = new Env(new Map(itemsSource.map((i) => [i.name, i.expr])), env);
    const visible = outerProject
      ? outerProject.items.map((i) => ({ name: i.column.name, expr: this.sub(i.expr, projEnv) }))
      : itemsSource;
    const aliasOf = new Map(visible.map((v, n) => [v.name, outputNames?.[n] ?? v.name]));
    select.items = visible.map((i): SelectItem => ({ kind: 'expr_item', expr: i.expr, alias: aliasOf.get(i.name)! }));
    if (select.items.length === 0) select.items = [{ kind: 'expr_item', expr: { kind: 'null' }, alias: '_row' }];
    const aliasCount = new Map<string, number>();
    for (const a of aliasOf.values()) aliasCount.set(a, (aliasCount.get(a) ?? 0) + 1);
    // ORDER BY may name a select alias only when that alias is unambiguous.
    const visibleNames = new Set(visible.map((v) => v.name).filter((n) => aliasCount.get(aliasOf.get(n)!) === 1));

    if (distinct) {
      select.distinct = distinct.on ? distinct.on.map((e) => protectOrdinal(this.sub(e, projEnv))) : true;
    }
    const query: Query = { kind: 'query', body: select };
    if (sort) {
      query.orderBy = sort.keys.map((k): OrderItem => {
        const name = k.expr.kind === 'column' ? k.expr.name[0] : undefined;
        const expr = name && visibleNames.has(name) && !project?.items.some((i) => i.column.name === name && isConstant(i.expr))
          ? colRef(aliasOf.get(name)!)
          : protectOrdinal(this.sub(k.expr, projEnv));
        const item: OrderItem = { expr };
        if (k.direction) item.direction = k.direction;
        if (k.nulls) item.nulls = k.nulls;
        return item;
      });
    }
    if (limit?.limit) query.limit = this.sub(limit.limit, base);
    if (limit?.offset) query.offset = this.sub(limit.offset, base);
    return query;
  }

  private from(plan: LogicalPlan, outer: Env | undefined): { item?: FromItem; env: Env } {
    const env = new Env(new Map(), outer);
    if (this.skippable(plan)) return this.from((plan as ProjectNode).input, outer);
    const materialized = this.options.materialized?.(plan);
    if (materialized) {
      const alias = this.alias('f');
      for (const c of outputColumns(plan)) env.map.set(c.name, colRef(c.name, alias));
      return { item: { kind: 'table', name: [materialized], alias: { name: alias } }, env };
    }
    switch (plan.kind) {
      case 'scan': {
        const alias = this.alias('t');
        for (const c of plan.columns) env.map.set(c.column.name, colRef(c.source, alias));
        if (plan.partyColumn && plan.source.kind === 'party') {
          env.map.set(plan.partyColumn.name, { kind: 'string', value: plan.source.party });
        }
        const item: TableRef = { kind: 'table', name: this.options.tableName(plan.source), alias: { name: alias } };
        return { item, env };
      }
      case 'values': {
        if (plan.columns.length === 0 && plan.rows.length === 1) return { env };
        const alias = this.alias('v');
        for (const c of plan.columns) env.map.set(c.name, colRef(c.name, alias));
        const body: QueryBody = { kind: 'values', rows: plan.rows.map((r) => r.map((e) => this.sub(e, new Env(new Map(), outer)))) };
        return {
          item: { kind: 'subquery', query: { kind: 'query', body }, alias: { name: alias, columns: plan.columns.map((c) => c.name) } },
          env,
        };
      }
      case 'table_function': {
        const alias = this.alias('g');
        for (const c of plan.columns) env.map.set(c.name, colRef(c.name, alias));
        const call = this.sub(plan.call, new Env(new Map(), outer));
        if (call.kind !== 'function') throw new Error('table function is not a call');
        return {
          item: {
            kind: 'table_function', call, withOrdinality: plan.withOrdinality,
            alias: { name: alias, columns: plan.columns.map((c) => c.name) },
          },
          env,
        };
      }
      case 'join': {
        const left = this.from(plan.left, outer);
        const right = this.from(plan.right, outer);
        for (const [k, v] of left.env.map) env.map.set(k, v);
        for (const [k, v] of right.env.map) env.map.set(k, v);
        const l = left.item ?? emptyRow();
        const r = right.item ?? emptyRow();
        const on = plan.condition ? this.sub(plan.condition, env) : undefined;
        const type = plan.type === 'inner' && !on ? 'cross' : plan.type;
        return { item: { kind: 'join', type, mode: plan.mode, left: l, right: r, on: type === 'cross' ? undefined : on ?? { kind: 'boolean', value: true } }, env };
      }
      case 'setop': {
        const alias = this.alias('u');
        for (const c of plan.columns) env.map.set(c.name, colRef(c.name, alias));
        const bodies = plan.inputs.map((input) => asBody(this.query(input, outer)));
        const body = bodies.slice(1).reduce<QueryBody>(
          (acc, b) => ({ kind: 'set_operation', op: plan.op, all: plan.all, left: acc, right: b }),
          bodies[0],
        );
        return {
          item: { kind: 'subquery', query: { kind: 'query', body }, alias: { name: alias, columns: plan.columns.map((c) => c.name) } },
          env,
        };
      }
      default: {
        const alias = this.alias('d');
        for (const c of outputColumns(plan)) env.map.set(c.name, colRef(c.name, alias));
        return { item: { kind: 'subquery', query: this.query(plan, outer), alias: { name: alias } }, env };
      }
    }
  }
}

function colRef(name: string, qualifier?: string): Expr {
  return { kind: 'column', name: qualifier ? [qualifier, name] : [name] };
}

function emptyRow(): FromItem {
  return { kind: 'subquery', query: { kind: 'query', body: { kind: 'select', items: [{ kind: 'expr_item', expr: { kind: 'null' }, alias: '_row' }] } }, alias: { name: '_one' } };
}

function asBody(q: Query): QueryBody {
  return q.orderBy || q.limit || q.offset || q.with ? { kind: 'paren_query', query: q } : q.body;
}

/** A projection that passes some of its input's columns through under the same names. */
function isTransparent(p: ProjectNode): boolean {
  return p.items.every((i) => i.expr.kind === 'column' && i.expr.name.length === 1 && i.expr.name[0] === i.column.name);
}

function isPureReferences(p: ProjectNode): boolean {
  return p.items.every((i) => i.expr.kind === 'column');
}

function isConstant(e: Expr): boolean {
  return e.kind === 'number' || e.kind === 'string' || e.kind === 'boolean' || e.kind === 'null';
}

/** A bare integer in GROUP BY / ORDER BY / DISTINCT ON means "position": keep constants constant. */
function protectOrdinal(e: Expr): Expr {
  if (e.kind === 'number') return { kind: 'cast', expr: e, type: { name: /[.eE]/.test(e.text) ? 'double precision' : 'bigint' }, syntax: 'cast' };
  return e;
}
