/**
 * How private physical operators (SECURE JOIN, PRIVATE LOOKUP, DP aggregates, secure
 * aggregation, …) plug into planning. Each operator registers a `PrivateOperatorPlanner` that
 * claims the logical nodes it implements and describes, as a `PrivateStagePlan`, what it needs:
 *
 * - *gateway inputs*: child subtrees whose rows the requester's gateway holds in plaintext
 *   (e.g. the requester's own side of a SECURE JOIN) — computed first into temp tables;
 * - *party inputs*: child subtrees that stay at their party and only feed the protocol (e.g. the
 *   other side's keys and payloads) — each a SELECT the party re-checks with a declared use per
 *   column (`secure_key`, `output`, `statistic`, `dp`, …), never shipped as rows;
 * - the operator's parameters, and what each party learns (for EXPLAIN).
 *
 * The executor side of the same operator (`executor/operators/`) runs the protocol and writes
 * the stage's output rows into the gateway temp table `table`, which the rest of the plan reads
 * like any other relation. The planner knows nothing about sockets or cryptography.
 */
import type { BindContext } from './binder/context.js';
import type { LogicalPlan, PlanColumn } from './logical-plan.js';
import type { Placement } from './placement.js';
import type { ColumnUse } from './policy.js';

export interface PartyInput {
  party: string;
  /** A SELECT over the party's own tables (VeilSQL dialect), checked by the party with `uses`. */
  sql: string;
  columns: PlanColumn[];
  uses: ColumnUse[];
}

export interface GatewayInput {
  /** Temp table at the gateway holding the subtree's rows when the operator runs. */
  table: string;
  columns: PlanColumn[];
}

export interface PrivateStageExplain {
  /** One line naming the protocol, e.g. `ECDH-PSI over ristretto255 (bank_a ⟷ telco)`. */
  protocol: string;
  /** What each party (and the requester) learns, one line each. */
  disclosure: string[];
}

export interface PrivateStagePlan {
  /** Executor registry key of the operator that runs this stage. */
  operator: string;
  gatewayInputs: GatewayInput[];
  partyInputs: PartyInput[];
  /** JSON-serialisable parameters for the executor side (key columns, aggregate specs, …). */
  params: unknown;
  explain: PrivateStageExplain;
}

export interface OperatorPlanningContext {
  requester: string;
  ctx: BindContext;
  placement: Placement;
  /** Makes `plan` available at the gateway (a fragment if it sits at a party, else computed there). */
  gatewayInput(plan: LogicalPlan): GatewayInput;
  /**
   * Keeps `plan` at its party as protocol input. `plan` must be placed at a single party;
   * `uses` declares, per output column, what the protocol does with it. The party's policy is
   * checked here too, for an early and precise error.
   */
  partyInput(plan: LogicalPlan, uses: ColumnUse[]): PartyInput;
}

export interface PrivateOperatorPlanner {
  /** Registry key shared with the executor side. */
  name: string;
  /** True when this operator implements `node`. */
  claims(node: LogicalPlan): boolean;
  /** Plans the stage for a claimed node, or throws a SqlError explaining why it cannot. */
  plan(node: LogicalPlan, context: OperatorPlanningContext): PrivateStagePlan;
  /**
   * The federated unions under a claimed `node` that this operator answers without reading any
   * member at query time (e.g. from an index the members filled beforehand). Only these may
   * have members that are down now; every other read of a federated table needs all of its
   * members (planner/unavailable-members.ts). Absent: the operator reads every input.
   */
  answersWithoutMembers?(node: LogicalPlan): LogicalPlan[];
}

const registry: PrivateOperatorPlanner[] = [];

export function registerPrivateOperator(planner: PrivateOperatorPlanner): void {
  if (registry.some((p) => p.name === planner.name)) return;
  registry.push(planner);
}

export function privateOperatorFor(node: LogicalPlan): PrivateOperatorPlanner | undefined {
  return registry.find((p) => p.claims(node));
}
