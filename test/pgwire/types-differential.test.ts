/**
 * The gold standard for type encodings: the same typed SELECT goes to real PostgreSQL 15 and
 * to the gateway (over the test DuckDB engine), in text and in binary result format, and the
 * RowDescription (type OID, typlen, typmod, format) and the raw DataRow bytes must be equal.
 * Where DuckDB spells a literal differently, each case carries its own SQL per side.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestGateway, type TestGateway } from '../support/pgwire-gateway.js';
import { RawPgClient, type BackendMsg, type FieldDesc } from '../support/pgwire-raw-client.js';

interface Case {
  name: string;
  pg: string;
  duck?: string;
}

const same = (name: string, expr: string): Case => ({ name, pg: expr });
const both = (name: string, pg: string, duck: string): Case => ({ name, pg, duck });

const CASES: Case[] = [
  same('bool true', 'true'),
  same('bool false', 'false'),
  same('int2 max', '32767::int2'),
  same('int2 min', '(-32768)::int2'),
  same('int4 max', '2147483647::int4'),
  same('int4 min', '(-2147483648)::int4'),
  same('int8 max', '9223372036854775807::int8'),
  same('int8 min', '(-9223372036854775808)::int8'),
  same('int8 near 2^53', '9007199254740993::int8'),
  same('numeric(10,3)', '123.456::numeric(10,3)'),
  same('numeric negative small', '(-0.000123)::numeric(10,6)'),
  same('numeric zero with scale', '0::numeric(5,2)'),
  same('numeric many digits', '12345678901234567890.123456789::numeric(38,9)'),
  same('numeric 10000', '10000::numeric(10,0)'),
  same('numeric trailing zeros', '1.10::numeric(12,4)'),
  same('numeric tiny', '0.0000000001::numeric(20,10)'),
  same('numeric 38 digits', '(-99999999999999999999999999999999999999)::numeric(38,0)'),
  both('numeric from hugeint', '170141183460469231731687303715884105727::numeric', '170141183460469231731687303715884105727::hugeint'),
  same('float4 1.5', '1.5::float4'),
  same('float4 0.1', '0.1::float4'),
  same('float4 max', '3.4028235e38::float4'),
  same('float4 1234567', '1234567::float4'),
  same('float4 123456', '123456::float4'),
  same('float4 1e-5', '0.00001::float4'),
  same('float4 -0.3', '(-0.3)::float4'),
  same('float4 NaN', "'NaN'::float4"),
  same('float4 -Infinity', "'-Infinity'::float4"),
  same('float8 0.1', '0.1::float8'),
  same('float8 1/3', '(1::float8 / 3)'),
  same('float8 1e15', '1e15::float8'),
  same('float8 123456789012345', '123456789012345::float8'),
  same('float8 1e-5', '0.00001::float8'),
  same('float8 0.0001', '0.0001::float8'),
  same('float8 max', '1.7976931348623157e308::float8'),
  same('float8 min subnormal', '5e-324::float8'),
  same('float8 -2.5e100', '(-2.5e100)::float8'),
  same('float8 Infinity', "'Infinity'::float8"),
  same('text unicode', "'héllo wörld ✓'::text"),
  same('text empty', "''::text"),
  // DuckDB has one string type; VARCHAR is presented as text (OID 25), never varchar (1043).
  both('varchar as text', "'abc'::text", "'abc'::varchar"),
  same('float8 -0', "'-0'::float8"),
  // Ryu rejects decimals on the rounding interval's edge; JavaScript's shortest accepts them.
  same('float4 edge 50232288', "'50232288'::float4"),
  same('float4 tie 2360343.25', "'2360343.25'::float4"),
  same('float8 edge 2964198437500000000', "'2964198437500000000'::float8"),
  same('float8 edge 516912331562500000', "'516912331562500000'::float8"),
  same('date far future', "'5874897-12-31'::date"),
  both('timestamp BC', "'0001-06-01 12:00:00 BC'::timestamp", "'0001-06-01 (BC) 12:00:00'::timestamp"),
  same('interval many hours', "'100 hours 0.25 seconds'::interval"),
  both('interval all negative', "'-1 years -2 mons -3 days -04:05:06'::interval", "-(interval '1 year 2 months 3 days 4 hours 5 minutes 6 seconds')"),
  same('date', "'2024-02-29'::date"),
  same('date pre-2000', "'1999-12-31'::date"),
  same('date 1970', "'1970-01-01'::date"),
  same('date old', "'1066-10-14'::date"),
  both('date BC', "'0044-03-15 BC'::date", "'0044-03-15 (BC)'::date"),
  same('date infinity', "'infinity'::date"),
  same('date -infinity', "'-infinity'::date"),
  same('time', "'13:45:06.789'::time"),
  same('time midnight', "'00:00:00'::time"),
  same('time max µs', "'23:59:59.999999'::time"),
  same('timestamp µs', "'2024-01-02 03:04:05.123456'::timestamp"),
  same('timestamp moon', "'1969-07-20 20:17:40'::timestamp"),
  same('timestamp 1900 half second', "'1900-01-01 00:00:00.5'::timestamp"),
  same('timestamp infinity', "'infinity'::timestamp"),
  same('timestamp -infinity', "'-infinity'::timestamp"),
  same('timestamptz', "'2024-01-02 03:04:05.123456+02'::timestamptz"),
  same('timestamptz pre-epoch', "'1960-06-01 12:00:00+00'::timestamptz"),
  same('interval mixed', "'1 year 2 mons 3 days 04:05:06.5'::interval"),
  same('interval 14 months', "'14 months'::interval"),
  same('interval negative months', "'-14 months'::interval"),
  both('interval -1 day +2h', "'-1 days +02:00:00'::interval", "interval '-1 day' + interval '2 hours'"),
  same('interval -3h', "'-3 hours'::interval"),
  same('interval zero', "'0 seconds'::interval"),
  same('interval 1 day', "'1 day'::interval"),
  same('interval µs', "'0.000001 seconds'::interval"),
  both('bytea', "'\\x00ff10'::bytea", "'\\x00\\xFF\\x10'::blob"),
  same('bytea empty', "''::bytea"),
  same('uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
  same('json', `'{"a":[1,2],"b":"x"}'::json`),
  both('int4[] with NULL', 'ARRAY[1,2,NULL]::int4[]', '[1,2,NULL]::int4[]'),
  both('int8[]', 'ARRAY[9223372036854775807,-1]::int8[]', '[9223372036854775807,-1]::int8[]'),
  both('int2[]', 'ARRAY[1,-2]::int2[]', '[1,-2]::int2[]'),
  both('text[] quoting', `ARRAY['a','b c','','NULL','x"y','back\\slash','{}',NULL]::text[]`, `['a','b c','','NULL','x"y','back\\slash','{}',NULL]::varchar[]`),
  both('float8[]', 'ARRAY[1.5,NULL,0.1]::float8[]', '[1.5,NULL,0.1]::float8[]'),
  both('float4[]', 'ARRAY[1.5,0.1]::float4[]', '[1.5,0.1]::float4[]'),
  both('numeric(10,2)[]', 'ARRAY[1.50,-2.25]::numeric(10,2)[]', '[1.50,-2.25]::numeric(10,2)[]'),
  both('bool[]', 'ARRAY[true,false,NULL]::bool[]', '[true,false,NULL]::bool[]'),
  both('date[]', "ARRAY['2024-01-01','1999-12-31']::date[]", "['2024-01-01','1999-12-31']::date[]"),
  both('timestamp[]', "ARRAY['2024-01-01 10:00:00']::timestamp[]", "['2024-01-01 10:00:00']::timestamp[]"),
  both('empty int4[]', 'ARRAY[]::int4[]', '[]::int4[]'),
  both('uuid[]', "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[]", "['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[]"),
  both('bytea[]', "ARRAY['\\x0102'::bytea]", "['\\x01\\x02'::blob]"),
  same('NULL int4', 'NULL::int4'),
  same('NULL text', 'NULL::text'),
  same('NULL numeric', 'NULL::numeric(10,2)'),
  same('NULL timestamptz', 'NULL::timestamptz'),
];

interface Answer {
  fields: FieldDesc[];
  rows: (Buffer | null)[][];
  error?: string;
}

function answer(msgs: BackendMsg[]): Answer {
  const out: Answer = { fields: [], rows: [] };
  for (const m of msgs) {
    if (m.type === 'T') out.fields = (m as { fields: FieldDesc[] }).fields;
    if (m.type === 'D') out.rows.push((m as { values: (Buffer | null)[] }).values);
    if (m.type === 'E') out.error = JSON.stringify((m as { fields: unknown }).fields);
  }
  return out;
}

const show = (b: Buffer | null | undefined) => (b == null ? 'NULL' : `${b.toString('hex')} (${JSON.stringify(b.toString('utf8'))})`);

describe('type encodings: gateway vs PostgreSQL 15, byte for byte', () => {
  let pg: PostgresServer;
  let gw: TestGateway;
  let pgClient: RawPgClient;
  let gwClient: RawPgClient;

  beforeAll(async () => {
    [pg, gw] = await Promise.all([startPostgres(), startTestGateway()]);
    pgClient = await RawPgClient.connect(pg.port, { user: 'postgres', database: 'postgres', TimeZone: 'UTC' });
    gwClient = await RawPgClient.connect(gw.port, { user: 'postgres', database: 'postgres', TimeZone: 'UTC' });
  }, 60_000);

  afterAll(async () => {
    await gwClient?.end();
    await pgClient?.end();
    await gw?.stop();
    await pg?.stop();
  });

  for (const format of [0, 1]) {
    it(`${format === 0 ? 'text' : 'binary'} format: every case matches`, async () => {
      const mismatches: string[] = [];
      for (const c of CASES) {
        const theirs = answer(await pgClient.extended(`select ${c.pg} as v`, { resultFormats: [format] }));
        const ours = answer(await gwClient.extended(`select ${c.duck ?? c.pg} as v`, { resultFormats: [format] }));
        if (theirs.error !== undefined) throw new Error(`PostgreSQL rejected case ${c.name}: ${theirs.error}`);
        if (ours.error !== undefined) {
          mismatches.push(`${c.name}: gateway error ${ours.error}`);
          continue;
        }
        const f1 = theirs.fields[0];
        const f2 = ours.fields[0];
        const desc = (f: FieldDesc | undefined) => (f === undefined ? 'none' : `oid=${f.typeOid} len=${f.typlen} mod=${f.typmod} fmt=${f.format}`);
        if (desc(f1) !== desc(f2)) mismatches.push(`${c.name}: RowDescription pg ${desc(f1)} vs ours ${desc(f2)}`);
        const v1 = theirs.rows[0]?.[0];
        const v2 = ours.rows[0]?.[0];
        const eq = (v1 === null && v2 === null) || (v1 != null && v2 != null && v1.equals(v2));
        if (!eq) mismatches.push(`${c.name}: pg ${show(v1)} vs ours ${show(v2)}`);
      }
      expect(mismatches).toEqual([]);
    }, 60_000);
  }

  it('simple-query text results match too (multi-column row, NULLs)', async () => {
    const pgSql = "select 1::int4 as a, NULL::text as b, 'x'::text as c, 2.50::numeric(5,2) as d, '2024-01-01'::date as e";
    const theirs = answer(await pgClient.query(pgSql));
    const ours = answer(await gwClient.query(pgSql));
    expect(ours.fields.map((f) => [f.name, f.typeOid, f.typmod])).toEqual(theirs.fields.map((f) => [f.name, f.typeOid, f.typmod]));
    expect(ours.rows).toEqual(theirs.rows);
  });

  /** Runs `select k, v from (values …) order by k` on both sides and compares column v per row. */
  async function compareValues(label: string, literals: { pg: string; duck: string }[], format: number): Promise<string[]> {
    const values = (side: 'pg' | 'duck') => literals.map((l, i) => `(${i}, ${l[side]})`).join(', ');
    const theirs = answer(await pgClient.extended(`select v from (values ${values('pg')}) t(k, v) order by k`, { resultFormats: [format] }));
    const ours = answer(await gwClient.extended(`select v from (values ${values('duck')}) t(k, v) order by k`, { resultFormats: [format] }));
    if (theirs.error !== undefined) throw new Error(`PostgreSQL rejected ${label}: ${theirs.error}`);
    if (ours.error !== undefined) return [`${label}: gateway error ${ours.error}`];
    const bad: string[] = [];
    expect(ours.rows.length).toBe(theirs.rows.length);
    theirs.rows.forEach((row, i) => {
      const a = row[0];
      const b = ours.rows[i][0];
      if (!(a === null ? b === null : b !== null && a.equals(b))) bad.push(`${label} ${literals[i].pg}: pg ${show(a)} vs ours ${show(b)}`);
    });
    return bad;
  }

  it('random float4 and float8 values print like PostgreSQL (shortest round-trip)', async () => {
    const f4: { pg: string; duck: string }[] = [];
    const f8: { pg: string; duck: string }[] = [];
    const bytes = randomBytes(8 * 1500);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < 1500; i++) {
      const x4 = view.getFloat32(i * 4);
      if (Number.isFinite(x4)) f4.push({ pg: `'${x4.toPrecision(9)}'::float4`, duck: `'${x4.toPrecision(9)}'::float4` });
      const x8 = view.getFloat64(i * 8);
      if (Number.isFinite(x8)) f8.push({ pg: `'${String(x8)}'::float8`, duck: `'${String(x8)}'::float8` });
    }
    // Plus human-scale values, where the fixed/exponent thresholds matter.
    for (let i = 0; i < 500; i++) {
      const v = (randomInt(1, 2 ** 31) / 2 ** randomInt(0, 40)) * 10 ** randomInt(-8, 12);
      f4.push({ pg: `'${Math.fround(v).toPrecision(9)}'::float4`, duck: `'${Math.fround(v).toPrecision(9)}'::float4` });
      f8.push({ pg: `'${String(v)}'::float8`, duck: `'${String(v)}'::float8` });
    }
    const bad = [...(await compareValues('float4', f4, 0)), ...(await compareValues('float8', f8, 0)), ...(await compareValues('float8 bin', f8, 1))];
    expect(bad.slice(0, 20)).toEqual([]);
  }, 60_000);

  it('random numerics match in text and binary', async () => {
    const cases: { pg: string; duck: string }[] = [];
    for (let i = 0; i < 600; i++) {
      const scale = randomInt(0, 20);
      const intDigits = randomInt(0, 38 - scale + 1);
      let digits = '';
      for (let k = 0; k < intDigits + scale; k++) digits += String(randomInt(0, 10));
      if (randomInt(0, 4) === 0) digits = digits.replace(/^\d{0,6}/, (m) => '0'.repeat(m.length));
      const int = digits.slice(0, intDigits) || '0';
      const frac = digits.slice(intDigits);
      const sign = randomInt(0, 2) === 0 ? '-' : '';
      const lit = `'${sign}${int}${scale > 0 ? '.' + frac : ''}'::numeric(38,${scale})`;
      cases.push({ pg: lit, duck: lit });
    }
    // One scale per query column: split by scale so VALUES does not unify the typmods.
    const bad: string[] = [];
    for (const format of [0, 1]) {
      for (let scale = 0; scale < 20; scale++) {
        const group = cases.filter((c) => c.pg.endsWith(`(38,${scale})`));
        if (group.length > 0) bad.push(...(await compareValues(`numeric fmt${format}`, group, format)));
      }
    }
    expect(bad.slice(0, 20)).toEqual([]);
  }, 60_000);

  it('random timestamps, timestamptz and dates match in text and binary', async () => {
    const ts: { pg: string; duck: string }[] = [];
    const dates: { pg: string; duck: string }[] = [];
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    for (let i = 0; i < 400; i++) {
      const y = randomInt(1, 10000);
      const mo = randomInt(1, 13);
      const d = randomInt(1, 29);
      const frac = randomInt(0, 3) === 0 ? '' : `.${pad(randomInt(0, 1_000_000), 6)}`;
      const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(randomInt(0, 24), 2)}:${pad(randomInt(0, 60), 2)}:${pad(randomInt(0, 60), 2)}${frac}`;
      ts.push({ pg: `'${text}'::timestamp`, duck: `'${text}'::timestamp` });
      dates.push({ pg: `'${text.slice(0, 10)}'::date`, duck: `'${text.slice(0, 10)}'::date` });
    }
    const tz = ts.map((t) => ({ pg: t.pg.replace('::timestamp', '::timestamptz'), duck: t.duck.replace('::timestamp', '::timestamptz') }));
    const bad: string[] = [];
    for (const format of [0, 1]) {
      bad.push(...(await compareValues(`timestamp fmt${format}`, ts, format)));
      bad.push(...(await compareValues(`timestamptz fmt${format}`, tz, format)));
      bad.push(...(await compareValues(`date fmt${format}`, dates, format)));
    }
    expect(bad.slice(0, 20)).toEqual([]);
  }, 60_000);

  it('timestamptz text follows the session TimeZone (set at startup and by SET)', async () => {
    const instants = ["'2024-01-15 12:00:00+00'", "'2024-07-15 12:00:00.5+00'", "'1900-01-01 00:00:00+00'", "'2024-03-10 06:59:59+00'"];
    // Historical (pre-1970) offsets come from ICU's tz data in Node and from the system zoneinfo
    // in PostgreSQL; zones whose history the two agree on are used (Europe/Amsterdam does not).
    for (const zone of ['Europe/Berlin', 'Asia/Kolkata', 'America/St_Johns', 'America/New_York', 'Asia/Kathmandu', 'UTC']) {
      const a = await RawPgClient.connect(pg.port, { user: 'postgres', database: 'postgres', TimeZone: zone });
      const b = await RawPgClient.connect(gw.port, { user: 'postgres', database: 'postgres', TimeZone: zone });
      try {
        expect(b.params.get('TimeZone')).toBe(a.params.get('TimeZone'));
        for (const i of instants) {
          const sql = `select ${i}::timestamptz as v`;
          const x = answer(await a.query(sql)).rows[0][0]?.toString();
          const y = answer(await b.query(sql)).rows[0][0]?.toString();
          expect(`${zone} ${y}`).toBe(`${zone} ${x}`);
        }
      } finally {
        await a.end();
        await b.end();
      }
    }
    // SET TIME ZONE mid-session: ParameterStatus is reported and rendering follows.
    const a = await RawPgClient.connect(pg.port, { user: 'postgres', database: 'postgres' });
    const b = await RawPgClient.connect(gw.port, { user: 'postgres', database: 'postgres' });
    const pick = (msgs: BackendMsg[]) => msgs.filter((m) => m.type === 'S').map((m) => [(m as { name: string }).name, (m as { value: string }).value]);
    expect(pick(await b.query("SET TIME ZONE 'Asia/Tokyo'"))).toEqual(pick(await a.query("SET TIME ZONE 'Asia/Tokyo'")));
    const sql = "select '2024-01-15 12:00:00+00'::timestamptz as v";
    expect(answer(await b.query(sql)).rows[0][0]?.toString()).toBe(answer(await a.query(sql)).rows[0][0]?.toString());
    await a.end();
    await b.end();
  }, 60_000);
});
