/**
 * Binds query expressions into logical plans: WITH, set operations, VALUES, and the SELECT
 * block (WHERE → GROUP BY/aggregates → HAVING → windows → projection → DISTINCT → ORDER BY →
 * LIMIT), following Postgres' name-resolution rules for GROUP BY and ORDER BY.
 */
import type { Expr, FunctionCall, OrderItem, Query, QueryBody, Select, SelectItem, WindowSpec } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { exprKey, mapExpr, visitExpr } from '../expr-utils.js';
import type { AggregateItem, LogicalPlan, PlanColumn, ProjectItem } from '../logical-plan.js';
import { T } from '../types.js';
import { bindExpr, containsAggregate, type ExprEnv } from './bind-expr.js';
import { bindFromList, type BoundQueryLike, type FromBinder } from './bind-from.js';
import type { BindContext, CteBinding } from './context.js';
import { isAggregateName } from './functions.js';
import { attachDpOptions, prepareDpSelect, resolveDpOptions } from './privacy-options.js';
import { gwasFields } from '../gwas/result-types.js';
import { endsWith, Scope } from './scope.js';
import { inferType, requireBoolean, unifySetOpTypes } from './typing.js';

const position = (e: { span?: { start: number } } | undefined): number | undefined => (e?.span ? e.span.start + 1 : undefined);

export class QueryBinder {
  constructor(readonly ctx: BindContext) {}

  bindQuery(q: Query, outer: Scope | undefined, ctes: Map<string, CteBinding>): BoundQueryLike {
    let visible = ctes;
    if (q.with) {
      if (q.with.recursive) {
        throw new SqlError(SqlState.featureNotSupported, 'WITH RECURSIVE is not supported by the federated planner', {
          position: position(q.with),
          hint: 'Rewrite the recursion as a join, or run it inside one party with its own tools.',
        });
      }
      visible = new Map(ctes);
      for (const cte of q.with.ctes) visible.set(cte.name, { def: cte, visible: new Map(visible) });
    }
    let bound: BoundQueryLike;
    if (q.body.kind === 'select') {
      bound = this.bindSelect(q.body, outer, visible, q.orderBy);
    } else {
      bound = this.bindBody(q.body, outer, visible);
      if (q.orderBy?.length) bound = this.orderByOutputs(bound, q.orderBy);
    }
    if (q.limit || q.offset) {
      const env = this.env(new Scope([], outer), visible, 'LIMIT');
      const limit = q.limit ? this.bindLimitValue(q.limit, env) : undefined;
      const offset = q.offset ? this.bindLimitValue(q.offset, env) : undefined;
      bound = { plan: { kind: 'limit', input: bound.plan, limit, offset }, columns: bound.columns };
    }
    return bound;
  }

  private bindLimitValue(e: Expr, env: ExprEnv): Expr {
    const v = bindExpr(e, env);
    if (v.kind === 'parameter' && !this.ctx.paramTypes.has(v.index)) this.ctx.paramTypes.set(v.index, T.bigint);
    return v;
  }

  private env(scope: Scope, ctes: Map<string, CteBinding>, noAggregates?: string, windows?: Map<string, WindowSpec>): ExprEnv {
    return {
      ctx: this.ctx,
      scope,
      noAggregates,
      noWindows: noAggregates,
      windows,
      bindSubquery: (sub, outerScope) => this.bindQuery(sub, outerScope, ctes).plan,
    };
  }

  private fromBinder(ctes: Map<string, CteBinding>): FromBinder {
    return {
      ctx: this.ctx,
      ctes,
      bindQuery: (q, outer, visible) => this.bindQuery(q, outer, visible),
      bindSubquery: (sub, outerScope) => this.bindQuery(sub, outerScope, ctes).plan,
    };
  }

  bindBody(body: QueryBody, outer: Scope | undefined, ctes: Map<string, CteBinding>): BoundQueryLike {
    switch (body.kind) {
      case 'select':
        return this.bindSelect(body, outer, ctes, undefined);
      case 'paren_query':
        return this.bindQuery(body.query, outer, ctes);
      case 'values':
        return this.bindValues(body, outer, ctes);
      case 'set_operation': {
        const left = this.bindBody(body.left, outer, ctes);
        const right = this.bindBody(body.right, outer, ctes);
        if (left.columns.length !== right.columns.length) {
          throw new SqlError(SqlState.syntaxError, `each ${body.op.toUpperCase()} query must have the same number of columns`, {
            position: position(body.right),
          });
        }
        const columns = left.columns.map((c, i) =>
          this.ctx.newColumn(c.label, c.label, unifySetOpTypes(c.type, right.columns[i].type, body.op, position(body.right))),
        );
        return { plan: { kind: 'setop', op: body.op, all: body.all, inputs: [left.plan, right.plan], columns }, columns };
      }
    }
  }

  private bindValues(body: Extract<QueryBody, { kind: 'values' }>, outer: Scope | undefined, ctes: Map<string, CteBinding>): BoundQueryLike {
    const env = this.env(new Scope([], outer), ctes, 'VALUES');
    const width = body.rows[0]?.length ?? 0;
    const rows = body.rows.map((row, r) => {
      if (row.length !== width) {
        throw new SqlError(SqlState.syntaxError, 'VALUES lists must all be the same length', { position: position(row[0]) ?? position(body) });
      }
      void r;
      return row.map((e) => bindExpr(e, env));
    });
    const columns = Array.from({ length: width }, (_, i) => {
      let type = inferType(rows[0][i], this.ctx);
      for (const row of rows.slice(1)) type = unifySetOpTypes(type, inferType(row[i], this.ctx), 'VALUES', position(row[i]));
      return this.ctx.newColumn(`column${i + 1}`, `column${i + 1}`, type.id === 'null' ? T.varchar : type);
    });
    return { plan: { kind: 'values', rows, columns }, columns };
  }

  /** ORDER BY over a set operation or VALUES: output names and ordinals only. */
  private orderByOutputs(bound: BoundQueryLike, orderBy: OrderItem[]): BoundQueryLike {
    const keys = orderBy.map((o) => {
      const col = this.outputReference(o.expr, bound.columns);
      if (!col) {
        throw new SqlError(SqlState.featureNotSupported, 'ORDER BY on a UNION/INTERSECT/EXCEPT result must use output column names or positions', {
          position: position(o.expr),
        });
      }
      return { ...o, expr: { kind: 'column' as const, name: [col.name], span: o.expr.span } };
    });
    return { plan: { kind: 'sort', input: bound.plan, keys }, columns: bound.columns };
  }

  private outputReference(e: Expr, columns: PlanColumn[]): PlanColumn | undefined {
    if (e.kind === 'number' && /^\d+$/.test(e.text)) {
      const k = Number(e.text);
      if (k < 1 || k > columns.length) {
        throw new SqlError('42P10', `ORDER BY position ${k} is not in select list`, { position: position(e) });
      }
      return columns[k - 1];
    }
    if (e.kind === 'column' && e.name.length === 1) return columns.find((c) => c.label === e.name[0]);
    return undefined;
  }

  bindSelect(written: Select, outer: Scope | undefined, ctes: Map<string, CteBinding>, orderBy: OrderItem[] | undefined): BoundQueryLike {
    const ctx = this.ctx;
    // DP: implicit DP aggregates under privacy options, DP_CI_LOW/HIGH(alias) → marked DP calls.
    const sel = prepareDpSelect(written);
    const from = sel.from?.length
      ? bindFromList(sel.from, outer, this.fromBinder(ctes))
      : { plan: { kind: 'values', rows: [[]], columns: [] } as LogicalPlan, relations: [], merged: new Map<string, PlanColumn>() };
    const scope = new Scope(from.relations, outer);
    for (const [k, v] of from.merged) scope.merged.set(k, v);
    const windows = new Map<string, WindowSpec>((sel.windows ?? []).map((w) => [w.name, w.spec]));
    const env = this.env(scope, ctes, undefined, windows);
    let plan = from.plan;

    if (sel.where) {
      const pred = bindExpr(sel.where, { ...env, noAggregates: 'WHERE', noWindows: 'WHERE' });
      requireBoolean(inferType(pred, ctx), 'WHERE', sel.where);
      plan = { kind: 'filter', input: plan, predicate: pred, clause: 'where' };
    }

    // Select list, with * expanded.
    const items = this.expandItems(sel.items, scope, env);
    const having = sel.having ? bindExpr(sel.having, { ...env, noWindows: 'HAVING' }) : undefined;

    // ORDER BY keys: an output ordinal, an output name, or an expression over the FROM clause.
    type Key = { item: OrderItem; index?: number; expr?: Expr };
    const keys: Key[] = (orderBy ?? []).map((o) => {
      if (o.expr.kind === 'number' && /^\d+$/.test(o.expr.text)) {
        const k = Number(o.expr.text);
        if (k < 1 || k > items.length) throw new SqlError('42P10', `ORDER BY position ${k} is not in select list`, { position: position(o.expr) });
        return { item: o, index: k - 1 };
      }
      if (o.expr.kind === 'column' && o.expr.name.length === 1) {
        const name = o.expr.name[0];
        const matches = items.map((it, i) => (it.label === name ? i : -1)).filter((i) => i >= 0);
        if (matches.length > 1 && !items.every((it) => it.label !== name || exprKey(it.expr) === exprKey(items[matches[0]].expr))) {
          throw new SqlError(SqlState.ambiguousColumn, `ORDER BY "${name}" is ambiguous`, { position: position(o.expr) });
        }
        if (matches.length) return { item: o, index: matches[0] };
      }
      return { item: o, expr: bindExpr(o.expr, env) };
    });

    const grouped =
      sel.groupBy !== undefined ||
      having !== undefined ||
      items.some((i) => containsAggregate(i.expr)) ||
      keys.some((k) => k.expr && containsAggregate(k.expr));

    let rewrite = (e: Expr): Expr => e;
    if (grouped) {
      const groupExprs = this.groupExpressions(sel, items, scope, env);
      const groups: ProjectItem[] = [];
      const groupIndex = new Map<string, PlanColumn>();
      for (const g of groupExprs) {
        const key = exprKey(g.expr);
        if (groupIndex.has(key)) continue;
        const column = ctx.newColumn(g.label, g.label, inferType(g.expr, ctx));
        groups.push({ expr: g.expr, column });
        groupIndex.set(key, column);
      }
      const aggregates: AggregateItem[] = [];
      const aggIndex = new Map<string, PlanColumn>();
      const collect = (e: Expr) =>
        visitExpr(e, (x) => {
          if (isAggregateCall(x)) {
            const key = exprKey(x);
            if (!aggIndex.has(key)) {
              const name = x.name[x.name.length - 1];
              const column = ctx.newColumn(x.dp ? `dp_${name}` : name, name, inferType(x, ctx));
              aggregates.push({ call: x, column });
              aggIndex.set(key, column);
            }
            return false;
          }
          return undefined;
        });
      items.forEach((i) => collect(i.expr));
      if (having) collect(having);
      keys.forEach((k) => k.expr && collect(k.expr));
      const own = scope.ownColumnNames();
      rewrite = (e: Expr): Expr => {
        const out = mapExpr(e, {
          expr: (x) => {
            const g = groupIndex.get(exprKey(x));
            if (g) return { kind: 'column', name: [g.name], span: x.span };
            if (isAggregateCall(x)) return { kind: 'column', name: [aggIndex.get(exprKey(x))!.name], span: x.span };
            return undefined;
          },
        });
        visitExpr(out, (x) => {
          if (x.kind === 'column' && own.has(x.name[0])) {
            const col = x.name[0];
            const label = findLabel(from.relations, col) ?? col;
            throw new SqlError(SqlState.groupingError, `column "${label}" must appear in the GROUP BY clause or be used in an aggregate function`, {
              position: position(x),
            });
          }
        });
        return out;
      };
      plan = { kind: 'aggregate', input: plan, groups, aggregates };
      // DP aggregates carry their block's resolved privacy options to the DP operator.
      if (aggregates.some((a) => a.call.dp)) attachDpOptions(plan, resolveDpOptions(sel, ctx, scope));
      if (having) {
        const pred = rewrite(having);
        requireBoolean(inferType(pred, ctx), 'HAVING', sel.having!);
        plan = { kind: 'filter', input: plan, predicate: pred, clause: 'having' };
      }
    }

    if (sel.privacy && !grouped) {
      throw new SqlError(SqlState.featureNotSupported, 'privacy options need DP aggregates (DP COUNT, DP SUM, DP AVG) in the same SELECT', {
        position: sel.privacy.span ? sel.privacy.span.start + 1 : undefined,
      });
    }
    const rewritten = items.map((i) => ({ ...i, expr: rewrite(i.expr) }));
    const keyExprs = keys.map((k) => (k.expr ? rewrite(k.expr) : undefined));

    // Window functions are computed after grouping and before the projection.
    const windowItems: AggregateItem[] = [];
    const windowIndex = new Map<string, PlanColumn>();
    const pullWindows = (e: Expr): Expr =>
      mapExpr(e, {
        expr: (x) => {
          if (x.kind === 'function' && x.over !== undefined) {
            const key = exprKey(x);
            let column = windowIndex.get(key);
            if (!column) {
              const name = x.name[x.name.length - 1];
              column = ctx.newColumn(name, name, inferType(x, ctx));
              windowItems.push({ call: x, column });
              windowIndex.set(key, column);
            }
            return { kind: 'column', name: [column.name], span: x.span };
          }
          return undefined;
        },
      });
    const projected = rewritten.map((i) => ({ ...i, expr: pullWindows(i.expr) }));
    const keyProjected = keyExprs.map((e) => (e ? pullWindows(e) : undefined));
    if (windowItems.length) plan = { kind: 'window', input: plan, items: windowItems };

    const projectItems: ProjectItem[] = projected.map((i) => ({
      expr: i.expr,
      column: ctx.newColumn(i.label, i.label, inferType(i.expr, ctx)),
    }));
    const visible = projectItems.map((p) => p.column);
    const hidden: ProjectItem[] = [];
    const sortKeys: OrderItem[] = keys.map((k, n) => {
      if (k.index !== undefined) return { ...k.item, expr: { kind: 'column', name: [visible[k.index].name], span: k.item.expr.span } };
      const e = keyProjected[n]!;
      const same = projectItems.find((p) => exprKey(p.expr) === exprKey(e));
      if (same) return { ...k.item, expr: { kind: 'column', name: [same.column.name], span: k.item.expr.span } };
      if (sel.distinct) {
        throw new SqlError('42P10', 'for SELECT DISTINCT, ORDER BY expressions must appear in select list', { position: position(k.item.expr) });
      }
      const column = ctx.newColumn('sort_key', 'sort_key', inferType(e, ctx));
      hidden.push({ expr: e, column });
      return { ...k.item, expr: { kind: 'column', name: [column.name], span: k.item.expr.span } };
    });

    let distinctOn: Expr[] | undefined;
    if (Array.isArray(sel.distinct)) {
      distinctOn = sel.distinct.map((d) => {
        const ref = this.outputRef(d, projected, visible);
        if (ref) return ref;
        const e = rewrite(bindExpr(d, env));
        const same = projectItems.find((p) => exprKey(p.expr) === exprKey(e)) ?? hidden.find((p) => exprKey(p.expr) === exprKey(e));
        if (same) return { kind: 'column', name: [same.column.name] } as Expr;
        const column = ctx.newColumn('distinct_key', 'distinct_key', inferType(e, ctx));
        hidden.push({ expr: e, column });
        return { kind: 'column', name: [column.name] } as Expr;
      });
    }

    plan = { kind: 'project', input: plan, items: [...projectItems, ...hidden] };
    if (sel.distinct) plan = { kind: 'distinct', input: plan, on: distinctOn };
    if (sortKeys.length) plan = { kind: 'sort', input: plan, keys: sortKeys };
    if (hidden.length) {
      plan = { kind: 'project', input: plan, items: visible.map((c) => ({ expr: { kind: 'column', name: [c.name] }, column: c })) };
    }
    return { plan, columns: visible };
  }

  private outputRef(e: Expr, items: { label: string }[], visible: PlanColumn[]): Expr | undefined {
    if (e.kind === 'number' && /^\d+$/.test(e.text)) {
      const k = Number(e.text);
      if (k >= 1 && k <= visible.length) return { kind: 'column', name: [visible[k - 1].name] };
    }
    if (e.kind === 'column' && e.name.length === 1) {
      const i = items.findIndex((it) => it.label === e.name[0]);
      if (i >= 0) return { kind: 'column', name: [visible[i].name] };
    }
    return undefined;
  }

  private groupExpressions(sel: Select, items: BoundItem[], scope: Scope, env: ExprEnv): { expr: Expr; label: string }[] {
    if (!sel.groupBy) return [];
    if (sel.groupBy.all) return items.filter((i) => !containsAggregate(i.expr)).map((i) => ({ expr: i.expr, label: i.label }));
    const groupEnv: ExprEnv = { ...env, noAggregates: 'GROUP BY', noWindows: 'GROUP BY' };
    return sel.groupBy.items.map((g) => {
      if (g.kind === 'number' && /^\d+$/.test(g.text)) {
        const k = Number(g.text);
        if (k < 1 || k > items.length) throw new SqlError('42P10', `GROUP BY position ${k} is not in select list`, { position: position(g) });
        if (containsAggregate(items[k - 1].expr)) {
          throw new SqlError(SqlState.groupingError, `aggregate functions are not allowed in GROUP BY`, { position: position(g) });
        }
        return { expr: items[k - 1].expr, label: items[k - 1].label };
      }
      // Postgres prefers an input column over an output alias of the same name.
      if (g.kind === 'column' && g.name.length === 1) {
        let resolvesInFrom = true;
        try {
          scope.resolve(g.name, g.span);
        } catch {
          resolvesInFrom = false;
        }
        const alias = items.find((i) => i.label === g.name[0]);
        if (!resolvesInFrom && alias) return { expr: alias.expr, label: alias.label };
      }
      const expr = bindExpr(g, groupEnv);
      return { expr, label: figureLabel(g) };
    });
  }

  private expandItems(items: SelectItem[], scope: Scope, env: ExprEnv): BoundItem[] {
    const out: BoundItem[] = [];
    for (const item of items) {
      if (item.kind === 'star') {
        const rels = item.qualifier
          ? scope.relations.filter((r) => r.qualifiers.some((q) => endsWith(q, item.qualifier!)))
          : scope.relations;
        if (item.qualifier && rels.length === 0) {
          throw new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${item.qualifier.join('.')}"`, { position: position(item) });
        }
        if (!item.qualifier && scope.relations.length === 0) {
          throw new SqlError(SqlState.syntaxError, 'SELECT * with no tables specified is not valid', { position: position(item) });
        }
        if (!item.qualifier) {
          for (const [name, col] of scope.merged) out.push({ expr: { kind: 'column', name: [col.name], span: item.span }, label: name });
        }
        const mergedNames = new Set([...scope.merged.values()].map((c) => c.name));
        for (const r of rels) {
          for (const c of r.columns) {
            if (c.hidden || (!item.qualifier && mergedNames.has(c.column.name))) continue;
            out.push({ expr: { kind: 'column', name: [c.column.name], span: item.span }, label: c.name });
          }
        }
      } else if (item.kind === 'expr_star') {
        // `(GWAS_ALLELIC(…)).*`: one output column per field of the aggregate's result STRUCT.
        const inner = item.expr.kind === 'function' && item.expr.name.length === 1 ? gwasFields(item.expr.name[0]) : undefined;
        if (!inner) {
          throw new SqlError(SqlState.featureNotSupported, 'expanding a composite value with (expr).* is only supported for the GWAS aggregates (GWAS_ALLELIC, GWAS_MODEL)', {
            position: position(item),
          });
        }
        const call = bindExpr(item.expr, env);
        for (const f of inner) out.push({ expr: { kind: 'field', expr: call, field: f.name, span: item.span }, label: f.name, span: item.span });
      } else {
        out.push({ expr: bindExpr(item.expr, env), label: item.alias ?? figureLabel(item.expr), span: item.span });
      }
    }
    return out;
  }
}

interface BoundItem {
  expr: Expr;
  label: string;
  span?: { start: number; end: number };
}

function isAggregateCall(x: Expr): x is FunctionCall {
  return x.kind === 'function' && x.over === undefined && x.name.length === 1 && (isAggregateName(x.name[0]) || x.dp !== undefined);
}

function findLabel(relations: { display: string; columns: { name: string; column: PlanColumn }[] }[], unique: string): string | undefined {
  for (const r of relations) {
    const c = r.columns.find((x) => x.column.name === unique);
    if (c) return `${r.display}.${c.name}`;
  }
  return undefined;
}

/** The output column name Postgres would choose for an unaliased select item (FigureColname). */
export function figureLabel(e: Expr): string {
  switch (e.kind) {
    case 'column': return e.name[e.name.length - 1];
    case 'function': return e.name[e.name.length - 1];
    case 'cast': {
      const inner = figureLabel(e.expr);
      return inner === '?column?' ? e.type.name.split(' ')[0] : inner;
    }
    case 'case': return 'case';
    case 'exists': return 'exists';
    case 'array': case 'array_subquery': return 'array';
    case 'subscript': case 'collate': return figureLabel(e.expr);
    case 'field': return e.field;
    case 'extract': return 'extract';
    case 'typed_string': return e.type.name.split(' ')[0];
    case 'interval': return 'interval';
    case 'special': return e.name;
    case 'row': return 'row';
    case 'scalar_subquery': {
      const body = e.query.body;
      if (body.kind === 'select' && body.items.length === 1 && body.items[0].kind === 'expr_item') {
        return body.items[0].alias ?? figureLabel(body.items[0].expr);
      }
      return '?column?';
    }
    default: return '?column?';
  }
}
