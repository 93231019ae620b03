/**
 * node-postgres (`pg`) against bank_a's gateway, a real node process federated with bank_b:
 * a simple query, a parameterised query (Parse with unknown parameter types), a named prepared
 * statement run twice (Parse once, then Bind/Execute), ParameterStatus after SET, and error
 * codes with positions. Every result equals the in-process engine's; the types a prepared
 * statement announces are the types its rows come in (DuckDB's SUM of integers is numeric).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_SERVER_VERSION } from '../../server/pgwire/version.js';
import { startClientFederation, type ClientFederation, type Twin } from '../support/client-federation.js';

/** Every value as the text the gateway sent. */
const TEXT = { getTypeParser: () => (v: string) => v };

describe('node-postgres against a federation of real nodes', { timeout: 30_000 }, () => {
  let fed: ClientFederation;
  let twin: Twin;
  let client: pg.Client;
  const statuses: [string, string][] = [];

  beforeAll(async () => {
    fed = await startClientFederation();
    twin = await fed.twin();
    client = new pg.Client({ host: '127.0.0.1', port: fed.gatewayPort, user: fed.user, password: fed.password, database: 'veilsql', types: TEXT });
    await client.connect();
    const connection = (client as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void } }).connection;
    connection.on('parameterStatus', (m) => statuses.push([m.parameterName, m.parameterValue]));
  }, 120_000);

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await fed?.stop();
  });

  it('a simple query over a federated table equals the in-process engine', async () => {
    const sql = 'SELECT region, count(*) AS n, sum(staff) AS staff, min(branch_id) AS first FROM banks.branches GROUP BY region ORDER BY region';
    const r = await client.query({ text: sql, rowMode: 'array' });
    const expected = await twin.query(sql);
    expect(r.rows).toEqual(expected.rows);
    expect(r.fields.map((f) => f.name)).toEqual(expected.columns);
  });

  it('a parameterised query (parameter types inferred by the server) equals the in-process engine', async () => {
    const sql = 'SELECT id, name, balance, opened FROM bank_a.customers WHERE region = $1 AND balance > $2 AND opened < $3 ORDER BY id';
    const r = await client.query({ text: sql, values: ['north', '100.5', '2024-02-01'], rowMode: 'array' });
    const expected = await twin.query(
      "SELECT id, name, balance, opened FROM bank_a.customers WHERE region = 'north' AND balance > 100.5 AND opened < DATE '2024-02-01' ORDER BY id",
    );
    expect(r.rows.length).toBeGreaterThan(0);
    expect(r.rows).toEqual(expected.rows);
  });

  it('a named prepared statement runs twice with the types it announced', async () => {
    const text = 'SELECT region, sum(staff) AS staff, avg(staff) AS mean, count(*) AS n FROM banks.branches WHERE staff >= $1 GROUP BY region ORDER BY region';
    for (const min of ['3', '12']) {
      const r = await client.query({ name: 'by_region', text, values: [min], rowMode: 'array' });
      const expected = await twin.query(text.replace('$1', min));
      expect(r.rows).toEqual(expected.rows);
      // SUM of INTEGER is HUGEINT in DuckDB: numeric (1700); AVG double (701); COUNT int8 (20).
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([25, 1700, 701, 20]);
    }
  });

  it('SET reports ParameterStatus, SHOW answers what clients read', async () => {
    await client.query("SET application_name = 'node-pg suite'");
    expect(statuses).toContainEqual(['application_name', 'node-pg suite']);
    await client.query("SET TIME ZONE 'Europe/Berlin'");
    expect(statuses).toContainEqual(['TimeZone', 'Europe/Berlin']);
    const show = async (what: string) => {
      const r = await client.query({ text: `SHOW ${what}`, rowMode: 'array' });
      return [r.fields[0].name, r.rows[0][0]];
    };
    expect(await show('timezone')).toEqual(['TimeZone', 'Europe/Berlin']);
    expect(await show('server_version')).toEqual(['server_version', PG_SERVER_VERSION]);
    expect(await show('TRANSACTION ISOLATION LEVEL')).toEqual(['transaction_isolation', 'read committed']);
    expect(await show('search_path')).toEqual(['search_path', 'bank_a, public']);
    const setConfig = await client.query({ text: "SELECT set_config('application_name', 'via set_config', false) AS v", rowMode: 'array' });
    expect(setConfig.rows).toEqual([['via set_config']]);
    expect(statuses).toContainEqual(['application_name', 'via set_config']);
    await client.query('RESET ALL');
    expect(statuses[statuses.length - 1][0]).toMatch(/TimeZone|application_name/);
    expect(await show('timezone')).toEqual(['TimeZone', 'UTC']);
  });

  it('errors carry SQLSTATE, position and a message naming the object', async () => {
    const fail = async (sql: string, values?: unknown[]) => {
      try {
        await client.query(sql, values);
      } catch (e) {
        return e as pg.DatabaseError;
      }
      throw new Error(`no error for ${sql}`);
    };
    const undefinedTable = await fail('SELECT * FROM bank_a.nothing');
    expect([undefinedTable.code, undefinedTable.message]).toEqual(['42P01', 'relation "bank_a.nothing" does not exist']);
    expect(undefinedTable.position).toBe('15');
    const undefinedColumn = await fail('SELECT nope FROM bank_a.customers');
    expect([undefinedColumn.code, undefinedColumn.position]).toEqual(['42703', '8']);
    const policy = await fail('SELECT name FROM bank_b.customers');
    expect(policy.code).toBe('42501');
    expect(policy.message).toContain('bank_b.customers.name');
    const syntax = await fail('SELECT FROM WHERE');
    expect(syntax.code).toBe('42601');
    const badParam = await fail('SELECT id FROM bank_a.customers WHERE id = $1', ['not a number']);
    expect([badParam.code, badParam.message]).toEqual(['22P02', 'invalid input syntax for type integer: "not a number"']);
    // A DuckDB failure inside a party's fragment keeps a precise code too.
    const badCast = await fail("SELECT CAST(name AS INTEGER) FROM bank_a.customers");
    expect(badCast.code).toBe('22P02');
    expect(badCast.message).toContain('(at party "bank_a")');
    const badRegclass = await fail("SELECT 'bank_a.nothing'::regclass");
    expect([badRegclass.code, badRegclass.message]).toEqual(['42P01', 'relation "bank_a.nothing" does not exist']);
    // The session is still usable after every error.
    expect((await client.query({ text: 'SELECT 1', rowMode: 'array' })).rows).toEqual([['1']]);
  });
});
