/**
 * AST → SQL text.
 *
 * `veilsql` output round-trips: `parse(print(ast))` equals `ast` up to spans. It quotes an
 * identifier only when it would not survive (not `[a-z_][a-z0-9_$]*`, or a reserved word),
 * keeps numeric text as written, and parenthesises by the shared precedence table
 * (`precedence.ts`) — only where the parser would otherwise build a different tree, and always
 * around same-level operands of Postgres' non-associative operators.
 *
 * `duckdb` output is for execution by DuckDB 1.5 (see `duckdb-lowering.ts` for the rewrites:
 * regex operators, `#`, OPERATOR(), COLLATE pg_catalog.default, `::`). VeilSQL's cryptographic
 * constructs never reach DuckDB: meeting one is a programming error and throws.
 */
import type * as A from './ast.js';
import { lowerForDuckDb } from './duckdb-lowering.js';
import { isReservedWord } from './lexer.js';
import { binaryPrecedence, exprPrecedence, isNonAssociative, Prec } from './precedence.js';

export type Printable =
  | A.Statement
  | A.QueryBody
  | A.Expr
  | A.FromItem
  | A.SelectItem
  | A.TypeName
  | A.OrderItem
  | A.WindowSpec;

export interface PrintOptions {
  dialect: 'veilsql' | 'duckdb';
}

export function print(node: Printable, options: PrintOptions = { dialect: 'veilsql' }): string {
  if (options.dialect === 'duckdb') return new Printer(true).any(lowerForDuckDb(node));
  return new Printer(false).any(node);
}

const PLAIN_IDENT = /^[a-z_][a-z0-9_$]*$/;

/**
 * Words DuckDB 1.5 will not take as a bare column/table name (`duckdb_keywords()` categories
 * reserved, type_function and column_name). Quoting a plain name is always harmless.
 */
const DUCKDB_KEYWORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'default deferrable desc describe distinct do else end except false fetch for foreign from group having in ' +
    'initially intersect into lambda lateral leading limit not null offset on only or order pivot pivot_longer ' +
    'pivot_wider placing primary qualify references returning select show some summarize symmetric table then to ' +
    'trailing true union unique unpivot using variadic when where window with ' +
    'anti asof at authorization binary by collation columns concurrently cross freeze full generated glob ilike ' +
    'inner is isnull join left like map natural notnull outer overlaps positional right semi similar struct ' +
    'tablesample try_cast unpack verbose ' +
    'between bigint bit boolean char character coalesce dec decimal exists extract float grouping grouping_id ' +
    'inout int integer interval national nchar none nullif numeric out overlay position precision real row setof ' +
    'smallint substring time timestamp treat trim values varchar'
  ).split(' '),
);

/** Function names that our grammar reads as special syntax unless quoted. */
const SPECIAL_FORM_NAMES = new Set(['extract', 'position', 'row', 'interval', 'try_cast', 'substring', 'trim', 'overlay']);

const KIND_GROUP: Record<string, 'stmt' | 'body' | 'from' | 'item' | 'expr'> = {
  query: 'stmt', explain: 'stmt', show: 'stmt', set: 'stmt', reset: 'stmt', transaction: 'stmt', discard: 'stmt',
  deallocate: 'stmt', select: 'body', set_operation: 'body', values: 'body', paren_query: 'body', table: 'from',
  subquery: 'from', table_function: 'from', join: 'from', expr_item: 'item', star: 'item', expr_star: 'item',
};

class Printer {
  constructor(private readonly duck: boolean) {}

  any(node: Printable): string {
    if (!('kind' in node)) {
      if ('expr' in node) return this.orderItem(node as A.OrderItem);
      if ('name' in node && typeof node.name === 'string') return this.type(node as A.TypeName);
      return this.windowBody(node as A.WindowSpec);
    }
    switch (KIND_GROUP[node.kind]) {
      case 'stmt':
        return this.statement(node as A.Statement);
      case 'body':
        return this.body(node as A.QueryBody, 0);
      case 'from':
        return this.from(node as A.FromItem);
      case 'item':
        return this.selectItem(node as A.SelectItem);
      default:
        return this.expr(node as A.Expr);
    }
  }

  // ───────────────────────────── names and literals ─────────────────────────────

  ident(name: string): string {
    const plain = PLAIN_IDENT.test(name) && !isReservedWord(name) && !(this.duck && DUCKDB_KEYWORDS.has(name));
    return plain ? name : `"${name.replace(/"/g, '""')}"`;
  }

  private qualified(parts: string[]): string {
    return parts.map((p) => this.ident(p)).join('.');
  }

  private string(v: string): string {
    return `'${v.replace(/'/g, "''")}'`;
  }

  private list(exprs: A.Expr[]): string {
    return exprs.map((e) => this.expr(e)).join(', ');
  }

  // ───────────────────────────── statements ─────────────────────────────

  statement(s: A.Statement): string {
    switch (s.kind) {
      case 'query':
        return this.query(s);
      case 'explain': {
        if (s.mode === 'dp' && this.duck) throw new Error('EXPLAIN DP cannot be rendered for DuckDB');
        if (s.mode === 'dp' && s.verbose) return `EXPLAIN (DP, VERBOSE) ${this.query(s.statement)}`;
        const mode = s.mode === 'analyze' ? 'ANALYZE ' : s.mode === 'dp' ? 'DP ' : '';
        return `EXPLAIN ${mode}${s.verbose ? 'VERBOSE ' : ''}${this.query(s.statement)}`;
      }
      case 'show':
        return `SHOW ${this.showTarget(s.target)}`;
      case 'set':
        return this.set(s);
      case 'reset':
        return `RESET ${s.name === 'all' ? 'ALL' : this.settingName(s.name)}`;
      case 'transaction': {
        const head = { begin: 'BEGIN', start: 'START TRANSACTION', commit: 'COMMIT', end: 'END', rollback: 'ROLLBACK', abort: 'ABORT' }[s.action];
        return s.modes !== undefined && s.modes.length > 0 ? `${head} ${s.modes.join(', ')}` : head;
      }
      case 'discard':
        return `DISCARD ${s.target.toUpperCase()}`;
      case 'deallocate':
        return s.all || s.name === undefined ? 'DEALLOCATE ALL' : `DEALLOCATE ${this.ident(s.name)}`;
    }
  }

  private showTarget(t: A.ShowTarget): string {
    if (this.duck && t.what !== 'setting' && t.what !== 'all') throw new Error(`SHOW ${t.what} is a VeilSQL statement, not DuckDB's`);
    switch (t.what) {
      case 'parties':
        return 'PARTIES';
      case 'tables':
        return t.from === undefined ? 'TABLES' : `TABLES FROM ${this.ident(t.from)}`;
      case 'policies':
        return t.from === undefined ? 'POLICIES' : `POLICIES FROM ${this.qualified(t.from)}`;
      case 'privacy_budget':
        return 'PRIVACY BUDGET';
      case 'all':
        return 'ALL';
      case 'setting':
        return this.settingName(t.name);
    }
  }

  private settingName(name: string): string {
    return this.qualified(name.split('.'));
  }

  private set(s: A.SetStatement): string {
    const values = s.values === 'default' ? [] : s.values;
    const modes = () => values.map((v) => (v.kind === 'string' ? v.value : this.expr(v))).join(', ');
    if (s.name === 'session_characteristics' && s.values !== 'default') return `SET SESSION CHARACTERISTICS AS TRANSACTION ${modes()}`;
    if (s.name === 'transaction' && s.values !== 'default' && s.scope === undefined) return `SET TRANSACTION ${modes()}`;
    const scope = s.scope === undefined ? '' : `${s.scope.toUpperCase()} `;
    const value = s.values === 'default' ? 'DEFAULT' : values.map((v) => this.setValue(v)).join(', ');
    return `SET ${scope}${this.settingName(s.name)} ${s.values === 'default' ? 'TO' : '='} ${value}`;
  }

  private setValue(v: A.Expr): string {
    if (v.kind === 'column' && v.name.length === 1) return this.ident(v.name[0]);
    return this.expr(v);
  }

  // ───────────────────────────── queries ─────────────────────────────

  query(q: A.Query): string {
    const parts: string[] = [];
    if (q.with !== undefined) {
      const ctes = q.with.ctes.map((c) => {
        const cols = c.columns === undefined ? '' : `(${c.columns.map((n) => this.ident(n)).join(', ')})`;
        const mat = c.materialized === true ? 'MATERIALIZED ' : c.materialized === false ? 'NOT MATERIALIZED ' : '';
        return `${this.ident(c.name)}${cols} AS ${mat}(${this.query(c.query)})`;
      });
      parts.push(`WITH ${q.with.recursive ? 'RECURSIVE ' : ''}${ctes.join(', ')}`);
    }
    parts.push(this.body(q.body, 0));
    if (q.orderBy !== undefined && q.orderBy.length > 0) parts.push(`ORDER BY ${q.orderBy.map((o) => this.orderItem(o)).join(', ')}`);
    if (q.limit !== undefined) parts.push(`LIMIT ${this.expr(q.limit)}`);
    if (q.offset !== undefined) parts.push(`OFFSET ${this.expr(q.offset)}`);
    if (q.body.kind === 'select' && q.body.privacy?.syntax === 'with_privacy') parts.push(this.privacy(q.body.privacy));
    return parts.join(' ');
  }

  /** `level`: 0 anywhere, 1 as an operand of UNION/EXCEPT, 2 as an operand of INTERSECT. */
  private body(b: A.QueryBody, level: number): string {
    switch (b.kind) {
      case 'select':
        return this.select(b, level > 0 && b.privacy?.syntax === 'with_privacy');
      case 'values':
        return `VALUES ${b.rows.map((r) => `(${this.list(r)})`).join(', ')}`;
      case 'paren_query':
        return `(${this.query(b.query)})`;
      case 'set_operation': {
        const own = b.op === 'intersect' ? 2 : 1;
        const text = `${this.body(b.left, own)} ${b.op.toUpperCase()}${b.all ? ' ALL' : ''} ${this.body(b.right, own + 1)}`;
        return own < level ? `(${text})` : text;
      }
    }
  }

  private select(s: A.Select, wrapPrivacy: boolean): string {
    let out = 'SELECT';
    if (s.privacy?.syntax === 'bigquery') out += ` ${this.privacy(s.privacy)}`;
    if (s.distinct === true) out += ' DISTINCT';
    else if (Array.isArray(s.distinct)) out += ` DISTINCT ON (${this.list(s.distinct)})`;
    out += ` ${s.items.map((i) => this.selectItem(i)).join(', ')}`;
    if (s.from !== undefined && s.from.length > 0) out += ` FROM ${s.from.map((f) => this.from(f)).join(', ')}`;
    if (s.where !== undefined) out += ` WHERE ${this.expr(s.where)}`;
    if (s.groupBy !== undefined) {
      if (s.groupBy.all && s.groupBy.items.length === 0) out += ' GROUP BY ALL';
      else if (s.groupBy.items.length > 0) out += ` GROUP BY ${this.list(s.groupBy.items)}`;
    }
    if (s.having !== undefined) out += ` HAVING ${this.expr(s.having)}`;
    if (s.windows !== undefined && s.windows.length > 0) {
      out += ` WINDOW ${s.windows.map((w) => `${this.ident(w.name)} AS (${this.windowBody(w.spec)})`).join(', ')}`;
    }
    // A privacy clause is only reachable at the end of a query: a nested block gets its own parentheses.
    if (wrapPrivacy && s.privacy !== undefined) return `(${out} ${this.privacy(s.privacy)})`;
    return out;
  }

  private privacy(p: A.PrivacyOptions): string {
    const opts = p.options
      .map((o) => {
        if (o.list !== undefined) {
          const head = o.value.kind === 'column' && o.value.name.length === 1 ? this.ident(o.value.name[0]) : this.expr(o.value);
          return `${this.ident(o.name)} = ${head} (${this.list(o.list)})`;
        }
        // `name = f(x)` would read as the `name = word (list)` form: parenthesise calls.
        const v = o.value.kind === 'function' ? `(${this.expr(o.value)})` : this.expr(o.value);
        return `${this.ident(o.name)} = ${v}`;
      })
      .join(', ');
    return p.syntax === 'bigquery' ? `WITH DIFFERENTIAL_PRIVACY OPTIONS (${opts})` : `WITH PRIVACY (${opts})`;
  }

  selectItem(i: A.SelectItem): string {
    switch (i.kind) {
      case 'star':
        return i.qualifier === undefined || i.qualifier.length === 0 ? '*' : `${this.qualified(i.qualifier)}.*`;
      case 'expr_star':
        return `(${this.expr(i.expr)}).*`;
      case 'expr_item':
        return i.alias === undefined ? this.expr(i.expr) : `${this.expr(i.expr)} AS ${this.ident(i.alias)}`;
    }
  }

  // ───────────────────────────── FROM ─────────────────────────────

  from(f: A.FromItem): string {
    switch (f.kind) {
      case 'table':
        return this.qualified(f.name) + this.alias(f.alias);
      case 'subquery':
        return `${f.lateral ? 'LATERAL ' : ''}(${this.query(f.query)})${this.alias(f.alias)}`;
      case 'table_function':
        return `${f.lateral ? 'LATERAL ' : ''}${this.expr(f.call)}${f.withOrdinality ? ' WITH ORDINALITY' : ''}${this.alias(f.alias)}`;
      case 'join': {
        const right = f.right.kind === 'join' ? `(${this.from(f.right)})` : this.from(f.right);
        let cond = '';
        if (f.on !== undefined) cond = ` ON ${this.expr(f.on)}`;
        else if (f.using !== undefined) cond = ` USING (${f.using.map((n) => this.ident(n)).join(', ')})`;
        return `${this.from(f.left)} ${this.joinKeyword(f)} ${right}${cond}`;
      }
    }
  }

  private joinKeyword(j: A.JoinExpr): string {
    if (j.mode === 'lookup') {
      if (j.type !== 'left') throw new Error(`PRIVATE LOOKUP is always a left join (got ${j.type})`);
      return 'PRIVATE LOOKUP';
    }
    if (j.mode === 'secure') {
      if (j.type === 'inner') return 'SECURE JOIN';
      if (j.type === 'left') return 'SECURE LEFT JOIN';
      throw new Error(`SECURE ${j.type.toUpperCase()} JOIN has no syntax`);
    }
    if (j.type === 'cross') return 'CROSS JOIN';
    const kw = { inner: 'JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL JOIN' }[j.type];
    return j.natural ? `NATURAL ${kw}` : kw;
  }

  private alias(a: A.Alias | undefined): string {
    if (a === undefined) return '';
    const cols = a.columns === undefined ? '' : `(${a.columns.map((n) => this.ident(n)).join(', ')})`;
    return ` AS ${this.ident(a.name)}${cols}`;
  }

  // ───────────────────────────── expressions ─────────────────────────────

  /** `e`, parenthesised if it binds looser than `min`. */
  private wrap(e: A.Expr, min: number): string {
    const s = this.expr(e);
    return exprPrecedence(e) < min ? `(${s})` : s;
  }

  expr(e: A.Expr): string {
    switch (e.kind) {
      case 'number':
        return e.text;
      case 'string':
        return this.string(e.value);
      case 'boolean':
        return e.value ? 'TRUE' : 'FALSE';
      case 'null':
        return 'NULL';
      case 'typed_string':
        return `${this.type(e.type)} ${this.string(e.value)}`;
      case 'interval': {
        const v = e.value;
        const value = v.kind === 'string' ? this.string(v.value) : v.kind === 'number' && !v.text.startsWith('-') ? v.text : `(${this.expr(v)})`;
        return `INTERVAL ${value}${e.unit === undefined ? '' : ' ' + e.unit.toUpperCase()}`;
      }
      case 'column':
        return this.qualified(e.name);
      case 'parameter':
        return `$${e.index}`;
      case 'unary': {
        if (e.op === 'not') return `NOT ${this.wrap(e.operand, Prec.NOT + 1)}`;
        return `${e.op}${this.wrap(e.operand, e.op === '~' ? Prec.OTHER + 1 : Prec.UNARY + 1)}`;
      }
      case 'binary': {
        const p = binaryPrecedence(e.op, e.operatorSchema);
        const left = this.wrap(e.left, isNonAssociative(p) ? p + 1 : p);
        const op = e.op === 'and' || e.op === 'or' ? e.op.toUpperCase() : e.operatorSchema !== undefined ? `OPERATOR(${this.ident(e.operatorSchema)}.${e.op})` : e.op;
        return `${left} ${op} ${this.wrap(e.right, p + 1)}`;
      }
      case 'like': {
        const op = { like: 'LIKE', ilike: 'ILIKE', similar: 'SIMILAR TO' }[e.op];
        const esc = e.escape === undefined ? '' : ` ESCAPE ${this.wrap(e.escape, Prec.LIKE + 1)}`;
        return `${this.wrap(e.expr, Prec.LIKE + 1)} ${e.not ? 'NOT ' : ''}${op} ${this.wrap(e.pattern, Prec.LIKE + 1)}${esc}`;
      }
      case 'between':
        return `${this.wrap(e.expr, Prec.LIKE + 1)} ${e.not ? 'NOT ' : ''}BETWEEN ${e.symmetric ? 'SYMMETRIC ' : ''}${this.wrap(e.low, Prec.LIKE + 1)} AND ${this.wrap(e.high, Prec.LIKE + 1)}`;
      case 'in_list':
        return `${this.wrap(e.expr, Prec.LIKE + 1)} ${e.not ? 'NOT ' : ''}IN (${this.list(e.list)})`;
      case 'in_subquery':
        return `${this.wrap(e.expr, Prec.LIKE + 1)} ${e.not ? 'NOT ' : ''}IN (${this.query(e.query)})`;
      case 'is': {
        const test = e.test === 'distinct_from' ? `DISTINCT FROM ${this.wrap(e.other!, Prec.IS + 1)}` : e.test.toUpperCase();
        return `${this.wrap(e.expr, Prec.IS + 1)} IS ${e.not ? 'NOT ' : ''}${test}`;
      }
      case 'exists':
        return `EXISTS (${this.query(e.query)})`;
      case 'scalar_subquery':
        return `(${this.query(e.query)})`;
      case 'quantified': {
        const p = binaryPrecedence(e.op);
        const inner = e.query !== undefined ? this.query(e.query) : this.expr(e.array!);
        return `${this.wrap(e.expr, isNonAssociative(p) ? p + 1 : p)} ${e.op} ${e.quantifier.toUpperCase()} (${inner})`;
      }
      case 'case': {
        let s = 'CASE';
        if (e.operand !== undefined) s += ` ${this.expr(e.operand)}`;
        for (const w of e.whens) s += ` WHEN ${this.expr(w.when)} THEN ${this.expr(w.then)}`;
        if (e.else !== undefined) s += ` ELSE ${this.expr(e.else)}`;
        return `${s} END`;
      }
      case 'cast':
        if (e.syntax === 'colons') return `${this.wrap(e.expr, Prec.CAST)}::${this.type(e.type)}`;
        return `${e.syntax === 'try_cast' ? 'TRY_CAST' : 'CAST'}(${this.expr(e.expr)} AS ${this.type(e.type)})`;
      case 'function':
        return this.call(e);
      case 'extract':
        return `EXTRACT(${this.ident(e.field)} FROM ${this.expr(e.expr)})`;
      case 'special':
        return e.name.toUpperCase();
      case 'array':
        return this.duck ? `[${this.list(e.elements)}]` : `ARRAY[${this.list(e.elements)}]`;
      case 'array_subquery':
        return `ARRAY(${this.query(e.query)})`;
      case 'subscript': {
        const b = e.expr.kind;
        const base = b === 'column' || b === 'parameter' || b === 'subscript' || b === 'field' ? this.expr(e.expr) : `(${this.expr(e.expr)})`;
        const idx = e.index === undefined ? '' : this.expr(e.index);
        const slice = e.slice === undefined ? '' : `:${e.slice.upper === undefined ? '' : this.expr(e.slice.upper)}`;
        return `${base}[${idx}${slice}]`;
      }
      case 'field': {
        const b = e.expr.kind;
        const base = b === 'subscript' || b === 'field' ? this.expr(e.expr) : `(${this.expr(e.expr)})`;
        return `${base}.${this.ident(e.field)}`;
      }
      case 'collate':
        return `${this.wrap(e.expr, Prec.COLLATE)} COLLATE ${this.qualified(e.collation)}`;
      case 'row':
        return e.explicit || e.elements.length < 2 ? `ROW(${this.list(e.elements)})` : `(${this.list(e.elements)})`;
      case 'star_arg':
        return '*';
    }
  }

  private call(f: A.FunctionCall): string {
    // DuckDB's (Postgres 12) grammar only knows OVERLAY's keyword form; Postgres reads both.
    const plain = f.filter === undefined && f.over === undefined && !f.distinct && f.orderBy === undefined && f.dp === undefined;
    if (plain && f.name.length === 1 && f.name[0] === 'overlay' && (f.args.length === 3 || f.args.length === 4)) {
      const [a, b, c, d] = f.args.map((x) => this.expr(x));
      return `OVERLAY(${a} PLACING ${b} FROM ${c}${d === undefined ? '' : ` FOR ${d}`})`;
    }
    const name = this.functionName(f);
    let args = f.distinct ? 'DISTINCT ' : '';
    args += this.list(f.args);
    if (f.dp?.bounds !== undefined) args += ` BOUNDED ${this.wrap(f.dp.bounds.low, Prec.LIKE + 1)} AND ${this.wrap(f.dp.bounds.high, Prec.LIKE + 1)}`;
    if (f.orderBy !== undefined && f.orderBy.length > 0) args += ` ORDER BY ${f.orderBy.map((o) => this.orderItem(o)).join(', ')}`;
    let s = `${f.dp !== undefined ? 'DP ' : ''}${name}(${args})`;
    if (f.withinGroup !== undefined) s += ` WITHIN GROUP (ORDER BY ${f.withinGroup.map((o) => this.orderItem(o)).join(', ')})`;
    if (f.filter !== undefined) s += ` FILTER (WHERE ${this.expr(f.filter)})`;
    if (f.over !== undefined) s += typeof f.over === 'string' ? ` OVER ${this.ident(f.over)}` : ` OVER (${this.windowBody(f.over)})`;
    return s;
  }

  private functionName(f: A.FunctionCall): string {
    if (f.name.length !== 1) return this.qualified(f.name);
    const n = f.name[0];
    if (n === 'left' || n === 'right' || (n === 'current_schema' && f.args.length === 0)) return n;
    const plainCall = f.filter === undefined && f.over === undefined && !f.distinct && f.orderBy === undefined && f.withinGroup === undefined;
    if (SPECIAL_FORM_NAMES.has(n) && !(plainCall && (n === 'substring' || n === 'trim' || n === 'overlay'))) return `"${n}"`;
    // Function names are looked up, not reserved: only quote what would not lex as one word.
    return PLAIN_IDENT.test(n) && !isReservedWord(n) ? n : `"${n.replace(/"/g, '""')}"`;
  }

  // ───────────────────────────── windows, ordering, types ─────────────────────────────

  windowBody(w: A.WindowSpec): string {
    const parts: string[] = [];
    if (w.baseWindow !== undefined) parts.push(this.ident(w.baseWindow));
    if (w.partitionBy !== undefined && w.partitionBy.length > 0) parts.push(`PARTITION BY ${this.list(w.partitionBy)}`);
    if (w.orderBy !== undefined && w.orderBy.length > 0) parts.push(`ORDER BY ${w.orderBy.map((o) => this.orderItem(o)).join(', ')}`);
    if (w.frame !== undefined) {
      const f = w.frame;
      const range = f.end === undefined ? this.bound(f.start) : `BETWEEN ${this.bound(f.start)} AND ${this.bound(f.end)}`;
      parts.push(`${f.units.toUpperCase()} ${range}${f.exclude === undefined ? '' : ` EXCLUDE ${f.exclude.toUpperCase()}`}`);
    }
    return parts.join(' ');
  }

  private bound(b: A.FrameBound): string {
    switch (b.type) {
      case 'unbounded_preceding':
        return 'UNBOUNDED PRECEDING';
      case 'unbounded_following':
        return 'UNBOUNDED FOLLOWING';
      case 'current_row':
        return 'CURRENT ROW';
      default:
        return `${this.wrap(b.offset!, Prec.AND + 1)} ${b.type.toUpperCase()}`;
    }
  }

  orderItem(o: A.OrderItem): string {
    let s = this.expr(o.expr);
    if (o.direction !== undefined) s += ` ${o.direction.toUpperCase()}`;
    if (o.nulls !== undefined) s += ` NULLS ${o.nulls.toUpperCase()}`;
    return s;
  }

  /** `numeric(12,2)`, `timestamp(3) with time zone`, `pg_catalog.text`, `name[]`. */
  type(t: A.TypeName): string {
    const words = t.name.split(' ');
    const tz = words.length >= 3 && (words[0] === 'timestamp' || words[0] === 'time') ? 1 : words.length;
    const head = words.slice(0, tz);
    const single = head.length === 1 ? this.typeWord(head[0]) : head.join(' ');
    let s = t.schema !== undefined && !(this.duck && t.schema === 'pg_catalog') ? `${this.ident(t.schema)}.${single}` : single;
    if (t.args !== undefined && t.args.length > 0) s += `(${t.args.join(', ')})`;
    if (tz < words.length) s += ' ' + words.slice(tz).join(' ');
    return s + '[]'.repeat(t.arrayDims ?? 0);
  }

  /** Type names are not reserved (`x::interval`, `x::time`): quote only what would not lex as a word. */
  private typeWord(w: string): string {
    return PLAIN_IDENT.test(w) && !isReservedWord(w) ? w : `"${w.replace(/"/g, '""')}"`;
  }
}
