/**
 * A plan's fragments arrive concurrently but load into one gateway DuckDB connection, which runs
 * one statement at a time (a second statement closes the first one's pending result: "Attempting
 * to execute an unsuccessful or closed pending query result"). Here the three fragments of every
 * query are held until all three are in and then released together, so their loads start at the
 * same moment; every query must succeed with the same answer. This is a stress test of a race:
 * without the serialisation in executor/run-plan.ts DuckDB refuses such overlaps only now and then
 * (2 of 150 rounds of three overlapping CREATE TABLE + appender calls in a direct probe; it was
 * seen in CI under pgbench load), so passing once proves little, failing always means a bug.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PartyConnector } from '../../connectors/connector.js';
import { FederatedEngine } from '../../executor/engine.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

const BANKS = ['bank_a', 'bank_b', 'bank_c'];
let fed: InProcessFederation;
beforeAll(async () => {
  fed = await startInProcessFederation(BANKS);
}, 120_000);
afterAll(async () => fed?.close());

/** Connectors whose fragment streams are released together once `width` of them are waiting. */
function synchronized(width: number): Map<string, PartyConnector> {
  let waiting: (() => void)[] = [];
  const barrier = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === width) {
        const all = waiting;
        waiting = [];
        for (const release of all) release();
      }
    });
  return new Map(
    BANKS.map((name) => {
      const inner = fed.engine.connectors.get(name)!;
      const connector: PartyConnector = {
        party: name,
        catalog: (signal) => inner.catalog(signal),
        execute: async (request, signal) => {
          const stream = await inner.execute(request, signal);
          await barrier();
          return stream;
        },
        openProtocol: (request, signal) => inner.openProtocol(request, signal),
        close: async () => undefined,
      };
      return [name, connector];
    }),
  );
}

test('fragments released at the same moment load one at a time; every query succeeds', async () => {
  const engine = await FederatedEngine.create({ self: 'bank_a', connectors: synchronized(3), federatedTables: [...fed.engine.options.federatedTables], fragmentTimeoutMs: 30_000 });
  try {
    const session = await engine.openSession('analyst', 'veilsql', {});
    const sql = 'SELECT region, count(*) AS n FROM banks.customers GROUP BY region ORDER BY region NULLS LAST';
    const run = async () => {
      const outcome = await session.execute(sql, [], { signal: new AbortController().signal, notice: () => undefined });
      let rows = 0;
      for await (const b of outcome.batches) rows += b.numRows;
      return rows;
    };
    const expected = await run();
    expect(expected).toBeGreaterThan(1);
    const failures: string[] = [];
    for (let i = 0; i < 150; i++) {
      const got = await run().catch((e: unknown) => {
        failures.push(String(e));
        return expected;
      });
      expect(got).toBe(expected);
    }
    expect(failures).toEqual([]);
  } finally {
    await engine.close();
  }
}, 120_000);
