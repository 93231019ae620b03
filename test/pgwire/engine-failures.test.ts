/**
 * Engines fail in ways the wire layer must contain: plain (non-SqlError) exceptions become a
 * generic XX000 whose details go only to the log, an error in the middle of a row stream ends
 * that statement cleanly (rows, then ErrorResponse, then ReadyForQuery), and a result whose
 * shape differs from its description is still delivered consistently.
 */
import { Field, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSession, QueryEngine, QueryOutcome } from '../../executor/session-types.js';
import { SqlError } from '../../parser/errors.js';
import { startPgGateway, type PgGateway } from '../../server/pgwire/index.js';

function intBatch(values: number[]): RecordBatch {
  const schema = new Schema([new Field('v', new Int32(), true, new Map([['veilsql.type', 'INTEGER']]))]);
  const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: Int32Array.from(values) });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: values.length, nullCount: 0, children: [child] }));
}

const columns = [{ name: 'v', type: 'INTEGER' }];

class FailingEngine implements QueryEngine {
  async openSession(user: string): Promise<EngineSession> {
    return {
      user,
      async describe(sql: string) {
        if (sql.includes('describe_crash')) throw new Error('describe blew up at /secret/path');
        return { paramTypes: sql.includes('$1') ? ['INTEGER'] : [], columns };
      },
      async execute(sql: string): Promise<QueryOutcome> {
        if (sql.includes('crash')) throw new TypeError('cannot read properties of undefined (reading "key material")');
        if (sql.includes('midstream')) {
          return {
            columns,
            commandTag: 'SELECT',
            batches: (async function* () {
              yield intBatch([1, 2, 3]);
              throw new SqlError('22012', 'division by zero');
            })(),
          };
        }
        return { columns, commandTag: 'SELECT', batches: (async function* () { yield intBatch([7]); })() };
      },
      async close() {},
    };
  }
}

describe('engine failures', () => {
  let gw: PgGateway;
  const logs: string[] = [];
  let client: pg.Client;

  beforeAll(async () => {
    gw = await startPgGateway({
      host: '127.0.0.1',
      port: 0,
      engine: new FailingEngine(),
      auth: { method: 'trust', users: new Map() },
      logger: { error: (m, meta) => logs.push(`${m} ${JSON.stringify(meta)}`) },
    });
    client = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'u', database: 'd' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await gw?.close();
  });

  it('turns non-SqlError exceptions into XX000 without leaking their text', async () => {
    const err = (await client.query('select crash').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(err.code).toBe('XX000');
    expect(err.message).toBe('internal error');
    expect(err.message).not.toContain('key material');
    expect(logs.some((l) => l.includes('key material'))).toBe(true);
    const perr = (await client.query('select describe_crash where $1::integer = 1', [1]).catch((e: unknown) => e)) as pg.DatabaseError;
    expect(perr.code).toBe('XX000');
    expect(perr.message).not.toContain('/secret/path');
    expect((await client.query('select fine')).rows).toEqual([{ v: 7 }]);
  });

  it('ends a statement that fails mid-stream with ErrorResponse after the rows already sent', async () => {
    const err = (await client.query('select midstream').catch((e: unknown) => e)) as pg.DatabaseError;
    expect(err.code).toBe('22012');
    expect((await client.query('select fine')).rows).toEqual([{ v: 7 }]);
    const e2 = (await client.query('select midstream where $1::integer = 1', [1]).catch((e: unknown) => e)) as pg.DatabaseError;
    expect(e2.code).toBe('22012');
    expect((await client.query('select fine where $1::integer = 1', [1])).rows).toEqual([{ v: 7 }]);
  });
});
