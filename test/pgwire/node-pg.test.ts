/**
 * node-postgres (`pg` 8.23) against the gateway over the test DuckDB engine: the simple and
 * extended flows it generates (research/anchors-pgwire.md §2: unnamed Parse with 0 parameter
 * OIDs, Describe(P), text results; a named statement parsed once), errors with SQLSTATE and
 * position, multi-statement strings, transactions, notices and session settings.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';

describe('node-postgres client', () => {
  let gw: TestGateway;
  let client: pg.Client;

  const connect = async (extra: Partial<pg.ClientConfig> = {}) => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'alice', database: 'db', ...extra });
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway();
    client = await connect();
  });

  afterAll(async () => {
    await client?.end();
    await gw?.stop();
  });

  it('runs a simple query with typed results (int8 and numeric as exact strings)', async () => {
    const r = await client.query("select 1 as one, 9223372036854775807::bigint as big, 12345678901234567890.12::decimal(38,2) as dec, 'x' as s, true as b, null as n");
    expect(r.command).toBe('SELECT');
    expect(r.rowCount).toBe(1);
    expect(r.rows[0]).toEqual({ one: 1, big: '9223372036854775807', dec: '12345678901234567890.12', s: 'x', b: true, n: null });
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 20, 1700, 25, 16, 23]);
  });

  it('reads rows from a table, including NULLs and tabs', async () => {
    const r = await client.query('select a, b from t order by a');
    expect(r.rows).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: null },
      { a: 3, b: 'tab\there' },
    ]);
  });

  it('runs a parameterised query (extended protocol, parameter types inferred)', async () => {
    const r = await client.query('select $1::integer + 1 as v, $2::varchar as s, $3::bigint as b', [41, 'héllo', '9007199254740993']);
    expect(r.rows[0]).toEqual({ v: 42, s: 'héllo', b: '9007199254740993' });
    const nulls = await client.query('select $1::integer is null as isnull', [null]);
    expect(nulls.rows[0].isnull).toBe(true);
  });

  it('prepares a named statement once and runs it twice', async () => {
    const before = gw.engine.stats.described.length;
    const q = { name: 'by_a', text: 'select b from t where a = $1::integer' };
    const r1 = await client.query({ ...q, values: [1] });
    const r2 = await client.query({ ...q, values: [3] });
    expect(r1.rows).toEqual([{ b: 'x' }]);
    expect(r2.rows).toEqual([{ b: 'tab\there' }]);
    expect(gw.engine.stats.described.length - before).toBe(1);
  });

  it('reports errors with SQLSTATE and position, and stays usable', async () => {
    const err = (await client.query('select nope from t').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('42703');
    expect(err.position).toBe('8');
    expect(err.severity).toBe('ERROR');
    const table = (await client.query('select * from missing_table').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(table.code).toBe('42P01');
    expect((await client.query('select 1 as ok')).rows[0].ok).toBe(1);
    // Errors in the extended protocol (Parse fails at describe time) skip to Sync cleanly.
    const perr = (await client.query('select nope + $1::integer', [1]).catch((e: unknown) => e)) as pg.DatabaseError;
    expect(perr.code).toBe('42703');
    expect((await client.query('select $1::integer as ok', [7])).rows[0].ok).toBe(7);
  });

  it('positions errors in multi-statement strings from the start of the message', async () => {
    const err = (await client.query('select 1; select nope').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(err.code).toBe('42703');
    expect(err.position).toBe('18');
  });

  it('answers multi-statement simple queries with one result per statement', async () => {
    const results = (await client.query("select 1 as a; select 'two' as b; set application_name = 'x'")) as unknown as pg.QueryResult[];
    expect(results).toHaveLength(3);
    expect(results[0].rows).toEqual([{ a: 1 }]);
    expect(results[1].rows).toEqual([{ b: 'two' }]);
    expect(results[2].command).toBe('SET');
  });

  it('handles an empty query string', async () => {
    const r = await client.query('  -- nothing here\n ;; ');
    expect(r.rows ?? []).toEqual([]);
  });

  it('tracks BEGIN/COMMIT/ROLLBACK and rejects work in a failed transaction (25P02)', async () => {
    await client.query('BEGIN');
    await client.query('select 1');
    const e1 = (await client.query('select nope').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(e1.code).toBe('42703');
    const e2 = (await client.query('select 1').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(e2.code).toBe('25P02');
    const e3 = (await client.query('select $1::integer', [1]).catch((e: unknown) => e)) as pg.DatabaseError;
    expect(e3.code).toBe('25P02');
    const commit = await client.query('COMMIT');
    // COMMIT of a failed block is a rollback, as in Postgres.
    expect(commit.command).toBe('ROLLBACK');
    expect(gw.engine.stats.executed.at(-1)).toBe('ROLLBACK');
    expect((await client.query('select 2 as v')).rows[0].v).toBe(2);
    await client.query('BEGIN');
    expect((await client.query('COMMIT')).command).toBe('COMMIT');
  });

  it('delivers engine notices as NoticeResponse while the query runs', async () => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    client.on('notice', onNotice);
    const r = await client.query("select veil_notice('SECURE JOIN progress', 3)");
    client.off('notice', onNotice);
    expect(r.rows[0].veil_notice).toBe(3);
    expect(notices).toEqual(['SECURE JOIN progress 1/3', 'SECURE JOIN progress 2/3', 'SECURE JOIN progress 3/3']);
  });

  it('streams a large result (100k rows) with correct values', async () => {
    const r = await client.query('select i, j, s from big order by i');
    expect(r.rowCount).toBe(100_000);
    expect(r.rows[99_999]).toEqual({ i: 99_999, j: '199998', s: expect.any(String) });
    expect(r.rows.every((row, k) => row.i === k)).toBe(true);
  });

  it('reports SET TIME ZONE / application_name as ParameterStatus and SHOW reads them', async () => {
    const c = await connect({ application_name: 'veil-test' });
    try {
      const params = (c as unknown as { connectionParameters: unknown }).connectionParameters;
      void params;
      await c.query("SET TIME ZONE 'Asia/Tokyo'");
      const r = await c.query("select '2024-01-15 12:00:00+00'::timestamptz::varchar as utc, '2024-01-15 12:00:00+00'::timestamptz as local");
      expect(r.rows[0].local.toISOString()).toBe('2024-01-15T12:00:00.000Z');
      expect((await c.query('show time zone')).rows[0]).toEqual({ TimeZone: 'Asia/Tokyo' });
      const bad = (await c.query("SET TIME ZONE 'Mars/Olympus'").catch((e: unknown) => e)) as pg.DatabaseError;
      expect(bad.code).toBe('22023');
      const enc = (await c.query("SET client_encoding = 'LATIN1'").catch((e: unknown) => e)) as pg.DatabaseError;
      expect(enc.code).toBe('0A000');
    } finally {
      await c.end();
    }
  });

  it('forgets prepared statements on DEALLOCATE ALL / DISCARD ALL (re-prepares transparently)', async () => {
    const c = await connect();
    try {
      await c.query({ name: 's1', text: 'select $1::integer as v', values: [1] });
      expect((await c.query('DEALLOCATE s1')).command).toBe('DEALLOCATE');
      const missing = (await c.query('DEALLOCATE s1').catch((e: unknown) => e)) as Error;
      expect(missing).toBeInstanceOf(Error);
      expect((await c.query('DISCARD ALL')).command).toBe('DISCARD');
    } finally {
      await c.end();
    }
  });

  it('closes the engine session when the client disconnects', async () => {
    const opened = gw.engine.stats.opened;
    const closed = gw.engine.stats.closed;
    const c = await connect();
    await c.query('select 1');
    expect(gw.engine.stats.opened).toBe(opened + 1);
    await c.end();
    for (let i = 0; i < 50 && gw.engine.stats.closed === closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gw.engine.stats.closed).toBe(closed + 1);
  });

  it('rejects an unknown database with the engine error (FATAL 3D000)', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'alice', database: 'nosuchdb' });
    const err = (await c.connect().catch((e: unknown) => e)) as pg.DatabaseError;
    expect(err.code).toBe('3D000');
    expect(err.severity).toBe('FATAL');
  });
});
