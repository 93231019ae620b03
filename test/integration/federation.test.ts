/**
 * Issue 2 acceptance, end to end: real node processes with mutual TLS on loopback, queried
 * through bank_a's Postgres wire gateway with node-postgres.
 * - every plaintext query of `plaintext-queries.sql` equals PostgreSQL 15 on the union of the data;
 * - every statement of `hostile-statements.sql` fails with its SQLSTATE, and nothing crashes;
 * - a party refuses a policy-violating fragment sent straight to it (no planner involved);
 * - a dead or hung party fails the query with 08006 naming it, within the fragment timeout.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { demoNodes } from '../../cli/demo/index.js';
import { loadNodeConfig } from '../../connectors/config.js';
import { RemotePartyConnector } from '../../connectors/remote.js';
import { SqlError } from '../../parser/errors.js';
import { compareResults, loadDemoIntoPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestFederation, TEXT_TYPES, type TestFederation } from '../support/federation-processes.js';

interface CorpusQuery {
  name: string;
  sql: string;
  ordered: boolean;
}

function readCorpus(file: string): CorpusQuery[] {
  const text = readFileSync(new URL(file, import.meta.url), 'utf8');
  return text
    .split(/^-- name: /m)
    .slice(1)
    .map((chunk) => {
      const [first, ...rest] = chunk.split('\n');
      const body = rest.join('\n');
      return {
        name: first.trim(),
        ordered: /^-- ordered\s*$/m.test(body),
        sql: body.split('\n').filter((l) => !l.startsWith('--')).join('\n').trim().replace(/;\s*$/, ''),
      };
    });
}

function readHostile(file: string): { sqlstate: string; sql: string }[] {
  const text = readFileSync(new URL(file, import.meta.url), 'utf8');
  return text
    .split(/^-- expect: /m)
    .slice(1)
    .map((chunk) => {
      const [first, ...rest] = chunk.split('\n');
      return { sqlstate: first.trim(), sql: rest.filter((l) => !l.startsWith('--')).join('\n').trim() };
    });
}

const corpus = readCorpus('./plaintext-queries.sql');
const hostile = readHostile('./hostile-statements.sql');
const FLOAT_OIDS = new Set([700, 701]);
const NODES = ['bank_a', 'bank_b', 'bank_c', 'telco', 'hospital_1', 'hospital_2'];

let fed: TestFederation;
let postgres: PostgresServer | undefined;
let ours: pg.Client;

beforeAll(async () => {
  // Start both, and keep whichever started even if the other fails, so afterAll stops it.
  const [f, p] = await Promise.allSettled([startTestFederation(NODES), startPostgres()]);
  if (f.status === 'fulfilled') fed = f.value;
  if (p.status === 'fulfilled') postgres = p.value;
  if (f.status === 'rejected') throw f.reason;
  if (p.status === 'rejected') throw p.reason;
  ours = await fed.client();
}, 120_000);

afterAll(async () => {
  await ours?.end().catch(() => undefined);
  await postgres?.stop();
  await fed?.stop();
}, 60_000);

function allNodesAlive(): boolean {
  return [...fed.nodes.children.values()].every((c) => c.exitCode === null && c.signalCode === null);
}

async function errorOf(client: pg.Client, sql: string): Promise<pg.DatabaseError> {
  try {
    await client.query(sql);
  } catch (e) {
    return e as pg.DatabaseError;
  }
  throw new Error(`expected an error for: ${sql}`);
}

describe('plaintext federated queries equal PostgreSQL 15 on the union of the data', () => {
  let theirs: pg.Client;

  beforeAll(async () => {
    const loader = await postgres!.client();
    await loadDemoIntoPostgres(loader, fed.dir, fed.description);
    await loader.end();
    theirs = new pg.Client({ connectionString: postgres!.url, types: TEXT_TYPES });
    await theirs.connect();
  }, 60_000);

  afterAll(async () => {
    await theirs?.end().catch(() => undefined);
  });

  it('has at least 30 queries in the corpus', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  it.each(corpus.map((q) => [q.name, q] as const))('%s', async (_name, q) => {
    const expected = await theirs.query({ text: q.sql, rowMode: 'array' });
    const actual = await ours.query({ text: q.sql, rowMode: 'array' });
    expect(actual.fields.map((f) => f.name)).toEqual(expected.fields.map((f) => f.name));
    // Where either side returns floating point (DuckDB's AVG is double, Postgres' is numeric),
    // compare as floats with a relative tolerance instead of as exact decimals.
    const floats = actual.fields.map((f, i) => FLOAT_OIDS.has(f.dataTypeID) || FLOAT_OIDS.has(expected.fields[i].dataTypeID));
    const asFloat = (rows: unknown[][]) => rows.map((r) => r.map((v, i) => (floats[i] && v !== null ? Number(v) : v)));
    const cmp = compareResults(asFloat(actual.rows as unknown[][]), asFloat(expected.rows as unknown[][]), { ordered: q.ordered });
    expect(cmp.diff, `${q.name}\n${q.sql}`).toBe('');
    expect(cmp.equal).toBe(true);
  });
});

describe('malformed and hostile statements get a clear error and crash nothing', () => {
  it(`has at least 40 statements (${hostile.length})`, () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
  });

  it.each(hostile.map((h) => [h.sqlstate, h.sql] as const))('%s  %s', async (sqlstate, sql) => {
    const e = await errorOf(ours, sql);
    expect(e.code, e.message).toBe(sqlstate);
    expect(e.message.length).toBeGreaterThan(10);
    // The session stays usable.
    const ok = await ours.query('SELECT count(*) AS n FROM bank_b.blacklist');
    expect(ok.rows[0].n).toBe('2000');
  });

  it('rejects a 1 MB statement and a 1,000-deep expression without harm', async () => {
    const huge = `SELECT '${'x'.repeat(1_000_000)}' = 'y' AS same`;
    const r = await ours.query(huge);
    expect(r.rows[0].same).toBe('f');
    const deep = `SELECT ${'('.repeat(1000)}1${')'.repeat(1000)}`;
    const e = await errorOf(ours, deep);
    expect(['42601', '54001']).toContain(e.code);
    expect(allNodesAlive()).toBe(true);
  });

  it('explains placement and disclosure', async () => {
    const r = await ours.query({ text: 'EXPLAIN SELECT c.region, count(*) FROM bank_b.customers c JOIN telco.users t ON c.region = t.region GROUP BY c.region', rowMode: 'array' });
    const text = r.rows.map((x) => x[0]).join('\n');
    expect(r.fields[0].name).toBe('QUERY PLAN');
    expect(text).toContain('@ gateway (bank_a)');
    expect(text).toMatch(/Fragment #\d @ bank_b/);
    expect(text).toMatch(/telco -> bank_a: rows of \(region: telco\.users\.region \[public\]\)/);
  });

  it('every node is still alive', () => {
    expect(allNodesAlive()).toBe(true);
  });
});

describe('each party enforces its own policy', () => {
  it('refuses a violating fragment sent straight to it, bypassing the planner', async () => {
    const listing = demoNodes(fed.dir);
    const bankA = loadNodeConfig(listing.nodes.find((n) => n.name === 'bank_a')!.configPath);
    const toBankC = RemotePartyConnector.fromNodeConfig(bankA, 'bank_c');
    try {
      const signal = new AbortController().signal;
      const refused = await toBankC
        .execute({ queryId: 'bypass-1', sql: 'SELECT t.customer_id, t.name, t.balance FROM bank_c.customers AS t', timeoutMs: 5000 }, signal)
        .then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(SqlError);
      expect((refused as SqlError).sqlstate).toBe('42501');
      expect((refused as SqlError).message).toContain('bank_c.customers.customer_id');
      // A DuckDB escape hatch in a fragment is refused too.
      const escape = await toBankC
        .execute({ queryId: 'bypass-2', sql: "SELECT * FROM query('SELECT * FROM customers')", timeoutMs: 5000 }, signal)
        .then(() => undefined, (e: unknown) => e);
      expect((escape as SqlError).sqlstate).toBe('42883');
      // The same party answers an allowed fragment.
      const allowed = await toBankC.execute({ queryId: 'bypass-3', sql: 'SELECT count(*) AS n FROM bank_c.customers', timeoutMs: 5000 }, signal);
      let rows = 0;
      for await (const b of allowed) rows += b.numRows;
      expect(rows).toBe(1);
    } finally {
      await toBankC.close();
    }
  });
});

describe('a dead or hung party fails the query cleanly', () => {
  it('a hung party (SIGSTOP) fails the query with 08006 naming it, within the fragment timeout', async () => {
    const child = fed.nodes.children.get('bank_c')!;
    await ours.query("SET fragment_timeout = '1500ms'");
    await ours.query('SELECT count(*) FROM bank_c.customers'); // warm catalog
    child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const e = await errorOf(ours, 'SELECT count(*) FROM bank_c.customers');
      expect(e.code).toBe('08006');
      expect(e.message).toContain('bank_c');
      // The fragment timeout plus the requester's 2 s watchdog grace (executor/run-plan.ts), with slack for a loaded box.
      expect(Date.now() - started).toBeLessThan(1500 + 2000 + 3000);
    } finally {
      child.kill('SIGCONT');
    }
    // Once it answers again, so do queries.
    await expect(ours.query('SELECT count(*) AS n FROM bank_c.customers')).resolves.toMatchObject({ rows: [{ n: '3000' }] });
    await ours.query('RESET fragment_timeout');
  }, 30_000);

  it('a killed party fails the query with 08006 naming it; others keep working', async () => {
    await fed.nodes.kill('telco');
    const started = Date.now();
    const e = await errorOf(ours, 'SELECT age_band, count(*) FROM telco.users GROUP BY age_band');
    expect(e.code).toBe('08006');
    expect(e.message).toContain('telco');
    expect(Date.now() - started).toBeLessThan(8_000);
    const r = await ours.query('SELECT count(*) AS n FROM bank_b.blacklist');
    expect(r.rows[0].n).toBe('2000');
    const parties = await ours.query({ text: 'SHOW PARTIES', rowMode: 'array' });
    const telco = parties.rows.find((row) => row[0] === 'telco')!;
    expect(String(telco[2])).toMatch(/^unavailable/);
  }, 30_000);
});
