/**
 * The binder: turns a parsed query into a logical plan over the catalog, resolving names and
 * types and enforcing SQL's clause rules. It knows nothing about where operators will run.
 */
import type { Query } from '../../parser/ast.js';
import type { Catalog } from '../catalog.js';
import type { LogicalPlan, PlanColumn } from '../logical-plan.js';
import type { SqlType } from '../types.js';
import { BindContext } from './context.js';
import { QueryBinder } from './bind-query.js';

export interface BoundStatement {
  plan: LogicalPlan;
  /** The statement's result columns, in order, with their user-visible labels. */
  columns: PlanColumn[];
  ctx: BindContext;
  query: Query;
}

export function bindQuery(
  query: Query,
  catalog: Catalog,
  paramHints: (SqlType | undefined)[] = [],
  options: { privacyDefaults?: Record<string, string> } = {},
): BoundStatement {
  const ctx = new BindContext(catalog, paramHints);
  if (options.privacyDefaults) ctx.privacyDefaults = options.privacyDefaults;
  const bound = new QueryBinder(ctx).bindQuery(query, undefined, new Map());
  return { plan: bound.plan, columns: bound.columns, ctx, query };
}

export { BindContext, type ColumnOrigin } from './context.js';
