/**
 * The executor side of private operators (see `planner/private-operators.ts` for the planner
 * side). An operator runner gets its stage (inputs, parameters), the connectors to the parties
 * and a gateway DuckDB connection holding its gateway inputs; it runs the protocol and writes
 * the stage's output rows into the temp table `stage.table` with exactly `stage.columns`.
 * Its party half registers with every `Party` through `registerPartyProtocols`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PartyConnector } from '../../connectors/connector.js';
import type { Party } from '../../connectors/party/party.js';
import type { PrivateStage } from '../../planner/physical-plan.js';
import type { Notice } from '../session-types.js';

export interface OperatorRunContext {
  queryId: string;
  requester: string;
  connectors: Map<string, PartyConnector>;
  /** The per-query gateway connection; gateway inputs are temp tables on it. */
  connection: DuckDBConnection;
  signal: AbortSignal;
  /** Per-party timeout for protocol sessions. */
  timeoutMs: number;
  /** Progress and privacy-cost notices for the analyst. */
  notice(n: Notice): void;
}

export interface PrivateOperatorRunner {
  /** The registry key; the same as the planner side's `name`. */
  name: string;
  run(stage: PrivateStage, context: OperatorRunContext): Promise<void>;
}

const runners = new Map<string, PrivateOperatorRunner>();
const partyProtocols: ((party: Party) => void)[] = [];

export function registerOperatorRunner(runner: PrivateOperatorRunner): void {
  runners.set(runner.name, runner);
}

export function operatorRunner(name: string): PrivateOperatorRunner | undefined {
  return runners.get(name);
}

/** Adds an operator's party half; `registerPartyProtocols` installs all of them on a party. */
export function registerPartyProtocol(install: (party: Party) => void): void {
  partyProtocols.push(install);
}

export function registerPartyProtocols(party: Party): void {
  for (const install of partyProtocols) install(party);
}
