/**
 * The planner's public API. `planQuery` is what a gateway runs for an analyst's query:
 * bind → policy check (before any data moves) → logical rewrites → placement and fragments.
 * `planFragment` is what a party runs on a fragment it receives: bind against its own tables →
 * its own policy check → DuckDB SQL over its own database.
 */
import type { Query } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { print } from '../parser/index.js';
import { bindQuery, type BoundStatement } from './binder/index.js';
import type { Catalog } from './catalog.js';
import type { PlanColumn, TableSource } from './logical-plan.js';
import { optimize } from './optimizer/index.js';
import { buildPhysicalPlan, type PhysicalPlan, type PhysicalPlanOptions } from './physical-plan.js';
import { enforcePolicy, type ColumnUse } from './policy.js';
import { substituteParameters, type ParameterValue } from './parameters.js';
import type { SqlType } from './types.js';
import { unparse } from './unparser.js';

export interface PlannedQuery {
  bound: BoundStatement;
  physical: PhysicalPlan;
}

export function planQuery(
  query: Query,
  catalog: Catalog,
  options: PhysicalPlanOptions & {
    paramHints?: (SqlType | undefined)[];
    params?: ParameterValue[];
    /** The session's `dp.*` settings without the prefix: defaults for DP privacy options. */
    privacyDefaults?: Record<string, string>;
  },
): PlannedQuery {
  // Privacy options are resolved by the binder and planned by the DP aggregate operator; an
  // unregistered operator still refuses them (refuseMissingOperators, 0A000).
  const bound = bindQuery(query, catalog, options.paramHints, { privacyDefaults: options.privacyDefaults });
  // Executions bind values (all of them must be supplied); descriptions plan with `$n` left open.
  const withValues = options.params ? substituteParameters(bound.plan, options.params, bound.ctx) : bound.plan;
  const checked = enforcePolicy(withValues, bound.ctx, { requester: options.requester, site: 'gateway' });
  const logical = optimize(checked, bound.ctx);
  const physical = buildPhysicalPlan(logical, bound.columns, bound.ctx, options);
  return { bound, physical };
}

export interface PreparedFragment {
  /** DuckDB SQL over the party's own tables. */
  sql: string;
  columns: PlanColumn[];
}

/**
 * A party's handling of a received fragment: it must be a plain single-party query over this
 * party's own tables, and it must pass this party's policy for `requester`.
 */
export function planFragment(
  query: Query,
  catalog: Catalog,
  requester: string,
  localTableName: (source: TableSource) => string[],
  outputUses?: ColumnUse[],
): PreparedFragment {
  refusePrivacyOptions(query);
  const bound = bindQuery(query, catalog);
  if (outputUses && outputUses.length !== bound.columns.length) {
    throw new SqlError(SqlState.protocolViolation, `protocol input declares ${outputUses.length} column uses for ${bound.columns.length} columns`);
  }
  const checked = enforcePolicy(bound.plan, bound.ctx, { requester, site: 'party', outputUses });
  const outputNames = bound.columns.map((c) => c.label);
  const sql = print(unparse(checked, { tableName: localTableName, outputNames }), { dialect: 'duckdb' });
  return { sql, columns: bound.columns };
}

/** Fragments and protocol inputs a party receives never carry privacy options. */
function refusePrivacyOptions(query: Query): void {
  const body = query.body;
  if (body.kind === 'select' && body.privacy) {
    throw new SqlError(SqlState.featureNotSupported, 'WITH PRIVACY needs the differential-privacy aggregate operator, which this VeilSQL version does not provide yet', {
      position: body.privacy.span ? body.privacy.span.start + 1 : undefined,
    });
  }
}

export { Catalog } from './catalog.js';
export type { PhysicalPlan, Fragment } from './physical-plan.js';
