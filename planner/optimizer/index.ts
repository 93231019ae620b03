/**
 * Logical rewrites, in order: push filters towards the scans, split aggregates over unions into
 * per-party partials, then prune every column nobody needs.
 */
import type { BindContext } from '../binder/context.js';
import { children, mapSubplans, withChildren, type LogicalPlan } from '../logical-plan.js';
import { pruneColumns } from './prune-columns.js';
import { pushFilters } from './push-filters.js';
import { splitAggregates } from './split-aggregates.js';

export function optimize(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  // Subqueries in expressions are plans of their own: optimise them first, bottom-up.
  const inner = optimizeSubplans(plan, ctx);
  return pruneColumns(splitAggregates(pushFilters(inner), ctx));
}

function optimizeSubplans(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  const node = withChildren(plan, children(plan).map((c) => optimizeSubplans(c, ctx)));
  return mapSubplans(node, (sub) => optimize(sub, ctx));
}
