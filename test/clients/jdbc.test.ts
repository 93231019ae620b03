/**
 * PgJDBC (Debian's libpostgresql-jdbc-java) against bank_a's gateway, a real node process
 * federated with bank_b: a single-file Java probe (JdbcProbe.java) runs DatabaseMetaData
 * (getCatalogs/getSchemas/getTables/getColumns), a PreparedStatement with int, long, double,
 * BigDecimal, Timestamp and String parameters executed 7 times (the 5th server-prepares it, the
 * 6th and 7th send Bind + Execute without Describe and decode binary results with the types
 * Describe announced), Statement.cancel(), error SQLSTATEs, and `preferQueryMode=simple`. Every
 * result must equal the same query's result through the in-process engine.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParamValue } from '../../executor/session-types.js';
import { startClientFederation, type ClientFederation, type Twin } from '../support/client-federation.js';
import { pgjdbcJar, requireJava, run } from '../support/client-tools.js';

const PROBE = fileURLToPath(new URL('./JdbcProbe.java', import.meta.url));

const PREPARED_SQL =
  'SELECT id, name, balance, account_no, score, opened, updated, active, balance * 2 AS doubled, ' +
  'count(*) OVER () AS n FROM bank_a.customers WHERE id >= $1 AND account_no >= $2 AND score >= $3 ' +
  'AND balance >= $4 AND updated >= $5 AND name LIKE $6 ORDER BY id LIMIT 5';

/** The parameters the probe binds on run `run` (PgJDBC: int4, int8, float8, numeric binary; timestamp untyped; varchar). */
function preparedParams(run: number): ParamValue[] {
  return [
    { type: 'INTEGER', text: String(run) },
    { type: 'BIGINT', text: String(1000000007n * BigInt(run)) },
    { type: 'DOUBLE', text: String(run / 8) },
    { type: 'DECIMAL', text: (10.5 + run).toFixed(2) },
    { type: 'TIMESTAMP', text: '2024-01-01 09:00:00' },
    { type: 'VARCHAR', text: 'customer %' },
  ];
}

describe('PgJDBC against a federation of real nodes', () => {
  let fed: ClientFederation;
  let twin: Twin;
  let sections: Map<string, string[][]>;
  let output: string;

  beforeAll(async () => {
    const java = requireJava();
    const jar = pgjdbcJar();
    fed = await startClientFederation();
    twin = await fed.twin();
    const url = `jdbc:postgresql://127.0.0.1:${fed.gatewayPort}/veilsql`;
    const r = await run(java, ['-Duser.timezone=UTC', '-cp', jar, PROBE, url, fed.user, fed.password], { timeoutMs: 90_000 });
    output = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw new Error(`JdbcProbe failed (${r.status}):\n${output}`);
    sections = new Map();
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [section, ...values] = line.split('\t');
      if (!sections.has(section)) sections.set(section, []);
      sections.get(section)!.push(values.map((v) => (v === '\\N' ? '\\N' : v)));
    }
  }, 150_000);

  afterAll(async () => {
    await fed?.stop();
  });

  const section = (name: string) => sections.get(name) ?? [];

  it('sees a PostgreSQL 16 server with one catalog, the parties and federations as schemas', () => {
    expect(section('version')).toEqual([['PostgreSQL', '16.4', '16']]);
    expect(section('catalog')).toEqual([['veilsql']]);
    expect(section('schema').map((s) => s[0])).toEqual(['bank_a', 'bank_b', 'banks', 'information_schema', 'pg_catalog', 'public']);
  });

  it('getTables lists party and federated tables with their descriptions', () => {
    expect(section('table').map((t) => t.slice(0, 3))).toEqual([
      ['bank_a', 'branches', 'TABLE'],
      ['bank_a', 'customers', 'TABLE'],
      ['bank_b', 'branches', 'TABLE'],
      ['bank_b', 'customers', 'TABLE'],
      ['banks', 'branches', 'TABLE'],
    ]);
    expect(section('table')[3][3]).toBe('table of party bank_b, about 40 row(s), min_group 5');
    expect(section('table')[4][3]).toMatch(/^federated table: the union of table branches at bank_a, bank_b/);
  });

  it('getColumns reports JDBC types, Postgres type names and each column policy', () => {
    const cols = section('column');
    expect(cols.map((c) => [c[2], c[3], c[4], c[5]])).toEqual([
      ['id', '4', 'int4', '1'],
      ['name', '12', 'text', '2'],
      ['region', '12', 'text', '3'],
      ['balance', '2', 'numeric', '4'],
      ['account_no', '-5', 'int8', '5'],
      ['score', '8', 'float8', '6'],
      ['opened', '91', 'date', '7'],
      ['updated', '93', 'timestamp', '8'],
      ['active', '-7', 'bool', '9'],
    ]);
    expect(cols[1][7]).toBe('policy private: not usable by other parties');
    expect(cols[3][7]).toMatch(/^policy aggregate/);
  });

  it('a PreparedStatement run 7 times (binary results from the 6th) returns what the engine returns', async () => {
    for (let runNo = 1; runNo <= 7; runNo++) {
      const expected = await twin.query(PREPARED_SQL, preparedParams(runNo));
      expect(expected.rows.length).toBeGreaterThan(0);
      expect(section(`run${runNo}`), `run ${runNo}`).toEqual(expected.rows.map((r) => r.map((v) => v ?? '\\N')));
      expect(section('types')[runNo - 1]).toEqual([String(runNo), 'int4,text,numeric,int8,float8,date,timestamp,bool,numeric,int8']);
    }
    // From the 5th run on PgJDBC uses a named server-side statement.
    expect(section('serverPrepared').slice(4).map((r) => r[1])).toEqual(['true', 'true', 'true']);
  });

  it('Statement.cancel() stops a running query with 57014 and the connection stays usable', () => {
    expect(section('cancel')).toEqual([['57014', 'ERROR: canceling statement due to user request', 'true']]);
    expect(section('afterCancel')).toEqual([['1']]);
    expect(section('cancelError')).toEqual([]);
  });

  it('errors carry their SQLSTATE', () => {
    expect(section('error').map((e) => e[1])).toEqual(['42703', '42501', '42P01']);
  });

  it('preferQueryMode=simple (client-side interpolation) returns what the engine returns', async () => {
    const expected = await twin.query(
      "SELECT id, name, balance, opened, updated, active FROM bank_a.customers WHERE id BETWEEN 3 AND 6 AND name <> 'it''s quoted' ORDER BY id",
    );
    expect(section('simple')).toEqual(expected.rows.map((r) => r.map((v) => v ?? '\\N')));
  });
});
