/**
 * Secure aggregation between real `veilsql node` processes (mutual TLS on loopback), through
 * bank_a's Postgres gateway: the masked protocol runs over the party endpoint's HTTP/2 protocol
 * sessions, the totals equal the plaintext per-party aggregates summed, and the NOTICEs report
 * the progress and the bytes each party sent.
 */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startTestFederation, type TestFederation } from '../support/federation-processes.js';

vi.setConfig({ testTimeout: 120_000 });

let fed: TestFederation;
beforeAll(async () => {
  fed = await startTestFederation(['bank_a', 'bank_b', 'bank_c']);
}, 180_000);
afterAll(async () => fed?.stop());

test('SUM and COUNT per region over banks.customers across three node processes', async () => {
  const client = await fed.client();
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(`${n.message} ${(n as { detail?: string }).detail ?? ''}`));
  try {
    // Nodes print "ready" before every peer accepts connections on a loaded machine: wait until
    // the gateway reaches all three (a node that died would fail here, naming itself).
    for (let i = 0; ; i++) {
      const parties = await client.query({ text: 'SHOW PARTIES', rowMode: 'array' });
      const down = (parties.rows as string[][]).filter((r) => ['bank_a', 'bank_b', 'bank_c'].includes(String(r[0])) && /unavailable/.test(String(r[2])));
      if (down.length === 0) break;
      if (i === 40) throw new Error(`parties still unreachable: ${down.map((r) => r[0]).join(', ')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const secure = await client.query('SELECT region, count(*) AS n, sum(balance) AS s FROM banks.customers GROUP BY region ORDER BY region');
    // Each bank may release its own per-region totals (groups ≥ min_group): they must add up.
    const perBank = await Promise.all(['bank_a', 'bank_b', 'bank_c'].map((b) =>
      client.query(`SELECT region, count(*) AS n, sum(balance) AS s FROM ${b}.customers GROUP BY region`)));
    for (const row of secure.rows as { region: string | null; n: string; s: string }[]) {
      const parts = perBank.map((r) => (r.rows as { region: string | null; n: string; s: string }[]).find((x) => x.region === row.region));
      if (parts.some((p) => !p)) continue; // a bank's small group is suppressed in its own release
      expect(Number(row.n)).toBe(parts.reduce((a, p) => a + Number(p!.n), 0));
      expect(Math.round(Number(row.s) * 100)).toBe(parts.reduce((a, p) => a + Math.round(Number(p!.s) * 100), 0));
    }
    expect(secure.rows.length).toBeGreaterThan(5);
    expect(notices.join('\n')).toMatch(/SECURE AGGREGATE: .* released .* bytes sent by each party: bank_a=\d+, bank_b=\d+, bank_c=\d+/s);
  } finally {
    await client.end();
  }
});
