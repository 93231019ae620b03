/**
 * Binds the FROM clause: table references (party tables, federated tables expanded into a
 * union of their members, gateway tables, CTEs), derived tables, table functions and joins
 * (plain, SECURE, PRIVATE LOOKUP; ON, USING, NATURAL, LATERAL).
 */
import type { Alias, FromItem, JoinExpr, Query, TableFunctionRef, TableRef } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { joinConjuncts } from '../expr-utils.js';
import type { LogicalPlan, PlanColumn, ScanNode } from '../logical-plan.js';
import { parseDuckDBType, T, type SqlType } from '../types.js';
import type { BindContext, CteBinding } from './context.js';
import { bindExpr, type ExprEnv } from './bind-expr.js';
import { Scope, type ScopeColumn, type ScopeRelation } from './scope.js';
import { inferType, requireBoolean } from './typing.js';
import { TABLE_FUNCTIONS } from './functions.js';

export interface BoundFrom {
  plan: LogicalPlan;
  relations: ScopeRelation[];
  /** Columns merged by USING/NATURAL joins (unqualified name → column). */
  merged: Map<string, PlanColumn>;
}

export interface BoundQueryLike {
  plan: LogicalPlan;
  columns: PlanColumn[];
}

export interface FromBinder {
  ctx: BindContext;
  ctes: Map<string, CteBinding>;
  bindQuery: (q: Query, outer: Scope | undefined, ctes: Map<string, CteBinding>) => BoundQueryLike;
  bindSubquery: ExprEnv['bindSubquery'];
}

const position = (e: { span?: { start: number } }): number | undefined => (e.span ? e.span.start + 1 : undefined);

export function bindFromList(items: FromItem[], outer: Scope | undefined, b: FromBinder): BoundFrom {
  let acc: BoundFrom | undefined;
  for (const item of items) {
    const next = bindFromItem(item, outer, b, acc?.relations ?? []);
    acc = acc
      ? {
          plan: { kind: 'join', type: 'cross', mode: 'plain', left: acc.plan, right: next.plan },
          relations: [...acc.relations, ...next.relations],
          merged: new Map([...acc.merged, ...next.merged]),
        }
      : next;
  }
  if (!acc) throw new Error('empty FROM list');
  checkDuplicateAliases(acc.relations);
  return acc;
}

function bindFromItem(item: FromItem, outer: Scope | undefined, b: FromBinder, lateral: ScopeRelation[]): BoundFrom {
  switch (item.kind) {
    case 'table':
      return bindTableRef(item, b);
    case 'subquery': {
      const scope = item.lateral ? new Scope(lateral, outer) : outer;
      const q = b.bindQuery(item.query, scope, b.ctes);
      const display = item.alias?.name ?? 'subquery';
      return { plan: q.plan, relations: [relationOf(q.columns, item.alias, [[display]], display, item)], merged: new Map() };
    }
    case 'table_function':
      return bindTableFunction(item, outer, b, lateral);
    case 'join':
      return bindJoin(item, outer, b, lateral);
  }
}

function bindTableRef(ref: TableRef, b: FromBinder): BoundFrom {
  const { ctx } = b;
  const aliasName = ref.alias?.name;
  if (ref.name.length === 1) {
    const cte = b.ctes.get(ref.name[0]);
    if (cte) {
      const q = b.bindQuery(cte.def.query, undefined, cte.visible);
      const names = cte.def.columns ? columnNames(q.columns.map((c) => c.label), cte.def.columns, cte.def.name, ref) : undefined;
      const display = aliasName ?? ref.name[0];
      return { plan: q.plan, relations: [relationOf(q.columns, ref.alias, [[display]], display, ref, names)], merged: new Map() };
    }
  }
  const resolved = ctx.catalog.resolveTable(ref.name, ref.span);
  const display = aliasName ?? ref.name[ref.name.length - 1];
  const qualifiers = aliasName ? [[aliasName]] : qualifierPaths(ref.name, resolved.kind === 'party' ? resolved.party : resolved.kind === 'federated' ? resolved.def.schema : resolved.schema);
  if (resolved.kind === 'party') {
    const scan = partyScan(ctx, resolved.party, resolved.table, display, ref);
    const cols = scan.columns.map((c) => c.column);
    return { plan: scan, relations: [relationOf(cols, ref.alias, qualifiers, display, ref)], merged: new Map() };
  }
  if (resolved.kind === 'gateway') {
    const scan: ScanNode = {
      kind: 'scan',
      source: { kind: 'gateway', schema: resolved.schema, table: resolved.name, duckdbName: resolved.duckdbName },
      alias: display,
      columns: resolved.columns.map((c) => ({ column: ctx.newColumn(c.name, c.name, parseDuckDBType(c.type)), source: c.name })),
      span: ref.span,
    };
    const cols = scan.columns.map((c) => c.column);
    return { plan: scan, relations: [relationOf(cols, ref.alias, qualifiers, display, ref)], merged: new Map() };
  }
  // A federated table is the union of its members' tables, each tagged with its party; members
  // that are down are carried on the union (not as inputs) for the physical planner to refuse.
  const fedName = `${resolved.def.schema}.${resolved.def.name}`;
  const members = resolved.members.map((m) => {
    const scan = partyScan(ctx, m.party, m.table, display, ref, fedName);
    scan.partyColumn = ctx.newColumn('party', 'party', T.varchar);
    ctx.origins.set(scan.partyColumn.name, {
      party: m.party, table: m.table.name, column: 'party', level: 'public', minGroup: m.table.minGroup, federated: fedName, pseudo: 'party',
    });
    return scan;
  });
  const columns = [
    ...resolved.columns.map((c) => ctx.newColumn(c.name, c.name, parseDuckDBType(c.type))),
    ctx.newColumn('party', 'party', T.varchar),
  ];
  const plan: LogicalPlan = {
    kind: 'setop', op: 'union', all: true, inputs: members, columns, federated: resolved.def,
    ...(resolved.unavailable.length ? { unavailable: resolved.unavailable } : {}),
  };
  const relation = relationOf(columns, ref.alias, qualifiers, display, ref);
  relation.columns[relation.columns.length - 1].hidden = true;
  return { plan, relations: [relation], merged: new Map() };
}

function partyScan(
  ctx: BindContext,
  party: string,
  table: { name: string; columns: { name: string; type: string; policy: import('../catalog-types.js').PolicyLevel }[]; minGroup: number },
  alias: string,
  ref: TableRef,
  federated?: string,
): ScanNode {
  const publishedTable = ctx.catalog.party(party)?.tables.find((t) => t.name === table.name);
  if (!publishedTable) throw new Error(`catalog lost table ${party}.${table.name}`);
  const scan: ScanNode = {
    kind: 'scan',
    source: { kind: 'party', party, table: publishedTable },
    alias,
    columns: table.columns.map((c) => ({ column: ctx.newColumn(c.name, c.name, parseDuckDBType(c.type)), source: c.name })),
    span: ref.span,
  };
  scan.columns.forEach((sc, i) => {
    const c = table.columns[i];
    ctx.origins.set(sc.column.name, { party, table: table.name, column: c.name, level: c.policy, minGroup: table.minGroup, federated });
  });
  return scan;
}

function qualifierPaths(written: string[], schema: string): string[][] {
  const name = written[written.length - 1];
  return [[name], [schema, name]];
}

function relationOf(
  columns: PlanColumn[],
  alias: Alias | undefined,
  qualifiers: string[][],
  display: string,
  at: { span?: { start: number } },
  names: string[] = columns.map((c) => c.label),
): ScopeRelation {
  const renamed = alias?.columns ? columnNames(names, alias.columns, display, at) : names;
  return { qualifiers, display, columns: columns.map((c, i): ScopeColumn => ({ name: renamed[i], column: c })) };
}

/** Applies a column alias list `t(a, b)` to the names of a relation's first columns. */
function columnNames(current: string[], aliases: string[], display: string, at: { span?: { start: number } }): string[] {
  if (aliases.length > current.length) {
    throw new SqlError(SqlState.syntaxError, `table "${display}" has ${current.length} columns available but ${aliases.length} columns specified`, {
      position: position(at),
    });
  }
  return current.map((n, i) => aliases[i] ?? n);
}

function bindTableFunction(item: TableFunctionRef, outer: Scope | undefined, b: FromBinder, lateral: ScopeRelation[]): BoundFrom {
  const scope = new Scope(lateral, outer);
  const env: ExprEnv = { ctx: b.ctx, scope, noAggregates: 'functions in FROM', noWindows: 'functions in FROM', bindSubquery: b.bindSubquery };
  const requested = item.call.name[item.call.name.length - 1];
  if (!TABLE_FUNCTIONS.has(requested) || (item.call.name.length > 1 && item.call.name[0] !== 'pg_catalog')) {
    throw new SqlError(SqlState.undefinedFunction, `table function ${item.call.name.join('.')}() is not available in VeilSQL queries`, {
      position: position(item.call),
      hint: `Allowed in FROM: ${[...TABLE_FUNCTIONS].join(', ')}.`,
    });
  }
  const call = bindExpr(item.call, env);
  if (call.kind !== 'function') throw new Error('table function bound to a non-call');
  const fname = call.name[call.name.length - 1];
  let type: SqlType = T.unknown;
  const argTypes = call.args.map((a) => inferType(a, b.ctx));
  if (fname === 'generate_series' || fname === 'range') type = argTypes[0]?.id === 'timestamp' || argTypes[0]?.id === 'date' ? T.timestamp : T.bigint;
  if (fname === 'unnest') type = argTypes[0]?.id === 'list' ? (argTypes[0].element ?? T.unknown) : T.unknown;
  // Postgres: a function returning a scalar, aliased without a column list (`unnest(a) x`),
  // names its single column after the alias.
  const names = item.alias?.columns ?? [item.alias?.name ?? fname];
  const columns = names.map((n, i) => b.ctx.newColumn(n, n, i === 0 ? type : T.unknown));
  if (item.withOrdinality && !item.alias?.columns?.[1]) columns.push(b.ctx.newColumn('ordinality', 'ordinality', T.bigint));
  const display = item.alias?.name ?? fname;
  return {
    plan: { kind: 'table_function', call, columns, withOrdinality: item.withOrdinality },
    relations: [{ qualifiers: [[display]], display, columns: columns.map((c) => ({ name: c.label, column: c })) }],
    merged: new Map(),
  };
}

function bindJoin(join: JoinExpr, outer: Scope | undefined, b: FromBinder, lateral: ScopeRelation[]): BoundFrom {
  const left = bindFromItem(join.left, outer, b, lateral);
  const right = bindFromItem(join.right, outer, b, [...lateral, ...left.relations]);
  const relations = [...left.relations, ...right.relations];
  const merged = new Map([...left.merged, ...right.merged]);
  const scope = new Scope(relations, outer);
  for (const [k, v] of merged) scope.merged.set(k, v);
  let condition = undefined;
  let usingCols = join.using;
  if (join.natural) {
    const leftNames = new Set(left.relations.flatMap((r) => r.columns.filter((c) => !c.hidden).map((c) => c.name)));
    usingCols = [...new Set(right.relations.flatMap((r) => r.columns.filter((c) => !c.hidden).map((c) => c.name)))].filter((n) => leftNames.has(n));
  }
  if (usingCols) {
    const conjuncts = usingCols.map((name) => {
      const l = new Scope(left.relations).resolve([name], join.span).column;
      const r = new Scope(right.relations).resolve([name], join.span).column;
      merged.set(name, join.type === 'right' ? r : l);
      for (const rel of right.relations) for (const c of rel.columns) if (c.column.name === r.name) c.hidden = true;
      for (const rel of left.relations) for (const c of rel.columns) if (c.column.name === l.name && join.type === 'right') c.hidden = true;
      return { kind: 'binary' as const, op: '=' as const, left: { kind: 'column' as const, name: [l.name] }, right: { kind: 'column' as const, name: [r.name] } };
    });
    condition = joinConjuncts(conjuncts);
  } else if (join.on) {
    const env: ExprEnv = { ctx: b.ctx, scope, noAggregates: 'JOIN conditions', noWindows: 'JOIN conditions', bindSubquery: b.bindSubquery };
    condition = bindExpr(join.on, env);
    requireBoolean(inferType(condition, b.ctx), 'JOIN/ON', join.on);
  }
  if (join.mode !== 'plain' && !condition) {
    throw new SqlError(SqlState.syntaxError, `${join.mode === 'secure' ? 'SECURE JOIN' : 'PRIVATE LOOKUP'} needs an ON condition with key equalities`, {
      position: position(join),
    });
  }
  return {
    plan: { kind: 'join', type: join.type, mode: join.mode, left: left.plan, right: right.plan, condition, span: join.span },
    relations,
    merged,
  };
}

function checkDuplicateAliases(relations: ScopeRelation[]): void {
  const seen = new Set<string>();
  for (const r of relations) {
    const key = r.qualifiers[r.qualifiers.length - 1].join('.');
    if (seen.has(key)) {
      throw new SqlError(SqlState.ambiguousAlias, `table name "${key}" specified more than once`, {
        hint: 'Give each occurrence its own alias.',
      });
    }
    seen.add(key);
  }
}
