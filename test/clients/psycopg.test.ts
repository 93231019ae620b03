/**
 * psycopg2 and psycopg 3 (Debian's python3-psycopg2 and python3-psycopg, run with the system
 * /usr/bin/python3) against bank_a's gateway, a real node process federated with bank_b:
 * parameters (client-side interpolation in psycopg2; binary int/timestamp and text Decimal
 * parameters over the extended protocol in psycopg 3), a binary cursor, server-prepared
 * statements, transactions (psycopg2's implicit BEGIN/COMMIT, a failed block refusing work
 * with 25P02 until ROLLBACK, psycopg 3's `transaction()` blocks and autocommit). Results must
 * equal the in-process engine's.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClientFederation, type ClientFederation, type Twin } from '../support/client-federation.js';
import { run, systemPython } from '../support/client-tools.js';

const PROBE = fileURLToPath(new URL('./psycopg_probe.py', import.meta.url));
const QUERY =
  'SELECT id, name, balance, account_no, score, opened, updated, active FROM bank_a.customers ' +
  "WHERE id >= 3 AND balance >= 100.50 AND updated >= TIMESTAMP '2024-01-01 09:00:00' AND name LIKE 'customer %' ORDER BY id LIMIT 4";

describe('psycopg2 and psycopg 3 against a federation of real nodes', () => {
  let fed: ClientFederation;
  let twin: Twin;
  let out: Record<string, unknown>;

  beforeAll(async () => {
    const python = systemPython(['psycopg2', 'psycopg']);
    fed = await startClientFederation();
    twin = await fed.twin();
    const r = await run(python, [PROBE, fed.conninfo], { timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`psycopg probe failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    out = JSON.parse(r.stdout) as Record<string, unknown>;
  }, 120_000);

  afterAll(async () => {
    await fed?.stop();
  });

  const rowsOf = async (sql: string) => (await twin.query(sql)).rows;

  it('psycopg2: interpolated parameters return what the engine returns', async () => {
    expect(out.psycopg2_params).toEqual(await rowsOf(QUERY));
    expect(out.psycopg2_session).toEqual([['analyst', 'veilsql', 'bank_a', 't']]);
  });

  it('psycopg2: implicit transactions, a failed block refuses work until ROLLBACK', async () => {
    expect(out.psycopg2_status_in_tx).toBe(true);
    expect(out.psycopg2_status_after_commit).toBe(true);
    expect(out.psycopg2_error).toBe('42703');
    expect(out.psycopg2_in_failed_block).toBe('25P02');
    expect(out.psycopg2_after_rollback).toEqual(await rowsOf("SELECT count(*) FROM bank_a.customers WHERE region = 'north'"));
  });

  it('psycopg 3: binary and text parameters, and a binary cursor, return what the engine returns', async () => {
    const expected = await rowsOf(QUERY);
    expect(out.psycopg3_params).toEqual(expected);
    expect(out.psycopg3_binary).toEqual(expected);
    expect(out.psycopg3_in_tx).toBe(true);
  });

  it('psycopg 3: a server-prepared statement run 6 times', async () => {
    const expected = [];
    for (let i = 1; i <= 6; i++) expected.push(await rowsOf(`SELECT id, balance, opened FROM bank_a.customers WHERE id = ${i}`));
    expect(out.psycopg3_prepared).toEqual(expected);
  });

  it('psycopg 3: transaction blocks, an error inside one, autocommit', async () => {
    expect(out.psycopg3_transaction).toEqual(await rowsOf('SELECT region, count(*) FROM bank_a.customers GROUP BY region ORDER BY region'));
    expect(out.psycopg3_error).toBe('42P01');
    expect(out.psycopg3_autocommit).toEqual([['42', 'hi!']]);
  });
});
