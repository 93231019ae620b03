/**
 * The physical plan: where each part of a statement runs and what crosses between parties.
 *
 * - A *fragment* is a maximal subtree placed at one party. It travels to that party as SQL in
 *   the VeilSQL dialect (the party re-parses and re-checks it) and comes back as Arrow batches.
 * - The *gateway residual* is everything placed at the gateway, rendered as DuckDB SQL over
 *   one temp table per fragment (`__f1`, `__f2`, …) and run in the gateway's own DuckDB.
 * - When the whole statement sits at one party, its single fragment streams straight to the
 *   client.
 *
 * Private operators (SECURE JOIN, PRIVATE LOOKUP, DP aggregates, secure aggregation) plug in
 * here as physical operators; until they exist the planner refuses them with 0A000.
 */
import type { Query } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { print } from '../parser/index.js';
import type { BindContext } from './binder/context.js';
import { visitExpr } from './expr-utils.js';
import {
  children, isSubplanQuery, nodeExpressions, outputColumns, walkPlan, type LogicalPlan, type PlanColumn, type TableSource,
} from './logical-plan.js';
import { place, type Placement, type Site } from './placement.js';
import { enforcePolicy } from './policy.js';
import { unparse } from './unparser.js';

export interface Fragment {
  id: number;
  party: string;
  plan: LogicalPlan;
  /** Output columns, named as the gateway's temp table columns. */
  columns: PlanColumn[];
  /** The fragment as sent to the party (VeilSQL dialect). */
  sql: string;
  /** Temp table holding the fragment's rows at the gateway. */
  table: string;
}

export interface PhysicalPlan {
  /** The optimised logical plan, for EXPLAIN. */
  logical: LogicalPlan;
  placement: Placement;
  fragments: Fragment[];
  /** How the result is produced. */
  root: { kind: 'fragment'; fragment: Fragment } | { kind: 'gateway'; query: Query; sql: string };
  /** Result columns with user-visible labels. */
  columns: PlanColumn[];
}

export interface PhysicalPlanOptions {
  requester: string;
  /** Names gateway-kept tables (catalog emulation) in the gateway's DuckDB. */
  gatewayTableName?: (source: Extract<TableSource, { kind: 'gateway' }>) => string[];
}

/** Fragments name tables as `party.table`; the party maps that onto its own DuckDB table. */
export const fragmentTableName = (source: TableSource): string[] =>
  source.kind === 'party' ? [source.party, source.table.name] : source.duckdbName;

export function buildPhysicalPlan(
  logical: LogicalPlan,
  columns: PlanColumn[],
  ctx: BindContext,
  options: PhysicalPlanOptions,
): PhysicalPlan {
  refuseMissingOperators(logical);
  const placement = place(logical);
  const rootSite = placement.get(logical)!;
  const fragments: Fragment[] = [];
  const materialized = new Map<LogicalPlan, string>();

  const makeFragment = (plan: LogicalPlan, party: string): Fragment => {
    const id = fragments.length + 1;
    const query = unparse(plan, { tableName: fragmentTableName });
    const fragment: Fragment = { id, party, plan, columns: outputColumns(plan), sql: print(query, { dialect: 'veilsql' }), table: `__f${id}` };
    fragments.push(fragment);
    materialized.set(plan, fragment.table);
    if (party !== options.requester) {
      // The check each party will run on receipt, run here first for an early, precise error.
      enforcePolicy(plan, ctx, {
        requester: options.requester,
        site: 'party',
        checkOnly: true,
        outputReason: `party "${party}" would have to send it to ${options.requester}, because this part of the query combines data of several parties at the gateway`,
      });
    }
    return fragment;
  };

  if (rootSite.kind === 'party') {
    const fragment = makeFragment(logical, rootSite.party);
    return { logical, placement, fragments, root: { kind: 'fragment', fragment }, columns };
  }

  const cut = (plan: LogicalPlan): void => {
    const site: Site | undefined = placement.get(plan);
    if (site?.kind === 'party') {
      makeFragment(plan, site.party);
      return;
    }
    for (const c of children(plan)) cut(c);
    for (const e of nodeExpressions(plan)) {
      visitExpr(e, () => undefined, (q) => {
        if (isSubplanQuery(q)) cut(q.subplan);
      });
    }
  };
  cut(logical);
  const query = unparse(logical, {
    tableName: (source) => (source.kind === 'gateway' ? (options.gatewayTableName?.(source) ?? source.duckdbName) : fragmentTableName(source)),
    materialized: (plan) => materialized.get(plan),
  });
  return { logical, placement, fragments, root: { kind: 'gateway', query, sql: print(query, { dialect: 'duckdb' }) }, columns };
}

/** Refuses constructs whose physical operator does not exist yet (0A000, naming it). */
function refuseMissingOperators(plan: LogicalPlan): void {
  const refuse = (what: string, operator: string, position?: number): never => {
    throw new SqlError(SqlState.featureNotSupported, `${what} needs ${operator}, which this VeilSQL version does not provide yet`, {
      position,
      hint: 'Plaintext queries over public columns work today; see SHOW POLICIES for what each column allows.',
    });
  };
  const visit = (p: LogicalPlan) =>
    walkPlan(p, (node) => {
      if (node.kind === 'join' && node.mode === 'secure') {
        refuse('SECURE JOIN', 'the private set intersection join operator (PSI)', node.span ? node.span.start + 1 : undefined);
      }
      if (node.kind === 'join' && node.mode === 'lookup') {
        refuse('PRIVATE LOOKUP', 'the keyword PIR lookup operator', node.span ? node.span.start + 1 : undefined);
      }
      if (node.kind === 'aggregate') {
        for (const a of node.aggregates) {
          if (a.call.dp) {
            refuse(`DP ${a.call.name.join('.').toUpperCase()}`, 'the differential-privacy aggregate operator', a.call.span ? a.call.span.start + 1 : undefined);
          }
        }
      }
      for (const e of nodeExpressions(node)) {
        visitExpr(e, () => undefined, (q) => {
          if (isSubplanQuery(q)) visit(q.subplan);
        });
      }
    });
  visit(plan);
}
