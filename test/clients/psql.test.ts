/**
 * psql 15 (the real binary) against bank_a's gateway, a real `veilsql node` process federated
 * with bank_b over mutual TLS, and PostgreSQL 15 holding the same tables and rows as the
 * reference: `\dt`, `\d party.table` (byte-equal to PostgreSQL's for the same table), `\d+`
 * (policies as column descriptions), `\dn`, `\l`, `\x`, `\copy (select …) to stdout` (equal to
 * PostgreSQL's and to the in-process engine's rows), the error position marker, and Ctrl-C
 * cancelling a query running at a remote party.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntoPostgres, startClientFederation, type ClientFederation } from '../support/client-federation.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { psql } from '../support/pgwire-psql.js';

describe('psql against a federation of real nodes', () => {
  let fed: ClientFederation;
  let postgres: PostgresServer;
  let ours: string;
  let theirs: string;

  beforeAll(async () => {
    const [f, p] = await Promise.allSettled([startClientFederation(), startPostgres()]);
    if (f.status === 'fulfilled') fed = f.value;
    if (p.status === 'fulfilled') postgres = p.value;
    if (f.status === 'rejected') throw f.reason;
    if (p.status === 'rejected') throw p.reason;
    const client = await postgres.client();
    await loadIntoPostgres(client, fed.dir);
    await client.end();
    ours = fed.conninfo;
    theirs = `host=127.0.0.1 port=${postgres.port} user=postgres dbname=postgres sslmode=disable`;
  }, 120_000);

  afterAll(async () => {
    await postgres?.stop();
    await fed?.stop();
  });

  const both = (args: string[]) => Promise.all([psql(['-X', theirs, ...args]), psql(['-X', ours, ...args])]);

  it('\\dt lists every party table and federated table, owned by its party', async () => {
    const r = await psql(['-X', ours, '-c', '\\dt']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '          List of relations',
        ' Schema |   Name    | Type  |  Owner  ',
        '--------+-----------+-------+---------',
        ' bank_a | branches  | table | bank_a',
        ' bank_a | customers | table | bank_a',
        ' bank_b | branches  | table | bank_b',
        ' bank_b | customers | table | bank_b',
        ' banks  | branches  | table | veilsql',
        '(5 rows)',
        '',
        '',
      ].join('\n'),
    );
  });

  it('\\d party.table prints exactly what PostgreSQL prints for the same table', async () => {
    const [x, y] = await both(['-c', '\\d bank_a.customers']);
    expect(y.stderr).toBe('');
    expect(y.stdout).toContain('Table "bank_a.customers"');
    expect(y.stdout).toContain(' balance    | numeric(12,2)');
    expect(y.stdout).toBe(x.stdout);
    const [x2, y2] = await both(['-c', '\\d bank_a.branches']);
    expect(y2.stdout).toBe(x2.stdout);
    // psql's nine \d queries also work for the federated table and for the catalog itself.
    const fedTable = await psql(['-X', ours, '-c', '\\d banks.branches']);
    expect(fedTable.stderr).toBe('');
    expect(fedTable.stdout).toContain('Table "banks.branches"');
    const catalog = await psql(['-X', ours, '-c', '\\d pg_catalog.pg_namespace']);
    expect(catalog.stdout).toContain(' nspname  | text');
    // An unknown relation: the same message as PostgreSQL.
    const [x3, y3] = await both(['-c', '\\d bank_a.nothing']);
    expect(y3.stderr).toBe(x3.stderr);
  });

  it('\\d+ and \\dt+ show each column policy and each table owner party as descriptions', async () => {
    const r = await psql(['-X', ours, '-c', '\\d+ bank_b.customers']);
    expect(r.stderr).toBe('');
    const line = (col: string) => r.stdout.split('\n').find((l) => l.startsWith(` ${col} `)) ?? '';
    expect(line('name')).toContain('policy private: not usable by other parties');
    expect(line('id')).toContain('policy join_key');
    expect(line('balance')).toContain('policy aggregate: released only inside aggregates (COUNT, SUM, AVG, …) over groups of at least 5 rows');
    expect(line('score')).toContain('policy dp');
    expect(line('region')).toContain('policy public: may be revealed');
    const tables = await psql(['-X', ours, '-c', '\\dt+ bank_b.*']);
    expect(tables.stdout).toContain('table of party bank_b, about 40 row(s), min_group 5');
  });

  it('\\dn lists parties and federations as schemas; \\l lists the veilsql database', async () => {
    const dn = await psql(['-X', ours, '-c', '\\dn']);
    expect(dn.stdout).toBe(
      [' List of schemas', '  Name  |  Owner  ', '--------+---------', ' bank_a | bank_a', ' bank_b | bank_b', ' banks  | veilsql', ' public | veilsql', '(4 rows)', '', ''].join('\n'),
    );
    const l = await psql(['-X', ours, '-c', '\\l']);
    expect(l.stderr).toBe('');
    expect(l.stdout).toMatch(/^ veilsql \| veilsql \| UTF8 {5}\| C {7}\| C {5}\| {12}\| libc {12}\| *$/m);
  });

  it('prints query results (aligned and \\x expanded) exactly as PostgreSQL does for the same rows', async () => {
    const q = 'select id, name, balance, account_no, score, opened, updated, active from bank_a.customers where id <= 3 order by id';
    const [x, y] = await both(['-c', q]);
    expect(y.stderr).toBe('');
    expect(y.stdout).toBe(x.stdout);
    const [xx, yx] = await both(['-x', '-c', q]);
    expect(yx.stdout).toBe(xx.stdout);
    const [xa, ya] = await both(['-c', '\\x on', '-c', 'select region, count(*) as n, sum(staff) as staff from banks.branches group by region order by region']);
    expect(ya.stderr).toBe('');
    expect(ya.stdout).toBe(xa.stdout);
  });

  it('\\copy (select …) to stdout equals PostgreSQL and the in-process engine', async () => {
    const q = 'select id, name, balance, opened, updated, active, case when id % 2 = 0 then null else score end as s from bank_a.customers order by id';
    const [x, y] = await both(['-c', `\\copy (${q}) to stdout`]);
    expect(y.stderr).toBe('');
    expect(y.stdout).toBe(x.stdout);
    const twin = await (await fed.twin()).query(q);
    expect(y.stdout).toBe(twin.rows.map((r) => r.map((v) => v ?? '\\N').join('\t')).join('\n') + '\n');
    const [xc, yc] = await both(['-c', `\\copy (${q}) to stdout with csv header`]);
    expect(yc.stdout).toBe(xc.stdout);
  });

  it('a failing query shows the error position marker where PostgreSQL puts it', async () => {
    const [x, y] = await both(['-c', 'select id, nope from bank_a.customers']);
    expect(y.status).toBe(1);
    expect(y.stderr.split('\n').slice(0, 3)).toEqual(x.stderr.split('\n').slice(0, 3));
    expect(y.stderr.split('\n')[2]).toBe('                   ^');
    // A policy violation names party, table, column and level, and points at the column.
    const policy = await psql(['-X', ours, '-c', 'select region, name from bank_b.customers']);
    expect(policy.status).toBe(1);
    expect(policy.stderr).toMatch(/^ERROR: {2}.*bank_b.*customers.*name.*private/);
    expect(policy.stderr).toContain(`LINE 1: select region, name from bank_b.customers\n${' '.repeat('LINE 1: select region, '.length)}^`);
  });

  it('Ctrl-C cancels a query running at a remote party, and the federation keeps working', async () => {
    const run = psql(['-X', '-At', ours, '-c', 'select count(*) from bank_b.branches b, generate_series(1, 100000000000) g']);
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGINT');
    const r = await run;
    expect(r.stderr).toBe('Cancel request sent\nERROR:  canceling statement due to user request\n');
    expect(r.status).toBe(1);
    const after = await psql(['-X', '-At', ours, '-c', 'select count(*) from bank_b.branches', '-c', 'select 1']);
    expect(after.stderr).toBe('');
    expect(after.stdout).toBe('8\n1\n');
  }, 30_000);
});
