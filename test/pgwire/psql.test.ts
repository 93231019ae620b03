/**
 * psql 15 (the real binary) against the gateway, with PostgreSQL 15 as the reference where the
 * output does not depend on the engine: aligned and expanded (-x) output, multi-statement
 * commands, \copy (query) to stdout in text and CSV, COPY … TO STDOUT, the error position
 * marker, and Ctrl-C (SIGINT → CancelRequest) on a running query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { psql } from '../support/pgwire-psql.js';

describe('psql', () => {
  let pg: PostgresServer;
  let gw: TestGateway;
  const ours = (port: number) => `host=127.0.0.1 port=${port} user=alice dbname=d`;
  const theirs = (port: number) => `host=127.0.0.1 port=${port} user=postgres dbname=postgres`;

  beforeAll(async () => {
    [pg, gw] = await Promise.all([startPostgres(), startTestGateway()]);
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await pg?.stop();
  });

  /** Runs the same psql arguments against both servers; returns [postgres, gateway]. */
  async function bothPsql(args: string[]) {
    return Promise.all([psql(['-X', theirs(pg.port), ...args]), psql(['-X', ours(gw.port), ...args])]);
  }

  it('prints the same aligned table as PostgreSQL', async () => {
    const sql = "select 1 as a, 'héllo'::text as b, NULL::integer as c, 2.50::numeric(5,2) as d, true as e, '2024-01-02'::date as f";
    const [x, y] = await bothPsql(['-c', sql]);
    expect(y.stderr).toBe('');
    expect(y.stdout).toBe(x.stdout);
  });

  it('prints expanded (-x) output and multi-statement results like PostgreSQL', async () => {
    const [x, y] = await bothPsql(['-x', '-c', "select 1 as a, 'x'::text as b; select 2 as c"]);
    expect(y.stdout).toBe(x.stdout);
    const [x2, y2] = await bothPsql(['-c', 'select 1 as a', '-c', 'BEGIN', '-c', 'select 2 as b', '-c', 'COMMIT']);
    expect(y2.stdout).toBe(x2.stdout);
  });

  it('shows the error position marker under the failing token', async () => {
    const r = await psql(['-X', ours(gw.port), '-c', 'select 1 + nope as x']);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^ERROR: {2}/);
    expect(lines[1]).toBe('LINE 1: select 1 + nope as x');
    expect(lines[2]).toBe('                   ^');
    // And the marker lands where PostgreSQL puts it.
    const p = await psql(['-X', theirs(pg.port), '-c', 'select 1 + nope as x']);
    expect(p.stderr.split('\n')[2]).toBe(lines[2]);
  });

  it('\\copy (query) to stdout in text and CSV matches PostgreSQL byte for byte', async () => {
    const q = "select 1 as a, 'tab\there' as b, NULL::text as c, 'quote\"d, comma' as d, 'back\\slash' as e, E'line\\nbreak' as f";
    for (const opts of ['', 'with csv', 'with csv header', "with (format csv, header true, delimiter ';')", "with (format text, null 'NULL')"]) {
      const [x, y] = await bothPsql(['-c', `\\copy (${q}) to stdout ${opts}`]);
      expect(y.stderr).toBe('');
      expect(`${opts}\n${y.stdout}`).toBe(`${opts}\n${x.stdout}`);
    }
  });

  it('COPY … TO STDOUT with a table name and column list, and a large \\copy', async () => {
    const r = await psql(['-X', ours(gw.port), '-c', 'COPY t (a, b) TO STDOUT WITH CSV HEADER']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('a,b\n1,x\n2,\n3,tab\there\n');
    const big = await psql(['-X', '-q', ours(gw.port), '-c', '\\copy (select i, j from big order by i) to stdout']);
    const lines = big.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(100_000);
    expect(lines[99_999]).toBe('99999\t199998');
    const bin = await psql(['-X', ours(gw.port), '-c', 'COPY (select 1) TO STDOUT (FORMAT binary)']);
    expect(bin.stderr).toContain('COPY BINARY is not supported');
  });

  it('Ctrl-C cancels a running query exactly as with PostgreSQL', async () => {
    // Ctrl-C is pressed once each server is running the statement (a fixed delay raced psql's
    // start-up on a loaded machine): PostgreSQL shows it in pg_stat_activity, the gateway's test
    // engine records it when execution starts.
    const sleeper = 'select pg_sleep(20)';
    const observer = await pg.client();
    const pgRuns = async () =>
      (await observer.query("select count(*)::int as n from pg_stat_activity where query = $1 and state = 'active'", [sleeper])).rows[0].n > 0;
    const gwRuns = async () => gw.engine.stats.executed.includes(sleeper);
    const interrupt = async (conn: string, running: () => Promise<boolean>) => {
      const run = psql(['-X', '-At', conn, '-c', sleeper, '-c', 'select 42']);
      for (let i = 0; i < 1000 && !(await running()); i++) await new Promise((r) => setTimeout(r, 10));
      run.kill('SIGINT');
      return run;
    };
    const [x, y] = await Promise.all([interrupt(theirs(pg.port), pgRuns), interrupt(ours(gw.port), gwRuns)]).finally(() => observer.end());
    expect(y.stderr).toBe('Cancel request sent\nERROR:  canceling statement due to user request\n');
    expect([y.status, y.stdout, y.stderr]).toEqual([x.status, x.stdout, x.stderr]);
  });

  it('runs a script with ON_ERROR_STOP and transactions', async () => {
    const r = await psql(['-X', '-At', '-v', 'ON_ERROR_STOP=1', ours(gw.port), '-c', 'BEGIN', '-c', 'select 1', '-c', 'select nope', '-c', 'select 2']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('BEGIN\n1\n');
  });
});
