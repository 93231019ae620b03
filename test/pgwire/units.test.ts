/**
 * Unit tests of the wire layer's pure parts: the statement splitter, COPY option parsing,
 * reportable SET detection, numeric and date/time text, and binary numeric layouts at the
 * edges. (Everything here is also exercised end to end against PostgreSQL elsewhere.)
 */
import { describe, expect, it } from 'vitest';
import { parseCopyToStdout } from '../../server/pgwire/copy.js';
import { TimeZone, formatDate, formatInterval, formatTimestamp, formatTimestamptz, civilFromDays, daysFromCivil } from '../../server/pgwire/datetime.js';
import { tokenize } from '../../server/pgwire/lexer.js';
import { numericBinaryFromText, numericTextFromBinary, scaledToText } from '../../server/pgwire/numeric.js';
import { reportedSetting } from '../../server/pgwire/session-settings.js';
import { splitStatements, codePointsBefore } from '../../server/pgwire/split.js';
import { pgTypeFor } from '../../server/pgwire/types.js';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

describe('splitStatements', () => {
  it('splits on top-level semicolons only', () => {
    expect(texts('select 1; select 2;')).toEqual(['select 1', 'select 2']);
    expect(texts("select ';' ; select 'it''s;'")).toEqual(["select ';'", "select 'it''s;'"]);
    expect(texts(`select "a;b" from t; select 2`)).toEqual(['select "a;b" from t', 'select 2']);
    expect(texts("select E'\\';' as x; select 2")).toEqual(["select E'\\';' as x", 'select 2']);
    expect(texts("select 'a\\'; select 2")).toEqual(["select 'a\\'", 'select 2']);
    expect(texts('select $$a;b$$, $tag$ ; $$ ; $tag$; select $1')).toEqual(['select $$a;b$$, $tag$ ; $$ ; $tag$', 'select $1']);
    expect(texts('select 1 -- ; comment\n; /* ; /* nested ; */ ; */ select 2')).toEqual(['select 1', 'select 2']);
  });

  it('drops empty statements and reports offsets for error positions', () => {
    expect(splitStatements('  ;; -- only a comment\n ; ')).toEqual([]);
    const parts = splitStatements('  select 1;\n  select x');
    expect(parts.map((p) => p.offset)).toEqual([2, 14]);
    expect(codePointsBefore('é😀x', 3)).toBe(2);
  });

  it('keeps operators, parameters and numbers apart', () => {
    expect(tokenize('a<>$1+1.5e3--c').map((t) => `${t.kind}:${t.text}`)).toEqual(['word:a', 'op:<>', 'param:$1', 'op:+', 'number:1.5e3']);
    expect(tokenize('x$y').map((t) => t.text)).toEqual(['x$y']);
  });
});

describe('COPY … TO STDOUT parsing', () => {
  const parse = (sql: string) => parseCopyToStdout(sql, splitStatements(sql)[0].tokens);

  it('recognises psql\'s \\copy form and both option syntaxes', () => {
    const a = parse('COPY ( select 1, (2) ) TO STDOUT');
    expect(a).toMatchObject({ query: 'select 1, (2)', format: 'text', delimiter: '\t', nullString: '\\N', header: false });
    const b = parse("COPY (select 1) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'n')");
    expect(b).toMatchObject({ format: 'csv', header: true, delimiter: ';', nullString: 'n' });
    const c = parse("copy (select 1) to stdout with csv header delimiter as '|'");
    expect(c).toMatchObject({ format: 'csv', header: true, delimiter: '|', nullString: '' });
    const d = parse('COPY party.t (a, "B") TO STDOUT');
    expect(d?.query).toBe('SELECT a, "B" FROM party.t');
  });

  it('leaves other statements to the engine and rejects bad options', () => {
    expect(parse('COPY t FROM STDIN')).toBeNull();
    expect(parse("COPY (select 1) TO '/tmp/x'")).toBeNull();
    expect(parse('select 1')).toBeNull();
    expect(() => parse('COPY (select 1) TO STDOUT (FORMAT binary)')).toThrow(/BINARY/);
    expect(() => parse('COPY (select 1) TO STDOUT (bogus 1)')).toThrow(/not recognized/);
  });
});

describe('reportable settings', () => {
  const rs = (sql: string) => reportedSetting(splitStatements(sql)[0].tokens);
  it('recognises the SET forms clients use', () => {
    expect(rs("SET TIME ZONE 'Europe/Berlin'")).toEqual({ name: 'TimeZone', value: 'Europe/Berlin' });
    expect(rs("set timezone to 'UTC'")).toEqual({ name: 'TimeZone', value: 'UTC' });
    expect(rs('SET SESSION TIME ZONE LOCAL')).toEqual({ name: 'TimeZone', value: null });
    expect(rs("SET application_name = 'PostgreSQL JDBC Driver'")).toEqual({ name: 'application_name', value: 'PostgreSQL JDBC Driver' });
    expect(rs("SET DateStyle = 'ISO'")).toEqual({ name: 'DateStyle', value: 'ISO' });
    expect(rs('SET extra_float_digits = 3')).toBeNull();
    expect(rs('RESET TimeZone')).toEqual({ name: 'TimeZone', value: null });
    expect(rs('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED')).toBeNull();
  });
});

describe('date/time text', () => {
  it('round-trips civil dates across the whole range', () => {
    for (const days of [-2_000_000, -719_528, -1, 0, 1, 10_957, 2_932_896, 2_000_000_000]) {
      const { y, m, d } = civilFromDays(days);
      expect(daysFromCivil(y, m, d)).toBe(days);
    }
  });

  it('formats like Postgres with DateStyle ISO and IntervalStyle postgres', () => {
    expect(formatDate(0)).toBe('1970-01-01');
    expect(formatDate(daysFromCivil(0, 12, 31))).toBe('0001-12-31 BC');
    expect(formatTimestamp(-1n)).toBe('1969-12-31 23:59:59.999999');
    expect(formatTimestamptz(0n, TimeZone.resolve('Asia/Kolkata') as TimeZone)).toBe('1970-01-01 05:30:00+05:30');
    expect(formatInterval(0, 0, 0n)).toBe('00:00:00');
    expect(formatInterval(14, 3, 14_706_500_000n)).toBe('1 year 2 mons 3 days 04:05:06.5');
    expect(formatInterval(-14, 3, -14_706_000_000n)).toBe('-1 years -2 mons +3 days -04:05:06');
    expect(formatInterval(0, -1, 7_200_000_000n)).toBe('-1 days +02:00:00');
    expect(formatInterval(1, 1, 0n)).toBe('1 mon 1 day');
  });
});

describe('numeric', () => {
  it('formats scaled values and binary layouts exactly', () => {
    expect(scaledToText(-5n, 3)).toBe('-0.005');
    expect(scaledToText(170141183460469231731687303715884105727n, 0)).toBe('170141183460469231731687303715884105727');
    expect(numericBinaryFromText('-0.00').toString('hex')).toBe('0000000000000002');
    expect(numericBinaryFromText('Infinity').toString('hex')).toBe('00000000d0000000');
    for (const t of ['0', '1', '-1.5', '0.0001', '12345678901234567890.000000001', '10000', '99990000']) {
      expect(numericTextFromBinary(numericBinaryFromText(t))).toBe(t);
    }
  });
});

describe('type mapping', () => {
  it('maps DuckDB type strings to Postgres OIDs and typmods', () => {
    const m = (t: string) => {
      const p = pgTypeFor(t);
      return [p.oid, p.typlen, p.typmod];
    };
    expect(m('DECIMAL(10,2)')).toEqual([1700, -1, 655366]);
    expect(m('DECIMAL')).toEqual([1700, -1, (18 << 16) + 3 + 4]);
    expect(m('HUGEINT')).toEqual([1700, -1, -1]);
    expect(m('UINTEGER')).toEqual([20, 8, -1]);
    expect(m('TIMESTAMP WITH TIME ZONE')).toEqual([1184, 8, -1]);
    expect(m('TIMESTAMP_NS')).toEqual([1114, 8, -1]);
    expect(m('INTEGER[]')).toEqual([1007, -1, -1]);
    expect(m('DECIMAL(10,2)[]')).toEqual([1231, -1, 655366]);
    expect(m('VARCHAR[]')).toEqual([1009, -1, -1]);
    expect(m('INTEGER[][]')).toEqual([25, -1, -1]);
    expect(m('INTEGER[3]')).toEqual([25, -1, -1]);
    expect(m('STRUCT("a" INTEGER)')).toEqual([114, -1, -1]);
    expect(m("ENUM('a', 'b')")).toEqual([25, -1, -1]);
    expect(m('MAP(VARCHAR, INTEGER)')).toEqual([25, -1, -1]);
    expect(m('JSON')).toEqual([114, -1, -1]);
    expect(m('UUID')).toEqual([2950, 16, -1]);
  });
});
