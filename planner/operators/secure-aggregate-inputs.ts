/**
 * Logical rewrite for secure aggregation (runs in the optimizer, before placement): an
 * aggregate the secure-aggregation operator claims gets, below its union, one projection per
 * party that computes exactly what that party feeds the protocol — the GROUP BY keys and each
 * aggregate's argument, with FILTER (WHERE …) folded in as CASE WHEN … THEN arg END:
 *
 *   Aggregate[g(x), sum(f(y)) FILTER (WHERE c)](Union(m_1 … m_n))
 *     → Aggregate[k, sum(a)](Union(Project[g(x) AS k, CASE WHEN c THEN f(y) END AS a](m_i) …))
 *
 * Each projection is then a single-party subtree, so it becomes that party's protocol input
 * (checked by the party with uses `output` for keys and `statistic` for arguments), and the
 * aggregate above only combines union columns. Shapes that do not fit (e.g. a join with
 * another party's table) are left alone; the operator then refuses them with a precise error.
 */
import type { Expr, FunctionCall } from '../../parser/ast.js';
import type { BindContext } from '../binder/context.js';
import { inferType } from '../binder/typing.js';
import { exprKey, mapExpr } from '../expr-utils.js';
import {
  children, outputColumns, withChildren, type AggregateNode, type LogicalPlan, type PlanColumn, type ProjectItem, type SetOpNode,
} from '../logical-plan.js';
import { privateOperatorFor } from '../private-operators.js';
import { partitionsOf } from './partitions.js';
import { SECURE_AGGREGATE_OPERATOR } from './secure-aggregate-spec.js';

export function prepareSecureAggregates(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  const node = withChildren(plan, children(plan).map((c) => prepareSecureAggregates(c, ctx)));
  if (node.kind !== 'aggregate' || privateOperatorFor(node)?.name !== SECURE_AGGREGATE_OPERATOR) return node;
  return rewrite(node, ctx) ?? node;
}

const col = (c: PlanColumn): Expr => ({ kind: 'column', name: [c.name] });

function rewrite(agg: AggregateNode, ctx: BindContext): LogicalPlan | undefined {
  const parts = partitionsOf(agg.input);
  if (!parts) return undefined;
  if (agg.aggregates.some((a) => a.call.distinct || a.call.orderBy || a.call.withinGroup)) return undefined;

  // The expressions every party evaluates, deduplicated: keys first, then arguments.
  const slots: Expr[] = [];
  const slotOf = new Map<string, number>();
  const slot = (e: Expr): number => {
    const key = exprKey(e);
    let i = slotOf.get(key);
    if (i === undefined) {
      i = slots.length;
      slots.push(e);
      slotOf.set(key, i);
    }
    return i;
  };
  const groupSlots = agg.groups.map((g) => slot(g.expr));
  if (new Set(groupSlots).size !== groupSlots.length) return undefined;
  const argSlots = agg.aggregates.map((a) => {
    const star = a.call.args.length === 0 || a.call.args[0].kind === 'star_arg';
    if (star) return a.call.filter ? [slot(caseWhen(a.call.filter, { kind: 'number', text: '1' }))] : [];
    return a.call.args.map((arg) => slot(a.call.filter ? caseWhen(a.call.filter, arg) : arg));
  });
  const union = agg.input.kind === 'setop' && parts.length === agg.input.inputs.length && parts.every((p, i) => p.plan === (agg.input as SetOpNode).inputs[i])
    ? agg.input
    : undefined;
  // Labels say what each party feeds the protocol (EXPLAIN's disclosure lines show them).
  const inputLabels = new Map(outputColumns(agg.input).map((c) => [c.name, c.label]));
  const labelOf = (e: Expr, i: number) =>
    i < agg.groups.length ? agg.groups[i].column.label : e.kind === 'column' ? (inputLabels.get(e.name[0]) ?? 'arg') : 'expression';
  const slotColumns = slots.map((e, i) => ctx.newColumn(i < agg.groups.length ? `sa_key${i}` : `sa_arg${i}`, labelOf(e, i), inferType(e, ctx)));
  const projectFor = (input: LogicalPlan, rename: Map<string, string>): LogicalPlan => {
    const toMember = (e: Expr) =>
      mapExpr(e, { expr: (x) => (x.kind === 'column' && rename.has(x.name[0]) ? { ...x, name: [rename.get(x.name[0])!] } : undefined) });
    const items: ProjectItem[] = slots.map((e, i) => ({
      expr: toMember(e),
      column: union ? ctx.newColumn(`${slotColumns[i].name}_m`, slotColumns[i].label, slotColumns[i].type) : slotColumns[i],
    }));
    return { kind: 'project', input, items };
  };
  let input: LogicalPlan;
  if (union) {
    const inputs = union.inputs.map((m) => {
      const memberCols = outputColumns(m);
      return projectFor(m, new Map(union.columns.map((c, i) => [c.name, memberCols[i].name])));
    });
    input = { ...union, inputs, columns: slotColumns };
  } else {
    input = projectFor(agg.input, new Map());
  }
  const groups: ProjectItem[] = agg.groups.map((g, i) => ({ expr: col(slotColumns[groupSlots[i]]), column: g.column }));
  const aggregates = agg.aggregates.map((a, i) => {
    const star = a.call.args.length === 0 || a.call.args[0].kind === 'star_arg';
    const call: FunctionCall = { ...a.call, args: star && !a.call.filter ? a.call.args : argSlots[i].map((s) => col(slotColumns[s])) };
    delete call.filter;
    return { call, column: a.column };
  });
  return { kind: 'aggregate', input, groups, aggregates };
}

function caseWhen(condition: Expr, then: Expr): Expr {
  return { kind: 'case', whens: [{ when: condition, then }] };
}
