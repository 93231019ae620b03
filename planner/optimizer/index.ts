/**
 * Logical rewrites, in order: push filters towards the scans, split aggregates over unions into
 * per-party partials, then prune every column nobody needs.
 */
import type { BindContext } from '../binder/context.js';
import { children, mapSubplans, withChildren, type LogicalPlan } from '../logical-plan.js';
import { prepareSecureAggregates } from '../operators/secure-aggregate-inputs.js';
import { pushColocatedJoins } from './colocated-joins.js';
import { pruneColumns } from './prune-columns.js';
import { pushFilters } from './push-filters.js';
import { splitAggregates } from './split-aggregates.js';

export function optimize(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  // Subqueries in expressions are plans of their own: optimise them first, bottom-up.
  const inner = optimizeSubplans(plan, ctx);
  // Joins on co-located keys move into each party; aggregates claimed by secure aggregation get
  // their per-party inputs (and are then left alone by splitAggregates).
  return pruneColumns(splitAggregates(prepareSecureAggregates(pushColocatedJoins(pushFilters(inner), ctx), ctx), ctx));
}

function optimizeSubplans(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  const node = withChildren(plan, children(plan).map((c) => optimizeSubplans(c, ctx)));
  return mapSubplans(node, (sub) => optimize(sub, ctx));
}
