/**
 * Registers the DP aggregate operator: the planner side (claims aggregates with DP aggregates),
 * the requester's runner, and two party protocols — `dp-aggregate-v2` (bounded, noised, masked
 * partials, charged to the party's ledger) and `dp-budget-v1` (SHOW PRIVACY BUDGET). Each party
 * gets one ledger, persisted in its own DuckDB file, with the budget of its node.yaml.
 */
import { DP_AGGREGATE_OPERATOR, DP_AGGREGATE_PROTOCOL, DP_BUDGET_PROTOCOL, registerDpAggregatePlanner } from '../../../planner/operators/dp-aggregate.js';
import { registerOperatorRunner, registerPartyProtocol } from '../registry.js';
import { dpBudgetPartyHandler } from './budget.js';
import { PrivacyLedger } from './ledger.js';
import { dpAggregatePartyHandler } from './party-handler.js';
import { runDpAggregate } from './runner.js';

registerDpAggregatePlanner();
registerOperatorRunner({ name: DP_AGGREGATE_OPERATOR, run: runDpAggregate });
registerPartyProtocol((party) => {
  const ledger = new PrivacyLedger(party.name, party.privacyBudget());
  party.registerProtocol(DP_AGGREGATE_PROTOCOL, (ctx) => dpAggregatePartyHandler(ctx, ledger));
  party.registerProtocol(DP_BUDGET_PROTOCOL, (ctx) => dpBudgetPartyHandler(ctx, ledger));
});

export { privacyBudgetRows, BUDGET_COLUMNS } from './budget.js';
export { setDpTestHooks } from './test-hooks.js';
export { explainDp, hasDpAggregate } from './explain-dp.js';
