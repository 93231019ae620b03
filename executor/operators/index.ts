/**
 * Loads every private operator (planner side, executor side and party protocol). Import this
 * module once wherever plans are built or parties are opened (the node runner, tests).
 */
export { registerPartyProtocols } from './registry.js';
// SECURE JOIN (PSI): planner side, requester runner, party protocol psi-join-v1.
import './secure-join/index.js';
// PRIVATE LOOKUP (keyword PIR): planner side, requester runner, party protocol private-lookup/3.
import './private-lookup/index.js';
// Secure aggregation over federated tables and the GWAS aggregates: party protocol secure-aggregate-v1.
import './secure-aggregate/index.js';
// DP aggregates with a privacy budget: planner side, runner, party protocols dp-aggregate-v2 and dp-budget-v1.
import './dp-aggregate/index.js';
// Multi-lender dedupe (threshold-OPRF tokens counted by a hub): planner side, runner, party protocols.
import './dedupe/index.js';
