/**
 * The extended query protocol driven message by message with a raw frontend, side by side
 * with PostgreSQL 15 where the exchange is engine-independent: the message sequences (types,
 * command tags, SQLSTATEs, status bytes) must be identical. Covers max_rows/PortalSuspended with
 * resumption, Describe S/P, NoData, unknown statements/portals, skip-to-Sync after errors,
 * named and unnamed objects, Close/Flush, PgJDBC's sixth execution (Bind + Execute without
 * Describe, mixed result formats) and psycopg 3's extended BEGIN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { RawPgClient, bindMessage, summary, type BackendMsg, type FieldDesc } from '../support/pgwire-raw-client.js';

const VALUES4 = 'select i from (values (1),(2),(3),(4)) t(i)';

describe('extended query protocol', () => {
  let pg: PostgresServer;
  let gw: TestGateway;
  let a: RawPgClient; // PostgreSQL
  let b: RawPgClient; // gateway

  beforeAll(async () => {
    [pg, gw] = await Promise.all([startPostgres(), startTestGateway()]);
    a = await RawPgClient.connect(pg.port, { user: 'postgres', database: 'postgres' });
    b = await RawPgClient.connect(gw.port, { user: 'postgres', database: 'postgres' });
  }, 60_000);

  afterAll(async () => {
    await a?.end();
    await b?.end();
    await gw?.stop();
    await pg?.stop();
  });

  /** Sends the same messages to both servers and returns both replies up to ReadyForQuery. */
  async function both(msgs: Buffer[], syncs = 1): Promise<[BackendMsg[], BackendMsg[]]> {
    const read = async (c: RawPgClient) => {
      c.send(...msgs);
      const out: BackendMsg[] = [];
      for (let i = 0; i < syncs; i++) out.push(...(await c.readUntil((m) => m.type === 'Z')));
      return out;
    };
    return [await read(a), await read(b)];
  }

  async function same(msgs: Buffer[], syncs = 1): Promise<string[]> {
    const [x, y] = await both(msgs, syncs);
    expect(summary(y)).toEqual(summary(x));
    return summary(y);
  }

  const rows = (msgs: BackendMsg[]) => msgs.filter((m) => m.type === 'D').map((m) => (m as { values: (Buffer | null)[] }).values.map((v) => v?.toString() ?? null));

  it('reports the ParameterStatus set PostgreSQL reports, with the same values where they are fixed', () => {
    for (const name of a.params.keys()) expect(b.params.has(name), name).toBe(true);
    for (const name of ['client_encoding', 'DateStyle', 'integer_datetimes', 'IntervalStyle', 'standard_conforming_strings', 'server_encoding', 'TimeZone', 'application_name', 'session_authorization', 'in_hot_standby', 'default_transaction_read_only']) {
      expect(`${name}=${b.params.get(name)}`).toBe(`${name}=${a.params.get(name)}`);
    }
    expect(b.params.get('server_version')).toBe('16.4');
    expect(b.pid).not.toBe(0);
  });

  it('max_rows suspends the portal and later Executes resume it, like Postgres', async () => {
    const seq = await same([
      serialize.parse({ text: VALUES4 }),
      bindMessage({}),
      serialize.execute({ rows: 2 }),
      serialize.execute({ rows: 2 }),
      serialize.execute({ rows: 2 }),
      serialize.sync(),
    ]);
    expect(seq.filter((s) => s === 's').length).toBeGreaterThan(0);
    const [x, y] = await both([serialize.parse({ text: VALUES4 }), bindMessage({}), serialize.execute({ rows: 3 }), serialize.execute({ rows: 3 }), serialize.sync()]);
    expect(summary(y)).toEqual(summary(x));
    expect(rows(y)).toEqual([['1'], ['2'], ['3'], ['4']]);
    expect(rows(y)).toEqual(rows(x));
  });

  it('keeps a suspended named portal across Flush, inside a transaction, until COMMIT', async () => {
    await same([serialize.query('BEGIN')]);
    const seq = await same([
      serialize.parse({ name: 'st', text: VALUES4 }),
      bindMessage({ portal: 'p1', statement: 'st' }),
      serialize.execute({ portal: 'p1', rows: 1 }),
      serialize.flush(),
      serialize.sync(),
    ]);
    expect(seq).toEqual(['1', '2', 'D', 's', 'Z:T']);
    const [x, y] = await both([serialize.execute({ portal: 'p1', rows: 0 }), serialize.sync()]);
    expect(summary(y)).toEqual(summary(x));
    expect(rows(y)).toEqual([['2'], ['3'], ['4']]);
    await same([serialize.query('COMMIT')]);
    // After the transaction the portal is gone.
    const gone = await same([serialize.execute({ portal: 'p1', rows: 0 }), serialize.sync()]);
    expect(gone).toEqual(['E:34000', 'Z:I']);
    await same([serialize.close({ type: 'S', name: 'st' }), serialize.sync()]);
  });

  it('Describe S answers ParameterDescription + RowDescription (inferred parameter types)', async () => {
    const msgs = [serialize.parse({ name: 'd1', text: 'select $1::integer + 1 as v, $2::text as s' }), serialize.describe({ type: 'S', name: 'd1' }), serialize.sync()];
    const [x, y] = await both(msgs);
    expect(summary(y)).toEqual(summary(x));
    const oids = (m: BackendMsg[]) => (m.find((k) => k.type === 't') as { oids: number[] }).oids;
    expect(oids(y)).toEqual([23, 25]);
    expect(oids(x)).toEqual([23, 25]);
    const fields = (m: BackendMsg[]) => (m.find((k) => k.type === 'T') as { fields: FieldDesc[] }).fields.map((f) => [f.name, f.typeOid, f.format]);
    expect(fields(y)).toEqual(fields(x));
    await same([serialize.close({ type: 'S', name: 'd1' }), serialize.sync()]);
  });

  it('declared parameter OIDs win over inference; Describe P has no ParameterDescription', async () => {
    const [x, y] = await both([
      serialize.parse({ text: 'select $1::bigint as v', types: [20] }),
      serialize.describe({ type: 'S' }),
      bindMessage({ params: ['5'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    expect(summary(y)).toEqual(summary(x));
    expect(summary(y)).toEqual(['1', 't', 'T', '2', 'T', 'D', 'C:SELECT 1', 'Z:I']);
  });

  it('answers NoData for statements without rows and reports T inside a block (psycopg 3 BEGIN)', async () => {
    const seq = await same([serialize.parse({ text: 'BEGIN' }), bindMessage({}), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
    expect(seq).toEqual(['1', '2', 'n', 'C:BEGIN', 'Z:T']);
    const s2 = await same([serialize.parse({ text: 'COMMIT' }), serialize.describe({ type: 'S' }), bindMessage({}), serialize.execute({}), serialize.sync()]);
    expect(s2).toEqual(['1', 't', 'n', '2', 'C:COMMIT', 'Z:I']);
  });

  it('unknown statement → 26000, unknown portal → 34000, then everything up to Sync is skipped', async () => {
    const s1 = await same([bindMessage({ statement: 'nope' }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
    expect(s1).toEqual(['E:26000', 'Z:I']);
    const s2 = await same([serialize.describe({ type: 'P', name: 'nope' }), serialize.parse({ text: 'select 1' }), serialize.sync()]);
    expect(s2).toEqual(['E:34000', 'Z:I']);
    const s3 = await same([serialize.describe({ type: 'S', name: 'nope' }), serialize.sync()]);
    expect(s3).toEqual(['E:26000', 'Z:I']);
    const s4 = await same([serialize.execute({ portal: 'nope' }), serialize.sync()]);
    expect(s4).toEqual(['E:34000', 'Z:I']);
  });

  it('a failed Execute inside a block turns the status to E until ROLLBACK', async () => {
    await same([serialize.query('BEGIN')]);
    const s1 = await same([serialize.parse({ text: 'select 1/0::integer as x, nope' }), bindMessage({}), serialize.execute({}), serialize.sync()]);
    expect(s1.at(-1)).toBe('Z:E');
    const s2 = await same([serialize.parse({ text: 'select 1' }), bindMessage({}), serialize.execute({}), serialize.sync()]);
    expect(s2).toEqual(['E:25P02', 'Z:E']);
    const s3 = await same([serialize.parse({ text: 'ROLLBACK' }), bindMessage({}), serialize.execute({}), serialize.sync()]);
    expect(s3).toEqual(['1', '2', 'C:ROLLBACK', 'Z:I']);
  });

  it('Sync drops the unnamed portal; named statements survive; Close is idempotent', async () => {
    await same([serialize.parse({ name: 'keep', text: VALUES4 }), bindMessage({ statement: 'keep' }), serialize.sync()]);
    const s1 = await same([serialize.execute({}), serialize.sync()]);
    expect(s1).toEqual(['E:34000', 'Z:I']);
    const s2 = await same([bindMessage({ statement: 'keep' }), serialize.execute({ rows: 0 }), serialize.sync()]);
    expect(s2).toEqual(['2', 'D', 'D', 'D', 'D', 'C:SELECT 4', 'Z:I']);
    const s3 = await same([serialize.close({ type: 'S', name: 'keep' }), serialize.close({ type: 'S', name: 'keep' }), serialize.close({ type: 'P', name: 'zz' }), serialize.sync()]);
    expect(s3).toEqual(['3', '3', '3', 'Z:I']);
    const s4 = await same([serialize.parse({ name: 'dup', text: 'select 1' }), serialize.parse({ name: 'dup', text: 'select 2' }), serialize.sync()]);
    expect(s4).toEqual(['1', 'E:42P05', 'Z:I']);
    await same([serialize.close({ type: 'S', name: 'dup' }), serialize.sync()]);
  });

  it('rejects several statements in one Parse, and answers an empty Parse with EmptyQueryResponse', async () => {
    const s1 = await same([serialize.parse({ text: 'select 1; select 2' }), serialize.sync()]);
    expect(s1).toEqual(['E:42601', 'Z:I']);
    const s2 = await same([serialize.parse({ text: '' }), bindMessage({}), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
    expect(s2).toEqual(['1', '2', 'n', 'I', 'Z:I']);
  });

  it('checks Bind parameter and format counts (08P01 without closing the connection)', async () => {
    const s1 = await same([serialize.parse({ text: 'select $1::integer as v' }), bindMessage({ params: [] }), serialize.sync()]);
    expect(s1).toEqual(['1', 'E:08P01', 'Z:I']);
    const s2 = await same([serialize.parse({ text: 'select 1 as a, 2 as b' }), bindMessage({ resultFormats: [0, 1, 0] }), serialize.sync()]);
    expect(s2).toEqual(['1', 'E:08P01', 'Z:I']);
    const s3 = await same([serialize.query('select 1 as still_alive')]);
    expect(s3).toEqual(['T', 'D', 'C:SELECT 1', 'Z:I']);
  });

  it("honours per-column result formats on a cached statement without Describe (PgJDBC's 6th run)", async () => {
    const sql = "select 7::bigint as a, 'txt'::varchar as b, 2.50::decimal(10,2) as c, true as d";
    b.send(serialize.parse({ name: 'S_1', text: sql }), serialize.describe({ type: 'S', name: 'S_1' }), serialize.sync());
    const described = await b.readUntil((m) => m.type === 'Z');
    expect(summary(described)).toEqual(['1', 't', 'T', 'Z:I']);
    b.send(bindMessage({ statement: 'S_1', resultFormats: [1, 0, 1, 0] }), serialize.execute({}), serialize.sync());
    const run = await b.readUntil((m) => m.type === 'Z');
    expect(summary(run)).toEqual(['2', 'D', 'C:SELECT 1', 'Z:I']);
    const values = (run.find((m) => m.type === 'D') as { values: Buffer[] }).values;
    expect(values[0].equals(Buffer.from('0000000000000007', 'hex'))).toBe(true);
    expect(values[1].toString()).toBe('txt');
    expect(values[2].toString('hex')).toBe('000200000000000200021388');
    expect(values[3].toString()).toBe('t');
    // The same statement as a one-format-for-all binary cursor (psycopg 3 binary=True).
    b.send(bindMessage({ statement: 'S_1', resultFormats: [1] }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync());
    const bin = await b.readUntil((m) => m.type === 'Z');
    const t = bin.find((m) => m.type === 'T') as { fields: FieldDesc[] };
    expect(t.fields.map((f) => f.format)).toEqual([1, 1, 1, 1]);
    const d = (bin.find((m) => m.type === 'D') as { values: Buffer[] }).values;
    expect(d[3].equals(Buffer.from([1]))).toBe(true);
  });

  it('decodes binary parameters into the canonical text Postgres itself would print', async () => {
    const cases: { oid: number; bytes: Buffer }[] = [
      { oid: 21, bytes: Buffer.from('ff85', 'hex') },
      { oid: 23, bytes: Buffer.from('7fffffff', 'hex') },
      { oid: 20, bytes: Buffer.from('8000000000000000', 'hex') },
      { oid: 700, bytes: Buffer.from('3dcccccd', 'hex') },
      { oid: 701, bytes: Buffer.from('3fb999999999999a', 'hex') },
      { oid: 16, bytes: Buffer.from([1]) },
      { oid: 1700, bytes: Buffer.from('0003000140000005000109291a7c', 'hex') },
      { oid: 1700, bytes: Buffer.from('0000000000000003', 'hex') },
      { oid: 1700, bytes: Buffer.from('00000000c0000000', 'hex') },
      { oid: 1700, bytes: Buffer.from('0001fffe00000008000c', 'hex') },
      { oid: 17, bytes: Buffer.from('00ff10', 'hex') },
      { oid: 1082, bytes: Buffer.from('ffffd8b0', 'hex') },
      { oid: 1083, bytes: Buffer.from('0000000bbd3ef8c0', 'hex') },
      { oid: 1114, bytes: Buffer.from('0002c2b6d0d5a1e0', 'hex') },
      { oid: 1184, bytes: Buffer.from('fffdc2b6d0d5a1e1', 'hex') },
      { oid: 1186, bytes: Buffer.from('fffffffc2c6e8a80fffffffd0000000e', 'hex') },
      { oid: 2950, bytes: Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex') },
      { oid: 25, bytes: Buffer.from('héllo', 'utf8') },
      { oid: 114, bytes: Buffer.from('{"a":1}', 'utf8') },
      { oid: 3802, bytes: Buffer.concat([Buffer.from([1]), Buffer.from('{"a": 1}', 'utf8')]) },
      { oid: 1007, bytes: Buffer.from('0000000100000001000000170000000300000001' + '00000004' + '00000001' + 'ffffffff' + '00000004' + 'fffffffe', 'hex') },
      { oid: 1009, bytes: Buffer.from('000000010000000000000019000000020000000100000003612062' + '00000000', 'hex') },
    ];
    for (const c of cases) {
      // `select $1` prints the parameter with its type's output function: the canonical text.
      a.send(
        serialize.parse({ text: 'select $1 as v', types: [c.oid] }),
        bindMessage({ paramFormats: [1], params: [c.bytes] }),
        serialize.execute({}),
        serialize.sync(),
      );
      const theirs = await a.readUntil((m) => m.type === 'Z');
      const err = theirs.find((m) => m.type === 'E');
      if (err) throw new Error(`PostgreSQL rejected oid ${c.oid}: ${JSON.stringify(err)}`);
      let expected = (theirs.find((m) => m.type === 'D') as { values: Buffer[] }).values[0].toString();
      // jsonb output is normalised by Postgres (`{"a": 1}`); the gateway passes the client's text on.
      if (c.oid === 3802) expected = '{"a": 1}';
      const before = gw.engine.stats.params.length;
      b.send(
        serialize.parse({ text: 'select $1::varchar as v', types: [c.oid] }),
        bindMessage({ paramFormats: [1], params: [c.bytes] }),
        serialize.execute({}),
        serialize.sync(),
      );
      const ours = await b.readUntil((m) => m.type === 'Z');
      expect(summary(ours).filter((s) => s.startsWith('E'))).toEqual([]);
      const got = gw.engine.stats.params[before]?.[0]?.text;
      expect(`${c.oid}: ${got}`).toBe(`${c.oid}: ${expected}`);
    }
  });

  it('rejects malformed binary parameters (short: 08P01, long: 22P03), keeping the session', async () => {
    for (const [bytes, code] of [[Buffer.from([1, 2]), '08P01'], [Buffer.from([0, 0, 0, 1, 2]), '22P03']] as const) {
      const [x, y] = await both([
        serialize.parse({ text: 'select $1::integer as v', types: [23] }),
        bindMessage({ paramFormats: [1], params: [bytes] }),
        serialize.execute({}),
        serialize.sync(),
      ]);
      expect(summary(y)).toEqual(summary(x));
      expect(summary(y)).toEqual(['1', `E:${code}`, 'Z:I']);
    }
  });

  it('runs COPY (query) TO STDOUT through the extended protocol like Postgres', async () => {
    const sql = "COPY (select 1 as a, 'x y' as b union all select 2, NULL) TO STDOUT WITH (FORMAT csv, HEADER)";
    const [x, y] = await both([serialize.parse({ text: sql }), bindMessage({}), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
    expect(summary(y)).toEqual(summary(x));
    expect(summary(y)).toEqual(['1', '2', 'n', 'H', 'd', 'd', 'd', 'c', 'C:COPY 2', 'Z:I']);
    const data = (m: BackendMsg[]) => m.filter((k) => k.type === 'd').map((k) => (k as { data: Buffer }).data.toString()).join('');
    expect(data(y)).toBe(data(x));
  });

  it('pipelines many Parse/Bind/Execute groups before reading (pgbench -M extended style)', async () => {
    const msgs: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      msgs.push(serialize.parse({ text: 'select $1::integer * 2 as v' }), bindMessage({ params: [String(i)] }), serialize.execute({}), serialize.sync());
    }
    b.send(...msgs);
    const got: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await b.readUntil((m) => m.type === 'Z');
      got.push(rows(r)[0][0] as string);
    }
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => String(i * 2)));
  });
});
