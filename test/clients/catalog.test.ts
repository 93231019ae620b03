/**
 * The emulated pg_catalog / information_schema and the Postgres functions and syntax clients
 * send, checked in-process against PostgreSQL 15 holding the same tables: function results,
 * reg* casts, pg_type rows, pg_attribute and information_schema.columns of a party table,
 * SHOW column names and values, stable OIDs, and the exact catalog queries psql, PgJDBC,
 * DBeaver, Metabase, Grafana, SQLAlchemy and Npgsql send — each of which must run, and be
 * described (Parse/Describe) with exactly the types its execution then produces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlError } from '../../parser/errors.js';
import { PG_SERVER_VERSION } from '../../server/pgwire/version.js';
import { loadIntoPostgres, openTwin, writeClientFederation, type Twin } from '../support/client-federation.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { CLIENT_QUERIES } from './client-queries.js';

const TEXT = { getTypeParser: () => (v: string) => v };

describe('pg_catalog emulation against PostgreSQL 15', { timeout: 30_000 }, () => {
  let dir: string;
  let configs: string[];
  let twin: Twin;
  let postgres: PostgresServer;
  let theirs: pg.Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'veilsql-catalog-'));
    const [written, server] = await Promise.all([writeClientFederation(dir), startPostgres()]);
    postgres = server;
    configs = written.written.nodes.map((n) => n.configPath);
    twin = await openTwin(configs);
    theirs = new pg.Client({ connectionString: postgres.url, types: TEXT });
    await theirs.connect();
    await loadIntoPostgres(theirs, dir);
  }, 120_000);

  afterAll(async () => {
    await theirs?.end().catch(() => undefined);
    await twin?.close();
    await postgres?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pgRows = async (sql: string) => (await theirs.query({ text: sql, rowMode: 'array' })).rows as (string | null)[][];
  const ourRows = async (sql: string) => (await twin.query(sql)).rows;
  const sameAsPostgres = async (sql: string) => expect(await ourRows(sql), sql).toEqual(await pgRows(sql));

  it('functions and syntax clients use answer as in PostgreSQL', async () => {
    const expressions = [
      'format_type(23, -1)', 'format_type(1700, 786438)', 'format_type(1043, 14)', 'format_type(1184, NULL)',
      'format_type(1009, -1)', 'pg_catalog.format_type(16, NULL)', 'format_type(701, -1)', 'format_type(1114, -1)',
      'format_type(1231, -1)', 'format_type(999999, -1)', 'format_type(NULL, -1)',
      "quote_ident('abc')", "quote_ident('Abc')", "quote_ident('a\"b')", "parse_ident('\"Foo\".bar')",
      'array_upper(ARRAY[1,2,3], 1)', 'array_lower(ARRAY[1,2,3], 1)', "array_upper(ARRAY['a'], 2)",
      "string_to_array('a,b,c', ',')", 'pg_catalog.pg_encoding_to_char(6)',
      "has_table_privilege('pg_class', 'SELECT')", "has_schema_privilege('pg_catalog', 'USAGE')",
      "'x' = ANY('{x,y}')", "'z' <> ALL ('{x,y}'::text[])", "'q' = ANY ('{a,\"b c\",NULL}'::text[])", "E'a\\tb\\\\'",
      "'pg_class'::regclass::oid", "'pg_catalog.pg_namespace'::regclass = 2615", "'int4'::regtype::oid",
      "'text[]'::pg_catalog.regtype::oid", "'pg_catalog.array_in'::regproc::oid", "'pg_catalog'::regnamespace::oid",
      "'public'::regnamespace::oid", 'pg_catalog.pg_table_is_visible(1259)', 'pg_get_expr(NULL, 0)',
      "current_setting('standard_conforming_strings')", "current_setting('max_identifier_length')",
      "current_setting('nope', true)", "'a' COLLATE pg_catalog.default", "'abc' OPERATOR(pg_catalog.~) '^a'",
      '(SELECT count(*) FROM generate_series(1, 3))', "to_regclass('pg_class')::oid", "to_regclass('nope')",
      'pg_relation_size(1259) >= 0', 'current_database() IS NOT NULL',
    ];
    for (const e of expressions) await sameAsPostgres(`SELECT ${e}`);
    await sameAsPostgres('SELECT generate_series(1, 3) AS g');
    await sameAsPostgres("SELECT unnest(ARRAY['x','y']) AS u");
    await sameAsPostgres("SELECT s.x FROM pg_catalog.unnest(ARRAY['x','y']) s(x) ORDER BY 1");
    await sameAsPostgres("SELECT i, s FROM string_to_array('a,b', ',') s, generate_series(array_lower(s, 1), array_upper(s, 1)) i ORDER BY i");
  });

  it('reg* literals naming nothing fail as in PostgreSQL', async () => {
    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (e) {
        const err = e as { code?: string; sqlstate?: string; message: string };
        return [err.code ?? err.sqlstate, err.message];
      }
      return ['no error'];
    };
    for (const sql of ["SELECT 'nope'::regclass", "SELECT 'nope'::regtype", "SELECT 'nope'::regnamespace", "SELECT 'bank_a.nope'::regclass"]) {
      const ours = await failure(() => twin.query(sql));
      expect(ours, sql).toEqual(await failure(() => theirs.query(sql)));
    }
    const err = await twin.query("SELECT 'nope'::regclass").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).position).toBe(8);
  });

  it('a catalog function applied to party data is refused before anything is sent, naming function and party', async () => {
    const err = (await twin.query('SELECT id, quote_ident(name) FROM bank_a.customers').catch((e: unknown) => e)) as SqlError;
    expect(err).toBeInstanceOf(SqlError);
    expect([err.sqlstate, err.message, err.position]).toEqual(['0A000', 'function quote_ident() is computed by the gateway and cannot be applied to data of party "bank_a"', 12]);
    // On catalog tables, and on constants, they work.
    expect((await ourRows("SELECT quote_ident(relname) FROM pg_class WHERE relname = 'pg_class'"))).toEqual([['pg_class']]);
  });

  it('pg_type rows of every type the gateway announces are PostgreSQL’s', async () => {
    const oids = '16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 700, 701, 1000, 1005, 1007, 1009, 1016, 1021, 1022, 1043, 1082, 1083, 1114, 1115, 1182, 1184, 1185, 1186, 1231, 1700, 2950, 2951';
    await sameAsPostgres(
      'SELECT oid, typname, typnamespace, typlen, typbyval, typtype, typcategory, typispreferred, typdelim, typelem, typarray, ' +
        'typinput::oid, typoutput::oid, typreceive::oid, typsend::oid, typalign, typstorage, typbasetype, typcollation ' +
        `FROM pg_catalog.pg_type WHERE oid IN (${oids}) ORDER BY oid`,
    );
    // PgJDBC's array detection and Npgsql's pg_proc join.
    await sameAsPostgres("SELECT typname, typinput = 'pg_catalog.array_in'::regproc FROM pg_type WHERE oid IN (23, 1007, 1009) ORDER BY oid");
    await sameAsPostgres('SELECT t.typname, p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typreceive WHERE t.oid IN (23, 1007, 1700) ORDER BY t.oid');
  });

  it('pg_attribute and information_schema of a party table are PostgreSQL’s for the same table', async () => {
    await sameAsPostgres(
      'SELECT a.attname, a.atttypid, a.atttypmod, a.attlen, a.attnum, a.attnotnull, a.attisdropped, a.attidentity, a.attgenerated, ' +
        "a.attndims, a.attbyval, a.attalign, a.attcollation, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'bank_a.customers'::regclass AND a.attnum > 0 ORDER BY a.attnum",
    );
    await sameAsPostgres(
      'SELECT column_name, ordinal_position, column_default, is_nullable, data_type, character_maximum_length, character_octet_length, ' +
        'numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, udt_schema, udt_name, is_identity, is_generated ' +
        "FROM information_schema.columns WHERE table_schema = 'bank_a' AND table_name = 'customers' ORDER BY ordinal_position",
    );
    await sameAsPostgres("SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('bank_a', 'bank_b') AND table_type = 'BASE TABLE' ORDER BY 1, 2");
    await sameAsPostgres("SELECT c.relname, c.relkind, c.relnatts, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('bank_a', 'bank_b') ORDER BY 4, 1");
    await sameAsPostgres("SELECT schemaname, tablename, hasindexes FROM pg_tables WHERE schemaname IN ('bank_a', 'bank_b') ORDER BY 1, 2");
    await sameAsPostgres("SELECT nspname FROM pg_namespace WHERE nspname IN ('pg_catalog', 'public', 'information_schema', 'bank_a') ORDER BY 1");
  });

  it('SHOW answers under PostgreSQL’s column names, with PostgreSQL’s values where they are not VeilSQL’s own', async () => {
    const show = async (client: 'ours' | 'theirs', what: string) => {
      if (client === 'theirs') {
        const r = await theirs.query({ text: `SHOW ${what}`, rowMode: 'array' });
        return [r.fields[0].name, r.rows[0][0]];
      }
      const r = await twin.query(`SHOW ${what}`);
      return [r.columns[0], r.rows[0][0]];
    };
    const same = ['standard_conforming_strings', 'client_encoding', 'DateStyle', 'datestyle', 'transaction_isolation', 'TRANSACTION ISOLATION LEVEL',
      'max_identifier_length', 'statement_timeout', 'integer_datetimes', 'IntervalStyle', 'default_transaction_isolation', 'server_encoding', 'lc_collate'];
    for (const what of same) expect(await show('ours', what), what).toEqual(await show('theirs', what));
    for (const what of ['timezone', 'TIME ZONE', 'search_path', 'server_version']) {
      expect((await show('ours', what))[0], what).toBe((await show('theirs', what))[0]);
    }
    expect(await show('ours', 'server_version')).toEqual(['server_version', PG_SERVER_VERSION]);
    expect(await show('ours', 'timezone')).toEqual(['TimeZone', 'UTC']);
    expect(await show('ours', 'search_path')).toEqual(['search_path', 'bank_a, public']);
    await sameAsPostgres("SELECT name, setting, unit, vartype FROM pg_settings WHERE name IN ('statement_timeout', 'standard_conforming_strings', 'max_identifier_length') ORDER BY name");
  });

  it('OIDs are stable: a new engine over the same federation gives every object the same OID', async () => {
    const sql = 'SELECT c.oid, n.nspname, c.relname, n.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1';
    const first = await ourRows(sql);
    const other = await openTwin(configs);
    try {
      expect((await other.query(sql)).rows).toEqual(first);
    } finally {
      await other.close();
    }
    const user = first.filter((r) => r[1] !== 'pg_catalog' && r[1] !== 'information_schema');
    expect(user.length).toBe(5);
    for (const r of user) expect(Number(r[0])).toBeGreaterThanOrEqual(16384);
    expect(first.find((r) => r[2] === 'pg_class')?.[0]).toBe('1259');
  });

  it.each(CLIENT_QUERIES.map((q) => [q.client, q] as const))('%s: runs, and Describe announces the types execution produces', async (_client, q) => {
    const described = await twin.session.describe(q.sql, q.params.map((p) => p.type));
    const params = q.params.map((p, i) => ({ ...p, type: described.paramTypes[i] }));
    const result = await twin.query(q.sql, params);
    expect(described.columns?.map((c) => c.type), q.sql).toEqual(result.types);
    expect(described.columns?.map((c) => c.name)).toEqual(result.columns);
    if (q.check) q.check(result.rows, result.columns);
  });
});
