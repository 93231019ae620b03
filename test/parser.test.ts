/**
 * Parser tests: the corpus in test/parser (format in test/parser/README.md), round trips,
 * DuckDB's own parser as a judge of the DuckDB printer, spans, error positions, fuzzing and a
 * performance sanity check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parse,
  parseExpression,
  parseStatement,
  print,
  splitStatements,
  SqlSyntaxError,
  stripSpans,
  type Expr,
  type Query,
  type Statement,
} from '../parser/index.js';
import { SqlError } from '../parser/errors.js';
import { VeilSqlParser } from '../parser/parser.js';
import { NON_RESERVED_WORDS } from '../parser/lexer.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  file: string;
  index: number;
  sql: string;
  error?: { line: number; column: number; fragment: string };
  duckdbSkip?: string;
}

function loadCorpus(kind: 'valid' | 'invalid'): Case[] {
  const dir = join(here, 'parser', kind);
  const cases: Case[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const chunks = readFileSync(join(dir, file), 'utf8').split(/^-- ----$/m);
    chunks.forEach((chunk, index) => {
      const lines = chunk.replace(/^\n/, '').split('\n');
      const c: Case = { file, index, sql: '' };
      while (lines.length > 0 && /^-- (error|duckdb|note):/.test(lines[0])) {
        const line = lines.shift()!;
        const err = /^-- error: (\d+):(\d+) (.*)$/.exec(line);
        if (err) c.error = { line: Number(err[1]), column: Number(err[2]), fragment: err[3] };
        const skip = /^-- duckdb: skip (.*)$/.exec(line);
        if (skip) c.duckdbSkip = skip[1];
      }
      c.sql = lines.join('\n').replace(/\s+$/, '');
      if (c.sql.trim() !== '') cases.push(c);
    });
  }
  return cases;
}

const valid = loadCorpus('valid');
const invalid = loadCorpus('invalid');
const label = (c: Case) => `${c.file}#${c.index + 1}: ${c.sql.replace(/\s+/g, ' ').slice(0, 70)}`;

/** Depth-first walk over every object in an AST. */
function walk(node: unknown, visit: (n: Record<string, unknown>, parentKey: string) => void, key = ''): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, visit, key);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  visit(node as Record<string, unknown>, key);
  for (const [k, v] of Object.entries(node)) if (k !== 'span') walk(v, visit, k);
}

/** Uses SECURE/LOOKUP joins, DP aggregates, privacy options, EXPLAIN DP or VeilSQL's SHOW targets. */
function usesExtensions(s: Statement): boolean {
  let found = false;
  walk(s, (n) => {
    if (n.kind === 'function' && n.dp !== undefined) found = true;
    if (n.kind === 'join' && n.mode !== 'plain') found = true;
    if (n.kind === 'select' && n.privacy !== undefined) found = true;
    if (n.kind === 'explain' && n.mode === 'dp') found = true;
  });
  return found;
}

const EXPR_KINDS = new Set([
  'number', 'string', 'boolean', 'null', 'typed_string', 'interval', 'column', 'parameter', 'unary', 'binary', 'like',
  'between', 'in_list', 'in_subquery', 'is', 'exists', 'scalar_subquery', 'quantified', 'case', 'cast', 'function',
  'extract', 'special', 'array', 'array_subquery', 'subscript', 'field', 'collate', 'row',
]);

// ───────────────────────────── grammar ─────────────────────────────

describe('grammar', () => {
  it("passes chevrotain's own validation (occurrence indices, left recursion, ambiguities)", () => {
    // Production skips validation for start-up time; it must still hold.
    const saved = process.env.VEILSQL_PARSER_VALIDATE;
    process.env.VEILSQL_PARSER_VALIDATE = '1';
    try {
      const p = new VeilSqlParser() as unknown as { definitionErrors: unknown[] };
      expect(p.definitionErrors).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.VEILSQL_PARSER_VALIDATE;
      else process.env.VEILSQL_PARSER_VALIDATE = saved;
    }
  }, 60_000);
});

// ───────────────────────────── corpus ─────────────────────────────

describe('corpus', () => {
  it('has enough cases', () => {
    expect(valid.length).toBeGreaterThanOrEqual(150);
    expect(invalid.length).toBeGreaterThanOrEqual(50);
    for (const c of invalid) expect(c.error, label(c)).toBeDefined();
  });

  describe('valid statements parse and round-trip', () => {
    it.each(valid.map((c) => [label(c), c] as const))('%s', (_l, c) => {
      const stmts = parse(c.sql);
      expect(stmts).toHaveLength(1);
      const printed = print(stmts[0], { dialect: 'veilsql' });
      let again: Statement[];
      try {
        again = parse(printed);
      } catch (e) {
        throw new Error(`reparse failed: ${(e as Error).message}\n${printed}`);
      }
      expect(stripSpans(again)).toEqual(stripSpans(stmts));
      // Printing is a fixed point after one round.
      expect(print(again[0], { dialect: 'veilsql' })).toBe(printed);
    });
  });

  describe('invalid statements fail at the recorded place', () => {
    it.each(invalid.map((c) => [label(c), c] as const))('%s', (_l, c) => {
      let err: unknown;
      try {
        parse(c.sql);
      } catch (e) {
        err = e;
      }
      expect(err, 'expected a syntax error').toBeInstanceOf(SqlSyntaxError);
      const e = err as SqlSyntaxError;
      expect(e.sqlstate).toBe('42601');
      expect(`${e.line}:${e.column}`).toBe(`${c.error!.line}:${c.error!.column}`);
      expect(e.message).toContain(c.error!.fragment);
      // position is the 1-based character offset of the same place
      const chars = [...c.sql];
      const lineStarts = [0];
      chars.forEach((ch, i) => ch === '\n' && lineStarts.push(i + 1));
      expect(e.position).toBe(lineStarts[e.line - 1] + e.column);
      expect(e.detail).toBe(`at line ${e.line}, column ${e.column}`);
    });
  });
});

// ───────────────────────────── DuckDB dialect ─────────────────────────────

describe('DuckDB dialect output is accepted by DuckDB 1.5', () => {
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  });
  afterAll(() => {
    conn?.closeSync();
    instance?.closeSync();
  });

  const queries = valid.filter((c) => {
    const s = parse(c.sql)[0];
    return (s.kind === 'query' || s.kind === 'explain') && !usesExtensions(s);
  });

  it('covers most of the corpus with a small explicit skip list', () => {
    expect(queries.length).toBeGreaterThan(120);
    expect(queries.filter((c) => c.duckdbSkip !== undefined).length).toBeLessThanOrEqual(5);
  });

  it.each(queries.filter((c) => c.duckdbSkip === undefined).map((c) => [label(c), c] as const))('%s', async (_l, c) => {
    const sql = print(parse(c.sql)[0], { dialect: 'duckdb' });
    try {
      await conn.extractStatements(sql);
    } catch (e) {
      throw new Error(`DuckDB rejected: ${(e as Error).message}\n${sql}`);
    }
  });

  it('throws (programming error) on VeilSQL-only constructs', () => {
    for (const sql of [
      'SELECT * FROM a SECURE JOIN b ON a.k = b.k',
      'SELECT * FROM a PRIVATE LOOKUP b ON a.k = b.k',
      'SELECT DP COUNT(*) FROM t',
      'SELECT count(*) FROM t WITH PRIVACY (epsilon = 1)',
      'SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (epsilon = 1) count(*) FROM t',
      'EXPLAIN DP SELECT 1',
      'SHOW PARTIES',
    ]) {
      const s = parseStatement(sql);
      expect(() => print(s, { dialect: 'duckdb' }), sql).toThrow(Error);
      expect(() => print(s, { dialect: 'duckdb' }), sql).not.toThrow(SqlError);
    }
  });

  it('rewrites Postgres-only operators and wrappers', () => {
    const duck = (sql: string) => print(parseExpression(sql), { dialect: 'duckdb' });
    expect(duck("a ~ '^x'")).toBe("regexp_matches(a, '^x')");
    expect(duck("a !~ 'x'")).toBe("NOT regexp_matches(a, 'x')");
    expect(duck("a ~* 'x'")).toBe("regexp_matches(a, 'x', 'i')");
    expect(duck("a !~* 'x' AND b")).toBe("NOT regexp_matches(a, 'x', 'i') AND b");
    expect(duck("c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default")).toBe("regexp_matches(c.relname, '^(t)$')");
    expect(duck('a OPERATOR(pg_catalog.=) b')).toBe('a = b');
    expect(duck('5 # 3')).toBe('xor(5, 3)');
    expect(duck('x::pg_catalog.text')).toBe('CAST(x AS text)');
    expect(duck('-x::int')).toBe('-CAST(x AS int)');
    expect(duck('ARRAY[1, 2]')).toBe('[1, 2]');
    expect(duck('"order" + "by" + "Mixed"')).toBe('"order" + "by" + "Mixed"');
    expect(print(parseStatement('SELECT (f(x)).* FROM t'), { dialect: 'duckdb' })).toBe('SELECT unnest(f(x)) FROM t');
  });
});

// ───────────────────────────── spans ─────────────────────────────

describe('spans', () => {
  it('every expression span slices to text that parses back to the same expression', () => {
    let checked = 0;
    for (const c of valid) {
      const s = parse(c.sql)[0];
      if (s.kind === 'set') continue; // SET values are bare words (`on`), not expressions
      walk(s, (n) => {
        if (typeof n.kind !== 'string' || !EXPR_KINDS.has(n.kind)) return;
        const span = n.span as { start: number; end: number } | undefined;
        expect(span, `${label(c)}: ${n.kind} without span`).toBeDefined();
        const text = c.sql.slice(span!.start, span!.end);
        if (n.kind === 'number' && n.text === '1' && text.trim() !== '1') return; // synthesized (SUBSTRING … FOR, FETCH FIRST ROW)
        let back: Expr;
        try {
          back = parseExpression(text);
        } catch (e) {
          throw new Error(`${label(c)}: span of ${n.kind} is ${JSON.stringify(text)}: ${(e as Error).message}`);
        }
        expect(stripSpans(back), `${label(c)}: ${JSON.stringify(text)}`).toEqual(stripSpans(n));
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(3000);
  }, 60_000);

  it('every query span slices to text that parses back to the same query', () => {
    for (const c of valid) {
      walk(parse(c.sql)[0], (n) => {
        if (n.kind !== 'query') return;
        const span = n.span as { start: number; end: number };
        const text = c.sql.slice(span.start, span.end);
        expect(stripSpans(parseStatement(text)), `${label(c)}: ${text}`).toEqual(stripSpans(n));
      });
    }
  });

  it('every AST node has a span inside the statement', () => {
    // Objects that are NodeBase but carry no `kind`, by the key they hang from.
    const nodeKeys = new Set(['with', 'ctes', 'alias', 'orderBy', 'withinGroup', 'windows', 'spec', 'over', 'frame', 'start', 'end', 'groupBy', 'privacy', 'options', 'dp', 'type']);
    for (const c of valid) {
      walk(parse(c.sql)[0], (n, key) => {
        if (typeof n.kind !== 'string' && !nodeKeys.has(key)) return;
        const span = n.span as { start: number; end: number } | undefined;
        expect(span, `${label(c)}: ${key} ${String(n.kind ?? '')} has no span`).toBeDefined();
        expect(span!.start).toBeGreaterThanOrEqual(0);
        expect(span!.end).toBeGreaterThan(span!.start);
        expect(span!.end).toBeLessThanOrEqual(c.sql.length);
      });
    }
  });

  it('column references slice exactly to their text', () => {
    const sql = 'SELECT  c.relname ,"Mixed"."Col"+x FROM t WHERE\n  pg_catalog.pg_class.oid = 1';
    const refs: { name: string[]; text: string }[] = [];
    walk(parseStatement(sql), (n) => {
      if (n.kind === 'column') {
        const span = n.span as { start: number; end: number };
        refs.push({ name: n.name as string[], text: sql.slice(span.start, span.end) });
      }
    });
    expect(refs).toEqual([
      { name: ['c', 'relname'], text: 'c.relname' },
      { name: ['Mixed', 'Col'], text: '"Mixed"."Col"' },
      { name: ['x'], text: 'x' },
      { name: ['pg_catalog', 'pg_class', 'oid'], text: 'pg_catalog.pg_class.oid' },
    ]);
  });

  it('statement spans exclude the separator and surrounding comments', () => {
    const sql = '-- first\nSELECT 1 ;  /* c */ SHOW ALL;';
    const [a, b] = parse(sql);
    expect(sql.slice(a.span!.start, a.span!.end)).toBe('SELECT 1');
    expect(sql.slice(b.span!.start, b.span!.end)).toBe('SHOW ALL');
  });
});

// ───────────────────────────── API details ─────────────────────────────

describe('parse / parseStatement / parseExpression / splitStatements', () => {
  it('parse skips empty statements', () => {
    expect(parse('')).toEqual([]);
    expect(parse(' ;; -- nothing\n ; /* x */')).toEqual([]);
    expect(parse('SELECT 1;;SELECT 2;').map((s) => s.kind)).toEqual(['query', 'query']);
  });

  it('parseStatement requires exactly one statement', () => {
    expect(parseStatement('SELECT 1;').kind).toBe('query');
    expect(() => parseStatement('')).toThrow(SqlSyntaxError);
    const e = (() => {
      try {
        parseStatement('SELECT 1; SELECT 2');
      } catch (err) {
        return err as SqlSyntaxError;
      }
    })();
    expect(e).toBeInstanceOf(SqlSyntaxError);
    expect(e!.sqlstate).toBe('42601');
    expect(e!.position).toBe(11);
  });

  it('parseExpression parses one expression', () => {
    expect(stripSpans(parseExpression('1 + 2 * 3'))).toEqual({
      kind: 'binary',
      op: '+',
      left: { kind: 'number', text: '1' },
      right: { kind: 'binary', op: '*', left: { kind: 'number', text: '2' }, right: { kind: 'number', text: '3' } },
    });
    expect(() => parseExpression('1 +')).toThrow(SqlSyntaxError);
    expect(() => parseExpression('1; 2')).toThrow(SqlSyntaxError);
  });

  it('splitStatements is robust to ; in strings, identifiers, comments and dollar quotes', () => {
    const sql = "SELECT ';' AS \"a;b\"; -- c;\nSELECT $$x;y$$ /* ; */;\n\n  SET x = 1 ;";
    expect(splitStatements(sql)).toEqual([
      { text: 'SELECT \';\' AS "a;b"', start: 0 },
      { text: 'SELECT $$x;y$$', start: sql.indexOf('SELECT $$') },
      { text: 'SET x = 1', start: sql.indexOf('SET') },
    ]);
    expect(splitStatements(' ; ;\n')).toEqual([]);
  });

  it('splitStatements never throws and keeps broken statements whole', () => {
    expect(splitStatements("SELECT 'oops; SELECT 2")).toEqual([{ text: "SELECT 'oops; SELECT 2", start: 0 }]);
    expect(splitStatements('SELEC ? ; SELECT 1')).toEqual([
      { text: 'SELEC ?', start: 0 },
      { text: 'SELECT 1', start: 10 },
    ]);
    expect(splitStatements('/* unterminated ; comment')).toEqual([{ text: '/* unterminated ; comment', start: 0 }]);
  });

  it('reports Postgres-style errors with expectations', () => {
    const err = (sql: string) => {
      try {
        parse(sql);
      } catch (e) {
        return e as SqlSyntaxError;
      }
      throw new Error('no error');
    };
    const a = err('SELECT * FROM');
    expect(a.message).toBe('syntax error at end of input');
    expect(a.position).toBe(14);
    expect(a.hint).toMatch(/^expected one of: an identifier/);
    const b = err('SELECT 1 +; SELECT 2');
    expect(b.message).toBe('syntax error at or near ";"');
    expect(b.expected).toContain('an expression');
    const c = err('SELECT a, FROM t');
    expect(c.message).toBe('syntax error at or near "FROM"');
    expect(c.expected).toEqual(['an expression', "'*'"]);
    const d = err('SELECT (1');
    expect(d.hint).toContain("')'");
    const e = err("SELECT 'abc");
    expect(e.message).toBe('unterminated quoted string at or near "\'abc"');
  });

  it('normalises special syntax to calls and keeps extension fields', () => {
    const expr = (sql: string) => stripSpans(parseExpression(sql));
    expect(expr('POSITION(a IN b)')).toEqual({ kind: 'function', name: ['strpos'], args: [col('b'), col('a')] });
    expect(expr("TRIM(LEADING 'x' FROM s)")).toEqual({ kind: 'function', name: ['ltrim'], args: [col('s'), str('x')] });
    expect(expr('SUBSTRING(s FOR 2)')).toEqual({ kind: 'function', name: ['substring'], args: [col('s'), num('1'), num('2')] });
    expect(expr("ts AT TIME ZONE 'UTC'")).toEqual({ kind: 'function', name: ['timezone'], args: [str('UTC'), col('ts')] });
    expect(expr('DP SUM(x BOUNDED -1 AND 1e3)')).toEqual({
      kind: 'function',
      name: ['sum'],
      args: [col('x')],
      dp: { bounds: { low: num('-1'), high: num('1e3') } },
    });
    const q = parseStatement(
      "SELECT DP COUNT(*) FROM t GROUP BY g WITH PRIVACY (epsilon = 0.5, groups = PUBLIC ('a', 'b'), groups = THRESHOLD)",
    ) as Query;
    expect(q.body.kind === 'select' && stripSpans(q.body.privacy)).toEqual({
      syntax: 'with_privacy',
      options: [
        { name: 'epsilon', value: num('0.5') },
        { name: 'groups', value: col('public'), list: [str('a'), str('b')] },
        { name: 'groups', value: col('threshold') },
      ],
    });
    const lookup = parseStatement('SELECT 1 FROM a PRIVATE LOOKUP b ON a.k = b.k') as Query;
    expect(lookup.body.kind === 'select' && lookup.body.from![0]).toMatchObject({ kind: 'join', type: 'left', mode: 'lookup' });
    expect(stripSpans(parseStatement('SHOW TRANSACTION ISOLATION LEVEL'))).toEqual({
      kind: 'show',
      target: { what: 'setting', name: 'transaction_isolation' },
    });
    expect(stripSpans(parseStatement('SELECT 1 FETCH FIRST ROW ONLY') as Query).limit).toEqual(num('1'));
    expect(stripSpans(parseStatement('SELECT 1 LIMIT ALL'))).not.toHaveProperty('limit');
  });

  it('builds trees with Postgres precedence', () => {
    // Fully parenthesised rendering of the tree (checked against PostgreSQL 15 by evaluating
    // thousands of random expressions both ways during development).
    const full = (e: Expr): string => {
      switch (e.kind) {
        case 'binary':
          return `(${full(e.left)} ${e.op} ${full(e.right)})`;
        case 'unary':
          return `(${e.op} ${full(e.operand)})`;
        case 'is':
          return `(${full(e.expr)} is ${e.not ? 'not ' : ''}${e.test}${e.other ? ' ' + full(e.other) : ''})`;
        case 'between':
          return `(${full(e.expr)} between ${full(e.low)} ${full(e.high)})`;
        case 'like':
          return `(${full(e.expr)} ${e.op} ${full(e.pattern)})`;
        case 'in_list':
          return `(${full(e.expr)} in ${e.list.map(full).join(',')})`;
        case 'cast':
          return `(${full(e.expr)}::${e.type.name})`;
        case 'collate':
          return `(${full(e.expr)} collate)`;
        case 'subscript':
          return `(${full(e.expr)}[${e.index ? full(e.index) : ''}])`;
        case 'number':
          return e.text;
        case 'column':
          return e.name.join('.');
        default:
          return e.kind;
      }
    };
    const cases: [string, string][] = [
      ['a OR b AND c', '(a or (b and c))'],
      ['NOT a AND b', '((not a) and b)'],
      ['NOT a = b', '(not (a = b))'],
      ['NOT a IS NULL', '(not (a is null))'],
      ['a = b IS NULL', '((a = b) is null)'],
      ['a < b + c * d', '(a < (b + (c * d)))'],
      ['a || b = c', '((a || b) = c)'],
      ['a + b || c', '((a + b) || c)'],
      ['a ~ b || c', '((a ~ b) || c)'],
      ['~ a || b', '((~ a) || b)'],
      ['-2 ^ 2', '(-2 ^ 2)'],
      ['- a ^ 2', '((- a) ^ 2)'],
      ['2 ^ 3 ^ 2', '((2 ^ 3) ^ 2)'],
      ['a - b - c', '((a - b) - c)'],
      ['-x::int', '(- (x::int))'],
      ['-1::int', '(- (1::int))'],
      ['a[1]::text', '((a[1])::text)'],
      ['a + b::int', '(a + (b::int))'],
      ['x BETWEEN 1 + 1 AND 2 AND y', '((x between (1 + 1) 2) and y)'],
      ['a LIKE b || c', '(a like (b || c))'],
      ['a IN (1) = b', '((a in 1) = b)'],
      ['a IS DISTINCT FROM b + 1', '(a is distinct_from (b + 1))'],
      ['a COLLATE "C" || b', '((a collate) || b)'],
      ["- a COLLATE \"C\"", '((- a) collate)'],
      ['a OPERATOR(pg_catalog.+) b * c', '(a + (b * c))'],
      ['a * b OPERATOR(pg_catalog.*) c', '((a * b) * c)'],
    ];
    for (const [sql, tree] of cases) expect(full(parseExpression(sql)), sql).toBe(tree);
  });

  it('keeps every non-reserved keyword usable as a name', () => {
    for (const w of NON_RESERVED_WORDS) {
      const sql =
        `SELECT ${w}, t.${w}, f(${w}), ${w} + 1, ${w} AS ${w}, x ${w} FROM ${w} AS ${w} ` +
        `JOIN s.${w} ON ${w}.${w} = 1 WHERE ${w} = 1 GROUP BY ${w} ORDER BY ${w}`;
      const s = parseStatement(sql);
      expect(stripSpans(parseStatement(print(s, { dialect: 'veilsql' }))), w).toEqual(stripSpans(s));
    }
  });

  it('prints identifiers, strings and numbers faithfully', () => {
    const rt = (sql: string) => print(parseStatement(sql), { dialect: 'veilsql' });
    expect(rt('SELECT "Foo", "select", "a""b", foo$bar, "1x" FROM "T"')).toBe('SELECT "Foo", "select", "a""b", foo$bar, "1x" FROM "T"');
    expect(rt("SELECT 'it''s', E'\\'q\\'', 1.50, .5e-3")).toBe("SELECT 'it''s', '''q''', 1.50, .5e-3");
    expect(rt('SELECT a - -1, - (-1), 2 ^ -1, (a + b) * c, a - (b - c), NOT (a AND b)')).toBe(
      'SELECT a - -1, -(-1), 2 ^ -1, (a + b) * c, a - (b - c), NOT (a AND b)',
    );
  });
});

const col = (...name: string[]): Expr => ({ kind: 'column', name });
const str = (value: string): Expr => ({ kind: 'string', value });
const num = (text: string): Expr => ({ kind: 'number', text });

// ───────────────────────────── robustness ─────────────────────────────

describe('robustness', () => {
  const onlySyntaxErrors = (sql: string) => {
    try {
      const stmts = parse(sql);
      // Whatever parses must also round-trip.
      for (const s of stmts) expect(stripSpans(parse(print(s, { dialect: 'veilsql' })))).toEqual([stripSpans(s)]);
    } catch (e) {
      if (!(e instanceof SqlSyntaxError)) throw e;
    }
    splitStatements(sql);
  };

  it('accepts 200 nested parentheses and rejects deeper nesting cleanly', () => {
    expect(stripSpans(parseExpression('('.repeat(200) + '1' + ')'.repeat(200)))).toEqual(num('1'));
    expect(parse(`SELECT ${'('.repeat(199)}SELECT 1${')'.repeat(199)}`)).toHaveLength(1);
    for (const sql of [
      'SELECT ' + '('.repeat(201) + '1' + ')'.repeat(201),
      'SELECT ' + '('.repeat(100000),
      'SELECT ' + '['.repeat(5000),
      'SELECT ' + 'f('.repeat(300) + ')'.repeat(300),
    ]) {
      expect(() => parse(sql)).toThrow(/too deeply nested|too complex/);
    }
  });

  it('rejects pathological chains without a stack overflow', () => {
    for (const sql of [
      'SELECT ' + 'NOT '.repeat(20000) + 'TRUE',
      'SELECT ' + '- '.repeat(20000) + '1',
      'SELECT ' + 'CASE WHEN TRUE THEN '.repeat(5000) + '1' + ' END'.repeat(5000),
      'SELECT ' + 'x::int'.repeat(1) + '::int'.repeat(20000),
    ]) {
      try {
        parse(sql);
      } catch (e) {
        expect(e).toBeInstanceOf(SqlSyntaxError);
      }
    }
    expect(parse('SELECT ' + Array.from({ length: 5000 }, (_, i) => `a${i}`).join(' + ')).length).toBe(1);
  }, 60_000);

  it('survives odd inputs', () => {
    for (const sql of [
      '\u0000',
      'SELECT \u0000',
      'SELECT 1e99999999999999999999',
      'SELECT ' + '9'.repeat(10000),
      'SELECT $99999999999999999999',
      '\uFEFFSELECT 1',
      'SELECT "\uD800"',
      'SELECT \uD83D',
      '$$',
      "E'\\",
      '/*/*/**/',
      '--',
      ';'.repeat(1000),
      "SELECT 'a' || E'\\x' || E'\\u12' || E'\\U0011FFFF'",
    ]) {
      onlySyntaxErrors(sql);
    }
  });

  it('fuzz: random strings only ever raise SqlSyntaxError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), onlySyntaxErrors), { numRuns: 1500 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), onlySyntaxErrors), { numRuns: 500 });
  }, 60_000);

  it('fuzz: random token soups only ever raise SqlSyntaxError, and what parses round-trips', () => {
    const tokens = [
      'SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'ORDER', 'HAVING', 'LIMIT', 'OFFSET', 'JOIN', 'LEFT', 'ON', 'USING',
      'SECURE', 'PRIVATE', 'LOOKUP', 'DP', 'BOUNDED', 'WITH', 'PRIVACY', 'AS', 'AND', 'OR', 'NOT', 'IS', 'NULL',
      'IN', 'BETWEEN', 'LIKE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CAST', 'INTERVAL', 'ARRAY', 'ROW', 'EXISTS',
      'UNION', 'INTERSECT', 'ALL', 'DISTINCT', 'OVER', 'PARTITION', 'FILTER', 'VALUES', 'EXPLAIN', 'SHOW', 'SET',
      'a', 'b', 't', 'x.y', '"Q"', '1', '2.5', "'s'", '$1', '(', ')', '[', ']', ',', '.', '*', '+', '-', '=', '<>',
      '::', 'int', '~', '||', ';', 'count', 'sum', 'current_date', 'TRUE', '@',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 25 }), (ts) => onlySyntaxErrors(ts.join(' '))),
      { numRuns: 3000 },
    );
  }, 60_000);

  it('fuzz: mutated corpus statements only ever raise SqlSyntaxError', () => {
    const sources = valid.map((c) => c.sql);
    fc.assert(
      fc.property(fc.constantFrom(...sources), fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 6 }), (src, at, len, ins) => {
        const i = at % (src.length + 1);
        onlySyntaxErrors(src.slice(0, i) + ins + src.slice(i + len));
      }),
      { numRuns: 1500 },
    );
  }, 60_000);
});

// ───────────────────────────── performance ─────────────────────────────

describe('performance', () => {
  it('parses a 2,000-line query corpus well under a second', () => {
    const queries = valid.filter((c) => !/^\s*(SET|SHOW|RESET|BEGIN|START|COMMIT|END|ROLLBACK|ABORT|DISCARD|DEALLOCATE)/i.test(c.sql));
    const parts: string[] = [];
    let lines = 0;
    while (lines < 2000) {
      for (const c of queries) {
        parts.push(c.sql.replace(/;\s*$/, '') + ';');
        lines += c.sql.split('\n').length;
      }
    }
    const text = parts.join('\n');
    parse(text); // warm-up (JIT, lazy parser construction)
    const t0 = performance.now();
    const stmts = parse(text);
    const ms = performance.now() - t0;
    console.log(`parsed ${stmts.length} statements / ${text.split('\n').length} lines / ${text.length} chars in ${ms.toFixed(1)} ms`);
    expect(stmts.length).toBe(parts.length);
    expect(ms).toBeLessThan(5000);
  }, 60_000);
});
