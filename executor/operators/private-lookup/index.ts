/**
 * PRIVATE LOOKUP (issue 5): registers the planner side (planner/operators/private-lookup.ts),
 * the requester's runner and the owner's `private-lookup/3` protocol handler.
 */
import '../../../planner/operators/private-lookup.js';
import { PRIVATE_LOOKUP_OPERATOR } from '../../../planner/operators/private-lookup.js';
import { registerOperatorRunner, registerPartyProtocol } from '../registry.js';
import { handlePrivateLookup } from './party-handler.js';
import { PRIVATE_LOOKUP_PROTOCOL } from './protocol-params.js';
import { runPrivateLookup } from './runner.js';

registerOperatorRunner({ name: PRIVATE_LOOKUP_OPERATOR, run: runPrivateLookup });
registerPartyProtocol((party) => party.registerProtocol(PRIVATE_LOOKUP_PROTOCOL, handlePrivateLookup));

export { configureLookupOwner } from './party-handler.js';
