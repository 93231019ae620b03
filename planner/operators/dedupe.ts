/**
 * Planner side of the multi-lender dedupe operator (SPEC.md §3, issue 8): for each group of
 * the requester's own rows, how many *other* lenders of an alliance received an application
 * with the same key in a time window —
 *
 *   SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS other_lenders
 *   FROM lender_07.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key
 *   WHERE b.applied_at >= current_date - 7 AND b.PARTY <> 'lender_07'
 *   GROUP BY a.app_id [HAVING COUNT(DISTINCT b.PARTY) >= 3]
 *
 * — answered by the alliance's hub from threshold-OPRF tokens the lenders uploaded beforehand
 * (executor/operators/dedupe, protocol in executor/protocols/toprf). The claimed shape is an
 * Aggregate whose only aggregates are COUNT(DISTINCT <PARTY of a federated table>) over a
 * SECURE JOIN (through projections and filters) of a relation held by the requester with a
 * federated table that has a `dedupe:` section in federation.yaml. The framework visits plans
 * top-down, so this operator claims the Aggregate before SECURE JOIN's planner sees the join.
 *
 * Over-threshold form: when a HAVING `COUNT(DISTINCT b.PARTY) >= τ` (or `> τ−1`) sits on the
 * aggregate and the select list does not show the count, the projection above is claimed too
 * and the hub answers only the flag (count ≥ τ) per group, never the count. If the count is
 * selected, counts are revealed and the HAVING runs at the gateway (EXPLAIN says which).
 *
 * What the federated side may filter on: its configured time column (range bounds that must
 * fall on the hub's bucket boundaries, checked when the query runs) and PARTY (=, <>, IN, NOT
 * IN, AND/OR/NOT over names), which select the lenders counted. Anything else is refused with
 * 0A000 naming it; the hub stores nothing else.
 */
import type { Expr } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { print } from '../../parser/index.js';
import type { BindContext } from '../binder/context.js';
import type { FederatedTableDef, KeyNormalization, UnavailableMember } from '../catalog-types.js';
import { mapExpr, splitConjuncts } from '../expr-utils.js';
import {
  hasSubquery, outputColumns, referencedColumns, type AggregateNode, type FilterNode, type JoinNode, type LogicalPlan,
  type ProjectItem, type ProjectNode, type ScanNode, type SetOpNode,
} from '../logical-plan.js';
import { registerPrivateOperator, type OperatorPlanningContext, type PrivateOperatorPlanner, type PrivateStagePlan } from '../private-operators.js';
import { formatDuckDBType, type SqlType } from '../types.js';

export const DEDUPE_OPERATOR = 'dedupe';

/** A federated table's `dedupe:` section of federation.yaml, resolved (connectors/config.ts). */
export interface DedupeSettings {
  /** The node that stores tokens and answers counts (role hub). */
  hub: string;
  /** Key column at every member (the SECURE JOIN key). */
  keyColumn: string;
  /** Time column at every member; the hub keeps it as buckets of `bucketSeconds`. */
  timeColumn: string;
  bucketSeconds: number;
  /** Key rotation period: every epoch has a fresh jointly generated key. */
  epochSeconds: number;
  /** t of the t-of-n sharing. */
  threshold: number;
  /** Key holders (role key_holder), sorted; holder i has Shamir index i + 1. */
  keyHolders: string[];
  /** How often a lender looks for new applications to tokenise and upload. */
  syncSeconds: number;
  /** How long a new epoch may wait for late lenders before it replaces the current one. */
  graceSeconds: number;
}

export type DedupeTableDef = FederatedTableDef & { dedupe?: DedupeSettings };

export function dedupeSettingsOf(def: FederatedTableDef | undefined): DedupeSettings | undefined {
  return (def as DedupeTableDef | undefined)?.dedupe;
}

export type TimeBoundOp = '>=' | '>' | '<' | '<=' | '=';

/** One conjunct on the time column: `time <op> <constant>`, the constant as DuckDB SQL. */
export interface TimeBound {
  op: TimeBoundOp;
  sql: string;
}

export interface DedupeParams {
  /** `schema.name` of the federated table. */
  table: string;
  hub: string;
  /** Members whose rows count after the PARTY filters, in federation order. */
  lenders: string[];
  bucketSeconds: number;
  timeType: 'date' | 'timestamp' | 'timestamptz';
  timeBounds: TimeBound[];
  /** `count`: the count per group; `flag`: only whether count ≥ threshold. */
  mode: 'count' | 'flag';
  threshold?: number;
  normalization?: KeyNormalization;
  /** Gateway input columns holding the group values, in GROUP BY order. */
  groupColumns: string[];
  /** Gateway input column holding the canonical key text. */
  keyColumn: string;
  /** The core result (one row per group): group output columns, then count columns. */
  core: { name: string; type: string; source: { group: number } | { count: true } }[];
  /** Flag mode under a claimed projection: DuckDB SQL over `coreTable` producing the stage. */
  projection?: { coreTable: string; sql: string };
  /** True for an aggregate without GROUP BY (always exactly one row). */
  global: boolean;
}

const position = (e: { span?: { start: number } } | undefined): number | undefined => (e?.span ? e.span.start + 1 : undefined);

function refuse(message: string, at?: { span?: { start: number } }, hint?: string): never {
  throw new SqlError(SqlState.featureNotSupported, message, { position: position(at), hint });
}

// ---- shape ---------------------------------------------------------------------------------

interface Shape {
  aggregate: AggregateNode;
  join: JoinNode;
  /** The federated union (possibly under projections/filters on its side of the join). */
  federated: SetOpNode;
  /** The join's federated input (the setop or a chain above it) and the requester's input. */
  federatedSide: LogicalPlan;
  gatewaySide: LogicalPlan;
  /** Plan column name → expression, for projections between the aggregate and the join. */
  defs: Map<string, Expr>;
  /** Filter conjuncts between the aggregate and the join. */
  conjuncts: Expr[];
  /** Indices of the aggregate's COUNT(DISTINCT PARTY) items. */
  counts: number[];
}

/** Replaces column references defined by projections with their definitions, recursively. */
function inline(e: Expr, defs: Map<string, Expr>, seen: ReadonlySet<string> = new Set()): Expr {
  return mapExpr(e, {
    expr: (x) => {
      if (x.kind !== 'column' || x.name.length !== 1 || seen.has(x.name[0])) return undefined;
      const def = defs.get(x.name[0]);
      // A projection that passes a column through under its own name defines nothing new.
      if (!def || (def.kind === 'column' && def.name[0] === x.name[0])) return undefined;
      return inline(def, defs, new Set([...seen, x.name[0]]));
    },
  });
}

/** Walks down a side of the join through projections and filters to the federated union. */
function federatedUnder(plan: LogicalPlan): SetOpNode | undefined {
  let p = plan;
  while (p.kind === 'project' || p.kind === 'filter') p = p.input;
  return p.kind === 'setop' && p.federated ? p : undefined;
}

/** The scan at the bottom of a federated member branch (projections and filters only). */
function memberScan(plan: LogicalPlan): ScanNode | undefined {
  let p = plan;
  while (p.kind === 'project' || p.kind === 'filter') p = p.input;
  return p.kind === 'scan' ? p : undefined;
}

function findShape(node: LogicalPlan): Shape | undefined {
  if (node.kind !== 'aggregate') return undefined;
  const defs = new Map<string, Expr>();
  const conjuncts: Expr[] = [];
  let p = node.input;
  while (p.kind === 'project' || p.kind === 'filter') {
    if (p.kind === 'project') for (const item of p.items) defs.set(item.column.name, item.expr);
    else conjuncts.push(...splitConjuncts(p.predicate));
    p = p.input;
  }
  if (p.kind !== 'join' || p.mode !== 'secure') return undefined;
  const join = p;
  const leftFed = federatedUnder(join.left);
  const rightFed = federatedUnder(join.right);
  const federated = rightFed ?? leftFed;
  if (!federated || (leftFed && rightFed)) return undefined;
  const federatedSide = rightFed ? join.right : join.left;
  const gatewaySide = rightFed ? join.left : join.right;
  // Which of the federated side's output columns is PARTY (traced into every member).
  const sideColumns = outputColumns(federatedSide).map((c) => c.name);
  const counts: number[] = [];
  node.aggregates.forEach((a, i) => {
    const call = a.call;
    const name = call.name[call.name.length - 1];
    if (name !== 'count' || !call.distinct || call.args.length !== 1 || call.dp || call.over) return;
    const arg = inline(call.args[0], defs);
    if (arg.kind !== 'column' || !sideColumns.includes(arg.name[0])) return;
    if (sourceOf(federatedSide, arg.name[0])?.kind === 'party') counts.push(i);
  });
  if (counts.length === 0) return undefined;
  return { aggregate: node, join, federated, federatedSide, gatewaySide, defs, conjuncts, counts };
}

type Source = { kind: 'party' } | { kind: 'column'; column: string };

/**
 * Follows column `name` down through projections (plain column references only) and filters:
 * the first other node and the column's name there; undefined when a projection computes it.
 */
function throughRenames(plan: LogicalPlan, name: string): { node: LogicalPlan; column: string } | undefined {
  let p = plan;
  let column = name;
  while (p.kind === 'project' || p.kind === 'filter') {
    if (p.kind === 'project') {
      const item = p.items.find((i) => i.column.name === column);
      if (!item || item.expr.kind !== 'column') return undefined;
      column = item.expr.name[0];
    }
    p = p.input;
  }
  return { node: p, column };
}


/**
 * Where column `name` of `plan` comes from in every member of the federated union below it:
 * PARTY, or one source column with the same name at every member; undefined otherwise.
 */
function sourceOf(plan: LogicalPlan, name: string): Source | undefined {
  const traced = throughRenames(plan, name);
  if (!traced) return undefined;
  const { node: p, column } = traced;
  if (p.kind !== 'setop' || !p.federated) return undefined;
  const index = p.columns.findIndex((c) => c.name === column);
  if (index < 0) return undefined;
  let found: Source | undefined;
  for (const member of p.inputs) {
    const s = memberSource(member, outputColumns(member)[index].name);
    if (!s || (found && (found.kind !== s.kind || (s.kind === 'column' && found.kind === 'column' && s.column !== found.column)))) return undefined;
    found = s;
  }
  return found;
}

function memberSource(plan: LogicalPlan, name: string): Source | undefined {
  const traced = throughRenames(plan, name);
  if (!traced) return undefined;
  const { node: p, column } = traced;
  if (p.kind !== 'scan') return undefined;
  if (p.partyColumn?.name === column) return { kind: 'party' };
  const c = p.columns.find((sc) => sc.column.name === column);
  return c ? { kind: 'column', column: c.source } : undefined;
}

/** A HAVING `count >= τ` / `count > τ−1` on one of the shape's count columns: τ, else undefined. */
function thresholdOf(filter: FilterNode, countColumns: Set<string>): number | undefined {
  const e = filter.predicate;
  if (e.kind !== 'binary') return undefined;
  const flip: Record<string, string> = { '<=': '>=', '<': '>' };
  let op: string = e.op;
  let col = e.left;
  let lit = e.right;
  if (e.left.kind === 'number' && e.right.kind === 'column') {
    if (!flip[e.op]) return undefined;
    op = flip[e.op];
    col = e.right;
    lit = e.left;
  }
  if (col.kind !== 'column' || !countColumns.has(col.name[0]) || lit.kind !== 'number' || !/^\d+$/.test(lit.text)) return undefined;
  const n = Number(lit.text);
  if (!Number.isSafeInteger(n)) return undefined;
  if (op === '>=') return Math.max(1, n);
  if (op === '>') return n + 1;
  return undefined;
}

/** The flag-mode claim: a projection over HAVING count ≥ τ over the dedupe aggregate, not showing the count. */
function flagShape(node: LogicalPlan): { project: ProjectNode; filter: FilterNode; shape: Shape; threshold: number } | undefined {
  if (node.kind !== 'project' || node.input.kind !== 'filter') return undefined;
  const filter = node.input;
  const shape = findShape(filter.input);
  if (!shape) return undefined;
  const countColumns = new Set(shape.counts.map((i) => shape.aggregate.aggregates[i].column.name));
  const threshold = thresholdOf(filter, countColumns);
  if (threshold === undefined) return undefined;
  for (const item of node.items) {
    if (hasSubquery(item.expr)) return undefined;
    for (const r of referencedColumns(item.expr)) if (countColumns.has(r)) return undefined;
  }
  return { project: node, filter, shape, threshold };
}

// ---- planning ------------------------------------------------------------------------------

interface FederatedFilters {
  lenders: string[];
  timeBounds: TimeBound[];
}

const TIME_OPS: Record<string, TimeBoundOp> = { '>=': '>=', '>': '>', '<': '<', '<=': '<=', '=': '=' };
const FLIPPED: Record<TimeBoundOp, TimeBoundOp> = { '>=': '<=', '>': '<', '<': '>', '<=': '>=', '=': '=' };

const isConstant = (e: Expr) => referencedColumns(e).size === 0 && !hasSubquery(e);

/** Evaluates a predicate over PARTY alone for one member (true/false), or undefined if unsupported. */
function evalPartyPredicate(e: Expr, isParty: (e: Expr) => boolean, party: string): boolean | undefined {
  const text = (x: Expr): string | undefined => (x.kind === 'string' ? x.value : undefined);
  switch (e.kind) {
    case 'binary': {
      if (e.op === 'and' || e.op === 'or') {
        const l = evalPartyPredicate(e.left, isParty, party);
        const r = evalPartyPredicate(e.right, isParty, party);
        if (l === undefined || r === undefined) return undefined;
        return e.op === 'and' ? l && r : l || r;
      }
      if (e.op !== '=' && e.op !== '<>' && e.op !== '!=') return undefined;
      const value = isParty(e.left) ? text(e.right) : isParty(e.right) ? text(e.left) : undefined;
      if (value === undefined) return undefined;
      return e.op === '=' ? party === value : party !== value;
    }
    case 'unary':
      if (e.op !== 'not') return undefined;
      {
        const v = evalPartyPredicate(e.operand, isParty, party);
        return v === undefined ? undefined : !v;
      }
    case 'in_list': {
      if (!isParty(e.expr)) return undefined;
      const values = e.list.map(text);
      if (values.some((v) => v === undefined)) return undefined;
      return values.includes(party) !== e.not;
    }
    default:
      return undefined;
  }
}

/** Time conjunct → bounds, or undefined if it is not `time op constant` (or BETWEEN). */
function timeBounds(e: Expr, isTime: (e: Expr) => boolean): TimeBound[] | undefined {
  const sql = (x: Expr) => print(x, { dialect: 'duckdb' });
  if (e.kind === 'binary' && TIME_OPS[e.op]) {
    if (isTime(e.left) && isConstant(e.right)) return [{ op: TIME_OPS[e.op], sql: sql(e.right) }];
    if (isTime(e.right) && isConstant(e.left)) return [{ op: FLIPPED[TIME_OPS[e.op]], sql: sql(e.left) }];
    return undefined;
  }
  if (e.kind === 'between' && !e.not && !e.symmetric && isTime(e.expr) && isConstant(e.low) && isConstant(e.high)) {
    return [{ op: '>=', sql: sql(e.low) }, { op: '<=', sql: sql(e.high) }];
  }
  return undefined;
}

/**
 * The federated side's filters, per member: PARTY predicates decide which lenders count; time
 * bounds must be the same at every member (they come from one WHERE). Anything else: 0A000.
 */
function federatedFilters(shape: Shape, settings: DedupeSettings, chainFederated: Expr[]): FederatedFilters {
  const def = shape.federated.federated!;
  const table = `${def.schema}.${def.name}`;
  const counted = new Set<string>();
  let bounds: TimeBound[] | undefined;
  // A member that is down has no branch, but its tokens are at the hub all the same. Its filters
  // are any other member's with its own name as PARTY: every branch carries the same WHERE,
  // pushed into each member alike (and time bounds that differ are refused below anyway).
  const branches: { member: LogicalPlan; down?: string }[] = [
    ...shape.federated.inputs.map((member) => ({ member })),
    ...(shape.federated.unavailable ?? []).map((m) => ({ member: shape.federated.inputs[0], down: m.party })),
  ];
  for (const { member, down } of branches) {
    const scan = memberScan(member);
    if (!scan || scan.source.kind !== 'party') refuse(`the ${table} side of the dedupe join may only be filtered, not ${member.kind === 'aggregate' ? 'aggregated' : 'transformed'}, before the join`);
    const party = down ?? scan.source.party;
    // Conjuncts inside the member branch, plus those above the union mapped onto this member.
    const conjuncts: Expr[] = [];
    let p: LogicalPlan = member;
    while (p.kind === 'project' || p.kind === 'filter') {
      if (p.kind === 'filter') conjuncts.push(...splitConjuncts(p.predicate));
      p = p.input;
    }
    const memberColumns = outputColumns(member);
    const rename = new Map(shape.federated.columns.map((c, i) => [c.name, memberColumns[i].name]));
    for (const c of chainFederated) {
      conjuncts.push(mapExpr(c, { expr: (x) => (x.kind === 'column' && rename.has(x.name[0]) ? { kind: 'column', name: [rename.get(x.name[0])!] } : undefined) }));
    }
    const sourceName = (e: Expr): Source | undefined => (e.kind === 'column' ? memberSource(member, e.name[0]) ?? scanSource(scan, e.name[0]) : undefined);
    const isParty = (e: Expr) => sourceName(e)?.kind === 'party';
    const isTime = (e: Expr) => {
      const s = sourceName(e);
      return s?.kind === 'column' && s.column === settings.timeColumn;
    };
    let included = true;
    const memberBounds: TimeBound[] = [];
    for (const c of conjuncts) {
      const refs = [...referencedColumns(c)].map((r) => sourceName({ kind: 'column', name: [r] }));
      if (refs.length > 0 && refs.every((s) => s?.kind === 'party')) {
        const v = evalPartyPredicate(c, isParty, party);
        if (v === undefined) refuse(`the dedupe operator supports only =, <>, IN and NOT IN of ${table}.PARTY with name constants, combined with AND/OR/NOT: ${print(c, { dialect: 'veilsql' })}`, c);
        included &&= v;
        continue;
      }
      if (refs.length > 0 && refs.every((s) => s?.kind === 'column' && s.column === settings.timeColumn)) {
        const b = timeBounds(c, isTime);
        if (!b) refuse(`the dedupe hub can filter ${table}.${settings.timeColumn} only by comparisons with constants (>=, <, and for DATE columns >, <=, =, BETWEEN)`, c);
        memberBounds.push(...b);
        continue;
      }
      const named = refs.find((s) => s?.kind === 'column' && s.column !== settings.timeColumn);
      refuse(
        `the dedupe hub keeps only tokens of ${table}.${settings.keyColumn}, ${settings.timeColumn} buckets and the lender, so it cannot filter ${table} by ${named?.kind === 'column' ? named.column : 'this condition'}`,
        c,
        `Filter ${table} only by ${settings.timeColumn} and PARTY; filter your own rows as you like.`,
      );
    }
    const key = JSON.stringify(memberBounds);
    if (bounds === undefined) bounds = memberBounds;
    else if (JSON.stringify(bounds) !== key) refuse(`the dedupe operator needs the same ${settings.timeColumn} filter for every lender of ${table}`);
    if (included) counted.add(party);
  }
  return { lenders: def.parties.filter((p) => counted.has(p)), timeBounds: bounds ?? [] };
}

function scanSource(scan: ScanNode, name: string): Source | undefined {
  if (scan.partyColumn?.name === name) return { kind: 'party' };
  const c = scan.columns.find((sc) => sc.column.name === name);
  return c ? { kind: 'column', column: c.source } : undefined;
}

function normalizationOf(ctx: BindContext, party: string, table: string, column: string): KeyNormalization | undefined {
  return ctx.catalog.party(party)?.tables.find((t) => t.name === table)?.columns.find((c) => c.name === column)?.normalization;
}

const sameRule = (a: KeyNormalization | undefined, b: KeyNormalization | undefined) =>
  a === b || (!!a && !!b && a.trim === b.trim && a.unicode === b.unicode && a.case === b.case);

function planDedupe(shape: Shape, context: OperatorPlanningContext, flag?: { project: ProjectNode; filter: FilterNode; threshold: number }): PrivateStagePlan {
  const { ctx, requester } = context;
  const def = shape.federated.federated!;
  const table = `${def.schema}.${def.name}`;
  const settings = dedupeSettingsOf(def);
  const at = shape.join;
  if (!settings) {
    refuse(`COUNT(DISTINCT PARTY) over a SECURE JOIN with ${table} needs the multi-lender dedupe operator, but ${table} has no dedupe hub configured`, at,
      `Add a dedupe section (hub, key, time) to federated_tables.${table} in federation.yaml.`);
  }
  if (!def.parties.includes(requester)) {
    throw new SqlError(SqlState.insufficientPrivilege, `only lenders of ${table} may query its dedupe hub; ${requester} is not one of its parties`, { position: position(at) });
  }
  if (shape.join.type !== 'inner') refuse('the dedupe operator serves inner SECURE JOIN only', at);
  // The requester's side must be its own data (or computed from it at the gateway).
  const site = context.placement.get(shape.gatewaySide);
  if (site?.kind === 'party' && site.party !== requester) {
    refuse(`the dedupe operator counts other lenders for the requester's own rows; the other side of the join reads ${site.party}'s data`, at, `Join ${table} with a table of ${requester}.`);
  }
  for (const [i, a] of shape.aggregate.aggregates.entries()) {
    if (!shape.counts.includes(i)) {
      refuse(`the dedupe operator computes only COUNT(DISTINCT ${shape.federated.federated!.name}.PARTY) per group; ${print(a.call, { dialect: 'veilsql' })} is not available`, a.call,
        'Compute other aggregates over your own rows in a separate query.');
    }
    if (a.call.filter || a.call.orderBy) refuse('COUNT(DISTINCT PARTY) with FILTER or ORDER BY is not supported by the dedupe operator', a.call);
  }

  // ON: exactly one equality between a requester column and the federated key column.
  const gatewayCols = new Set(outputColumns(shape.gatewaySide).map((c) => c.name));
  const fedCols = new Set(outputColumns(shape.federatedSide).map((c) => c.name));
  const conds = splitConjuncts(shape.join.condition);
  const eq = conds.length === 1 && conds[0].kind === 'binary' && conds[0].op === '=' && conds[0].left.kind === 'column' && conds[0].right.kind === 'column' ? conds[0] : undefined;
  let gatewayKey: string | undefined;
  let federatedKey: string | undefined;
  if (eq && eq.kind === 'binary' && eq.left.kind === 'column' && eq.right.kind === 'column') {
    const [l, r] = [eq.left.name[0], eq.right.name[0]];
    if (gatewayCols.has(l) && fedCols.has(r)) [gatewayKey, federatedKey] = [l, r];
    else if (gatewayCols.has(r) && fedCols.has(l)) [gatewayKey, federatedKey] = [r, l];
  }
  const fedKeySource = federatedKey ? sourceOf(shape.federatedSide, federatedKey) : undefined;
  if (!gatewayKey || !federatedKey || fedKeySource?.kind !== 'column' || fedKeySource.column !== settings.keyColumn) {
    refuse(`the dedupe hub of ${table} matches on ${settings.keyColumn} only: write ON b.${settings.keyColumn} = a.<your key column>`, at);
  }

  // Filters between the aggregate and the join: the requester's side or the federated side.
  const chainGateway: Expr[] = [];
  const chainFederated: Expr[] = [];
  for (const c of shape.conjuncts) {
    const refs = [...referencedColumns(inline(c, shape.defs))];
    if (refs.every((r) => gatewayCols.has(r))) chainGateway.push(inline(c, shape.defs));
    else if (refs.every((r) => fedCols.has(r))) chainFederated.push(inline(c, shape.defs));
    else refuse('the dedupe operator cannot evaluate a condition that mixes the requester\'s columns with the federated table\'s', c);
  }
  const filters = federatedFilters(shape, settings, chainFederated);
  // Catalogs of members that are down are unknown; the reachable ones speak for the table.
  const reachable = def.parties.filter((p) => ctx.catalog.party(p) !== undefined);
  const timeType = ctx.catalog.party(reachable[0])?.tables.find((t) => t.name === def.table)?.columns.find((c) => c.name === settings.timeColumn)?.type.toLowerCase();
  const kind = timeType === 'date' ? 'date' : timeType === 'timestamp' ? 'timestamp' : timeType?.startsWith('timestamp with time zone') || timeType === 'timestamptz' ? 'timestamptz' : undefined;
  if (!kind) refuse(`the dedupe time column ${table}.${settings.timeColumn} must be DATE, TIMESTAMP or TIMESTAMPTZ (it is ${timeType ?? 'missing'})`, at);

  // Key alignment: the lenders tokenise CAST(key AS VARCHAR) under their declared rule (a lender
  // that is down cannot be compared now; it was when it uploaded — the hub keys per epoch).
  const rules = reachable.map((p) => normalizationOf(ctx, p, def.table, settings.keyColumn));
  if (rules.some((r) => !sameRule(r, rules[0]))) {
    refuse(`the lenders of ${table} declare different normalisations for ${settings.keyColumn}; tokens would not match`, at, 'Every lender must declare the same normalize: rule (node.yaml).');
  }
  const gatewayOrigin = ctx.origins.get(gatewayKey);
  const ownRule = gatewayOrigin && !gatewayOrigin.pseudo ? normalizationOf(ctx, gatewayOrigin.party, gatewayOrigin.table, gatewayOrigin.column) : undefined;
  if (ownRule && rules[0] && !sameRule(ownRule, rules[0])) {
    refuse(`${gatewayOrigin!.column} declares a different normalisation than ${table}.${settings.keyColumn}`, at, 'Declare the same normalize: rule for both key columns.');
  }
  const keyType: SqlType = ctx.typeOf(federatedKey);
  const ownType = ctx.typeOf(gatewayKey);
  const col = (name: string): Expr => ({ kind: 'column', name: [name] });
  const keyTypeName = keyType.id === 'decimal' ? { name: 'decimal', args: [keyType.precision ?? 18, keyType.scale ?? 3] } : { name: keyType.id };
  const asKeyType: Expr = ownType.id === keyType.id ? col(gatewayKey) : { kind: 'cast', expr: col(gatewayKey), type: keyTypeName, syntax: 'cast' };
  const keyText: Expr = keyType.id === 'varchar' && ownType.id === 'varchar' ? col(gatewayKey) : { kind: 'cast', expr: asKeyType, type: { name: 'varchar' }, syntax: 'cast' };

  // Gateway input: group values (over the requester's side) and the key text.
  let gatewayPlan: LogicalPlan = shape.gatewaySide;
  if (chainGateway.length) {
    gatewayPlan = { kind: 'filter', clause: 'where', input: gatewayPlan, predicate: chainGateway.reduce((acc, c) => ({ kind: 'binary', op: 'and', left: acc, right: c })) };
    if (site) context.placement.set(gatewayPlan, site);
  }
  const groupItems: ProjectItem[] = shape.aggregate.groups.map((g, i) => {
    const e = inline(g.expr, shape.defs);
    for (const r of referencedColumns(e)) if (!gatewayCols.has(r)) refuse('the dedupe operator groups only by the requester\'s own columns', g.expr);
    return { expr: e, column: ctx.newColumn(`dd_group_${i + 1}`, g.column.label, ctx.typeOf(g.column.name)) };
  });
  const keyItem: ProjectItem = { expr: keyText, column: ctx.newColumn('dd_key', 'key', { id: 'varchar' }) };
  const inputPlan: LogicalPlan = { kind: 'project', input: gatewayPlan, items: [...groupItems, keyItem] };
  if (site) context.placement.set(inputPlan, site);
  const gatewayInput = context.gatewayInput(inputPlan);

  const core: DedupeParams['core'] = [
    ...shape.aggregate.groups.map((g, i) => ({ name: g.column.name, type: formatDuckDBType(ctx.typeOf(g.column.name)), source: { group: i } })),
    ...shape.counts.map((i) => ({ name: shape.aggregate.aggregates[i].column.name, type: 'BIGINT', source: { count: true as const } })),
  ];
  let projection: DedupeParams['projection'];
  if (flag) {
    // The projection above HAVING reads only group columns (flagShape checked it); the core
    // table's columns carry the plan names those expressions refer to.
    const coreTable = `__dd_core_${ctx.uniqueName('c')}`;
    const items = flag.project.items.map((i) => `${print(i.expr, { dialect: 'duckdb' })} AS "${i.column.name.replace(/"/g, '""')}"`);
    projection = { coreTable, sql: `SELECT ${items.join(', ')} FROM "${coreTable}"` };
  }
  const params: DedupeParams = {
    table,
    hub: settings.hub,
    lenders: filters.lenders,
    bucketSeconds: settings.bucketSeconds,
    timeType: kind,
    timeBounds: filters.timeBounds,
    mode: flag ? 'flag' : 'count',
    ...(flag ? { threshold: flag.threshold } : {}),
    ...(rules[0] ? { normalization: rules[0] } : {}),
    groupColumns: groupItems.map((g) => g.column.name),
    keyColumn: keyItem.column.name,
    core,
    ...(projection ? { projection } : {}),
    global: shape.aggregate.groups.length === 0,
  };
  return {
    operator: DEDUPE_OPERATOR,
    gatewayInputs: [gatewayInput],
    partyInputs: [],
    params,
    explain: explainDedupe(params, settings, requester, def.parties.length, shape.federated.unavailable ?? []),
  };
}

function describeBounds(params: DedupeParams, time: string): string {
  if (params.timeBounds.length === 0) return 'all buckets';
  return params.timeBounds.map((b) => `${time} ${b.op} ${b.sql}`).join(' AND ');
}

function explainDedupe(params: DedupeParams, settings: DedupeSettings, requester: string, members: number, unavailable: UnavailableMember[]): PrivateStagePlan['explain'] {
  const holders = settings.keyHolders.join(', ');
  const bucket = settings.bucketSeconds % 86_400 === 0 ? `${settings.bucketSeconds / 86_400} day(s)` : `${settings.bucketSeconds} s`;
  const counted = params.lenders.length === members ? `all ${members} lenders` : `${params.lenders.length} of ${members} lenders (${params.lenders.length <= 6 ? params.lenders.join(', ') : `${params.lenders.slice(0, 6).join(', ')}, …`})`;
  const answer = params.mode === 'flag' ? `only whether COUNT(DISTINCT PARTY) >= ${params.threshold} (a flag, not the count)` : 'the count of distinct lenders';
  return {
    protocol: `multi-lender dedupe: threshold OPRF tokens (ristretto255, RFC 9497 output; key ${settings.threshold}-of-${settings.keyHolders.length} among ${holders}, rotated every ${Math.round(settings.epochSeconds / 86_400 * 10) / 10} day(s)) counted by hub ${settings.hub} over ${params.table} (${settings.keyColumn}; ${settings.timeColumn} in buckets of ${bucket}), ${describeBounds(params, settings.timeColumn)}, counting ${counted}; ${params.mode === 'flag' ? `over-threshold flags (>= ${params.threshold})` : 'counts'}`,
    disclosure: [
      `hub ${settings.hub} sees: pseudonymous 16-byte tokens (keyed per epoch, never an ID or a plain hash of one) of every applicant the lenders uploaded, with the uploading lender and its ${settings.timeColumn} bucket; for this query that ${requester} asks, the number of its distinct keys and their grouping, the bucket range and the lenders counted, and per group ${answer}`,
      `key holders ${holders} see: blinded elements relayed by ${settings.hub} (uniformly random, one per distinct key) and the batch size — not ${requester}, not a token, not an ID`,
      `the other lenders see nothing of this query (their tokens were uploaded beforehand)${unavailable.length ? `; unavailable now, not needed: ${unavailable.map((m) => m.party).join(', ')} (the tokens they uploaded still count)` : ''}`,
      `${requester} learns per group of its own rows ${answer} among ${counted}${params.mode === 'count' ? '; groups without a match are absent' : '; only groups over the threshold appear'}`,
    ],
  };
}

export const dedupePlanner: PrivateOperatorPlanner = {
  name: DEDUPE_OPERATOR,
  claims(node: LogicalPlan): boolean {
    return findShape(node) !== undefined || flagShape(node) !== undefined;
  },
  plan(node: LogicalPlan, context: OperatorPlanningContext): PrivateStagePlan {
    const flag = flagShape(node);
    if (flag) return planDedupe(flag.shape, context, flag);
    return planDedupe(findShape(node)!, context);
  },
  // The hub counts tokens the lenders uploaded beforehand; no lender is contacted at query time,
  // so a lender that is down does not stop the query (its uploaded tokens still count).
  answersWithoutMembers(node: LogicalPlan): LogicalPlan[] {
    const shape = flagShape(node)?.shape ?? findShape(node);
    return shape ? [shape.federated] : [];
  },
};

registerPrivateOperator(dedupePlanner);

