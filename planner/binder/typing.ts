/**
 * Type inference and type checks for bound expressions. The rules are Postgres' where users
 * would notice (comparing text with a number, a non-boolean WHERE, CASE branches that cannot
 * be unified, SUM over text) and permissive elsewhere: anything not modelled is `unknown` and
 * left to DuckDB.
 */
import type { BinaryOperator, Expr } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { isSubplanQuery, outputColumns } from '../logical-plan.js';
import {
  commonType, displayType, isFlexible, isInteger, isNumeric, isTemporal, T, typeFromSqlName, type SqlType,
} from '../types.js';
import type { BindContext } from './context.js';
import { functionResultType } from './functions.js';

const COMPARISON: BinaryOperator[] = ['=', '<>', '!=', '<', '<=', '>', '>='];
const ARITHMETIC: BinaryOperator[] = ['+', '-', '*', '/', '%', '^'];

const pos = (e: Expr): number | undefined => (e.span ? e.span.start + 1 : undefined);

export function inferType(e: Expr, ctx: BindContext): SqlType {
  switch (e.kind) {
    case 'number':
      return /[.eE]/.test(e.text) ? numberLiteralType(e.text) : integerLiteralType(e.text);
    case 'string': return T.null; // an untyped literal: flexible like Postgres' "unknown"
    case 'boolean': return T.boolean;
    case 'null': return T.null;
    case 'typed_string': return typeFromSqlName(e.type.name, e.type.args, e.type.arrayDims);
    case 'interval': return T.interval;
    case 'column': return ctx.typeOf(e.name[e.name.length - 1]);
    case 'parameter': return ctx.paramTypes.get(e.index) ?? T.unknown;
    case 'unary':
      if (e.op === 'not') {
        requireBoolean(inferType(e.operand, ctx), 'NOT', e.operand);
        return T.boolean;
      }
      return inferType(e.operand, ctx);
    case 'binary': return binaryType(e.op, e.left, e.right, ctx, e);
    case 'like': case 'between': case 'in_list': case 'in_subquery': case 'is': case 'exists': case 'quantified':
      return T.boolean;
    case 'scalar_subquery':
      return isSubplanQuery(e.query) ? (outputColumns(e.query.subplan)[0]?.type ?? T.unknown) : T.unknown;
    case 'array_subquery':
      return isSubplanQuery(e.query) ? { id: 'list', element: outputColumns(e.query.subplan)[0]?.type ?? T.unknown } : T.unknown;
    case 'case': return caseType(e, ctx);
    case 'cast': return typeFromSqlName(e.type.name, e.type.args, e.type.arrayDims);
    case 'function': {
      const name = e.name[e.name.length - 1];
      const args = e.args.map((a) => inferType(a, ctx));
      checkFunctionArgs(name, args, e);
      return functionResultType(name, args, e.args.some((a) => a.kind === 'star_arg'));
    }
    case 'extract': return T.bigint;
    case 'special':
      if (e.name === 'current_date') return T.date;
      if (e.name === 'current_timestamp' || e.name === 'localtimestamp') return T.timestamptz;
      if (e.name === 'current_time' || e.name === 'localtime') return { id: 'time' };
      return T.varchar;
    case 'array': {
      const el = e.elements.map((x) => inferType(x, ctx)).reduce<SqlType | undefined>((a, b) => (a ? commonType(a, b) : b), undefined);
      return { id: 'list', element: el ?? T.unknown };
    }
    case 'subscript': {
      const base = inferType(e.expr, ctx);
      if (e.slice) return base;
      return base.id === 'list' ? (base.element ?? T.unknown) : T.unknown;
    }
    case 'collate': return inferType(e.expr, ctx);
    case 'field': {
      // Fields of a known STRUCT (e.g. the result of GWAS_ALLELIC) keep their types.
      const base = inferType(e.expr, ctx);
      return base.fields?.find((f) => f.name === e.field)?.type ?? T.unknown;
    }
    case 'row': case 'star_arg': return T.unknown;
  }
}

function integerLiteralType(text: string): SqlType {
  const v = BigInt(text);
  if (v <= 2147483647n) return T.integer;
  if (v <= 9223372036854775807n) return T.bigint;
  return T.hugeint;
}

function numberLiteralType(text: string): SqlType {
  if (/[eE]/.test(text)) return T.double;
  const [int, frac = ''] = text.split('.');
  const digits = int.replace(/^0+/, '').length + frac.length;
  return { id: 'decimal', precision: Math.max(digits, frac.length + 1), scale: frac.length };
}

function binaryType(op: BinaryOperator, left: Expr, right: Expr, ctx: BindContext, e: Expr): SqlType {
  const l = inferType(left, ctx);
  const r = inferType(right, ctx);
  if (op === 'and' || op === 'or') {
    requireBoolean(l, op.toUpperCase(), left);
    requireBoolean(r, op.toUpperCase(), right);
    return T.boolean;
  }
  if (COMPARISON.includes(op)) {
    if (!commonType(l, r)) throw noOperator(op, l, r, e);
    return T.boolean;
  }
  if (op === '||') return l.id === 'list' ? l : r.id === 'list' ? r : T.varchar;
  if (ARITHMETIC.includes(op)) return arithmeticType(op, l, r, e);
  if (op === '~' || op === '!~' || op === '~*' || op === '!~*' || op === '@>' || op === '<@' || op === '&&') return T.boolean;
  return T.unknown;
}

function arithmeticType(op: BinaryOperator, l: SqlType, r: SqlType, e: Expr): SqlType {
  if (isFlexible(l) && isFlexible(r)) return T.unknown;
  if (isFlexible(l)) return r;
  if (isFlexible(r)) return l;
  if (isNumeric(l) && isNumeric(r)) {
    if (op === '/' && isInteger(l) && isInteger(r)) return commonType(l, r) ?? l;
    return commonType(l, r) ?? T.double;
  }
  if (l.id === 'date' && isInteger(r) && (op === '+' || op === '-')) return T.date;
  if (isInteger(l) && r.id === 'date' && op === '+') return T.date;
  if (l.id === 'date' && r.id === 'date' && op === '-') return T.bigint;
  if (isTemporal(l) && r.id === 'interval' && (op === '+' || op === '-')) return l.id === 'date' ? T.timestamp : l;
  if (l.id === 'interval' && isTemporal(r) && op === '+') return r.id === 'date' ? T.timestamp : r;
  if ((l.id === 'timestamp' || l.id === 'timestamptz') && l.id === r.id && op === '-') return T.interval;
  if (l.id === 'interval' && (isNumeric(r) || r.id === 'interval')) return T.interval;
  if (isNumeric(l) && r.id === 'interval' && op === '*') return T.interval;
  if (l.id === 'unknown' || r.id === 'unknown') return T.unknown;
  throw noOperator(op, l, r, e);
}

function caseType(e: Extract<Expr, { kind: 'case' }>, ctx: BindContext): SqlType {
  if (!e.operand) for (const w of e.whens) requireBoolean(inferType(w.when, ctx), 'CASE/WHEN', w.when);
  const branches = [...e.whens.map((w) => w.then), ...(e.else ? [e.else] : [])];
  let acc: SqlType = T.null;
  for (const b of branches) {
    const t = inferType(b, ctx);
    const c = commonType(acc, t);
    if (!c) {
      throw new SqlError(SqlState.datatypeMismatch, `CASE types ${displayType(acc)} and ${displayType(t)} cannot be matched`, {
        position: pos(b),
      });
    }
    acc = c;
  }
  return acc.id === 'null' ? T.varchar : acc;
}

function checkFunctionArgs(name: string, args: SqlType[], e: Expr): void {
  const numericOnly = ['sum', 'avg', 'mean', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp'];
  if (numericOnly.includes(name) && args.length === 1) {
    const t = args[0];
    if (!isNumeric(t) && !isFlexible(t) && t.id !== 'interval') {
      throw new SqlError(SqlState.undefinedFunction, `function ${name}(${displayType(t)}) does not exist`, {
        position: pos(e),
        hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
      });
    }
  }
}

/** WHERE/HAVING/ON/AND/OR/NOT operands must be boolean (42804), as in Postgres. */
export function requireBoolean(t: SqlType, what: string, e: Expr): void {
  if (t.id === 'boolean' || isFlexible(t)) return;
  throw new SqlError(SqlState.datatypeMismatch, `argument of ${what} must be type boolean, not type ${displayType(t)}`, {
    position: pos(e),
  });
}

function noOperator(op: string, l: SqlType, r: SqlType, e: Expr): SqlError {
  return new SqlError(SqlState.undefinedFunction, `operator does not exist: ${displayType(l)} ${op} ${displayType(r)}`, {
    position: pos(e),
    hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
  });
}

/** The type both sides of a set operation column unify to, or 42804. */
export function unifySetOpTypes(a: SqlType, b: SqlType, op: string, position?: number): SqlType {
  const c = commonType(a, b);
  if (!c) {
    throw new SqlError(SqlState.datatypeMismatch, `${op.toUpperCase()} types ${displayType(a)} and ${displayType(b)} cannot be matched`, {
      position,
    });
  }
  return c;
}

