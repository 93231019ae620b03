/**
 * A party computes a fragment's first batch while its audit record is being committed, but
 * releases nothing before the record is durable; if the record cannot be written, nothing is
 * released at all. Fragment connections are pooled: a failed fragment must not poison the next.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FragmentRequest, FragmentStream } from '../../connectors/connector.js';
import type { AuditLog } from '../../connectors/party/audit-log.js';
import type { Party } from '../../connectors/party/party.js';
import { startInProcessFederation, type InProcessFederation } from '../support/in-process-federation.js';

const request = (sql: string): FragmentRequest => ({ queryId: randomUUID(), sql, timeoutMs: 30_000 });
const SQL = 'SELECT t1.customer_ref, t1.product, t1.opened_on FROM bank_b.accounts AS t1';

async function rowsOf(stream: FragmentStream): Promise<number> {
  let n = 0;
  for await (const b of stream) n += b.numRows;
  return n;
}

/** Makes the audit record of the next fragment wait for `gate` (and fail if it rejects). */
function holdNextFragmentRecord(log: AuditLog, gate: Promise<void>): () => void {
  const original = log.append.bind(log);
  let held = false;
  log.append = (entry) => {
    if (!held && entry.event === 'fragment') {
      held = true;
      const written = original(entry);
      return gate.then(() => written);
    }
    return original(entry);
  };
  return () => {
    log.append = original;
  };
}

describe('a party releases a fragment only after its audit record is durable', () => {
  let fed: InProcessFederation;
  let bankB: Party;
  let expected: number;

  beforeAll(async () => {
    fed = await startInProcessFederation(['bank_a', 'bank_b']);
    bankB = fed.parties.get('bank_b')!;
    expected = await rowsOf(await bankB.executeFragment('bank_a', request(SQL), new AbortController().signal));
    expect(expected).toBeGreaterThan(100);
  }, 60_000);

  afterAll(async () => {
    await fed?.close();
  });

  it('holds the first batch until the record is written', async () => {
    let open!: () => void;
    const restore = holdNextFragmentRecord(bankB.auditLog(), new Promise<void>((r) => (open = r)));
    try {
      const stream = await bankB.executeFragment('bank_a', request(SQL), new AbortController().signal);
      const iterator = stream[Symbol.asyncIterator]();
      let released = false;
      const first = iterator.next().then((r) => {
        released = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(released).toBe(false);
      open();
      const r = await first;
      expect(r.done).toBe(false);
      let n = r.value!.numRows;
      for (let x = await iterator.next(); !x.done; x = await iterator.next()) n += x.value.numRows;
      expect(n).toBe(expected);
    } finally {
      restore();
    }
  });

  it('releases nothing when the record cannot be written, and the next fragment still runs', async () => {
    const restore = holdNextFragmentRecord(bankB.auditLog(), Promise.reject(new Error('disk full')));
    try {
      const stream = await bankB.executeFragment('bank_a', request(SQL), new AbortController().signal);
      let batches = 0;
      await expect(
        (async () => {
          for await (const _ of stream) batches++;
        })(),
      ).rejects.toThrow(/could not write the audit log: disk full.*bank_b/);
      expect(batches).toBe(0);
    } finally {
      restore();
    }
    for (let i = 0; i < 3; i++) {
      expect(await rowsOf(await bankB.executeFragment('bank_a', request(SQL), new AbortController().signal))).toBe(expected);
    }
  });
});
