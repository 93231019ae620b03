/**
 * Rewrites the PostgreSQL-isms that clients send into SQL the planner and the gateway's DuckDB
 * understand, on the AST (never on SQL text), before planning:
 *
 * - session functions become literals of this session's values: `version()`,
 *   `current_database()`/`current_catalog`, `current_schema[()]`, `current_schemas(b)`,
 *   `current_user`/`session_user`/`user`, `current_setting(name)`, `set_config(name, v, local)`
 *   (which also applies the setting), `pg_postmaster_start_time()`;
 * - catalog functions become subqueries over the emulated catalog: `pg_get_userbyid`,
 *   `obj_description`, `col_description`, `x::regclass` shown as text, …; reg* literals
 *   (`'pg_class'::regclass`, `'int4'::regtype`, `'array_in'::regproc`) become the OIDs they name;
 * - the remaining Postgres functions are renamed to the gateway's macros (`macros.ts`), and
 *   `pg_catalog.` is dropped from every other function name;
 * - Postgres-only types in casts (`oid`, `name`, `"char"`, `int2vector`, …) become DuckDB types,
 *   and array literals written as text (`'{a,b}'::text[]`, `= ANY('{r,p}')`) become arrays;
 * - `pg_settings` (per session in Postgres) becomes a VALUES list of this session's settings,
 *   `pg_get_keywords()` a query over DuckDB's keyword list, and a set-returning
 *   `generate_series(…)` in a select list is unnested as Postgres would return it.
 *
 * Rewritten select items keep the column name Postgres would give them (`version`,
 * `current_user`, …). `OPERATOR(pg_catalog.~)`, `COLLATE pg_catalog.default`, `E'…'` strings and
 * `::` casts are handled by the parser and its DuckDB printer already.
 */
import type * as A from '../../parser/ast.js';
import { parseStatement, stripSpans } from '../../parser/index.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { figureLabel } from '../../planner/binder/bind-query.js';
import { MACRO_NAMES, MACRO_SCHEMA } from './macros.js';
import { DATABASE, type PgCatalogModel } from './model.js';
import { OID } from './oids.js';
import { isRegKind, regName, resolveRegLiteral, substitute, template, tryResolveRegLiteral, type RegKind } from './reg-types.js';
import { PG_SETTINGS_COLUMNS, settingsRows } from './settings-rows.js';
import { PG_VERSION_STRING } from './version.js';

export interface SessionSettingsAccess {
  /** Current value, undefined when not set. */
  find(name: string): string | undefined;
  set(name: string, value: string): void;
  /** Every setting, by canonical name. */
  list(): [string, string][];
}

export interface PostgresContext {
  model: PgCatalogModel;
  user: string;
  /** The requester's own party: what unqualified names resolve to first (current_schema). */
  schema: string;
  settings: SessionSettingsAccess;
  /** False while describing a statement: `set_config` must not change anything then. */
  applySideEffects: boolean;
  /** When this engine started (pg_postmaster_start_time). */
  startedAt: Date;
}

const str = (value: string): A.Expr => ({ kind: 'cast', expr: { kind: 'string', value }, type: { name: 'varchar' }, syntax: 'cast' });
const num = (n: number): A.Expr => ({ kind: 'number', text: String(n) });
const typed = (e: A.Expr, type: A.TypeName): A.Expr => ({ kind: 'cast', expr: e, type, syntax: 'cast' });
const pos = (e: { span?: A.Span }): number | undefined => (e.span ? e.span.start + 1 : undefined);

const TEXT_TYPES = new Set(['text', 'varchar', 'character varying', 'name', 'char', 'bpchar', 'character']);

/** Postgres-only type names → the DuckDB type their values are stored as here. */
const TYPE_MAP: Record<string, A.TypeName> = {
  oid: { name: 'integer' }, xid: { name: 'integer' }, cid: { name: 'integer' }, tid: { name: 'varchar' },
  name: { name: 'varchar' }, char: { name: 'varchar' }, bpchar: { name: 'varchar' }, pg_node_tree: { name: 'varchar' },
  aclitem: { name: 'varchar' }, regconfig: { name: 'integer' }, regdictionary: { name: 'integer' },
  int2vector: { name: 'smallint', arrayDims: 1 }, oidvector: { name: 'integer', arrayDims: 1 },
  anyarray: { name: 'varchar', arrayDims: 1 }, cstring: { name: 'varchar' }, inet: { name: 'varchar' },
};

/**
 * Scalar functions clients call in FROM, where Postgres makes them a one-row relation. Only
 * these (and the gateway's macros) are rewritten so: any other function in FROM is left to the
 * binder, which accepts the set-returning ones it allows and refuses everything else.
 */
const SCALAR_IN_FROM = new Set(['string_to_array', 'regexp_split_to_array', 'string_split', 'array_append', 'array_cat', 'coalesce', 'lower', 'upper', 'trim']);

const KEYWORDS_SQL =
  "SELECT keyword_name AS word, CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' " +
  "WHEN 'column_name' THEN 'C' ELSE 'T' END AS catcode, true AS barelabel, keyword_category AS catdesc, " +
  "'can be bare label' AS baredesc FROM duckdb_keywords() AS k(keyword_name, keyword_category)";
let keywordsQuery: A.Query | undefined;

/** Catalog tables whose OID `obj_description(o, 'pg_class')` names. */
const CLASS_OIDS: Record<string, number> = { pg_class: OID.pgClass, pg_namespace: OID.pgNamespace, pg_proc: OID.pgProc, pg_type: OID.pgType, pg_database: OID.pgDatabase };

export function rewritePostgresisms(query: A.Query, ctx: PostgresContext): A.Query {
  return new Rewriter(ctx).node(query) as A.Query;
}

class Rewriter {
  /** Counts rewrites, so a select item knows whether it needs its Postgres name as alias. */
  private changes = 0;

  constructor(private readonly ctx: PostgresContext) {}

  node(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.node(x));
    if (v === null || typeof v !== 'object') return v;
    const n = v as Record<string, unknown> & { kind?: string };
    switch (n.kind) {
      case 'expr_item':
        return this.selectItem(n as unknown as A.ExprSelectItem);
      case 'table':
        return this.tableRef(n as unknown as A.TableRef) ?? n;
      case 'table_function':
        return this.tableFunction(n as unknown as A.TableFunctionRef);
      case 'cast': {
        const named = this.regAsText(n as unknown as A.CastExpr);
        if (named) return named;
        break;
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(n)) out[k] = k === 'span' ? n[k] : this.node(n[k]);
    return this.after(out as unknown as A.Expr);
  }

  private expr(e: A.Expr): A.Expr {
    return this.node(e) as A.Expr;
  }

  private changed<T>(value: T): T {
    this.changes++;
    return value;
  }

  private selectItem(item: A.ExprSelectItem): A.ExprSelectItem {
    const before = this.changes;
    let source = item.expr;
    // A reg* value selected as is prints as the object's name.
    if (source.kind === 'cast' && isRegKind(source.type.name) && !isLiteral(source.expr)) {
      source = { kind: 'cast', expr: source, type: { name: 'text' }, syntax: 'cast', span: source.span };
    }
    let expr = this.expr(source);
    // A set-returning generate_series in a select list returns rows in Postgres; DuckDB's
    // scalar form returns a list.
    if (expr.kind === 'function' && expr.name.length === 1 && expr.name[0] === 'generate_series' && expr.over === undefined) {
      expr = this.changed({ kind: 'function', name: ['unnest'], args: [expr], span: expr.span });
    }
    const out: A.ExprSelectItem = { ...item, expr };
    if (this.changes !== before && item.alias === undefined) out.alias = figureLabel(item.expr);
    return out;
  }

  /** `pg_settings` is per session: this session's settings as a VALUES list. */
  private tableRef(t: A.TableRef): A.FromItem | undefined {
    const name = t.name.length === 3 && t.name[0] === DATABASE ? t.name.slice(1) : t.name;
    const isSettings = (name.length === 2 && name[0] === 'pg_catalog' && name[1] === 'pg_settings') || (name.length === 1 && name[0] === 'pg_settings');
    if (!isSettings) return undefined;
    const rows = settingsRows(this.ctx.settings.list()).map((row, r) =>
      row.map((v, c): A.Expr => {
        const type = PG_SETTINGS_COLUMNS[c][1];
        const value = literalOf(v);
        // The first row fixes each column's type (NULL alone would be untyped).
        return r === 0 || v === null ? typed(value, duckTypeName(type)) : value;
      }),
    );
    const columns = PG_SETTINGS_COLUMNS.map(([n]) => n);
    const alias: A.Alias = { name: t.alias?.name ?? 'pg_settings', columns: t.alias?.columns ? [...t.alias.columns, ...columns.slice(t.alias.columns.length)] : columns };
    return this.changed({ kind: 'subquery', query: { kind: 'query', body: { kind: 'values', rows } }, alias, span: t.span });
  }

  private tableFunction(f: A.TableFunctionRef): A.FromItem {
    const rewritten = this.expr(f.call);
    if (rewritten.kind !== 'function') {
      // A session function that became a literal (`FROM current_schemas(false) s`).
      return this.scalarRelation(f, rewritten, f.call.name[f.call.name.length - 1]);
    }
    const call = rewritten;
    const name = call.name[call.name.length - 1];
    if (name === 'pg_get_keywords' && call.args.length === 0) {
      keywordsQuery ??= stripSpans(parseStatement(KEYWORDS_SQL) as A.Query);
      const alias: A.Alias = { name: f.alias?.name ?? 'pg_get_keywords' };
      if (f.alias?.columns) alias.columns = f.alias.columns;
      return this.changed({ kind: 'subquery', query: keywordsQuery, alias, span: f.span });
    }
    const scalar = SCALAR_IN_FROM.has(name) || (call.name.length === 2 && call.name[0] === MACRO_SCHEMA);
    if (scalar && !f.withOrdinality) return this.scalarRelation(f, call, name);
    // Anything else stays a table function, for the binder's allowlist to accept or refuse.
    return { ...f, call };
  }

  /**
   * A scalar function in FROM is a one-row relation whose column is named after the alias
   * (Grafana: `FROM string_to_array(current_setting('search_path'), ',') s`).
   */
  private scalarRelation(f: A.TableFunctionRef, value: A.Expr, name: string): A.FromItem {
    const label = f.alias?.columns?.[0] ?? f.alias?.name ?? name;
    const select: A.Select = { kind: 'select', items: [{ kind: 'expr_item', expr: value, alias: label }] };
    const out: A.SubqueryRef = { kind: 'subquery', query: { kind: 'query', body: select }, alias: { name: f.alias?.name ?? name }, span: f.span };
    if (f.lateral) out.lateral = true;
    return this.changed(out);
  }

  /** `x::regclass::text` (psql's spelling): the name of the object whose OID is x. */
  private regAsText(c: A.CastExpr): A.Expr | undefined {
    if (!TEXT_TYPES.has(c.type.name) || (c.type.arrayDims ?? 0) > 0) return undefined;
    const inner = c.expr;
    if (inner.kind !== 'cast' || !isRegKind(inner.type.name) || isLiteral(inner.expr)) return undefined;
    return this.changed({ ...regName(inner.type.name, this.expr(inner.expr)), span: c.span } as A.Expr);
  }

  private after(e: A.Expr): unknown {
    switch (e.kind) {
      case 'function':
        return this.call(e);
      case 'special':
        return this.special(e);
      case 'cast':
        return this.cast(e);
      case 'typed_string':
        if (isRegKind(e.type.name) || TYPE_MAP[e.type.name]) {
          return this.cast({ kind: 'cast', expr: { kind: 'string', value: e.value, span: e.span }, type: e.type, syntax: 'cast', span: e.span });
        }
        return e;
      case 'quantified': {
        const arr = e.array;
        if (arr && arr.kind === 'string') {
          const elements = parseArrayText(arr.value);
          if (elements) return this.changed({ ...e, array: arrayOf(elements, undefined, arr.span) });
        }
        return e;
      }
      default:
        return e;
    }
  }

  private special(e: A.SpecialValue): A.Expr {
    switch (e.name) {
      case 'current_user': case 'session_user': case 'user': case 'current_role':
        return this.changed({ ...str(this.ctx.user), span: e.span });
      case 'current_schema':
        return this.changed({ ...str(this.ctx.schema), span: e.span });
      case 'current_catalog':
        return this.changed({ ...str(DATABASE), span: e.span });
      default:
        return e;
    }
  }

  private cast(c: A.CastExpr): A.Expr {
    const t = c.type.name;
    if (isRegKind(t)) {
      if ((c.type.arrayDims ?? 0) > 0) return this.changed({ ...c, type: { name: 'integer', arrayDims: c.type.arrayDims } });
      const text = literalText(c.expr);
      if (text !== undefined) return this.changed({ ...num(resolveRegLiteral(t, text, this.ctx.model, c.expr.span ?? c.span)), span: c.span });
      return this.changed({ ...c, type: { name: 'integer' } });
    }
    let type = c.type;
    const mapped = TYPE_MAP[t];
    if (mapped) type = this.changed({ ...mapped, arrayDims: (mapped.arrayDims ?? 0) + (c.type.arrayDims ?? 0) });
    else if (type.schema === 'pg_catalog') type = { ...type, schema: undefined };
    if ((type.arrayDims ?? 0) === 1 && c.expr.kind === 'string') {
      const elements = parseArrayText(c.expr.value);
      if (elements) {
        const element: A.TypeName = { name: type.name };
        if (type.args) element.args = type.args;
        return this.changed(arrayOf(elements, TEXT_TYPES.has(type.name) ? undefined : element, c.span));
      }
    }
    return type === c.type ? c : { ...c, type };
  }

  private call(f: A.FunctionCall): A.Expr {
    let name = f.name;
    if (name.length === 3 && name[0] === DATABASE) name = name.slice(1);
    if (name.length === 2 && (name[0] === 'pg_catalog' || name[0] === 'information_schema')) name = [name[1]];
    if (name.length !== 1) return f;
    const n = name[0];
    const plain = f.over === undefined && f.filter === undefined && !f.distinct && f.orderBy === undefined && f.dp === undefined;
    const at = (e: A.Expr): A.Expr => this.changed({ ...e, span: f.span } as A.Expr);
    const a = f.args;
    if (plain) {
      switch (n) {
        case 'version':
          if (a.length === 0) return at(str(PG_VERSION_STRING));
          break;
        case 'current_database': case 'current_catalog':
          if (a.length === 0) return at(str(DATABASE));
          break;
        case 'current_schema':
          if (a.length === 0) return at(str(this.ctx.schema));
          break;
        case 'current_user': case 'session_user': case 'user': case 'current_role':
          if (a.length === 0) return at(str(this.ctx.user));
          break;
        case 'current_schemas':
          if (a.length === 1) return at(this.currentSchemas(a[0]));
          break;
        case 'current_setting':
          if (a.length === 1 || a.length === 2) return at(this.currentSetting(f));
          break;
        case 'set_config':
          if (a.length === 3) return at(this.setConfig(f));
          break;
        case 'pg_postmaster_start_time': case 'pg_conf_load_time':
          if (a.length === 0) return at({ kind: 'typed_string', type: { name: 'timestamp with time zone' }, value: this.ctx.startedAt.toISOString() });
          break;
        case 'pg_get_userbyid':
          if (a.length === 1) return at(substitute(template('(SELECT rolname FROM pg_catalog.pg_roles WHERE oid = $1)'), a));
          break;
        case 'obj_description':
          if (a.length === 1) return at(substitute(template('(SELECT min(description) FROM pg_catalog.pg_description WHERE objoid = $1 AND objsubid = 0)'), a));
          if (a.length === 2) return at(substitute(template('(SELECT description FROM pg_catalog.pg_description WHERE objoid = $1 AND classoid = $2 AND objsubid = 0)'), [a[0], this.classOid(a[1])]));
          break;
        case 'col_description':
          if (a.length === 2) return at(substitute(template(`(SELECT description FROM pg_catalog.pg_description WHERE objoid = $1 AND classoid = ${OID.pgClass} AND objsubid = $2)`), a));
          break;
        case 'shobj_description':
          if (a.length === 2) return at(str(''));
          break;
        case 'to_regclass': case 'to_regtype': case 'to_regproc': case 'to_regnamespace': case 'to_regrole': {
          const text = a.length === 1 ? literalText(a[0]) : undefined;
          if (text !== undefined) {
            const oid = tryResolveRegLiteral(n.slice(3) as RegKind, text, this.ctx.model);
            return at(oid === null ? typed({ kind: 'null' }, { name: 'integer' }) : num(oid));
          }
          break;
        }
      }
    }
    if (MACRO_NAMES.has(n)) return this.changed({ ...f, name: [MACRO_SCHEMA, n] });
    return name === f.name ? f : this.changed({ ...f, name });
  }

  private currentSchemas(arg: A.Expr): A.Expr {
    const path = [this.ctx.schema, 'public'];
    const withImplicit = arrayOf(['pg_catalog', ...path], undefined);
    const without = arrayOf(path, undefined);
    if (arg.kind === 'boolean') return arg.value ? withImplicit : without;
    return { kind: 'case', whens: [{ when: arg, then: withImplicit }], else: without };
  }

  private currentSetting(f: A.FunctionCall): A.Expr {
    const name = literalText(f.args[0]);
    const missingOk = f.args[1]?.kind === 'boolean' && f.args[1].value;
    if (name !== undefined) {
      const value = this.ctx.settings.find(name);
      if (value !== undefined) return str(value);
      if (missingOk) return typed({ kind: 'null' }, { name: 'varchar' });
      throw new SqlError('42704', `unrecognized configuration parameter "${name}"`, { position: pos(f.args[0]) ?? pos(f) });
    }
    // A computed name: every setting of this session, chosen at run time.
    return {
      kind: 'case',
      operand: { kind: 'function', name: ['lower'], args: [f.args[0]] },
      whens: this.ctx.settings.list().map(([k, v]) => ({ when: { kind: 'string', value: k.toLowerCase() }, then: str(v) })),
      else: typed({ kind: 'null' }, { name: 'varchar' }),
    };
  }

  private setConfig(f: A.FunctionCall): A.Expr {
    const name = literalText(f.args[0]);
    const value = literalText(f.args[1]);
    if (name === undefined || value === undefined) {
      throw new SqlError(SqlState.featureNotSupported, 'set_config needs a constant parameter name and value', { position: pos(f) });
    }
    if (this.ctx.applySideEffects) {
      try {
        this.ctx.settings.set(name, value);
      } catch (e) {
        if (e instanceof SqlError && e.position === undefined) e.position = pos(f);
        throw e;
      }
    }
    return str(value);
  }

  private classOid(e: A.Expr): A.Expr {
    const text = literalText(e);
    if (text !== undefined) {
      const known = CLASS_OIDS[text.replace(/^pg_catalog\./, '')];
      if (known !== undefined) return num(known);
    }
    return substitute(template("(SELECT oid FROM pg_catalog.pg_class WHERE relname = replace($1, 'pg_catalog.', ''))"), [e]);
  }
}

function isLiteral(e: A.Expr): boolean {
  return literalText(e) !== undefined;
}

/** The text of a string literal (possibly cast to a text type), or of a number literal. */
function literalText(e: A.Expr | undefined): string | undefined {
  if (!e) return undefined;
  if (e.kind === 'string') return e.value;
  if (e.kind === 'number') return e.text;
  if (e.kind === 'boolean') return e.value ? 'on' : 'off';
  if (e.kind === 'cast' && TEXT_TYPES.has(e.type.name) && (e.type.arrayDims ?? 0) === 0) return literalText(e.expr);
  return undefined;
}

function literalOf(v: unknown): A.Expr {
  if (v === null) return { kind: 'null' };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (typeof v === 'number') return { kind: 'number', text: String(v) };
  if (Array.isArray(v)) return { kind: 'array', elements: v.map(literalOf) };
  return { kind: 'string', value: String(v) };
}

function duckTypeName(type: string): A.TypeName {
  return type.endsWith('[]') ? { name: type.slice(0, -2).toLowerCase(), arrayDims: 1 } : { name: type.toLowerCase() };
}

function arrayOf(elements: (string | null)[], element: A.TypeName | undefined, span?: A.Span): A.Expr {
  const items = elements.map((v): A.Expr => {
    const lit: A.Expr = v === null ? { kind: 'null' } : { kind: 'string', value: v };
    return element ? typed(lit, element) : lit;
  });
  const out: A.Expr = { kind: 'array', elements: items };
  if (span) out.span = span;
  return out;
}

/**
 * Postgres' text form of a one-dimensional array: `{a,"b c",NULL}` → ['a', 'b c', null].
 * Undefined for anything else (nested arrays, malformed text), which is then left as is.
 */
export function parseArrayText(text: string): (string | null)[] | undefined {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return undefined;
  const body = s.slice(1, -1);
  const out: (string | null)[] = [];
  if (body.trim() === '') return out;
  let i = 0;
  for (;;) {
    while (body[i] === ' ') i++;
    if (body[i] === '{') return undefined;
    if (body[i] === '"') {
      let v = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        v += body[i++] ?? '';
      }
      if (body[i] !== '"') return undefined;
      i++;
      out.push(v);
    } else {
      const start = i;
      while (i < body.length && body[i] !== ',') i++;
      const raw = body.slice(start, i).trim();
      if (raw.includes('"') || raw.includes('{')) return undefined;
      out.push(raw.toUpperCase() === 'NULL' ? null : raw);
    }
    while (body[i] === ' ') i++;
    if (i >= body.length) return out;
    if (body[i] !== ',') return undefined;
    i++;
  }
}
