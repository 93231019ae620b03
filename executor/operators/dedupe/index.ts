/**
 * Multi-lender dedupe: registers the planner side (planner/operators/dedupe.ts), the requester's
 * runner, and the protocol handlers every party answers with the roles it plays (services.ts):
 * `dedupe-hub/1` (hub), `toprf-eval/1` and `toprf-keygen/1` (key holders), `dedupe-local/1`
 * (a node's own background jobs).
 */
import { DEDUPE_OPERATOR } from '../../../planner/operators/dedupe.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { registerOperatorRunner, registerPartyProtocol } from '../registry.js';
import { DEDUPE_HUB_PROTOCOL, DEDUPE_LOCAL_PROTOCOL, TOPRF_EVAL_PROTOCOL, TOPRF_KEYGEN_PROTOCOL } from './protocol.js';
import { runDedupe } from './runner.js';
import { requireDedupeNode } from './services.js';

registerOperatorRunner({ name: DEDUPE_OPERATOR, run: runDedupe });

registerPartyProtocol((party) => {
  party.registerProtocol(DEDUPE_HUB_PROTOCOL, async (ctx) => {
    const hub = requireDedupeNode(ctx, 'as a dedupe hub').hub;
    if (!hub) throw new SqlError(SqlState.featureNotSupported, `node "${ctx.party}" is not the hub of any dedupe table`);
    await hub.session(ctx);
  });
  party.registerProtocol(TOPRF_EVAL_PROTOCOL, async (ctx) => {
    const holder = requireDedupeNode(ctx, 'threshold-OPRF evaluations').keyHolder;
    if (!holder) throw new SqlError(SqlState.featureNotSupported, `node "${ctx.party}" is not a key holder`);
    await holder.evaluate(ctx);
  });
  party.registerProtocol(TOPRF_KEYGEN_PROTOCOL, async (ctx) => {
    const holder = requireDedupeNode(ctx, 'key generation').keyHolder;
    if (!holder) throw new SqlError(SqlState.featureNotSupported, `node "${ctx.party}" is not a key holder`);
    await holder.keygen(ctx);
  });
  party.registerProtocol(DEDUPE_LOCAL_PROTOCOL, (ctx) => requireDedupeNode(ctx, 'local dedupe jobs').runLocal(ctx));
});

export { startDedupeServices, dedupeNode, type DedupeNode } from './services.js';
