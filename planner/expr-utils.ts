/**
 * Generic traversal of AST expressions. Bound expressions in the planner are ordinary AST
 * expressions in which every column reference is a single-part name that is unique within the
 * statement's plan (see `logical-plan.ts`), so the same printer renders them and the same
 * helpers walk them.
 */
import type { Expr, OrderItem, Query, WindowSpec } from '../parser/ast.js';
import { stripSpans } from '../parser/ast.js';

export interface ExprMapper {
  /** Return a replacement to use instead of `e` (its children are not visited), or undefined. */
  expr?: (e: Expr) => Expr | undefined;
  /** Maps a query nested in an expression (subqueries); identity when absent. */
  query?: (q: Query) => Query;
}

/** Rebuilds `e` bottom-up, applying `m` to every sub-expression (pre-order replacement). */
export function mapExpr(e: Expr, m: ExprMapper): Expr {
  const replaced = m.expr?.(e);
  if (replaced) return replaced;
  const f = (x: Expr): Expr => mapExpr(x, m);
  const fo = (x: Expr | undefined): Expr | undefined => (x ? mapExpr(x, m) : undefined);
  const q = (x: Query): Query => (m.query ? m.query(x) : x);
  const order = (items: OrderItem[] | undefined): OrderItem[] | undefined => items?.map((o) => ({ ...o, expr: f(o.expr) }));
  switch (e.kind) {
    case 'number': case 'string': case 'boolean': case 'null': case 'typed_string':
    case 'column': case 'parameter': case 'special': case 'star_arg':
      return e;
    case 'interval': return { ...e, value: f(e.value) };
    case 'unary': return { ...e, operand: f(e.operand) };
    case 'binary': return { ...e, left: f(e.left), right: f(e.right) };
    case 'like': return { ...e, expr: f(e.expr), pattern: f(e.pattern), escape: fo(e.escape) };
    case 'between': return { ...e, expr: f(e.expr), low: f(e.low), high: f(e.high) };
    case 'in_list': return { ...e, expr: f(e.expr), list: e.list.map(f) };
    case 'in_subquery': return { ...e, expr: f(e.expr), query: q(e.query) };
    case 'is': return { ...e, expr: f(e.expr), other: fo(e.other) };
    case 'exists': return { ...e, query: q(e.query) };
    case 'scalar_subquery': return { ...e, query: q(e.query) };
    case 'array_subquery': return { ...e, query: q(e.query) };
    case 'quantified':
      return { ...e, expr: f(e.expr), query: e.query ? q(e.query) : undefined, array: fo(e.array) };
    case 'case':
      return {
        ...e,
        operand: fo(e.operand),
        whens: e.whens.map((w) => ({ when: f(w.when), then: f(w.then) })),
        else: fo(e.else),
      };
    case 'cast': return { ...e, expr: f(e.expr) };
    case 'function':
      return {
        ...e,
        args: e.args.map(f),
        orderBy: order(e.orderBy),
        withinGroup: order(e.withinGroup),
        filter: fo(e.filter),
        over: typeof e.over === 'object' ? mapWindow(e.over, f, order) : e.over,
        dp: e.dp?.bounds ? { ...e.dp, bounds: { low: f(e.dp.bounds.low), high: f(e.dp.bounds.high) } } : e.dp,
      };
    case 'extract': return { ...e, expr: f(e.expr) };
    case 'array': return { ...e, elements: e.elements.map(f) };
    case 'subscript':
      return { ...e, expr: f(e.expr), index: fo(e.index), slice: e.slice ? { upper: fo(e.slice.upper) } : undefined };
    case 'field': return { ...e, expr: f(e.expr) };
    case 'collate': return { ...e, expr: f(e.expr) };
    case 'row': return { ...e, elements: e.elements.map(f) };
  }
}

function mapWindow(
  w: WindowSpec,
  f: (x: Expr) => Expr,
  order: (items: OrderItem[] | undefined) => OrderItem[] | undefined,
): WindowSpec {
  return {
    ...w,
    partitionBy: w.partitionBy?.map(f),
    orderBy: order(w.orderBy),
    frame: w.frame
      ? {
          ...w.frame,
          start: { ...w.frame.start, offset: w.frame.start.offset ? f(w.frame.start.offset) : undefined },
          end: w.frame.end ? { ...w.frame.end, offset: w.frame.end.offset ? f(w.frame.end.offset) : undefined } : undefined,
        }
      : undefined,
  };
}

/**
 * Visits `e` and its sub-expressions in pre-order. Return `false` from `visit` to skip the
 * children of a node. Queries nested in expressions are passed to `onQuery` (not entered).
 */
export function visitExpr(e: Expr, visit: (e: Expr) => boolean | void, onQuery?: (q: Query) => void): void {
  mapExpr(e, {
    expr: (x) => {
      if (visit(x) === false) return x;
      return undefined;
    },
    query: (q) => {
      onQuery?.(q);
      return q;
    },
  });
}

/** Structural equality ignoring source positions. */
export function exprEquals(a: Expr, b: Expr): boolean {
  return JSON.stringify(stripSpans(a)) === JSON.stringify(stripSpans(b));
}

/** A stable structural key for an expression (for de-duplication in maps). */
export function exprKey(e: Expr): string {
  return JSON.stringify(stripSpans(e));
}

/** `a AND b AND c` → [a, b, c]. */
export function splitConjuncts(e: Expr | undefined): Expr[] {
  if (!e) return [];
  if (e.kind === 'binary' && e.op === 'and') return [...splitConjuncts(e.left), ...splitConjuncts(e.right)];
  return [e];
}

/** [a, b, c] → `a AND b AND c` (undefined for an empty list). */
export function joinConjuncts(parts: Expr[]): Expr | undefined {
  if (parts.length === 0) return undefined;
  return parts.reduce((acc, p) => ({ kind: 'binary', op: 'and', left: acc, right: p }));
}

export const columnRef = (name: string, qualifier?: string): Expr =>
  ({ kind: 'column', name: qualifier ? [qualifier, name] : [name] });
