/**
 * Refuses plans that would read a federated table with members that are down. The catalog
 * still resolves such a table over its reachable members (planner/catalog.ts), because some
 * operators never read the members at query time — the dedupe hub counts tokens the lenders
 * uploaded beforehand. Everything else (plaintext fragments, secure aggregation, SECURE JOIN,
 * PRIVATE LOOKUP, DP) turns the union's inputs into per-member fragments or protocol inputs,
 * and a missing input would silently drop that member's rows. So before any stage is built
 * the whole plan is checked once here, rather than in every operator: a federated union with
 * unavailable members is allowed only where a claiming private operator declares it answers
 * that union without its members (`PrivateOperatorPlanner.answersWithoutMembers`).
 */
import { unavailableMemberError } from './catalog.js';
import { visitExpr } from './expr-utils.js';
import { isSubplanQuery, nodeExpressions, walkPlan, type LogicalPlan } from './logical-plan.js';
import { privateOperatorFor } from './private-operators.js';

/** Throws 08006 naming the first unavailable member of a federated table that `plan` reads. */
export function refuseUnavailableMembers(plan: LogicalPlan): void {
  const nodes: LogicalPlan[] = [];
  const collect = (p: LogicalPlan): void =>
    walkPlan(p, (node) => {
      nodes.push(node);
      for (const e of nodeExpressions(node)) {
        visitExpr(e, () => undefined, (q) => {
          if (isSubplanQuery(q)) collect(q.subplan);
        });
      }
    });
  collect(plan);
  const answeredWithoutMembers = new Set<LogicalPlan>();
  for (const node of nodes) {
    for (const union of privateOperatorFor(node)?.answersWithoutMembers?.(node) ?? []) answeredWithoutMembers.add(union);
  }
  for (const node of nodes) {
    if (node.kind !== 'setop' || !node.federated || !node.unavailable?.length || answeredWithoutMembers.has(node)) continue;
    throw unavailableMemberError(node.federated, node.unavailable[0]);
  }
}
