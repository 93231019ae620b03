/**
 * SECURE JOIN: registers the planner side (planner/operators/secure-join.ts), the requester's
 * runner (row mode, PSI-sum aggregate mode, and row mode followed by a gateway aggregate) and
 * the party's protocol handler (`psi-join-v1`).
 */
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SECURE_JOIN_OPERATOR, SECURE_JOIN_PROTOCOL, type SecureJoinParams } from '../../../planner/operators/secure-join.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import { parseDuckDBType } from '../../../planner/types.js';
import { registerOperatorRunner, registerPartyProtocol } from '../registry.js';
import { secureJoinPartyProtocol } from './party-handler.js';
import { runAggregateSecureJoin } from './requester-aggregate.js';
import { runRowSecureJoin } from './requester-row.js';

registerOperatorRunner({
  name: SECURE_JOIN_OPERATOR,
  async run(stage, context) {
    const params = stage.params as SecureJoinParams;
    switch (params.mode) {
      case 'row':
        return runRowSecureJoin(stage, context);
      case 'aggregate':
        return runAggregateSecureJoin(stage, context);
      case 'row_aggregate': {
        // The join's rows first (row mode into an intermediate table), then the aggregate in SQL.
        const rows: PrivateStage = {
          ...stage,
          params: { ...params, mode: 'row' },
          table: params.joinTable,
          columns: params.joinColumns.map((c) => ({ name: c.name, label: c.name, type: parseDuckDBType(c.type) })),
        };
        await runRowSecureJoin(rows, context);
        await context.connection.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS ${params.aggregateSql}`);
        await context.connection.run(`DROP TABLE ${quoteIdent(params.joinTable)}`);
        return;
      }
    }
  },
});

registerPartyProtocol((party) => party.registerProtocol(SECURE_JOIN_PROTOCOL, secureJoinPartyProtocol));
