/**
 * Planner side of the DP aggregate operator (SPEC.md §3, §5): claims every aggregate with DP
 * aggregates (`DP COUNT(*)`, `DP COUNT([DISTINCT] col)`, `DP SUM/AVG(col BOUNDED lo AND hi)`,
 * and the `DP_CI_LOW/HIGH` interval ends) over one party's relation or a federated table. Each
 * member party gets one protocol input: its rows as (privacy unit, group keys…, arguments…),
 * checked by the party with uses `privacy_unit`, `group` and `dp`. The party bounds each unit's
 * contribution, clamps, aggregates, adds its noise share and masks; the requester only learns
 * noisy totals (executor/operators/dp-aggregate). The stage's parameters are the public query
 * description every party recalibrates from (`executor/protocols/dp/spec.ts`).
 */
import type { Expr, FunctionCall } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import type { BindContext } from '../binder/context.js';
import { ciOf, dpOptionsOf, type DpOptions } from '../binder/privacy-options.js';
import { inferType } from '../binder/typing.js';
import { exprKey, mapExpr } from '../expr-utils.js';
import { outputColumns, type AggregateNode, type LogicalPlan, type PlanColumn, type ProjectItem } from '../logical-plan.js';
import type { Site } from '../placement.js';
import type { ColumnUse } from '../policy.js';
import { registerPrivateOperator, type OperatorPlanningContext, type PrivateOperatorPlanner, type PrivateStagePlan } from '../private-operators.js';
import { formatDuckDBType, isInteger, parseDuckDBType, T, type SqlType } from '../types.js';
import { partitionsOf, type Partition } from './partitions.js';

export const DP_AGGREGATE_OPERATOR = 'dp-aggregate';
export const DP_AGGREGATE_PROTOCOL = 'dp-aggregate-v2';
export const DP_BUDGET_PROTOCOL = 'dp-budget-v1';

/** One measured DP aggregate, in the JSON shape of `executor/protocols/dp/spec.ts`. */
export interface DpMeasurementParams {
  kind: 'count_rows' | 'count_values' | 'count_distinct' | 'count_units' | 'sum' | 'avg';
  arg?: number;
  domain?: { kind: 'integer' } | { kind: 'decimal'; scale: number } | { kind: 'double' };
  low?: string;
  high?: string;
}

export interface DpStageParams {
  version: 1;
  /** The public query description (validated again by every party). */
  spec: {
    epsilon: number;
    delta: number;
    noise: 'laplace' | 'gaussian';
    unit: boolean;
    maxGroupsContributed: number;
    maxRowsContributed: number;
    maxPartiesContributed: number;
    confidence: number;
    selection: 'threshold' | 'public' | 'single';
    groupColumns: number;
    measurements: DpMeasurementParams[];
  };
  /** Member parties, in the order of the stage's party inputs. */
  members: string[];
  /** DuckDB types of the group keys. */
  groupTypes: string[];
  /** Declared PUBLIC group keys as literal texts (cast to the key types when the query runs). */
  publicKeys?: (string | null)[][];
  /** Per aggregate output column (after the group columns): which measurement and which part. */
  outputs: { measurement: number; part: 'value' | 'ci_low' | 'ci_high' }[];
  /** What each measurement is, for notices and EXPLAIN DP (`DP SUM(balance BOUNDED 0 AND 100)`). */
  labels: string[];
  /** The privacy unit's column name, for EXPLAIN. */
  privacyUnit?: string;
}

const DP_FUNCTIONS = new Set(['count', 'sum', 'avg']);
const pos = (n: { span?: { start: number } } | undefined) => (n?.span ? n.span.start + 1 : undefined);

function refuse(message: string, at?: { span?: { start: number } }, hint?: string): never {
  throw new SqlError(SqlState.featureNotSupported, message, { position: pos(at), ...(hint ? { hint } : {}) });
}

const col = (c: PlanColumn): Expr => ({ kind: 'column', name: [c.name] });

/** The measured call without the interval marker (a CI end and its value share one measurement). */
function measuredCall(call: FunctionCall): FunctionCall {
  const dp = { ...call.dp };
  delete (dp as { ci?: unknown }).ci;
  return { ...call, dp };
}

/** A numeric constant (possibly negated) as a plain decimal string. */
function boundText(e: Expr, which: string): string {
  let text: string | undefined;
  if (e.kind === 'number') text = e.text;
  else if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'number') text = `-${e.operand.text}`;
  else if (e.kind === 'unary' && e.op === '+' && e.operand.kind === 'number') text = e.operand.text;
  if (text !== undefined && /e/i.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n) && Math.abs(n) < 1e20) text = n.toFixed(Math.min(18, Math.max(0, -Math.floor(Math.log10(Math.abs(n) || 1)) + 15))).replace(/\.?0+$/, '');
  }
  if (text === undefined || !/^-?\d{1,20}(\.\d{1,18})?$/.test(text.replace(/^(-?)\./, '$10.'))) {
    throw new SqlError(SqlState.invalidParameterValue, `the ${which} bound of BOUNDED must be a numeric constant`, {
      position: pos(e),
      hint: 'Bounds are public: write them as literals, e.g. DP SUM(balance BOUNDED 0 AND 100000).',
    });
  }
  return text.replace(/^(-?)\./, '$10.');
}

function domainOf(t: SqlType, call: FunctionCall): DpMeasurementParams['domain'] {
  if (isInteger(t)) return { kind: 'integer' };
  if (t.id === 'decimal') return { kind: 'decimal', scale: t.scale ?? 0 };
  if (t.id === 'double' || t.id === 'float') return { kind: 'double' };
  throw new SqlError(SqlState.datatypeMismatch, `DP ${call.name[0].toUpperCase()} needs a numeric argument`, { position: pos(call.args[0]) });
}

export const dpAggregatePlanner: PrivateOperatorPlanner = {
  name: DP_AGGREGATE_OPERATOR,
  claims: (node) => node.kind === 'aggregate' && node.aggregates.some((a) => a.call.dp !== undefined),
  plan: (node, context) => planDpAggregate(node as AggregateNode, context),
};

export function registerDpAggregatePlanner(): void {
  registerPrivateOperator(dpAggregatePlanner);
}

function planDpAggregate(node: AggregateNode, context: OperatorPlanningContext): PrivateStagePlan {
  const { ctx, requester } = context;
  const options = dpOptionsOf(node);
  if (!options) throw new SqlError(SqlState.internalError, 'DP aggregate without resolved privacy options');
  for (const a of node.aggregates) {
    if (!a.call.dp) {
      refuse(`${a.call.name.join('.').toUpperCase()} cannot be combined with DP aggregates in one SELECT: every aggregate there must be a DP aggregate`, a.call,
        'Write DP COUNT(*), DP SUM(x BOUNDED lo AND hi), …, or compute the non-DP aggregate in another query.');
    }
  }
  const parts = partitionsOf(node.input);
  if (!parts) {
    refuse('DP aggregates need their input at a single party or over a federated table; this input combines several parties', undefined,
      'Aggregate one party\'s table or a federated table (joins inside one party are fine).');
  }

  // Measurements: one per distinct DP call (an interval end shares its value's measurement).
  const measurements: { call: FunctionCall; params: DpMeasurementParams }[] = [];
  const byKey = new Map<string, number>();
  const outputs = node.aggregates.map((a) => {
    const call = measuredCall(a.call);
    const key = exprKey(call);
    let index = byKey.get(key);
    if (index === undefined) {
      index = measurements.length;
      measurements.push({ call, params: measurementParams(call, ctx, node.input, options.privacyUnit) });
      byKey.set(key, index);
    }
    const ci = ciOf(a.call);
    return { measurement: index, part: ci === 'low' ? ('ci_low' as const) : ci === 'high' ? ('ci_high' as const) : ('value' as const) };
  });

  // Per member: (unit?, keys…, arguments…) as a projection at that party.
  const union = node.input.kind === 'setop' && parts.length === node.input.inputs.length && parts.every((p, i) => p.plan === (node.input as Extract<LogicalPlan, { kind: 'setop' }>).inputs[i])
    ? node.input
    : undefined;
  const argExprs: Expr[] = [];
  const argIndex = new Map<string, number>();
  for (const m of measurements) {
    const arg = m.call.args[0];
    if (!arg || arg.kind === 'star_arg') continue;
    if (m.params.kind === 'count_units') continue;
    const key = exprKey(arg);
    if (!argIndex.has(key)) {
      argIndex.set(key, argExprs.length);
      argExprs.push(arg);
    }
  }
  const first = (options.privacyUnit ? 1 : 0) + node.groups.length;
  for (const m of measurements) {
    const arg = m.call.args[0];
    if (arg && arg.kind !== 'star_arg' && m.params.kind !== 'count_units') m.params.arg = first + argIndex.get(exprKey(arg))!;
  }
  const uses: ColumnUse[] = [
    ...(options.privacyUnit ? ['privacy_unit' as const] : []),
    ...node.groups.map(() => 'group' as const),
    ...argExprs.map(() => 'dp' as const),
  ];
  if (uses.length === 0) uses.push('dp'); // the constant of a lone COUNT(*) (see below)
  const partyInputs = parts.map((part) => {
    const rename = new Map<string, string>();
    // Expressions over the federated union's columns are rewritten onto this member's columns.
    if (union) {
      const memberColumns = outputColumns(part.plan);
      union.columns.forEach((c, i) => rename.set(c.name, memberColumns[i].name));
    }
    const site: Site = { kind: 'party', party: part.party };
    const created: LogicalPlan[] = [];
    let input = part.plan;
    const items: ProjectItem[] = [];
    if (options.privacyUnit) {
      const threaded = threadUnit(part, options.privacyUnit, ctx, created);
      input = threaded.plan;
      items.push({ expr: col(threaded.column), column: ctx.newColumn('dp_unit', 'dp_unit', ctx.typeOf(threaded.column.name)) });
    }
    const toMember = (e: Expr) =>
      mapExpr(e, { expr: (x) => (x.kind === 'column' && rename.has(x.name[0]) ? { ...x, name: [rename.get(x.name[0])!] } : undefined) });
    node.groups.forEach((g, i) => items.push({ expr: toMember(g.expr), column: ctx.newColumn(`dp_key${i}`, g.column.label, g.column.type) }));
    argExprs.forEach((a, i) => items.push({ expr: toMember(a), column: ctx.newColumn(`dp_arg${i}`, `dp_arg${i}`, inferType(a, ctx)) }));
    // COUNT(*) alone needs no column: a constant stands in, so the input still has rows to count.
    if (items.length === 0) items.push({ expr: { kind: 'number', text: '1' }, column: ctx.newColumn('dp_row', 'dp_row', T.integer) });
    const projection: LogicalPlan = { kind: 'project', input, items };
    created.push(projection);
    // The nodes built here sit at the member's party, like the subtree they extend.
    for (const n of created) context.placement.set(n, site);
    return context.partyInput(projection, uses);
  });

  const inputLabels = new Map(outputColumns(node.input).map((c) => [c.name, c.label]));
  const labelOf = (name: string) => inputLabels.get(name) ?? name;
  const selection = node.groups.length === 0 ? 'single' : options.groups.mode === 'public' ? 'public' : 'threshold';
  if (options.groups.mode === 'public') {
    const width = node.groups.length;
    for (const key of options.groups.keys) {
      if (key.length !== width) {
        throw new SqlError(SqlState.invalidParameterValue, `groups = PUBLIC lists keys of ${key.length} value(s), but the query groups by ${width} column(s)`, {
          hint: width > 1 ? "Write each key as a row: PUBLIC (('north', 2024), ('south', 2024))." : undefined,
        });
      }
    }
  }
  const members = parts.map((p) => p.party);
  const params: DpStageParams = {
    version: 1,
    spec: {
      epsilon: options.epsilon,
      delta: options.delta,
      noise: options.noise,
      unit: options.privacyUnit !== undefined,
      maxGroupsContributed: options.maxGroupsContributed,
      maxRowsContributed: options.maxRowsContributed,
      maxPartiesContributed: options.maxPartiesContributed,
      confidence: options.confidence,
      selection,
      groupColumns: node.groups.length,
      measurements: measurements.map((m) => m.params),
    },
    members,
    groupTypes: node.groups.map((g) => formatDuckDBType(g.column.type)),
    ...(options.groups.mode === 'public' && node.groups.length > 0 ? { publicKeys: options.groups.keys } : {}),
    outputs,
    labels: measurements.map((m) => describeCall(m.call, labelOf)),
    ...(options.privacyUnit ? { privacyUnit: options.privacyUnit } : {}),
  };
  return { operator: DP_AGGREGATE_OPERATOR, gatewayInputs: [], partyInputs, params, explain: explainLines(params, requester, options) };
}

function measurementParams(call: FunctionCall, ctx: BindContext, input: LogicalPlan, unit: string | undefined): DpMeasurementParams {
  const name = call.name[call.name.length - 1];
  if (!DP_FUNCTIONS.has(name) || call.name.length > 1) {
    refuse(`DP ${call.name.join('.').toUpperCase()} is not supported`, call, 'VeilSQL computes DP COUNT(*), DP COUNT([DISTINCT] col), DP SUM(col BOUNDED lo AND hi) and DP AVG(col BOUNDED lo AND hi).');
  }
  if (call.filter || call.orderBy || call.withinGroup) refuse(`DP ${name.toUpperCase()} does not take FILTER, ORDER BY or WITHIN GROUP`, call);
  const star = call.args.length === 0 || call.args[0].kind === 'star_arg';
  if (name === 'count') {
    if (call.dp?.bounds) refuse('DP COUNT takes no BOUNDED clause', call);
    if (star) return { kind: 'count_rows' };
    if (call.args.length !== 1) refuse('DP COUNT takes one argument', call);
    if (!call.distinct) return { kind: 'count_values' };
    return { kind: isUnitColumn(call.args[0], input, ctx, unit) ? 'count_units' : 'count_distinct' };
  }
  if (star || call.args.length !== 1) refuse(`DP ${name.toUpperCase()} takes one argument`, call);
  if (call.distinct) refuse(`DP ${name.toUpperCase()}(DISTINCT …) is not supported`, call);
  const bounds = call.dp?.bounds;
  if (!bounds) {
    throw new SqlError(SqlState.invalidParameterValue, `DP ${name.toUpperCase()} needs clamping bounds: DP ${name.toUpperCase()}(col BOUNDED lo AND hi)`, {
      position: pos(call),
      hint: 'The bounds limit what one row adds; they are public and must not be derived from the data.',
    });
  }
  const domain = domainOf(inferType(call.args[0], ctx), call);
  return { kind: name as 'sum' | 'avg', domain, low: boundText(bounds.low, 'lower'), high: boundText(bounds.high, 'upper') };
}

/**
 * Whether `e` is the privacy unit column: a column that traces back (through projections and
 * every member of a federated union) to a scanned column of the unit's name.
 */
function isUnitColumn(e: Expr, input: LogicalPlan, ctx: BindContext, unit: string | undefined): boolean {
  if (!unit || e.kind !== 'column') return false;
  const visit = (plan: LogicalPlan, name: string): boolean => {
    const origin = ctx.origins.get(name);
    if (origin) return !origin.pseudo && origin.column.toLowerCase() === unit;
    switch (plan.kind) {
      case 'setop': {
        const i = plan.columns.findIndex((c) => c.name === name);
        return i >= 0 && plan.inputs.every((m) => visit(m, outputColumns(m)[i].name));
      }
      case 'project': {
        const item = plan.items.find((it) => it.column.name === name);
        return item !== undefined && item.expr.kind === 'column' && visit(plan.input, item.expr.name[0]);
      }
      case 'join':
        return outputColumns(plan.left).some((c) => c.name === name) ? visit(plan.left, name) : visit(plan.right, name);
      case 'filter': case 'sort': case 'limit': case 'distinct':
        return visit(plan.input, name);
      default:
        return false;
    }
  };
  return visit(input, e.name[0]);
}

/**
 * Makes the privacy unit column available at the top of one member's subtree: adds it to the
 * scan of the table that has it and passes it up through filters, projections and joins.
 */
function threadUnit(part: Partition, unit: string, ctx: BindContext, created: LogicalPlan[]): { plan: LogicalPlan; column: PlanColumn } {
  let found: PlanColumn | undefined;
  const thread = (p: LogicalPlan): LogicalPlan | undefined => {
    switch (p.kind) {
      case 'scan': {
        if (p.source.kind !== 'party') return undefined;
        const published = p.source.table.columns.find((c) => c.name.toLowerCase() === unit);
        if (!published) return undefined;
        if (found) refuse(`privacy_unit ${unit} names a column of more than one table of party "${part.party}"`, undefined, 'Qualify the unit through a projection, or join on it.');
        const existing = p.columns.find((c) => c.source.toLowerCase() === unit);
        if (existing) {
          found = existing.column;
          return p;
        }
        const column = ctx.newColumn(unit, unit, parseDuckDBType(published.type));
        ctx.origins.set(column.name, {
          party: p.source.party, table: p.source.table.name, column: published.name, level: published.policy, minGroup: p.source.table.minGroup,
        });
        found = column;
        const scan: LogicalPlan = { ...p, columns: [...p.columns, { column, source: published.name }] };
        created.push(scan);
        return scan;
      }
      case 'filter': case 'sort': case 'limit': {
        const input = thread(p.input);
        if (!input) return undefined;
        const out = { ...p, input } as LogicalPlan;
        created.push(out);
        return out;
      }
      case 'project': {
        const input = thread(p.input);
        if (!input) return undefined;
        const column = ctx.newColumn(`${unit}_u`, unit, ctx.typeOf(found!.name));
        const out: LogicalPlan = { ...p, input, items: [...p.items, { expr: col(found!), column }] };
        found = column;
        created.push(out);
        return out;
      }
      case 'join': {
        const left = thread(p.left);
        const right = thread(p.right);
        if (!left && !right) return undefined;
        const out: LogicalPlan = { ...p, left: left ?? p.left, right: right ?? p.right };
        created.push(out);
        return out;
      }
      default:
        return undefined;
    }
  };
  const plan = thread(part.plan);
  if (!plan || !found) {
    throw new SqlError(SqlState.undefinedColumn, `privacy_unit ${unit} is not a column of the tables of party "${part.party}" in this query`, {
      hint: 'The privacy unit must be a column of the table the DP aggregate reads (at every party of a federated table).',
    });
  }
  return { plan, column: found };
}

function describeCall(call: FunctionCall, labelOf: (name: string) => string): string {
  const name = call.name[call.name.length - 1].toUpperCase();
  const arg = call.args[0];
  const text = !arg || arg.kind === 'star_arg' ? '*' : arg.kind === 'column' ? labelOf(arg.name[0]) : 'expression';
  return `DP ${name}(${call.distinct ? 'DISTINCT ' : ''}${text})`;
}

function explainLines(params: DpStageParams, requester: string, options: DpOptions): PrivateStagePlan['explain'] {
  const members = params.members;
  const others = members.filter((m) => m !== requester);
  const contributors = others.length ? others : [requester];
  const noise = options.noise === 'laplace'
    ? `discrete Laplace split into Pólya shares by ${contributors.join(', ')}`
    : `discrete Gaussian shares from ${contributors.join(', ')}`;
  const protocol = `DP aggregate (ε=${options.epsilon}, δ=${options.delta}; ${noise}; pairwise-masked secure sum over ${members.join(', ')})`;
  const unit = options.privacyUnit
    ? `privacy unit ${options.privacyUnit}: ≤ ${options.maxGroupsContributed} group(s) × ${options.maxRowsContributed} row(s) per unit and party, ≤ ${options.maxPartiesContributed} part${options.maxPartiesContributed === 1 ? 'y' : 'ies'} per unit`
    : 'privacy unit: one row';
  const disclosure = [
    `${requester} learns: per released group, noisy DP values with confidence intervals, (ε=${options.epsilon}, δ=${options.delta})-DP for every ${options.privacyUnit ?? 'row'} (${unit})`,
  ];
  if (params.spec.selection === 'threshold') {
    disclosure.push(`${requester} learns: the group keys each party keeps after its own noisy threshold (part of the DP release); groups below it are never named`);
  } else if (params.spec.selection === 'public') {
    disclosure.push(`${requester} learns: a value for every declared PUBLIC group, present in the data or not`);
  }
  if (others.length) {
    disclosure.push(`${others.join(', ')} learn${others.length === 1 ? 's' : ''}: the agreed group keys and the other parties' ephemeral public keys; nothing about any other party's rows or partials`);
  }
  disclosure.push(`every party (${members.join(', ')}) charges this query to ${requester}'s privacy budget in its own ledger before releasing anything (one party at a time, in name order), and refunds it if the query fails first`);
  return { protocol, disclosure };
}
