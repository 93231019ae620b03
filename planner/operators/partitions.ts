/**
 * Party partitions of a relation, as secure aggregation and the co-located join rule see them:
 * a relation is *partitioned* when it is a UNION ALL (from a federated table) whose every input
 * reads one party's tables only, or when it reads one party's tables only (a single partition).
 * Also: which of a relation's columns carry non-public data (by the published policies of the
 * scanned tables), which decides whether an aggregate needs secure aggregation at all.
 */
import { isSubplanQuery, nodeExpressions, outputColumns, referencedColumns, walkPlan, type LogicalPlan } from '../logical-plan.js';
import { visitExpr } from '../expr-utils.js';

export interface Partition {
  party: string;
  plan: LogicalPlan;
}

/** The single party whose tables `plan` reads (including in subqueries), or undefined. */
export function partyOfSubtree(plan: LogicalPlan): string | undefined {
  const parties = new Set<string>();
  let gateway = false;
  const visit = (p: LogicalPlan) =>
    walkPlan(p, (n) => {
      if (n.kind === 'scan') {
        if (n.source.kind === 'party') parties.add(n.source.party);
        else gateway = true;
      }
      for (const e of nodeExpressions(n)) {
        visitExpr(e, () => undefined, (q) => {
          if (isSubplanQuery(q)) visit(q.subplan);
        });
      }
    });
  visit(plan);
  return !gateway && parties.size === 1 ? [...parties][0] : undefined;
}

export function partitionsOf(plan: LogicalPlan): Partition[] | undefined {
  if (plan.kind === 'setop' && plan.op === 'union' && plan.all && plan.federated) {
    const parts = plan.inputs.map((input) => ({ party: partyOfSubtree(input), plan: input }));
    if (parts.some((p) => p.party === undefined)) return undefined;
    if (new Set(parts.map((p) => p.party)).size !== parts.length) return undefined;
    return parts as Partition[];
  }
  const party = partyOfSubtree(plan);
  return party ? [{ party, plan }] : undefined;
}

/** True when `plan` contains a federated table (a tagged UNION ALL). */
export function containsFederatedUnion(plan: LogicalPlan): boolean {
  let found = false;
  walkPlan(plan, (n) => {
    if (n.kind === 'setop' && n.federated) found = true;
  });
  return found;
}

/** Names of the columns of `plan` (and below) that derive from a non-public scanned column. */
export function sensitiveColumns(plan: LogicalPlan): Set<string> {
  const out = new Set<string>();
  const refsSensitive = (e: Parameters<typeof referencedColumns>[0]) => [...referencedColumns(e)].some((r) => out.has(r));
  const visit = (p: LogicalPlan): void => {
    for (const c of p.kind === 'join' ? [p.left, p.right] : p.kind === 'setop' ? p.inputs : 'input' in p ? [p.input] : []) visit(c);
    switch (p.kind) {
      case 'scan':
        if (p.source.kind !== 'party') return;
        for (const c of p.columns) {
          const published = p.source.table.columns.find((x) => x.name === c.source);
          if (!published || published.policy !== 'public') out.add(c.column.name);
        }
        return;
      case 'project':
        for (const i of p.items) if (refsSensitive(i.expr)) out.add(i.column.name);
        return;
      case 'setop':
        p.columns.forEach((c, i) => {
          if (p.inputs.some((input) => out.has(outputColumns(input)[i].name))) out.add(c.name);
        });
        return;
      case 'aggregate':
        for (const g of p.groups) if (refsSensitive(g.expr)) out.add(g.column.name);
        for (const a of p.aggregates) if (refsSensitive(a.call)) out.add(a.column.name);
        return;
      case 'window':
        for (const w of p.items) if (refsSensitive(w.call)) out.add(w.column.name);
        return;
      default:
        return;
    }
  };
  visit(plan);
  return out;
}
