/**
 * Placement: decides where each operator runs. A subtree whose tables all belong to one party
 * runs at that party (inside one DuckDB fragment); constant relations (VALUES, table functions)
 * run wherever their consumer runs; everything that combines several parties, and the private
 * operators, runs at the requester's gateway. Correlated subqueries run where the operator
 * that references them runs.
 */
import {
  children, isSubplanQuery, nodeExpressions, outputColumns, referencedColumns, type LogicalPlan,
} from './logical-plan.js';
import { visitExpr } from './expr-utils.js';
import { privateOperatorFor } from './private-operators.js';

export type Site = { kind: 'party'; party: string } | { kind: 'gateway' } | { kind: 'anywhere' };

export const GATEWAY: Site = { kind: 'gateway' };
const ANYWHERE: Site = { kind: 'anywhere' };

export function sameSite(a: Site, b: Site): boolean {
  return a.kind === b.kind && (a.kind !== 'party' || (b.kind === 'party' && a.party === b.party));
}

function combine(a: Site, b: Site): Site {
  if (a.kind === 'anywhere') return b;
  if (b.kind === 'anywhere') return a;
  return sameSite(a, b) ? a : GATEWAY;
}

/** Sites of every operator of `plan` and of the subplans in its expressions. */
export type Placement = Map<LogicalPlan, Site>;

export function place(plan: LogicalPlan): Placement {
  const sites: Placement = new Map();
  placeNode(plan, undefined, sites);
  return sites;
}

function subplansOf(plan: LogicalPlan): LogicalPlan[] {
  const out: LogicalPlan[] = [];
  for (const e of nodeExpressions(plan)) {
    visitExpr(e, () => undefined, (q) => {
      if (isSubplanQuery(q)) out.push(q.subplan);
    });
  }
  return out;
}

const produced = new WeakMap<LogicalPlan, Set<string>>();

/** Every column name produced in `plan`'s subtree (memoised: placement asks for every node). */
function producedNames(plan: LogicalPlan): Set<string> {
  const cached = produced.get(plan);
  if (cached) return cached;
  const names = new Set<string>();
  for (const c of outputColumns(plan)) names.add(c.name);
  for (const sp of subplansOf(plan)) for (const n of producedNames(sp)) names.add(n);
  for (const child of children(plan)) for (const n of producedNames(child)) names.add(n);
  produced.set(plan, names);
  return names;
}

function placeNode(plan: LogicalPlan, outer: Site | undefined, sites: Placement): Site {
  let site: Site;
  switch (plan.kind) {
    case 'scan':
      site = plan.source.kind === 'party' ? { kind: 'party', party: plan.source.party } : GATEWAY;
      break;
    case 'values':
    case 'table_function':
      site = ANYWHERE;
      break;
    default:
      site = children(plan).map((c) => placeNode(c, outer, sites)).reduce(combine, ANYWHERE);
  }
  // Private operators (and private joins, registered or not) run at the requester's gateway.
  if ((plan.kind === 'join' && plan.mode !== 'plain') || privateOperatorFor(plan)) site = GATEWAY;
  // Correlated references pin the operator to where the outer query runs.
  const own = producedNames(plan);
  const refs = new Set<string>();
  for (const e of nodeExpressions(plan)) referencedColumns(e, refs);
  const correlated = [...refs].some((r) => !own.has(r));
  if (correlated) site = combine(site, outer ?? GATEWAY);
  const subplans = subplansOf(plan);
  for (let pass = 0; pass < 2; pass++) {
    const before = site;
    for (const sp of subplans) site = combine(site, placeNode(sp, site, sites));
    if (sameSite(before, site)) break;
  }
  sites.set(plan, site);
  return site;
}
