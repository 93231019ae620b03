/**
 * Starts the pgwire gateway over the test DuckDB engine on a free loopback port, for the
 * pgwire suites. Returns the gateway, the engine (for its stats) and a `stop()`.
 */
import { startPgGateway, type PgGateway, type PgGatewayOptions } from '../../server/pgwire/index.js';
import { DuckDbTestEngine } from './pgwire-duckdb-engine.js';

export interface TestGateway {
  gateway: PgGateway;
  engine: DuckDbTestEngine;
  port: number;
  logs: { level: string; message: string; meta?: Record<string, unknown> }[];
  stop(): Promise<void>;
}

export const TEST_SETUP_SQL = [
  'create table t(a integer, b varchar)',
  "insert into t values (1, 'x'), (2, NULL), (3, 'tab\there')",
  'create table big as select i::integer as i, (i * 2)::bigint as j, md5(i::varchar) as s from range(100000) r(i)',
];

export async function startTestGateway(
  opts: Partial<Pick<PgGatewayOptions, 'auth' | 'tls' | 'maxMessageBytes' | 'authTimeoutMs'>> = {},
): Promise<TestGateway> {
  const engine = await DuckDbTestEngine.create(TEST_SETUP_SQL);
  const logs: TestGateway['logs'] = [];
  const log = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    logs.push({ level, message, ...(meta ? { meta } : {}) });
  };
  const gateway = await startPgGateway({
    host: '127.0.0.1',
    port: 0,
    engine,
    auth: opts.auth ?? { method: 'trust', users: new Map() },
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.maxMessageBytes ? { maxMessageBytes: opts.maxMessageBytes } : {}),
    ...(opts.authTimeoutMs ? { authTimeoutMs: opts.authTimeoutMs } : {}),
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
  return {
    gateway,
    engine,
    port: gateway.port,
    logs,
    async stop() {
      await gateway.close();
      engine.close();
    },
  };
}
