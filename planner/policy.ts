/**
 * Column policy enforcement (SPEC.md §2). The same check runs twice: at the requester's
 * gateway on the whole plan (to refuse early, before any data moves, with a message naming
 * party.table.column, its level and the offending use) and at every party on each fragment it
 * receives (defence in depth: the party does not trust the requester's planner).
 *
 * The check follows each column's lineage: which base columns a plan column derives from
 * without aggregation. Every operator then "uses" the base columns its expressions touch:
 *
 * | use        | where                                                   | allowed levels           |
 * |------------|---------------------------------------------------------|--------------------------|
 * | output     | the result (or a fragment's result sent to the requester)| public                  |
 * | filter     | WHERE, JOIN ON of a plain join, HAVING, FILTER (WHERE)   | public                   |
 * | group      | GROUP BY key                                             | public                   |
 * | order      | ORDER BY, DISTINCT ON, window PARTITION/ORDER            | public                   |
 * | statistic  | argument of COUNT/SUM/AVG/STDDEV/… (groups ≥ min_group)  | public, aggregate        |
 * | value_agg  | argument of MIN/MAX/ANY_VALUE/ARRAY_AGG/…               | public                   |
 * | dp         | argument of a DP aggregate                               | public, aggregate, dp    |
 * | secure_key | key equality of SECURE JOIN / PRIVATE LOOKUP            | public, join_key         |
 * | lookup_label | label released by a PRIVATE LOOKUP match (owner's input) | public, lookup         |
 * | privacy_unit | privacy unit of a DP aggregate (bounds each unit's rows)  | every level              |
 *
 * Columns of the requester's own party are not restricted. Label columns a PRIVATE LOOKUP
 * releases (checked as `lookup_label` on the owner's protocol input) are the requester's values
 * above the lookup; a `lookup`-level column allows no other use. Aggregates over `aggregate`-level
 * columns get a `count(*) >= min_group` filter inserted (the party inserts it again itself).
 * A DP aggregate's privacy unit (`privacy_unit = col`, and `DP COUNT(DISTINCT col)` of it) is
 * allowed at every level, `private` included: its values never leave the party, they only
 * group the party's rows so that each unit's contribution is bounded before noise is added.
 */
import type { Expr, FunctionCall, Query } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import type { BindContext, ColumnOrigin } from './binder/context.js';
import { STATISTIC_AGGREGATES } from './binder/functions.js';
import { dpOptionsOf } from './binder/privacy-options.js';
import type { PolicyLevel } from './catalog-types.js';
import { splitConjuncts, visitExpr } from './expr-utils.js';
import {
  children, isSubplanQuery, outputColumns, withChildren, type AggregateNode, type JoinNode, type LogicalPlan,
} from './logical-plan.js';
import { privateOperatorFor } from './private-operators.js';
import { T } from './types.js';

export type ColumnUse = 'output' | 'filter' | 'group' | 'order' | 'statistic' | 'value_agg' | 'dp' | 'secure_key' | 'lookup_label' | 'privacy_unit';

const ALLOWED: Record<ColumnUse, PolicyLevel[]> = {
  output: ['public'],
  filter: ['public'],
  group: ['public'],
  order: ['public'],
  statistic: ['public', 'aggregate'],
  value_agg: ['public'],
  dp: ['public', 'aggregate', 'dp'],
  secure_key: ['public', 'join_key'],
  lookup_label: ['public', 'lookup'],
  privacy_unit: ['public', 'lookup', 'join_key', 'aggregate', 'dp', 'private'],
};

const USE_TEXT: Record<ColumnUse, string> = {
  output: 'revealed in the result',
  filter: 'used in a filter or join condition',
  group: 'used as a GROUP BY key',
  order: 'used for ordering (ORDER BY, DISTINCT ON or a window)',
  statistic: 'aggregated',
  value_agg: 'aggregated with a function that releases individual values (MIN, MAX, ANY_VALUE, ARRAY_AGG, …)',
  dp: 'used in a DP aggregate',
  secure_key: 'used as a SECURE JOIN / PRIVATE LOOKUP key',
  lookup_label: 'revealed as the label of a PRIVATE LOOKUP match',
  privacy_unit: 'used as the privacy unit of a DP aggregate',
};

const LEVEL_TEXT: Record<PolicyLevel, string> = {
  public: 'may be revealed',
  lookup: 'may only be revealed as the label of a PRIVATE LOOKUP match',
  join_key: 'may only be a SECURE JOIN or PRIVATE LOOKUP key',
  aggregate: 'may only be released inside aggregates (COUNT, SUM, AVG, …) over groups of at least min_group rows',
  dp: 'may only be released through DP aggregates',
  private: 'may not be used by other parties at all',
};

export interface PolicyOptions {
  /** Who is asking: columns of this party are not restricted. */
  requester: string;
  /**
   * Where the check runs. At a party, the result of the fragment goes to the requester; at the
   * gateway, aggregates over federated members need secure aggregation (refused until it exists).
   */
  site: 'gateway' | 'party';
  /** Extra context for messages about a fragment's output (e.g. why the value must leave). */
  outputReason?: string;
  /** Only check; do not insert min_group filters (used on fragments already rewritten). */
  checkOnly?: boolean;
  /**
   * How the result's columns will be used, by position (default: all `output`). Protocol
   * inputs declare e.g. `secure_key` for the columns a PSI uses as keys and never reveals.
   */
  outputUses?: ColumnUse[];
}

interface Lineage {
  /** Base columns a plan column derives from without aggregation. */
  plain: Map<string, Set<string>>;
  /** The expression that computed a plan column (for error positions). */
  at: Map<string, Expr>;
}

/**
 * Checks `plan` against every column policy and returns it with min_group filters inserted.
 * Throws SqlError 42501 (policy) or 0A000 (needs an operator that does not exist yet).
 */
export function enforcePolicy(plan: LogicalPlan, ctx: BindContext, options: PolicyOptions): LogicalPlan {
  const lineage: Lineage = { plain: new Map(), at: new Map() };
  const checked = walk(plan, ctx, options, lineage);
  outputColumns(checked).forEach((col, i) =>
    use(ctx, options, lineage, col.name, options.outputUses?.[i] ?? 'output', lineage.at.get(col.name)),
  );
  return checked;
}

function walk(plan: LogicalPlan, ctx: BindContext, options: PolicyOptions, lineage: Lineage): LogicalPlan {
  const kids = children(plan).map((c) => walk(c, ctx, options, lineage));
  const node = withChildren(plan, kids);
  const refs = (e: Expr, u: ColumnUse) => useExpr(e, u, ctx, options, lineage);
  const derive = (target: string, e: Expr) => {
    lineage.plain.set(target, baseOf(e, lineage, ctx, options));
    // Keep the user's expression for positions; plan-generated ones carry no span.
    const inner = e.kind === 'column' ? lineage.at.get(e.name[0]) : undefined;
    lineage.at.set(target, e.span ? e : inner ?? e);
  };
  switch (node.kind) {
    case 'scan':
      for (const c of node.columns) lineage.plain.set(c.column.name, new Set([c.column.name]));
      if (node.partyColumn) lineage.plain.set(node.partyColumn.name, new Set([node.partyColumn.name]));
      return node;
    case 'values':
    case 'table_function':
      for (const c of node.columns) lineage.plain.set(c.name, new Set());
      return node;
    case 'filter':
      refs(node.predicate, 'filter');
      return node;
    case 'project':
      for (const item of node.items) derive(item.column.name, item.expr);
      return node;
    case 'join':
      if (node.mode === 'plain') {
        if (node.condition) refs(node.condition, 'filter');
      } else if (node.condition) {
        for (const c of splitConjuncts(node.condition)) {
          const isKeyEquality = c.kind === 'binary' && c.op === '=' && c.left.kind === 'column' && c.right.kind === 'column';
          refs(c, isKeyEquality ? 'secure_key' : 'filter');
        }
      }
      if (node.mode === 'lookup') releaseLookupLabels(node, ctx, options, lineage);
      return node;
    case 'aggregate':
      return aggregate(node, ctx, options, lineage);
    case 'window':
      for (const item of node.items) {
        refs(item.call, 'order');
        lineage.plain.set(item.column.name, baseOf(item.call, lineage, ctx, options));
      }
      return node;
    case 'sort':
      for (const k of node.keys) refs(k.expr, 'order');
      return node;
    case 'distinct':
      for (const e of node.on ?? []) refs(e, 'order');
      return node;
    case 'limit':
      return node;
    case 'setop': {
      node.columns.forEach((c, i) => {
        const set = new Set<string>();
        for (const input of node.inputs) for (const b of lineage.plain.get(outputColumns(input)[i].name) ?? []) set.add(b);
        lineage.plain.set(c.name, set);
      });
      return node;
    }
  }
}

/**
 * PRIVATE LOOKUP releases the owner's label columns on a match: above the lookup they are the
 * requester's own values. Only columns whose every base may be a label (`lookup_label`) are
 * released; the operator's protocol input re-checks that use at the owner. Other columns of the
 * owner's side (e.g. its key) keep their lineage, so revealing them above is still refused.
 */
function releaseLookupLabels(node: JoinNode, ctx: BindContext, options: PolicyOptions, lineage: Lineage): void {
  for (const col of outputColumns(node.right)) {
    const bases = lineage.plain.get(col.name);
    if (!bases) continue;
    const releasable = [...bases].every((b) => {
      const origin = ctx.origins.get(b);
      return !origin || origin.party === options.requester || (!origin.pseudo && ALLOWED.lookup_label.includes(origin.level));
    });
    if (releasable) lineage.plain.set(col.name, new Set());
  }
}

function aggregate(node: AggregateNode, ctx: BindContext, options: PolicyOptions, lineage: Lineage): LogicalPlan {
  for (const g of node.groups) {
    useExpr(g.expr, 'group', ctx, options, lineage);
    lineage.plain.set(g.column.name, baseOf(g.expr, lineage, ctx, options));
  }
  let minGroup = 0;
  for (const a of node.aggregates) {
    const call: FunctionCall = a.call;
    const fname = call.name[call.name.length - 1];
    const u: ColumnUse = call.dp ? 'dp' : STATISTIC_AGGREGATES.has(fname) ? 'statistic' : 'value_agg';
    const isCountDistinctParty = fname === 'count' && call.distinct && call.args.length === 1;
    // DP COUNT(DISTINCT unit) counts privacy units: the unit column's own use.
    const unit = call.dp && isCountDistinctParty ? dpOptionsOf(node)?.privacyUnit : undefined;
    for (const arg of call.args) {
      for (const base of baseOf(arg, lineage, ctx, options)) {
        const origin = ctx.origins.get(base);
        if (origin?.pseudo === 'party' && isCountDistinctParty) continue;
        const isUnit = unit !== undefined && arg.kind === 'column' && origin?.column.toLowerCase() === unit;
        use(ctx, options, lineage, base, isUnit ? 'privacy_unit' : u, arg, true);
        if (origin && origin.party !== options.requester && origin.level === 'aggregate' && u === 'statistic') {
          // Federated partials of `aggregate` columns may only be combined by secure aggregation
          // (planner/operators/secure-aggregate.ts); each party then re-checks its input.
          if (options.site === 'gateway' && origin.federated && !privateOperatorFor(node)) {
            throw new SqlError(
              SqlState.featureNotSupported,
              `aggregating ${describe(origin)} (policy level aggregate) over federated table ${origin.federated} needs the secure aggregation operator, which this VeilSQL version does not provide yet`,
              { position: pos(arg), hint: 'Aggregate public columns, or query one party\'s table directly.' },
            );
          }
          minGroup = Math.max(minGroup, origin.minGroup);
        }
      }
    }
    for (const o of call.orderBy ?? []) useExpr(o.expr, 'order', ctx, options, lineage);
    // Ordered-set aggregates (percentile_cont … WITHIN GROUP) release values of their input.
    for (const o of call.withinGroup ?? []) useExpr(o.expr, 'value_agg', ctx, options, lineage);
    if (call.filter) useExpr(call.filter, 'filter', ctx, options, lineage);
    lineage.plain.set(a.column.name, new Set());
  }
  if (minGroup <= 1 || options.checkOnly) return node;
  // Suppress groups smaller than min_group: add count(*) and filter on it.
  const count = ctx.newColumn('group_size', 'group_size', T.bigint);
  lineage.plain.set(count.name, new Set());
  const withCount: AggregateNode = {
    ...node,
    aggregates: [...node.aggregates, { call: { kind: 'function', name: ['count'], args: [{ kind: 'star_arg' }] }, column: count }],
  };
  return {
    kind: 'filter',
    clause: 'min_group',
    input: withCount,
    predicate: { kind: 'binary', op: '>=', left: { kind: 'column', name: [count.name] }, right: { kind: 'number', text: String(minGroup) } },
  };
}

/** Base columns `e` derives from without aggregation; subplans are checked on the way. */
function baseOf(e: Expr, lineage: Lineage, ctx: BindContext, options: PolicyOptions): Set<string> {
  const out = new Set<string>();
  const checkSubplan = (q: Query, contributes: boolean) => {
    if (!isSubplanQuery(q)) return;
    if (!checkedSubplans.has(q)) {
      const walked = walk(q.subplan, ctx, options, lineage);
      if (!options.checkOnly) {
        q.subplan = walked;
        checkedSubplans.add(q);
      }
    }
    if (contributes) for (const col of outputColumns(q.subplan)) for (const b of lineage.plain.get(col.name) ?? []) out.add(b);
  };
  visitExpr(
    e,
    (x) => {
      if (x.kind === 'column') for (const b of lineage.plain.get(x.name[0]) ?? []) out.add(b);
      if (x.kind === 'exists') {
        // Only the existence of rows matters, not the subquery's select list.
        checkSubplan(x.query, false);
        return false;
      }
      return undefined;
    },
    (q) => checkSubplan(q, true),
  );
  return out;
}

const checkedSubplans = new WeakSet<Query>();

function useExpr(e: Expr, u: ColumnUse, ctx: BindContext, options: PolicyOptions, lineage: Lineage): void {
  for (const base of baseOf(e, lineage, ctx, options)) use(ctx, options, lineage, base, u, e);
}

function use(
  ctx: BindContext,
  options: PolicyOptions,
  lineage: Lineage,
  name: string,
  u: ColumnUse,
  at: Expr | undefined,
  isBase = false,
): void {
  const bases = isBase ? [name] : [...(lineage.plain.get(name) ?? [])];
  for (const base of bases) {
    const origin = ctx.origins.get(base);
    if (!origin || origin.party === options.requester) continue;
    if (origin.pseudo === 'party') {
      if (u === 'filter') continue;
      throw new SqlError(SqlState.insufficientPrivilege, `the PARTY pseudo-column of ${origin.federated} can only be revealed through COUNT(DISTINCT PARTY), not ${USE_TEXT[u]}`, {
        position: pos(at),
      });
    }
    if (ALLOWED[u].includes(origin.level)) continue;
    const reason = u === 'output' && options.outputReason ? ` (${options.outputReason})` : '';
    throw new SqlError(
      SqlState.insufficientPrivilege,
      `policy of party "${origin.party}" forbids this query: column ${describe(origin)} has level ${origin.level} and cannot be ${USE_TEXT[u]}${reason}`,
      { position: pos(at), detail: `Level ${origin.level}: the column ${LEVEL_TEXT[origin.level]}.`, hint: hintFor(origin.level, u) },
    );
  }
}

function hintFor(level: PolicyLevel, u: ColumnUse): string | undefined {
  if (level === 'join_key') return 'Use it as a key of SECURE JOIN or PRIVATE LOOKUP instead.';
  if (level === 'lookup') return 'Select it from the owner\'s table through PRIVATE LOOKUP, e.g. … PRIVATE LOOKUP owner.table b ON b.key = a.key.';
  if (level === 'aggregate' && u !== 'statistic') return 'Use it only inside COUNT/SUM/AVG over groups.';
  if (level === 'dp') return 'Use a DP aggregate, e.g. DP COUNT(*) or DP SUM(col BOUNDED lo AND hi).';
  if (level === 'private') return `Ask the owner for a grant if the column must be usable.`;
  return undefined;
}

function describe(o: ColumnOrigin): string {
  return `${o.party}.${o.table}.${o.column}`;
}

function pos(e: Expr | undefined): number | undefined {
  return e?.span ? e.span.start + 1 : undefined;
}
