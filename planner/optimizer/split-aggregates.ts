/**
 * Partial aggregation over unions (federated tables): `Aggregate(Union(m1 … mn))` becomes
 * `Aggregate_final(Union(Aggregate_partial(m1) … Aggregate_partial(mn)))` when every aggregate
 * decomposes (COUNT, SUM, MIN, MAX, AVG as SUM/COUNT, BOOL_AND/OR). Each partial then runs
 * inside its party's fragment, so only one row per group per party moves instead of every
 * row. Only plaintext aggregates over columns whose policy allows it reach this rule; the
 * policy check has already refused federated aggregates of `aggregate`-level columns, which
 * need secure aggregation instead.
 */
import type { Expr, FunctionCall } from '../../parser/ast.js';
import type { BindContext } from '../binder/context.js';
import { mapExpr } from '../expr-utils.js';
import {
  children, outputColumns, withChildren, type AggregateItem, type AggregateNode, type LogicalPlan, type PlanColumn,
  type ProjectItem,
} from '../logical-plan.js';
import { functionResultType } from '../binder/functions.js';
import { privateOperatorFor } from '../private-operators.js';
import { T } from '../types.js';

const SPLITTABLE = new Set(['count', 'sum', 'min', 'max', 'avg', 'mean', 'bool_and', 'bool_or', 'every']);

export function splitAggregates(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  const node = withChildren(plan, children(plan).map((c) => splitAggregates(c, ctx)));
  if (node.kind !== 'aggregate' || node.input.kind !== 'setop' || !node.input.all || node.input.op !== 'union') return node;
  if (!node.aggregates.every((a) => splittable(a.call))) return node;
  // Aggregates over non-public columns are combined by secure aggregation, never in plaintext.
  if (privateOperatorFor(node)) return node;
  return split(node, ctx);
}

function splittable(call: FunctionCall): boolean {
  const name = call.name[call.name.length - 1];
  return SPLITTABLE.has(name) && !call.distinct && !call.dp && !call.orderBy && call.name.length === 1;
}

const col = (c: PlanColumn): Expr => ({ kind: 'column', name: [c.name] });
const call = (name: string, args: Expr[]): FunctionCall => ({ kind: 'function', name: [name], args });
const cast = (e: Expr, type: string): Expr => ({ kind: 'cast', expr: e, type: { name: type }, syntax: 'cast' });

function split(agg: AggregateNode, ctx: BindContext): LogicalPlan {
  const union = agg.input as Extract<LogicalPlan, { kind: 'setop' }>;
  // Partial slots: for each original aggregate, the partial calls it needs.
  type Slot = { fn: string; arg?: (FunctionCall['args'])[number]; filter?: Expr; star: boolean };
  const slotsOf = (a: AggregateItem): Slot[] => {
    const name = a.call.name[0];
    const arg = a.call.args[0];
    const star = arg?.kind === 'star_arg' || a.call.args.length === 0;
    const base = { arg, filter: a.call.filter, star };
    if (name === 'avg' || name === 'mean') return [{ ...base, fn: 'sum' }, { ...base, fn: 'count' }];
    return [{ ...base, fn: name === 'every' ? 'bool_and' : name }];
  };
  const slots = agg.aggregates.map(slotsOf);

  const unionGroupCols = agg.groups.map((g) => ctx.newColumn(`${g.column.name}_p`, g.column.label, g.column.type));
  const unionAggCols = slots.map((ss, i) =>
    ss.map((s) => ctx.newColumn(`${agg.aggregates[i].column.name}_${s.fn}_p`, s.fn, s.fn === 'count' ? T.bigint : agg.aggregates[i].column.type)),
  );

  const partials = union.inputs.map((input) => {
    const memberCols = outputColumns(input);
    const rename = new Map(union.columns.map((c, i) => [c.name, memberCols[i].name]));
    const toMember = (e: Expr) =>
      mapExpr(e, { expr: (x) => (x.kind === 'column' && rename.has(x.name[0]) ? { ...x, name: [rename.get(x.name[0])!] } : undefined) });
    const groups: ProjectItem[] = agg.groups.map((g, i) => ({
      expr: toMember(g.expr),
      column: ctx.newColumn(`${g.column.name}_m`, unionGroupCols[i].label, g.column.type),
    }));
    const aggregates: AggregateItem[] = slots.flatMap((ss, i) =>
      ss.map((s, j): AggregateItem => {
        const partialCall: FunctionCall = call(s.fn, s.star ? [{ kind: 'star_arg' }] : [toMember(s.arg!)]);
        if (s.filter) partialCall.filter = toMember(s.filter);
        return { call: partialCall, column: ctx.newColumn(`${unionAggCols[i][j].name}_m`, s.fn, unionAggCols[i][j].type) };
      }),
    );
    const partial: AggregateNode = { kind: 'aggregate', input, groups, aggregates };
    return partial as LogicalPlan;
  });

  const newUnion: LogicalPlan = { ...union, inputs: partials, columns: [...unionGroupCols, ...unionAggCols.flat()] };

  // Final aggregate over the partials, then a projection restoring the original columns/types.
  const finalAggs: AggregateItem[] = [];
  const outputs: ProjectItem[] = agg.groups.map((g) => ({ expr: col(g.column), column: g.column }));
  const groups: ProjectItem[] = agg.groups.map((g, i) => ({ expr: col(unionGroupCols[i]), column: g.column }));
  agg.aggregates.forEach((a, i) => {
    const name = a.call.name[0];
    const parts = unionAggCols[i].map((u, j) => {
      const fn = slots[i][j].fn === 'count' || slots[i][j].fn === 'sum' ? 'sum' : slots[i][j].fn;
      const c = ctx.newColumn(`${a.column.name}_f${j}`, fn, functionResultType(fn, [u.type], false));
      finalAggs.push({ call: call(fn, [col(u)]), column: c });
      return c;
    });
    let expr: Expr;
    if (name === 'avg' || name === 'mean') {
      expr = { kind: 'binary', op: '/', left: cast(col(parts[0]), 'double precision'), right: col(parts[1]) };
    } else if (name === 'count') {
      expr = { kind: 'function', name: ['coalesce'], args: [cast(col(parts[0]), 'bigint'), { kind: 'number', text: '0' }] };
    } else expr = col(parts[0]);
    outputs.push({ expr, column: a.column });
  });
  const finalAgg: AggregateNode = { kind: 'aggregate', input: newUnion, groups, aggregates: finalAggs };
  return { kind: 'project', input: finalAgg, items: outputs };
}
