/**
 * The gateway asks every party for its catalog as soon as it starts, usually while the other
 * nodes are still starting. A statement that arrives while that first refresh is still running
 * must not fail on what it saw: a party that was down then and is up now is asked again.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PartyConnector } from '../../connectors/connector.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { FederatedEngine } from '../../executor/engine.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

let fed: InProcessFederation;
beforeAll(async () => {
  fed = await startInProcessFederation(['bank_a', 'bank_b', 'telco']);
}, 120_000);
afterAll(async () => fed?.close());

/** `name`'s embedded connector with its catalog answered by `catalog`; closing it is left to `fed`. */
function wrap(name: string, catalog?: PartyConnector['catalog']): PartyConnector {
  const inner = fed.engine.connectors.get(name)!;
  return {
    party: name,
    catalog: catalog ?? ((signal) => inner.catalog(signal)),
    execute: (request, signal) => inner.execute(request, signal),
    openProtocol: (request, signal) => inner.openProtocol(request, signal),
    close: async () => undefined,
  };
}

test('a statement joining the start-up refresh asks a party that was down again', async () => {
  const real = (name: string) => fed.engine.connectors.get(name)!;
  let bankBUp = false;
  let releaseTelco!: () => void;
  const telcoSlow = new Promise<void>((r) => (releaseTelco = r));
  const bankB = wrap('bank_b', async (signal) => {
    if (!bankBUp) throw new SqlError(SqlState.connectionFailure, 'party "bank_b" is unreachable: connection refused');
    return real('bank_b').catalog(signal);
  });
  // telco answers the start-up refresh slowly, so that it is still running when the statement comes.
  let telcoCalls = 0;
  const telco = wrap('telco', async (signal) => {
    if (telcoCalls++ === 0) await telcoSlow;
    return real('telco').catalog(signal);
  });
  const engine = await FederatedEngine.create({
    self: 'bank_a',
    connectors: new Map([['bank_a', wrap('bank_a')], ['bank_b', bankB], ['telco', telco]]),
    federatedTables: [],
    fragmentTimeoutMs: 30_000,
  });
  try {
    await new Promise((r) => setTimeout(r, 50)); // bank_b's refusal is in; telco's answer is not
    bankBUp = true; // bank_b has come up
    const statement = engine.catalog();
    releaseTelco();
    const catalog = await statement;
    expect(catalog.unavailable.has('bank_b')).toBe(false);
    expect(telcoCalls).toBeGreaterThanOrEqual(1);
  } finally {
    await engine.close();
  }
});
