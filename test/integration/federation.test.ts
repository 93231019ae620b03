/**
 * Issue 2 acceptance: real node processes with mutual TLS on loopback, queried through bank_a's
 * Postgres wire gateway; every result compared with PostgreSQL 15 running the same query over
 * the union of the same data.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { compareResults, loadDemoIntoPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestFederation, TEXT_TYPES, type TestFederation } from '../support/federation-processes.js';

interface CorpusQuery {
  name: string;
  sql: string;
  ordered: boolean;
}

export function readCorpus(file: string): CorpusQuery[] {
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

const corpus = readCorpus('./plaintext-queries.sql');
const FLOAT_OIDS = new Set([700, 701]);
const NODES = ['bank_a', 'bank_b', 'bank_c', 'telco', 'hospital_1', 'hospital_2'];

describe('plaintext federated queries equal PostgreSQL 15 on the union of the data', () => {
  let fed: TestFederation;
  let postgres: PostgresServer;
  let ours: pg.Client;
  let theirs: pg.Client;

  beforeAll(async () => {
    [fed, postgres] = await Promise.all([startTestFederation(NODES), startPostgres()]);
    theirs = await postgres.client();
    await loadDemoIntoPostgres(theirs, fed.dir, fed.description);
    await theirs.end();
    const pgMod = (await import('pg')).default;
    theirs = new pgMod.Client({ connectionString: postgres.url, types: TEXT_TYPES });
    await theirs.connect();
    ours = await fed.client();
  }, 120_000);

  afterAll(async () => {
    await ours?.end().catch(() => undefined);
    await theirs?.end().catch(() => undefined);
    await postgres?.stop();
    await fed?.stop();
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
