/**
 * Aggregate mode of SECURE JOIN. An aggregate directly over a SECURE (inner) JOIN is claimed
 * together with its join:
 *
 * - **PSI-sum** (protocol in executor/protocols/psi/psi-sum.ts) when the query only needs
 *   COUNT(*), COUNT/SUM/AVG of exact-numeric columns of the other party's side, grouped by
 *   expressions over the requester's side: neither side learns which rows matched; the
 *   requester learns the aggregates (per group) and how many of its keys matched per group.
 * - otherwise the join runs in row mode and the aggregate is computed over its rows in the
 *   gateway's DuckDB within the same stage — possible only where the other party's policy lets
 *   the requester see the columns involved (the party checks `output` itself).
 */
import type { Expr } from '../../parser/ast.js';
import { print } from '../../parser/index.js';
import { mapExpr } from '../expr-utils.js';
import {
  hasSubquery, outputColumns, referencedColumns, type AggregateNode, type JoinNode, type LogicalPlan, type PlanColumn, type ProjectItem,
} from '../logical-plan.js';
import type { ColumnUse } from '../policy.js';
import type { OperatorPlanningContext, PrivateStagePlan } from '../private-operators.js';
import { formatDuckDBType } from '../types.js';
import { unparse } from '../unparser.js';
import {
  alignKeys, assignSides, keyPairs, keyText, SECURE_JOIN_OPERATOR, type SecureJoinKey, type SecureJoinRowParams,
} from './secure-join.js';

export type AggregateFunction = 'count_star' | 'count' | 'sum' | 'avg';

export interface SecureJoinAggregateParams {
  mode: 'aggregate';
  party: string;
  keys: SecureJoinKey[];
  /** Gateway input columns holding the group values (in GROUP BY order). */
  groupColumns: string[];
  /** Per value column of the party input (after the keys): decimal scale of its text; `countOnly` when only COUNT(col) uses it. */
  values: { scale: number; countOnly?: boolean }[];
  /** Stage output columns: a group column, or an aggregate of value column `value`. */
  outputs: ({ name: string; type: string } & ({ group: number } | { fn: AggregateFunction; value?: number }))[];
}

/** Row mode followed by the aggregate in SQL over the join's rows (the fallback). */
export interface SecureJoinRowThenAggregate extends Omit<SecureJoinRowParams, 'mode'> {
  mode: 'row_aggregate';
  /** Temp table of the join's rows, and the gateway SQL (DuckDB) computing the stage from it. */
  joinTable: string;
  joinColumns: { name: string; type: string }[];
  aggregateSql: string;
}

const AGGREGATES: Record<string, AggregateFunction | undefined> = { count: 'count', sum: 'sum', avg: 'avg', mean: 'avg' };

/** Follows column renames through transparent projections down to the join. */
function throughProjections(plan: LogicalPlan): { join: JoinNode; alias: Map<string, string> } | undefined {
  const alias = new Map<string, string>();
  let p = plan;
  while (p.kind === 'project') {
    for (const item of p.items) {
      if (item.expr.kind !== 'column') return undefined;
      alias.set(item.column.name, item.expr.name[0]);
    }
    p = p.input;
  }
  if (p.kind !== 'join' || p.mode !== 'secure' || p.type !== 'inner') return undefined;
  // Resolve chains of renames to the join's own column names.
  for (const [k] of alias) {
    let v = alias.get(k)!;
    while (alias.has(v) && alias.get(v) !== v) v = alias.get(v)!;
    alias.set(k, v);
  }
  return { join: p, alias };
}

/** The secure join an aggregate sits on, when the aggregate is one this module can claim. */
export function secureJoinUnderAggregate(node: LogicalPlan): JoinNode | undefined {
  if (node.kind !== 'aggregate') return undefined;
  const found = throughProjections(node.input);
  if (!found) return undefined;
  for (const a of node.aggregates) {
    const name = a.call.name[a.call.name.length - 1];
    if (a.call.name.length !== 1 || !AGGREGATES[name] || a.call.distinct || a.call.filter || a.call.orderBy || a.call.dp || a.call.withinGroup || a.call.over) return undefined;
    if (a.call.args.length > 1) return undefined;
  }
  for (const g of node.groups) if (hasSubquery(g.expr)) return undefined;
  return found.join;
}

const resolve = (alias: Map<string, string>, name: string) => alias.get(name) ?? name;

/** PSI-sum's shape: groups over the gateway side only, aggregate arguments from the party side only. */
function psiSumShape(node: AggregateNode, alias: Map<string, string>, gatewayCols: Set<string>, partyCols: Set<string>, isExact: (c: string) => boolean): { fn: AggregateFunction; column?: string }[] | undefined {
  for (const g of node.groups) {
    for (const r of referencedColumns(g.expr)) if (!gatewayCols.has(resolve(alias, r))) return undefined;
  }
  const out: { fn: AggregateFunction; column?: string }[] = [];
  for (const a of node.aggregates) {
    const fn = AGGREGATES[a.call.name[0]]!;
    const arg = a.call.args[0];
    if (!arg || arg.kind === 'star_arg') {
      if (fn !== 'count') return undefined;
      out.push({ fn: 'count_star' });
      continue;
    }
    if (arg.kind !== 'column') return undefined;
    const column = resolve(alias, arg.name[0]);
    if (!partyCols.has(column)) return undefined;
    if (fn !== 'count' && !isExact(column)) return undefined;
    out.push({ fn, column });
  }
  return out;
}

export function planAggregateSecureJoin(
  node: LogicalPlan,
  context: OperatorPlanningContext,
  rowMode: (join: JoinNode, context: OperatorPlanningContext) => PrivateStagePlan,
): PrivateStagePlan {
  const agg = node as AggregateNode;
  const { join, alias } = throughProjections(agg.input)!;
  const { ctx } = context;
  const sides = assignSides(join, context);
  const gatewayCols = new Set(outputColumns(sides.gateway).map((c) => c.name));
  const partyCols = new Set(outputColumns(sides.party).map((c) => c.name));
  const isExact = (c: string) => {
    const t = ctx.typeOf(c);
    return ['tinyint', 'smallint', 'integer', 'bigint', 'utinyint', 'usmallint', 'uinteger', 'decimal'].includes(t.id) && (t.id !== 'decimal' || (t.precision ?? 18) <= 18);
  };
  const shape = psiSumShape(agg, alias, gatewayCols, partyCols, isExact);
  if (!shape) return rowThenAggregate(agg, join, context, rowMode);

  const pairs = keyPairs(join, sides.gateway, sides.party);
  const aligned = alignKeys(ctx, pairs, join);
  // Gateway input: the group values (evaluated by DuckDB on the requester's side) and the keys.
  const rename = (e: Expr): Expr => mapExpr(e, { expr: (x) => (x.kind === 'column' ? { ...x, name: [resolve(alias, x.name[0])] } : undefined) });
  const groupItems: ProjectItem[] = agg.groups.map((g, i) => ({ expr: rename(g.expr), column: ctx.newColumn(`psi_group_${i + 1}`, g.column.label, ctx.typeOf(g.column.name)) }));
  const keyItems: ProjectItem[] = pairs.map((p) => ({ expr: { kind: 'column', name: [p.gateway.name] }, column: p.gateway }));
  const gatewayPlan: LogicalPlan = { kind: 'project', input: sides.gateway, items: [...groupItems, ...keyItems] };
  const site = context.placement.get(sides.gateway);
  if (site) context.placement.set(gatewayPlan, site);
  const gatewayInput = context.gatewayInput(gatewayPlan);

  // Party input: key texts (secure_key), then each distinct value column as text (statistic).
  const valueColumns = [...new Set(shape.filter((s) => s.column).map((s) => s.column!))];
  const items: ProjectItem[] = [];
  const uses: ColumnUse[] = [];
  pairs.forEach((p, i) => {
    items.push({ expr: keyText(ctx, p.party, aligned[i].keyType), column: ctx.newColumn(`psi_key_${i + 1}`, `key_${i + 1}`, { id: 'varchar' }) });
    uses.push('secure_key');
  });
  const partyColumns = outputColumns(sides.party);
  for (const v of valueColumns) {
    const label = partyColumns.find((c) => c.name === v)!.label;
    items.push({ expr: { kind: 'cast', expr: { kind: 'column', name: [v] }, type: { name: 'varchar' }, syntax: 'cast' }, column: ctx.newColumn(`psi_value_${v}`, label, { id: 'varchar' }) });
    uses.push('statistic');
  }
  const partyPlan: LogicalPlan = { kind: 'project', input: sides.party, items };
  context.placement.set(partyPlan, { kind: 'party', party: sides.partyName });
  const partyInput = context.partyInput(partyPlan, uses);

  const outputs: SecureJoinAggregateParams['outputs'] = [
    ...agg.groups.map((g, i) => ({ name: g.column.name, type: formatDuckDBType(ctx.typeOf(g.column.name)), group: i })),
    ...agg.aggregates.map((a, i) => ({
      name: a.column.name,
      type: formatDuckDBType(ctx.typeOf(a.column.name)),
      fn: shape[i].fn,
      ...(shape[i].column ? { value: valueColumns.indexOf(shape[i].column!) } : {}),
    })),
  ];
  const params: SecureJoinAggregateParams = {
    mode: 'aggregate',
    party: sides.partyName,
    keys: pairs.map((p, i) => ({ gatewayColumn: p.gateway.name, keyType: formatDuckDBType(aligned[i].keyType), ...(aligned[i].normalization ? { normalization: aligned[i].normalization } : {}) })),
    groupColumns: groupItems.map((g) => g.column.name),
    values: valueColumns.map((v) => ({
      scale: ctx.typeOf(v).id === 'decimal' ? ctx.typeOf(v).scale ?? 0 : 0,
      ...(shape.every((s) => s.column !== v || s.fn === 'count') ? { countOnly: true } : {}),
    })),
    outputs,
  };
  const requester = context.requester;
  const party = sides.partyName;
  const summed = valueColumns.map((v) => partyColumns.find((c) => c.name === v)!.label);
  return {
    operator: SECURE_JOIN_OPERATOR,
    gatewayInputs: [gatewayInput],
    partyInputs: [partyInput],
    params,
    explain: {
      protocol: `PSI-sum (ECDH-PSI over Curve25519 + BFV n=8192 sums under ${party}'s key), ${requester} ⟷ ${party}, keys ${pairs.map((p) => `${p.gateway.label} = ${p.party.label}`).join(' AND ')}`,
      disclosure: [
        `${requester} learns, per group, the aggregates${summed.length ? ` (over ${summed.join(', ')})` : ''} and how many of its distinct keys matched — not which rows matched; plus ${party}'s number of distinct non-NULL keys`,
        `${party} learns the sizes of ${requester}'s key classes (distinct keys per group and multiplicity, not the group values), the number of groups with a match, and each such group's join-row count only when it must enforce its own min_group; not which rows matched`,
      ],
    },
  };
}

/** Row-mode join into a temp table, then the aggregate over it in the gateway's DuckDB. */
function rowThenAggregate(
  agg: AggregateNode,
  join: JoinNode,
  context: OperatorPlanningContext,
  rowMode: (join: JoinNode, context: OperatorPlanningContext) => PrivateStagePlan,
): PrivateStagePlan {
  const row = rowMode(join, context);
  const joinTable = `__psi_rows_${context.ctx.uniqueName('j')}`;
  const joinColumns: PlanColumn[] = outputColumns(join);
  const query = unparse(agg, {
    tableName: () => {
      throw new Error('unexpected table scan above a SECURE JOIN aggregate');
    },
    materialized: (p) => (p === join ? joinTable : undefined),
    outputNames: outputColumns(agg).map((c) => c.name),
  });
  const params: SecureJoinRowThenAggregate = {
    ...(row.params as SecureJoinRowParams),
    mode: 'row_aggregate',
    joinTable,
    joinColumns: joinColumns.map((c) => ({ name: c.name, type: formatDuckDBType(context.ctx.typeOf(c.name)) })),
    aggregateSql: print(query, { dialect: 'duckdb' }),
  };
  return { ...row, params, explain: { protocol: `${row.explain.protocol}; the aggregate runs over the matched rows at ${context.requester}`, disclosure: row.explain.disclosure } };
}
