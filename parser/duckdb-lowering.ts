/**
 * Rewrites an AST into the subset DuckDB 1.5 executes with Postgres meaning, before printing.
 *
 * - `a ~ b` → `regexp_matches(a, b)` (Postgres' `~` is an unanchored search; DuckDB's `~` is a
 *   full match), `~*` adds the `'i'` option, `!~`/`!~*` are the negations.
 * - `a # b` (integer xor) → `xor(a, b)`: DuckDB has no `#` operator.
 * - `OPERATOR(pg_catalog.~)` → the plain operator; `COLLATE pg_catalog.default` → dropped.
 * - `x::t` → `CAST(x AS t)`.
 * - `(expr).*` → `UNNEST(expr)`, DuckDB's way of expanding a struct into columns; `s.t.*` → `t.*`
 *   (DuckDB qualifies stars by the relation name only).
 * - `a / b`, `a % b` → the divisor raises `division by zero` when it is 0 (Postgres' 22012; DuckDB
 *   would return NULL).
 * - `x BETWEEN SYMMETRIC a AND b` → `x BETWEEN least(a, b) AND greatest(a, b)`.
 * - `EXPLAIN VERBOSE` → `EXPLAIN` (DuckDB has no verbose explain; the planner renders EXPLAIN itself).
 * - VeilSQL's cryptographic constructs (SECURE JOIN, PRIVATE LOOKUP, DP aggregates, privacy
 *   options) must have been planned away before anything reaches DuckDB; meeting one here is a
 *   programming error, so it throws a plain `Error` (not a user-facing `SqlError`).
 */
import type * as A from './ast.js';

export function lowerForDuckDb<T>(node: T): T {
  return walk(node) as T;
}

function walk(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(walk);
  if (v === null || typeof v !== 'object') return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) out[k] = k === 'span' ? src[k] : walk(src[k]);
  return rewrite(out);
}

function call(name: string, args: A.Expr[], span: A.Span | undefined): A.FunctionCall {
  const f: A.FunctionCall = { kind: 'function', name: [name], args };
  if (span !== undefined) f.span = span;
  return f;
}

/**
 * Postgres raises 22012 on division (or modulo) by zero where DuckDB returns NULL: the divisor
 * raises DuckDB's `division by zero` instead, which the gateway reports as 22012. As in
 * Postgres, a NULL dividend gives NULL without the check (`sum(x) / count(*)` over no rows), and
 * a literal divisor that is not zero needs none.
 *
 * The check writes the divisor (and the dividend) a second time, so only small deterministic
 * expressions are repeated: chained divisions must grow the SQL linearly, not double it per
 * level, a volatile divisor must be one value, and a subquery must not run twice. A divisor that
 * is not repeatable divides as DuckDB does (NULL on zero); a dividend that is not repeatable
 * loses the NULL exemption (zero divisor raises even when the dividend is NULL).
 */
function nonZeroDivisor(dividend: A.Expr, divisor: A.Expr): A.Expr {
  if (divisor.kind === 'null' || (divisor.kind === 'number' && Number(divisor.text) !== 0)) return divisor;
  if (!repeatable(divisor)) return divisor;
  const isZero: A.Expr = { kind: 'binary', op: '=', left: divisor, right: { kind: 'number', text: '0' } };
  const when: A.Expr = dividend.kind === 'number' || !repeatable(dividend)
    ? isZero
    : { kind: 'binary', op: 'and', left: isZero, right: { kind: 'is', not: true, expr: dividend, test: 'null' } };
  return { kind: 'case', whens: [{ when, then: call('error', [{ kind: 'string', value: 'division by zero' }], divisor.span) }], else: divisor };
}

/** At most this many AST nodes are written twice by the division check. */
const REPEATABLE_NODES = 16;
const VOLATILE_FUNCTIONS = new Set(['random', 'gen_random_uuid', 'uuid', 'uuidv4', 'uuidv7', 'nextval', 'setseed']);
const SUBQUERY_KINDS = new Set(['subquery', 'in_subquery', 'exists', 'scalar_subquery', 'array_subquery', 'query']);

/** Small, without subqueries and without volatile functions: the same value when written twice. */
function repeatable(e: A.Expr): boolean {
  let nodes = 0;
  const visit = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.every(visit);
    if (v === null || typeof v !== 'object') return true;
    const o = v as { kind?: unknown; name?: unknown };
    if (typeof o.kind === 'string') {
      if (++nodes > REPEATABLE_NODES || SUBQUERY_KINDS.has(o.kind)) return false;
      if (o.kind === 'function' && Array.isArray(o.name) && VOLATILE_FUNCTIONS.has(String(o.name[o.name.length - 1]).toLowerCase())) return false;
    }
    return Object.entries(v).every(([k, x]) => k === 'span' || visit(x));
  };
  return visit(e);
}

function rewrite(n: Record<string, unknown>): unknown {
  const node = n as unknown as { kind?: string; span?: A.Span };
  switch (node.kind) {
    case 'select': {
      if ((n as unknown as A.Select).privacy !== undefined) throw new Error('privacy options cannot be rendered for DuckDB: plan the DP aggregation first');
      return n;
    }
    case 'function': {
      if ((n as unknown as A.FunctionCall).dp !== undefined) throw new Error('a DP aggregate cannot be rendered for DuckDB: plan it first');
      return n;
    }
    case 'join': {
      const j = n as unknown as A.JoinExpr;
      if (j.mode !== 'plain') throw new Error(`${j.mode === 'secure' ? 'SECURE JOIN' : 'PRIVATE LOOKUP'} cannot be rendered for DuckDB: plan it first`);
      return n;
    }
    case 'binary': {
      const b = n as unknown as A.BinaryExpr;
      delete b.operatorSchema;
      switch (b.op) {
        case '~':
          return call('regexp_matches', [b.left, b.right], b.span);
        case '~*':
          return call('regexp_matches', [b.left, b.right, { kind: 'string', value: 'i' }], b.span);
        case '!~':
          return { kind: 'unary', op: 'not', operand: call('regexp_matches', [b.left, b.right], b.span), span: b.span };
        case '!~*':
          return {
            kind: 'unary',
            op: 'not',
            operand: call('regexp_matches', [b.left, b.right, { kind: 'string', value: 'i' }], b.span),
            span: b.span,
          };
        case '#':
          return call('xor', [b.left, b.right], b.span);
        case '/':
        case '%':
          return { ...b, right: nonZeroDivisor(b.left, b.right) };
        default:
          return b;
      }
    }
    case 'collate': {
      const c = n as unknown as A.CollateExpr;
      return c.collation[c.collation.length - 1] === 'default' ? c.expr : c;
    }
    case 'cast': {
      const c = n as unknown as A.CastExpr;
      if (c.syntax === 'colons') c.syntax = 'cast';
      return c;
    }
    case 'between': {
      const b = n as unknown as A.BetweenExpr;
      if (!b.symmetric) return b;
      const { low, high } = b;
      delete b.symmetric;
      b.low = call('least', [low, high], low.span);
      b.high = call('greatest', [low, high], high.span);
      return b;
    }
    case 'star': {
      const s = n as unknown as A.StarSelectItem;
      if (s.qualifier !== undefined && s.qualifier.length > 1) s.qualifier = s.qualifier.slice(-1);
      return s;
    }
    case 'explain': {
      delete (n as unknown as A.ExplainStatement).verbose;
      return n;
    }
    case 'expr_star': {
      const s = n as unknown as A.ExprStarSelectItem;
      return { kind: 'expr_item', expr: call('unnest', [s.expr], s.span), span: s.span };
    }
    default:
      return n;
  }
}
