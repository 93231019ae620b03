/**
 * The physical plan: where each part of a statement runs and what crosses between parties.
 * It is a list of stages in dependency order, each leaving its rows in a gateway temp table,
 * and a root that produces the result:
 *
 * - a *fragment* is a maximal subtree placed at one party. It travels to that party as SQL in
 *   the VeilSQL dialect (the party re-parses and re-checks it) and comes back as Arrow batches;
 * - a *gateway stage* is a subtree computed at the gateway that a private operator consumes;
 * - a *private stage* is a private operator (SECURE JOIN, PRIVATE LOOKUP, …): a protocol between
 *   the gateway and parties whose output rows land in a temp table (see `private-operators.ts`);
 * - the *root* is the rest of the plan, rendered as DuckDB SQL over those temp tables and run in
 *   the gateway's own DuckDB — or, when the whole statement sits at one party, its single
 *   fragment streamed straight to the client.
 *
 * Constructs whose private operator is not registered are refused with 0A000 naming it; plans
 * reading a federated table with a member that is down, with 08006 naming the member.
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
import { enforcePolicy, type ColumnUse } from './policy.js';
import {
  privateOperatorFor, type GatewayInput, type OperatorPlanningContext, type PartyInput, type PrivateStagePlan,
} from './private-operators.js';
import { refuseUnavailableMembers } from './unavailable-members.js';
import { unparse } from './unparser.js';

export interface Fragment {
  kind: 'fragment';
  id: number;
  party: string;
  plan: LogicalPlan;
  /** Output columns, named as the gateway's temp table columns. */
  columns: PlanColumn[];
  /** The fragment as sent to the party (VeilSQL dialect). */
  sql: string;
  /** Temp table holding the fragment's rows at the gateway. */
  table: string;
  /**
   * Set on the members of a federated union (UNION ALL of one fragment per party, all of the
   * same column types): their rows go into one temp table, named by the union's columns, and the
   * gateway SQL reads that table instead of a UNION ALL over one table per member. With 100
   * members that saves 100 temp tables (~1 ms each to create and fill) and a 100-way UNION ALL.
   */
  shared?: { table: string; columns: PlanColumn[]; members: number };
}

export interface GatewayStage {
  kind: 'gateway';
  id: number;
  plan: LogicalPlan;
  columns: PlanColumn[];
  /** DuckDB SQL over earlier stages' temp tables. */
  sql: string;
  table: string;
}

export interface PrivateStage extends PrivateStagePlan {
  kind: 'private';
  id: number;
  plan: LogicalPlan;
  columns: PlanColumn[];
  table: string;
}

export type Stage = Fragment | GatewayStage | PrivateStage;

export interface PhysicalPlan {
  /** The optimised logical plan, for EXPLAIN. */
  logical: LogicalPlan;
  placement: Placement;
  /** Every stage, inputs before their consumers. */
  stages: Stage[];
  /** The fragments among the stages (rows a party sends to the gateway). */
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
  // Before any fragment or protocol input is cut from a federated union: a member that is down
  // must fail the query (08006), never be silently left out of it.
  refuseUnavailableMembers(logical);
  refuseMissingOperators(logical);
  const placement = place(logical);
  const builder = new StageBuilder(ctx, options, placement);
  const rootSite = placement.get(logical)!;
  if (rootSite.kind === 'party') {
    const fragment = builder.fragment(logical, rootSite.party);
    return { logical, placement, stages: builder.stages, fragments: [fragment], root: { kind: 'fragment', fragment }, columns };
  }
  builder.cut(logical);
  const query = unparse(logical, builder.unparseOptions());
  const fragments = builder.stages.filter((s): s is Fragment => s.kind === 'fragment');
  return { logical, placement, stages: builder.stages, fragments, root: { kind: 'gateway', query, sql: print(query, { dialect: 'duckdb' }) }, columns };
}

class StageBuilder {
  readonly stages: Stage[] = [];
  private readonly materialized = new Map<LogicalPlan, string>();

  constructor(
    private readonly ctx: BindContext,
    private readonly options: PhysicalPlanOptions,
    private readonly placement: Placement,
  ) {}

  private nextId(): number {
    return this.stages.length + 1;
  }

  unparseOptions() {
    return {
      tableName: (source: TableSource) =>
        source.kind === 'gateway' ? (this.options.gatewayTableName?.(source) ?? source.duckdbName) : fragmentTableName(source),
      materialized: (plan: LogicalPlan) => this.materialized.get(plan),
    };
  }

  fragment(plan: LogicalPlan, party: string): Fragment {
    const id = this.nextId();
    const query = unparse(plan, { tableName: fragmentTableName });
    const fragment: Fragment = { kind: 'fragment', id, party, plan, columns: outputColumns(plan), sql: print(query, { dialect: 'veilsql' }), table: `__f${id}` };
    this.stages.push(fragment);
    this.materialized.set(plan, fragment.table);
    if (party !== this.options.requester) {
      // The check each party will run on receipt, run here first for an early, precise error.
      enforcePolicy(plan, this.ctx, {
        requester: this.options.requester,
        site: 'party',
        checkOnly: true,
        outputReason: `party "${party}" would have to send it to ${this.options.requester}, because this part of the query combines data of several parties at the gateway`,
      });
    }
    return fragment;
  }

  /** Splits a gateway-placed subtree into stages; what remains is rendered by the caller. */
  cut(plan: LogicalPlan): void {
    if (this.materialized.has(plan)) return;
    const operator = privateOperatorFor(plan);
    if (operator) {
      this.privateStage(plan, operator.name, operator.plan(plan, this.operatorContext()));
      return;
    }
    const site: Site | undefined = this.placement.get(plan);
    if (site?.kind === 'party') {
      this.fragment(plan, site.party);
      return;
    }
    if (this.sharedUnion(plan)) return;
    for (const c of children(plan)) this.cut(c);
    for (const e of nodeExpressions(plan)) {
      visitExpr(e, () => undefined, (q) => {
        if (isSubplanQuery(q)) this.cut(q.subplan);
      });
    }
  }

  /** A UNION ALL whose every input is one party's fragment, all of the same column types: one table. */
  private sharedUnion(plan: LogicalPlan): boolean {
    if (plan.kind !== 'setop' || plan.op !== 'union' || !plan.all || plan.inputs.length < 2) return false;
    const sites = plan.inputs.map((i) => this.placement.get(i));
    if (!sites.every((s) => s?.kind === 'party') || plan.inputs.some((i) => this.materialized.has(i))) return false;
    const typesOf = (p: LogicalPlan) => JSON.stringify(outputColumns(p).map((c) => c.type));
    const types = typesOf(plan.inputs[0]);
    if (outputColumns(plan.inputs[0]).length !== plan.columns.length || plan.inputs.some((i) => typesOf(i) !== types)) return false;
    const table = `__u${this.nextId()}`;
    const shared = { table, columns: plan.columns, members: plan.inputs.length };
    plan.inputs.forEach((input, i) => {
      this.fragment(input, (sites[i] as Extract<Site, { kind: 'party' }>).party).shared = shared;
    });
    this.materialized.set(plan, table);
    return true;
  }

  private privateStage(plan: LogicalPlan, operator: string, stagePlan: PrivateStagePlan): void {
    const id = this.nextId();
    const stage: PrivateStage = { ...stagePlan, operator, kind: 'private', id, plan, columns: outputColumns(plan), table: `__p${id}` };
    this.stages.push(stage);
    this.materialized.set(plan, stage.table);
  }

  private operatorContext(): OperatorPlanningContext {
    return {
      requester: this.options.requester,
      ctx: this.ctx,
      placement: this.placement,
      gatewayInput: (plan) => this.gatewayInput(plan),
      partyInput: (plan, uses) => this.partyInput(plan, uses),
    };
  }

  private gatewayInput(plan: LogicalPlan): GatewayInput {
    const existing = this.materialized.get(plan);
    if (existing) return { table: existing, columns: outputColumns(plan) };
    const site = this.placement.get(plan);
    if (site?.kind === 'party') {
      const f = this.fragment(plan, site.party);
      return { table: f.table, columns: f.columns };
    }
    this.cut(plan);
    const again = this.materialized.get(plan);
    if (again) return { table: again, columns: outputColumns(plan) };
    const id = this.nextId();
    const query = unparse(plan, this.unparseOptions());
    const stage: GatewayStage = { kind: 'gateway', id, plan, columns: outputColumns(plan), sql: print(query, { dialect: 'duckdb' }), table: `__g${id}` };
    this.stages.push(stage);
    this.materialized.set(plan, stage.table);
    return { table: stage.table, columns: stage.columns };
  }

  private partyInput(plan: LogicalPlan, uses: ColumnUse[]): PartyInput {
    const site = this.placement.get(plan);
    if (site?.kind !== 'party') {
      throw new SqlError(SqlState.featureNotSupported, 'this private operator needs each remote side to be a relation of a single party', {
        hint: 'Move joins with other parties out of that side of the private operator.',
      });
    }
    if (site.party !== this.options.requester) {
      enforcePolicy(plan, this.ctx, { requester: this.options.requester, site: 'party', checkOnly: true, outputUses: uses });
    }
    const query = unparse(plan, { tableName: fragmentTableName });
    return { party: site.party, sql: print(query, { dialect: 'veilsql' }), columns: outputColumns(plan), uses };
  }
}

/** Refuses constructs whose private operator is not registered (0A000, naming it). */
function refuseMissingOperators(plan: LogicalPlan): void {
  const refuse = (what: string, operator: string, position?: number): never => {
    throw new SqlError(SqlState.featureNotSupported, `${what} needs ${operator}, which this VeilSQL version does not provide yet`, {
      position,
      hint: 'Plaintext queries over public columns work today; see SHOW POLICIES for what each column allows.',
    });
  };
  const visit = (p: LogicalPlan) =>
    walkPlan(p, (node) => {
      const claimed = privateOperatorFor(node) !== undefined;
      if (!claimed && node.kind === 'join' && node.mode === 'secure') {
        refuse('SECURE JOIN', 'the private set intersection join operator (PSI)', node.span ? node.span.start + 1 : undefined);
      }
      if (!claimed && node.kind === 'join' && node.mode === 'lookup') {
        refuse('PRIVATE LOOKUP', 'the keyword PIR lookup operator', node.span ? node.span.start + 1 : undefined);
      }
      if (!claimed && node.kind === 'aggregate') {
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
