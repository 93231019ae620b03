/**
 * The logical plan: a tree of relational operators produced by the binder, rewritten by the
 * optimizer, placed onto parties by `placement.ts` and rendered back to SQL by `unparser.ts`.
 *
 * Column identity: every column any operator produces has a `name` unique within the whole
 * statement (including subqueries), e.g. `region`, `region_2`, `count_star`. Expressions in
 * operators are AST expressions whose column references are these single-part names, so:
 * - an expression can be moved between operators without re-binding,
 * - correlated references in subqueries need no special form (the name is unique), and
 * - a fragment's output columns and the gateway's temp tables can use the names directly.
 *
 * Subqueries inside expressions (`EXISTS`, `IN (SELECT …)`, scalar, `ANY`) keep their AST node,
 * but the node's `query` is a `SubplanQuery` whose `subplan` holds the bound plan.
 */
import type { Expr, FunctionCall, JoinMode, JoinType, OrderItem, Query, Span } from '../parser/ast.js';
import type { FederatedTableDef, PublishedTable, UnavailableMember } from './catalog-types.js';
import { mapExpr, visitExpr } from './expr-utils.js';
import type { SqlType } from './types.js';

export interface PlanColumn {
  /** Unique name within the statement; what expressions and generated SQL refer to. */
  name: string;
  /** The name the user sees for this column (select alias or source column name). */
  label: string;
  type: SqlType;
}

/** Where a scanned table lives. */
export type TableSource =
  | { kind: 'party'; party: string; table: PublishedTable }
  /** A table kept by the gateway itself (e.g. catalog emulation); it never leaves the gateway. */
  | { kind: 'gateway'; schema: string; table: string; duckdbName: string[] };

export interface ScanColumn {
  column: PlanColumn;
  /** Column name in the source table. */
  source: string;
}

export interface ScanNode {
  kind: 'scan';
  source: TableSource;
  /** The alias the query used (or the table name), for EXPLAIN and error messages. */
  alias: string;
  columns: ScanColumn[];
  /** For members of a federated table: the `PARTY` pseudo-column, a constant per member. */
  partyColumn?: PlanColumn;
  span?: Span;
}

export interface ValuesNode {
  kind: 'values';
  rows: Expr[][];
  columns: PlanColumn[];
}

export interface TableFunctionNode {
  kind: 'table_function';
  call: FunctionCall;
  columns: PlanColumn[];
  withOrdinality?: boolean;
}

export interface FilterNode {
  kind: 'filter';
  input: LogicalPlan;
  predicate: Expr;
  /** Which clause produced it, for error messages and EXPLAIN. */
  clause: 'where' | 'having' | 'qualify' | 'min_group';
}

export interface ProjectItem {
  expr: Expr;
  column: PlanColumn;
}

export interface ProjectNode {
  kind: 'project';
  input: LogicalPlan;
  items: ProjectItem[];
}

export interface JoinNode {
  kind: 'join';
  type: JoinType;
  mode: JoinMode;
  left: LogicalPlan;
  right: LogicalPlan;
  condition?: Expr;
  span?: Span;
}

export interface AggregateItem {
  call: FunctionCall;
  column: PlanColumn;
}

export interface AggregateNode {
  kind: 'aggregate';
  input: LogicalPlan;
  groups: ProjectItem[];
  aggregates: AggregateItem[];
}

export interface WindowNode {
  kind: 'window';
  input: LogicalPlan;
  /** Window function calls (with `over`); output = input columns + these. */
  items: AggregateItem[];
}

export interface SortNode {
  kind: 'sort';
  input: LogicalPlan;
  keys: OrderItem[];
}

export interface LimitNode {
  kind: 'limit';
  input: LogicalPlan;
  limit?: Expr;
  offset?: Expr;
}

export interface DistinctNode {
  kind: 'distinct';
  input: LogicalPlan;
  /** DISTINCT ON expressions; plain DISTINCT when absent. */
  on?: Expr[];
}

export interface SetOpNode {
  kind: 'setop';
  op: 'union' | 'intersect' | 'except';
  all: boolean;
  inputs: LogicalPlan[];
  /** Output columns; input i's output columns map to these by position. */
  columns: PlanColumn[];
  /** Set when this union is the expansion of a federated table. */
  federated?: FederatedTableDef;
  /**
   * Members of that federated table that were down when the query was bound: they have no
   * input here, so reading this union would silently lose their rows. Only an operator that
   * answers without reading members may plan over it (planner/unavailable-members.ts).
   */
  unavailable?: UnavailableMember[];
}

export type LogicalPlan =
  | ScanNode
  | ValuesNode
  | TableFunctionNode
  | FilterNode
  | ProjectNode
  | JoinNode
  | AggregateNode
  | WindowNode
  | SortNode
  | LimitNode
  | DistinctNode
  | SetOpNode;

/** A subquery inside an expression, carrying its bound plan. */
export interface SubplanQuery extends Query {
  subplan: LogicalPlan;
}

export function isSubplanQuery(q: Query): q is SubplanQuery {
  return (q as Partial<SubplanQuery>).subplan !== undefined;
}

/** Wraps a bound plan so it can sit where the AST expects a `Query`. */
export function subplanQuery(plan: LogicalPlan): SubplanQuery {
  return { kind: 'query', body: { kind: 'values', rows: [] }, subplan: plan };
}

export function outputColumns(plan: LogicalPlan): PlanColumn[] {
  switch (plan.kind) {
    case 'scan':
      return [...plan.columns.map((c) => c.column), ...(plan.partyColumn ? [plan.partyColumn] : [])];
    case 'values':
    case 'table_function':
    case 'setop':
      return plan.columns;
    case 'filter':
    case 'sort':
    case 'limit':
    case 'distinct':
      return outputColumns(plan.input);
    case 'project':
      return plan.items.map((i) => i.column);
    case 'join':
      return [...outputColumns(plan.left), ...outputColumns(plan.right)];
    case 'aggregate':
      return [...plan.groups.map((g) => g.column), ...plan.aggregates.map((a) => a.column)];
    case 'window':
      return [...outputColumns(plan.input), ...plan.items.map((i) => i.column)];
  }
}

export function children(plan: LogicalPlan): LogicalPlan[] {
  switch (plan.kind) {
    case 'scan': case 'values': case 'table_function': return [];
    case 'join': return [plan.left, plan.right];
    case 'setop': return plan.inputs;
    default: return [plan.input];
  }
}

/** Returns a copy of `plan` with its children replaced (same order as `children`). */
export function withChildren(plan: LogicalPlan, kids: LogicalPlan[]): LogicalPlan {
  switch (plan.kind) {
    case 'scan': case 'values': case 'table_function': return plan;
    case 'join': return { ...plan, left: kids[0], right: kids[1] };
    case 'setop': return { ...plan, inputs: kids };
    default: return { ...plan, input: kids[0] } as LogicalPlan;
  }
}

/** Every expression an operator evaluates (not those of its children). */
export function nodeExpressions(plan: LogicalPlan): Expr[] {
  switch (plan.kind) {
    case 'scan': case 'setop': return [];
    case 'values': return plan.rows.flat();
    case 'table_function': return [plan.call];
    case 'filter': return [plan.predicate];
    case 'project': return plan.items.map((i) => i.expr);
    case 'join': return plan.condition ? [plan.condition] : [];
    case 'aggregate': return [...plan.groups.map((g) => g.expr), ...plan.aggregates.map((a) => a.call)];
    case 'window': return plan.items.map((i) => i.call);
    case 'sort': return plan.keys.map((k) => k.expr);
    case 'limit': return [plan.limit, plan.offset].filter((x): x is Expr => x !== undefined);
    case 'distinct': return plan.on ?? [];
  }
}

/** Visits the plan tree in pre-order (not entering subplans of expressions). */
export function walkPlan(plan: LogicalPlan, visit: (p: LogicalPlan) => void): void {
  visit(plan);
  for (const c of children(plan)) walkPlan(c, visit);
}

/** Returns a copy of one operator with `f` applied to each of its own expressions. */
export function mapNodeExpressions(plan: LogicalPlan, f: (e: Expr) => Expr): LogicalPlan {
  switch (plan.kind) {
    case 'scan': case 'setop': return plan;
    case 'values': return { ...plan, rows: plan.rows.map((r) => r.map(f)) };
    case 'table_function': return { ...plan, call: f(plan.call) as FunctionCall };
    case 'filter': return { ...plan, predicate: f(plan.predicate) };
    case 'project': return { ...plan, items: plan.items.map((i) => ({ ...i, expr: f(i.expr) })) };
    case 'join': return { ...plan, condition: plan.condition ? f(plan.condition) : undefined };
    case 'aggregate':
      return {
        ...plan,
        groups: plan.groups.map((g) => ({ ...g, expr: f(g.expr) })),
        aggregates: plan.aggregates.map((a) => ({ ...a, call: f(a.call) as FunctionCall })),
      };
    case 'window': return { ...plan, items: plan.items.map((i) => ({ ...i, call: f(i.call) as FunctionCall })) };
    case 'sort': return { ...plan, keys: plan.keys.map((k) => ({ ...k, expr: f(k.expr) })) };
    case 'limit': return { ...plan, limit: plan.limit ? f(plan.limit) : undefined, offset: plan.offset ? f(plan.offset) : undefined };
    case 'distinct': return { ...plan, on: plan.on?.map(f) };
  }
}

/** Applies `f` to every expression of every operator, bottom-up, including subplans. */
export function mapPlanExpressions(plan: LogicalPlan, f: (e: Expr) => Expr): LogicalPlan {
  const deep = (e: Expr): Expr =>
    f(
      mapExpr(e, {
        query: (q) => (isSubplanQuery(q) ? ({ ...q, subplan: mapPlanExpressions(q.subplan, f) } as SubplanQuery) : q),
      }),
    );
  return mapNodeExpressions(withChildren(plan, children(plan).map((c) => mapPlanExpressions(c, f))), deep);
}

/**
 * Every column name referenced by `e`, including references anywhere inside its subplans
 * (their own columns as well as correlated references to enclosing operators: names are
 * unique, so callers intersect with the columns they care about).
 */
export function referencedColumns(e: Expr, into: Set<string> = new Set()): Set<string> {
  visitExpr(
    e,
    (x) => {
      if (x.kind === 'column') into.add(x.name[x.name.length - 1]);
    },
    (q) => {
      if (isSubplanQuery(q)) walkPlan(q.subplan, (p) => nodeExpressions(p).forEach((pe) => referencedColumns(pe, into)));
    },
  );
  return into;
}

/** True when `e` contains a subquery. */
export function hasSubquery(e: Expr): boolean {
  let found = false;
  visitExpr(e, () => !found, () => {
    found = true;
  });
  return found;
}

/** Returns `plan` (one operator) with `f` applied to the subplans in its own expressions. */
export function mapSubplans(plan: LogicalPlan, f: (subplan: LogicalPlan) => LogicalPlan): LogicalPlan {
  let changed = false;
  const out = mapNodeExpressions(plan, (e) =>
    mapExpr(e, {
      query: (q) => {
        if (!isSubplanQuery(q)) return q;
        changed = true;
        return { ...q, subplan: f(q.subplan) } as SubplanQuery;
      },
    }),
  );
  return changed ? out : plan;
}
