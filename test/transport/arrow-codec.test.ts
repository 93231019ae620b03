/**
 * The Arrow codec against arrow-contract.ts: DuckDB → Arrow types and metadata per the table,
 * and exact DuckDB → Arrow → (IPC →) DuckDB round trips for every type, NULLs and edge values.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Type, type Field, type RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToIpcStream, duckdbResultToArrow, ipcStreamToArrow, loadArrowIntoDuckDB, queryToArrow } from '../../connectors/arrow-codec.js';
import type { FragmentStream } from '../../connectors/connector.js';
import { SqlError } from '../../parser/errors.js';

let instance: DuckDBInstance;
let con: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  con = await instance.connect();
  await con.run(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
  await con.run(`CREATE TABLE all_types AS SELECT * FROM (VALUES
    (1, true, (-128)::TINYINT, (-32768)::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT,
     255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT,
     (-170141183460469231731687303715884105728)::HUGEINT, 340282366920938463463374607431768211455::UHUGEINT,
     -1.5::FLOAT, 2.2250738585072014e-308::DOUBLE,
     -12.34::DECIMAL(4,2), -1234567.89::DECIMAL(9,2), -12345678901234.5678::DECIMAL(18,4),
     '-1234567890123456789012345678.1234567891'::DECIMAL(38,10),
     'héllo 世界 🎉'::VARCHAR, 'short'::VARCHAR, '\\x00\\x01\\x00\\xFF'::BLOB,
     DATE '1901-12-13', TIME '23:59:59.999999', TIMESTAMP '1969-07-20 20:17:40.123456',
     TIMESTAMPTZ '2001-02-03 04:05:06.789+00', TIMESTAMP_S '1950-01-01 00:00:01', TIMESTAMP_MS '2000-01-01 00:00:00.123',
     TIMESTAMP_NS '2020-01-01 00:00:00.123456', INTERVAL '-1 year 2 months -3 days 04:05:06.000007',
     [[1, 2], [], NULL, [3]]::INTEGER[][], {'a': 1, 'b': [{'c': 'x'}], 'd': NULL}::STRUCT(a INTEGER, b STRUCT(c VARCHAR)[], d DOUBLE),
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID, '{"k": [1, 2]}'::JSON, 'happy'::mood,
     MAP {'k': 1, 'l': 2}, '10110'::BIT, [1, 2, 3]::INTEGER[3], '12:00:00+05:30'::TIMETZ,
     [INTERVAL '1 day', NULL], ['a', NULL, 'ccccccccccccccccccc']),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, false, 127, 32767, 2147483647, 9223372036854775807, 0, 0, 0, 0,
     170141183460469231731687303715884105727, 0, 'NaN'::FLOAT, '-Infinity'::DOUBLE,
     99.99, 0.01, 0, '0.0000000001', '', 'exactly12byt', ''::BLOB,
     DATE '9999-12-31', TIME '00:00:00', TIMESTAMP 'infinity', TIMESTAMPTZ '-infinity', NULL, NULL, NULL,
     INTERVAL '0 seconds', [], {'a': NULL, 'b': [], 'd': 1.5}, '00000000-0000-0000-0000-000000000000', 'null', 'sad',
     MAP {}, '0', [NULL, NULL, NULL], '00:00:00+00', [], [''])
  ) t(id, b, i8, i16, i32, i64, u8, u16, u32, u64, h, uh, f32, f64, d4, d9, d18, d38, s, s12, bl,
      dt, tm, ts, tstz, ts_s, ts_ms, ts_ns, iv, ll, st, u, j, e, m, bits, arr, ttz, ivl, sl)`);
});

afterAll(() => {
  con?.closeSync();
  instance?.closeSync();
});

async function collect(stream: FragmentStream): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of stream) out.push(b);
  return out;
}

async function columnTypes(table: string): Promise<string[]> {
  const r = await con.runAndReadAll(`SELECT data_type FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`);
  return r.getRows().map((row) => String(row[0]));
}

/** Rows in either table but not the other (bag semantics), and equal column types. */
async function expectSameTable(a: string, b: string): Promise<void> {
  expect(await columnTypes(b)).toEqual(await columnTypes(a));
  const r = await con.runAndReadAll(`SELECT (SELECT count(*) FROM (FROM ${a} EXCEPT ALL FROM ${b})) + (SELECT count(*) FROM (FROM ${b} EXCEPT ALL FROM ${a}))`);
  expect(Number(r.getRows()[0][0])).toBe(0);
  const n = await con.runAndReadAll(`SELECT (SELECT count(*) FROM ${a}), (SELECT count(*) FROM ${b})`);
  expect(Number(n.getRows()[0][1])).toBe(Number(n.getRows()[0][0]));
}

describe('DuckDB → Arrow follows the contract table', () => {
  it('maps every type and carries the DuckDB type in veilsql.type', async () => {
    const stream = await queryToArrow(con, 'SELECT * FROM all_types');
    const byName = new Map(stream.schema.fields.map((f) => [f.name, f]));
    const expectField = (name: string, arrow: string, duck: string) => {
      const f = byName.get(name)!;
      expect(`${name}: ${String(f.type)}`).toBe(`${name}: ${arrow}`);
      expect(f.metadata.get('veilsql.type')).toBe(duck);
      expect(f.nullable).toBe(true);
    };
    expectField('b', 'Bool', 'BOOLEAN');
    expectField('i64', 'Int64', 'BIGINT');
    expectField('u64', 'Uint64', 'UBIGINT');
    expectField('h', 'Utf8', 'HUGEINT');
    expectField('uh', 'Utf8', 'UHUGEINT');
    expectField('f32', 'Float32', 'FLOAT');
    expectField('d4', 'Decimal[4e+2]', 'DECIMAL(4,2)');
    expectField('d38', 'Decimal[38e+10]', 'DECIMAL(38,10)');
    expectField('s', 'Utf8', 'VARCHAR');
    expectField('bl', 'Binary', 'BLOB');
    expectField('dt', 'Date32<DAY>', 'DATE');
    expectField('tm', 'Time64<MICROSECOND>', 'TIME');
    expectField('ts', 'Timestamp<MICROSECOND>', 'TIMESTAMP');
    expectField('ts_ns', 'Timestamp<MICROSECOND>', 'TIMESTAMP_NS');
    expectField('tstz', 'Timestamp<MICROSECOND, UTC>', 'TIMESTAMP WITH TIME ZONE');
    expectField('iv', 'Struct<{months:Int32, days:Int32, micros:Int64}>', 'INTERVAL');
    expectField('ll', 'List<List<Int32>>', 'INTEGER[][]');
    expectField('u', 'Utf8', 'UUID');
    expectField('j', 'Utf8', 'JSON');
    expectField('m', 'Utf8', 'MAP(VARCHAR, INTEGER)');
    expectField('arr', 'Utf8', 'INTEGER[3]');
    expectField('ttz', 'Utf8', 'TIME WITH TIME ZONE');
    expect(byName.get('st')!.type.typeId).toBe(Type.Struct);
    expect(byName.get('st')!.type.children.map((c: Field) => c.metadata.get('veilsql.type'))).toEqual(['INTEGER', 'STRUCT("c" VARCHAR)[]', 'DOUBLE']);
    expect(byName.get('e')!.type.typeId).toBe(Type.Utf8);
    const [batch] = await collect(stream);
    const row = batch.get(0)!.toJSON() as Record<string, unknown>;
    expect(row.h).toBe('-170141183460469231731687303715884105728');
    expect(row.u).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(row.m).toBe('{k=1, l=2}'); // DuckDB's own VARCHAR cast, not node-api's formatting
    expect(row.s).toBe('héllo 世界 🎉');
    expect(row.i64).toBe(-9223372036854775808n);
    expect([...(row.bl as Uint8Array)]).toEqual([0, 1, 0, 255]);
    expect(batch.get(1)!.toJSON().b).toBeNull();
  });

  it('keeps DuckDB types when reading a raw result without the cast wrapper', async () => {
    const result = await con.stream('SELECT i64, s, d38 FROM all_types ORDER BY id');
    const stream = duckdbResultToArrow(result);
    const [batch] = await collect(stream);
    expect(batch.numRows).toBe(3);
    expect(batch.getChild('s')!.get(2)).toBe('');
  });
});

describe('exact round trips', () => {
  it('every type, NULLs and edge values: DuckDB → Arrow → DuckDB', async () => {
    const stream = await queryToArrow(con, 'SELECT * FROM all_types');
    await loadArrowIntoDuckDB(con, 'rt_direct', stream.schema, await collect(stream));
    await expectSameTable('all_types', 'rt_direct');
  });

  it('every type through the IPC stream encoding', async () => {
    const stream = await queryToArrow(con, 'SELECT * FROM all_types');
    const bytes: Uint8Array[] = [];
    for await (const chunk of arrowToIpcStream(stream)) bytes.push(chunk);
    const decoded = await ipcStreamToArrow((async function* () {
      // Deliver in small pieces, as a socket would.
      for (const b of bytes) for (let at = 0; at < b.byteLength; at += 1000) yield b.subarray(at, at + 1000);
    })());
    await loadArrowIntoDuckDB(con, 'rt_ipc', decoded.schema, decoded);
    await expectSameTable('all_types', 'rt_ipc');
  });

  it('UNION travels as its text (the contract): values survive, the NULL/tag distinction does not', async () => {
    // DuckDB's VARCHAR → UNION cast picks the first member that accepts the text and turns a NULL
    // into a UNION holding NULL, so UNION is the one type that is not exact through text.
    const stream = await queryToArrow(con, `SELECT * FROM (VALUES (union_value(n := 5)::UNION(n INTEGER, s VARCHAR)), (union_value(s := 'x')), (NULL)) t(un)`);
    expect(stream.schema.fields[0].metadata.get('veilsql.type')).toBe('UNION("n" INTEGER, "s" VARCHAR)');
    const batches = await collect(stream);
    expect(batches[0].getChildAt(0)!.toArray()).toEqual(['5', 'x', null]);
    await loadArrowIntoDuckDB(con, 'rt_union', stream.schema, batches);
    expect(await columnTypes('rt_union')).toEqual(['UNION(n INTEGER, s VARCHAR)']);
  });

  it('empty results keep their schema', async () => {
    const stream = await queryToArrow(con, 'SELECT * FROM all_types WHERE false');
    const batches = await collect(stream);
    expect(batches).toHaveLength(0);
    expect(await loadArrowIntoDuckDB(con, 'rt_empty', stream.schema, batches)).toEqual({ rows: 0, batches: 0 });
    expect(await columnTypes('rt_empty')).toEqual(await columnTypes('all_types'));
  });

  it('many batches with scattered NULLs, mixed inline and heap strings, and lists', async () => {
    await con.run(`CREATE TABLE big AS SELECT
        range AS id,
        CASE WHEN range % 7 = 0 THEN NULL ELSE range * 3 END AS maybe,
        CASE WHEN range % 3 = 0 THEN 'short' WHEN range % 3 = 1 THEN NULL ELSE 'a much longer string number ' || range END AS txt,
        CASE WHEN range % 11 = 0 THEN NULL ELSE [range, NULL, range + 1] END AS lst,
        (range % 1000)::DECIMAL(10,3) / 7 AS dec,
        range % 2 = 0 AS flag
      FROM range(200000)`);
    const stream = await queryToArrow(con, 'SELECT * FROM big ORDER BY hash(id)', { batchRows: 10_000 });
    const batches = await collect(stream);
    expect(batches.length).toBeGreaterThanOrEqual(19);
    expect(Math.max(...batches.map((b) => b.numRows))).toBeLessThanOrEqual(10_240);
    await loadArrowIntoDuckDB(con, 'big_rt', stream.schema, batches);
    await expectSameTable('big', 'big_rt');
  });

  it('respects the byte target for wide rows', async () => {
    const stream = await queryToArrow(con, `SELECT repeat('x', 10000) AS wide FROM range(2000)`, { batchBytes: 1024 * 1024 });
    const batches = await collect(stream);
    expect(batches.length).toBeGreaterThanOrEqual(10);
    for (const b of batches) expect(b.getChildAt(0)!.data[0].values.byteLength).toBeLessThan(2 * 1024 * 1024);
  });

  it('a one-row result gets buffers for one row, a large one still cuts full batches', async () => {
    const small = await collect(await queryToArrow(con, 'SELECT 42::BIGINT AS n, 1.5::DECIMAL(38,2) AS d, 7::INTEGER AS i'));
    expect(small).toHaveLength(1);
    for (const child of small[0].data.children) expect(child.values.buffer.byteLength).toBeLessThan(1024);
    expect(small[0].toArray()[0].toJSON()).toMatchObject({ n: 42n, i: 7 });
    // A result that starts with a short chunk and goes on (a filter passes few rows per chunk)
    // grows its buffers and loses nothing.
    const sparse = await queryToArrow(con, 'SELECT range AS id FROM range(300000) WHERE range % 1000 = 0 OR range >= 200000');
    const batches = await collect(sparse);
    expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(100_200);
    expect(batches.flatMap((b) => [...b.getChildAt(0)!]).map(Number).slice(0, 3)).toEqual([0, 1000, 2000]);
  });

  it('odd and duplicate column names survive the cast wrapper', async () => {
    const stream = await queryToArrow(con, `SELECT 1 AS "a", 2 AS "a", MAP {'x': 1} AS "we""ird name", '--' AS c -- trailing comment`);
    expect(stream.schema.fields.map((f) => f.name)).toEqual(['a', 'a', 'we"ird name', 'c']);
    const [batch] = await collect(stream);
    expect(batch.getChildAt(2)!.get(0)).toBe('{x=1}');
  });
});

describe('streaming behaviour', () => {
  it('stops with 57014 when aborted', async () => {
    const ac = new AbortController();
    const stream = await queryToArrow(con, 'SELECT range AS id FROM range(10000000)', { signal: ac.signal, batchRows: 4096 });
    let batches = 0;
    await expect(
      (async () => {
        for await (const _ of stream) if (++batches === 2) ac.abort();
      })(),
    ).rejects.toSatisfy((e: unknown) => e instanceof SqlError && e.sqlstate === '57014');
    expect(batches).toBe(2);
  });

  it('reports a bad Arrow type for loading as 0A000', async () => {
    const { Field, Schema, Float16 } = await import('apache-arrow');
    await expect(loadArrowIntoDuckDB(con, 'bad', new Schema([new Field('h', new Float16())]), [])).rejects.toMatchObject({
      sqlstate: '0A000',
      message: expect.stringContaining('column "h"'),
    });
  });
});
