/**
 * Registers secure aggregation: the planner side (claims aggregates over federated tables with
 * non-public columns, and the GWAS aggregates), the requester's runner and the party protocol
 * `secure-aggregate-v1`.
 */
import { registerSecureAggregatePlanner } from '../../../planner/operators/secure-aggregate.js';
import { SECURE_AGGREGATE_OPERATOR, SECURE_AGGREGATE_PROTOCOL } from '../../../planner/operators/secure-aggregate-spec.js';
import { registerOperatorRunner, registerPartyProtocol } from '../registry.js';
import { secureAggregatePartyHandler } from './party-handler.js';
import { secureAggregateRunner } from './runner.js';

registerSecureAggregatePlanner();
registerOperatorRunner({ name: SECURE_AGGREGATE_OPERATOR, ...secureAggregateRunner });
registerPartyProtocol((party) => party.registerProtocol(SECURE_AGGREGATE_PROTOCOL, secureAggregatePartyHandler));
