/**
 * Binds one AST expression against a scope: column references become statement-unique plan
 * column names, subqueries become bound subplans, parameter types are inferred from their
 * context, and clause rules are enforced (no aggregates in WHERE, no nested aggregates, …).
 */
import type { Expr, FunctionCall, Query, WindowSpec } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { mapExpr } from '../expr-utils.js';
import { subplanQuery, type LogicalPlan } from '../logical-plan.js';
import { isFlexible, T, typeFromSqlName, type SqlType } from '../types.js';
import type { BindContext } from './context.js';
import { isAggregateName } from './functions.js';
import { misplacedCiError } from './privacy-options.js';
import type { Scope } from './scope.js';
import { inferType } from './typing.js';

export interface ExprEnv {
  ctx: BindContext;
  scope: Scope;
  /** Clause name when aggregates are not allowed here (`WHERE`, `JOIN conditions`, …). */
  noAggregates?: string;
  /** Clause name when window functions are not allowed here. */
  noWindows?: string;
  /** Named windows of the current SELECT (`WINDOW w AS (…)`). */
  windows?: Map<string, WindowSpec>;
  /** Binds a subquery with `scope` as its outer scope. */
  bindSubquery: (q: Query, outer: Scope) => LogicalPlan;
}

const position = (e: { span?: { start: number } }): number | undefined => (e.span ? e.span.start + 1 : undefined);

export function bindExpr(e: Expr, env: ExprEnv): Expr {
  return mapExpr(e, {
    expr: (x) => bindNode(x, env),
    query: (q) => subplanQuery(env.bindSubquery(q, env.scope)),
  });
}

function bindNode(e: Expr, env: ExprEnv): Expr | undefined {
  switch (e.kind) {
    case 'column': {
      const { column } = env.scope.resolve(e.name, e.span);
      return { kind: 'column', name: [column.name], span: e.span };
    }
    case 'function':
      return bindFunction(e, env);
    case 'binary': {
      const out: Expr = { ...e, left: bindExpr(e.left, env), right: bindExpr(e.right, env) };
      inferParamFromPeer(out.left, out.right, env.ctx);
      inferParamFromPeer(out.right, out.left, env.ctx);
      return out;
    }
    case 'in_list': {
      const expr = bindExpr(e.expr, env);
      const list = e.list.map((x) => bindExpr(x, env));
      for (const item of list) {
        inferParamFromPeer(item, expr, env.ctx);
        inferParamFromPeer(expr, item, env.ctx);
      }
      return { ...e, expr, list };
    }
    case 'between': {
      const out = { ...e, expr: bindExpr(e.expr, env), low: bindExpr(e.low, env), high: bindExpr(e.high, env) };
      inferParamFromPeer(out.low, out.expr, env.ctx);
      inferParamFromPeer(out.high, out.expr, env.ctx);
      inferParamFromPeer(out.expr, out.low, env.ctx);
      return out;
    }
    case 'like': {
      const out = { ...e, expr: bindExpr(e.expr, env), pattern: bindExpr(e.pattern, env) };
      if (e.escape) out.escape = bindExpr(e.escape, env);
      setParamType(out.pattern, T.varchar, env.ctx);
      setParamType(out.expr, T.varchar, env.ctx);
      return out;
    }
    case 'cast': {
      const inner = bindExpr(e.expr, env);
      setParamType(inner, typeFromSqlName(e.type.name, e.type.args, e.type.arrayDims), env.ctx);
      return { ...e, expr: inner };
    }
    default:
      return undefined;
  }
}

function bindFunction(call: FunctionCall, env: ExprEnv): Expr {
  const name = call.name[call.name.length - 1];
  // Valid DP_CI_LOW/HIGH calls were rewritten before binding (privacy-options.ts).
  if (name === 'dp_ci_low' || name === 'dp_ci_high') throw misplacedCiError(call);
  const isWindow = call.over !== undefined;
  const isAggregate = !isWindow && (isAggregateName(name) || call.dp !== undefined) && call.name.length === 1;
  if (isAggregate && env.noAggregates) {
    throw new SqlError(SqlState.groupingError, `aggregate functions are not allowed in ${env.noAggregates}`, {
      position: position(call),
    });
  }
  if (isWindow && env.noWindows) {
    throw new SqlError(SqlState.groupingError, `window functions are not allowed in ${env.noWindows}`, {
      position: position(call),
    });
  }
  if (call.dp && !isAggregateName(name)) {
    throw new SqlError(SqlState.syntaxError, `DP can only precede an aggregate function, not ${name}()`, {
      position: position(call),
    });
  }
  // Arguments of an aggregate may not contain aggregates (Postgres: "cannot be nested").
  const inner: ExprEnv = isAggregate || isWindow
    ? { ...env, noAggregates: isAggregate ? 'aggregate function calls (they cannot be nested)' : env.noAggregates, noWindows: 'aggregate or window function arguments' }
    : env;
  const b = (x: Expr) => bindExpr(x, inner);
  let over = call.over;
  if (typeof over === 'string') {
    const named = env.windows?.get(over);
    if (!named) throw new SqlError(SqlState.syntaxError, `window "${over}" does not exist`, { position: position(call) });
    over = named;
  }
  if (over && over.baseWindow) {
    const base = env.windows?.get(over.baseWindow);
    if (!base) throw new SqlError(SqlState.syntaxError, `window "${over.baseWindow}" does not exist`, { position: position(call) });
    over = { ...base, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)), baseWindow: undefined };
  }
  const windowEnv: ExprEnv = { ...env, noWindows: 'window definitions' };
  const boundOver: WindowSpec | undefined = over
    ? {
        ...over,
        partitionBy: over.partitionBy?.map((x) => bindExpr(x, windowEnv)),
        orderBy: over.orderBy?.map((o) => ({ ...o, expr: bindExpr(o.expr, windowEnv) })),
      }
    : undefined;
  const out: FunctionCall = {
    ...call,
    args: call.args.map(b),
    orderBy: call.orderBy?.map((o) => ({ ...o, expr: b(o.expr) })),
    withinGroup: call.withinGroup?.map((o) => ({ ...o, expr: b(o.expr) })),
    filter: call.filter ? bindExpr(call.filter, { ...inner, noAggregates: 'FILTER' }) : undefined,
    over: boundOver,
    dp: call.dp?.bounds ? { ...call.dp, bounds: { low: b(call.dp.bounds.low), high: b(call.dp.bounds.high) } } : call.dp,
  };
  if (out.orderBy === undefined) delete out.orderBy;
  if (out.withinGroup === undefined) delete out.withinGroup;
  if (out.filter === undefined) delete out.filter;
  if (out.over === undefined) delete out.over;
  if (out.dp === undefined) delete out.dp;
  return out;
}

function setParamType(e: Expr, t: SqlType, ctx: BindContext): void {
  if (e.kind === 'parameter' && !ctx.paramTypes.has(e.index) && !isFlexible(t)) ctx.paramTypes.set(e.index, t);
}

function inferParamFromPeer(target: Expr, peer: Expr, ctx: BindContext): void {
  if (target.kind !== 'parameter' || ctx.paramTypes.has(target.index)) return;
  const t = inferType(peer, ctx);
  if (!isFlexible(t)) ctx.paramTypes.set(target.index, t);
}

/** True when `e` contains an aggregate call outside subqueries (window calls excluded). */
export function containsAggregate(e: Expr): boolean {
  let found = false;
  mapExpr(e, {
    expr: (x) => {
      if (found) return x;
      if (x.kind === 'function' && x.over === undefined && (isAggregateName(x.name[x.name.length - 1]) || x.dp) && x.name.length === 1) {
        found = true;
        return x;
      }
      return undefined;
    },
  });
  return found;
}
