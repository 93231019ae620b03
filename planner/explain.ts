/**
 * EXPLAIN: the analyst's window into a federated plan. Lists every operator with where it runs,
 * every fragment with the SQL its party receives, and — the part no plaintext database has —
 * what each party reveals to whom.
 */
import type { Expr } from '../parser/ast.js';
import { print } from '../parser/index.js';
import type { BindContext } from './binder/context.js';
import type { UnavailableMember } from './catalog-types.js';
import { mapExpr, visitExpr } from './expr-utils.js';
import {
  children, isSubplanQuery, nodeExpressions, outputColumns, walkPlan, type LogicalPlan,
} from './logical-plan.js';
import type { PhysicalPlan, PrivateStage } from './physical-plan.js';
import type { Site } from './placement.js';
import { displayType } from './types.js';

export interface ExplainStats {
  /** Per fragment id: rows and bytes received, milliseconds. */
  fragments: Map<number, { rows: number; bytes: number; ms: number }>;
  totalMs: number;
  resultRows: number;
}

export function explainPlan(physical: PhysicalPlan, ctx: BindContext, requester: string, stats?: ExplainStats): string[] {
  const display = displayNames(physical.logical);
  const show = (e: Expr): string =>
    print(
      mapExpr(e, {
        expr: (x) => (x.kind === 'column' && x.name.length === 1 && display.has(x.name[0]) ? { kind: 'column', name: display.get(x.name[0])! } : undefined),
        query: (q) => (isSubplanQuery(q) ? { kind: 'query', body: { kind: 'select', items: [{ kind: 'star' }], from: [{ kind: 'table', name: ['(subquery)'] }] } } : q),
      }),
      { dialect: 'veilsql' },
    );
  const fragmentOf = new Map(physical.fragments.map((f) => [f.plan, f]));
  const privateOf = new Map(physical.stages.filter((s): s is PrivateStage => s.kind === 'private').map((s) => [s.plan, s]));
  const lines: string[] = [];
  const siteText = (s: Site | undefined) => (s?.kind === 'party' ? `@ ${s.party}` : `@ gateway (${requester})`);

  const render = (plan: LogicalPlan, depth: number, inFragment: boolean): void => {
    const pad = '  '.repeat(depth);
    const fragment = fragmentOf.get(plan);
    if (fragment && !inFragment) {
      const st = stats?.fragments.get(fragment.id);
      const actual = st ? `  (actual rows=${st.rows} bytes=${st.bytes} time=${st.ms.toFixed(1)} ms)` : '';
      lines.push(`${pad}-> Fragment #${fragment.id} @ ${fragment.party}: ${fragment.columns.length} column(s)${actual}`);
      render(plan, depth + 1, true);
      return;
    }
    const where = inFragment ? '' : `  ${siteText(physical.placement.get(plan))}`;
    const stage = privateOf.get(plan);
    const st = stage ? stats?.fragments.get(stage.id) : undefined;
    const actual = st ? `  (actual time=${st.ms.toFixed(1)} ms)` : '';
    const shared = plan.kind === 'setop' && !inFragment ? fragmentOf.get(plan.inputs[0])?.shared : undefined;
    const into = shared ? `  (members' rows into one table ${shared.table})` : '';
    lines.push(`${pad}-> ${describeNode(plan, show)}${stage ? ` via ${stage.explain.protocol}` : ''}${where}${into}${actual}`);
    for (const e of nodeExpressions(plan)) {
      visitExpr(e, () => undefined, (q) => {
        if (isSubplanQuery(q)) {
          lines.push(`${pad}     SubPlan:`);
          render(q.subplan, depth + 3, inFragment);
        }
      });
    }
    for (const c of children(plan)) render(c, depth + 1, inFragment);
  };

  const resultTypes = physical.columns.map((c) => `${c.label} ${displayType(c.type)}`).join(', ');
  lines.push(`Federated query plan (requester: ${requester})`);
  lines.push(`Result: ${resultTypes}`);
  if (physical.root.kind === 'fragment') {
    lines.push(`Runs entirely at party ${physical.root.fragment.party}; its rows stream to the client.`);
  } else {
    lines.push(`Combined in the gateway's DuckDB at ${requester}.`);
  }
  render(physical.logical, 0, false);

  if (physical.fragments.length) {
    lines.push('Fragments (SQL each party receives, re-checks against its own policy and runs):');
    for (const f of physical.fragments) lines.push(`  #${f.id} @ ${f.party}: ${f.sql}`);
  }
  for (const stage of privateOf.values()) {
    for (const input of stage.partyInputs) lines.push(`  protocol input @ ${input.party} (stage #${stage.id}): ${input.sql}`);
  }
  if (physical.root.kind === 'gateway') lines.push(`Gateway SQL: ${physical.root.sql}`);

  lines.push('Disclosure:');
  for (const f of physical.fragments) {
    if (f.party === requester) {
      lines.push(`  ${f.party} (own data) -> ${requester}: rows of ${f.columns.length} column(s)`);
      continue;
    }
    const cols = describeColumns(f.plan, ctx);
    lines.push(`  ${f.party} -> ${requester}: ${physical.root.kind === 'fragment' ? 'the result rows' : 'rows'} of (${cols})`);
    lines.push(`  ${requester} -> ${f.party}: the fragment's SQL, including its constants`);
  }
  for (const stage of privateOf.values()) {
    for (const input of stage.partyInputs) {
      lines.push(`  ${input.party} keeps its rows; they only feed the protocol as (${input.columns.map((c, i) => `${c.label}: ${input.uses[i]}`).join(', ')})`);
    }
    for (const line of stage.explain.disclosure) lines.push(`  ${line}`);
  }
  if (physical.fragments.length === 0 && privateOf.size === 0) lines.push('  nothing leaves any party (constants only)');
  if (stats) lines.push(`Execution: ${stats.resultRows} row(s) in ${stats.totalMs.toFixed(1)} ms`);
  return lines;
}

function describeNode(plan: LogicalPlan, show: (e: Expr) => string): string {
  switch (plan.kind) {
    case 'scan': {
      const name = plan.source.kind === 'party' ? `${plan.source.party}.${plan.source.table.name}` : `${plan.source.schema}.${plan.source.table}`;
      const cols = plan.columns.map((c) => c.source).concat(plan.partyColumn ? ['PARTY'] : []);
      return `Scan ${name}${plan.alias !== name.split('.').pop() ? ` AS ${plan.alias}` : ''} [${cols.join(', ') || 'no columns: row count only'}]`;
    }
    case 'values': return `Values (${plan.rows.length} row(s))`;
    case 'table_function': return `Function Scan ${show(plan.call)}`;
    case 'filter':
      return plan.clause === 'min_group' ? `Suppress small groups: ${show(plan.predicate)} (policy min_group)` : `Filter: ${show(plan.predicate)}`;
    case 'project': return `Project: ${plan.items.map((i) => show(i.expr)).join(', ')}`;
    case 'join': {
      const kind = plan.mode === 'secure' ? 'SECURE JOIN' : plan.mode === 'lookup' ? 'PRIVATE LOOKUP' : `${plan.type.toUpperCase()} JOIN`;
      return `${kind}${plan.condition ? ` ON ${show(plan.condition)}` : ''}`;
    }
    case 'aggregate': {
      const groups = plan.groups.map((g) => show(g.expr)).join(', ');
      const aggs = plan.aggregates.map((a) => show(a.call)).join(', ');
      return `Aggregate${groups ? ` GROUP BY ${groups}` : ''}${aggs ? `: ${aggs}` : ''}`;
    }
    case 'window': return `Window: ${plan.items.map((i) => show(i.call)).join(', ')}`;
    case 'sort': return `Sort: ${plan.keys.map((k) => `${show(k.expr)}${k.direction === 'desc' ? ' DESC' : ''}`).join(', ')}`;
    case 'limit': return `Limit${plan.limit ? ` ${show(plan.limit)}` : ''}${plan.offset ? ` OFFSET ${show(plan.offset)}` : ''}`;
    case 'distinct': return plan.on ? `Distinct ON (${plan.on.map(show).join(', ')})` : 'Distinct';
    case 'setop':
      return plan.federated
        ? `Federated table ${plan.federated.schema}.${plan.federated.name} = UNION ALL over ${plan.federated.parties.join(', ')}${unavailableNote(plan.unavailable)}`
        : `${plan.op.toUpperCase()}${plan.all ? ' ALL' : ''}`;
  }
}

/** Members that are down; EXPLAIN only plans that do not read them (e.g. the dedupe hub's). */
function unavailableNote(unavailable: UnavailableMember[] | undefined): string {
  if (!unavailable?.length) return '';
  return ` (unavailable now: ${unavailable.map((m) => (m.reason ? `${m.party}: ${m.reason}` : m.party)).join('; ')})`;
}

/** Readable names for plan columns: `alias.column` for scanned columns, the label otherwise. */
function displayNames(plan: LogicalPlan): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const visit = (p: LogicalPlan) =>
    walkPlan(p, (node) => {
      if (node.kind === 'scan') {
        for (const c of node.columns) names.set(c.column.name, [node.alias, c.source]);
        if (node.partyColumn) names.set(node.partyColumn.name, [node.alias, 'PARTY']);
      } else {
        for (const c of outputColumns(node)) if (!names.has(c.name)) names.set(c.name, [c.label]);
      }
      for (const e of nodeExpressions(node)) {
        visitExpr(e, () => undefined, (q) => {
          if (isSubplanQuery(q)) visit(q.subplan);
        });
      }
    });
  visit(plan);
  return names;
}

/**
 * What a fragment sends, column by column, traced back to the base columns it is made of:
 * `region: bank_b.customers.region [public], n: count(*), total: sum(bank_b.customers.balance [aggregate])`.
 */
function describeColumns(plan: LogicalPlan, ctx: BindContext): string {
  const producers = new Map<string, Expr>();
  walkPlan(plan, (node) => {
    if (node.kind === 'project') for (const i of node.items) if (!producers.has(i.column.name)) producers.set(i.column.name, i.expr);
    if (node.kind === 'aggregate') {
      for (const g of node.groups) producers.set(g.column.name, g.expr);
      for (const a of node.aggregates) producers.set(a.column.name, a.call);
    }
    if (node.kind === 'window') for (const w of node.items) producers.set(w.column.name, w.call);
    if (node.kind === 'setop') node.columns.forEach((c, i) => producers.set(c.name, { kind: 'column', name: [outputColumns(node.inputs[0])[i].name] }));
  });
  const describe = (name: string, depth: number): string => {
    const origin = ctx.origins.get(name);
    if (origin) return origin.pseudo === 'party' ? `PARTY of ${origin.federated}` : `${origin.party}.${origin.table}.${origin.column} [${origin.level}]`;
    const e = producers.get(name);
    if (!e || depth > 20) return 'computed';
    if (e.kind === 'column') return describe(e.name[0], depth + 1);
    if (e.kind === 'function' && e.args.every((a) => a.kind === 'column' || a.kind === 'star_arg')) {
      const args = e.args.map((a) => (a.kind === 'star_arg' ? '*' : describe((a as { name: string[] }).name[0], depth + 1)));
      return `${e.name.join('.')}(${e.distinct ? 'DISTINCT ' : ''}${args.join(', ')})`;
    }
    const refs: string[] = [];
    visitExpr(e, (x) => {
      if (x.kind === 'column') refs.push(describe(x.name[0], depth + 1));
    });
    return refs.length ? `computed from ${[...new Set(refs)].join(', ')}` : 'a constant';
  };
  return outputColumns(plan).map((c) => `${c.label}: ${describe(c.name, 0)}`).join(', ');
}
