/**
 * Postgres' object-identifier types (`regclass`, `regtype`, `regproc`, `regnamespace`,
 * `regrole`) as clients use them: `'pg_class'::regclass` is the OID of a relation found by name
 * (an error if there is none, as in Postgres), and `c.oid::regclass` printed as text is the
 * relation's name. In the emulated catalog OIDs are plain integers, so a literal becomes the
 * OID it names and a non-literal keeps its integer value, except where it is shown as text.
 */
import type { Expr, Span } from '../../parser/ast.js';
import { parseExpression, stripSpans } from '../../parser/index.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { MACRO_SCHEMA } from './macros.js';
import type { PgCatalogModel } from './model.js';
import { PG_TYPE_PROCS, typeOidByName } from './type-catalog.js';

export type RegKind = 'regclass' | 'regtype' | 'regproc' | 'regprocedure' | 'regnamespace' | 'regrole' | 'regoper' | 'regoperator';

const REG_KINDS = new Set<string>(['regclass', 'regtype', 'regproc', 'regprocedure', 'regnamespace', 'regrole', 'regoper', 'regoperator']);

export function isRegKind(name: string): name is RegKind {
  return REG_KINDS.has(name);
}

const pos = (span: Span | undefined): number | undefined => (span ? span.start + 1 : undefined);

/**
 * Splits a possibly qualified, possibly quoted name the way Postgres' regclass input does:
 * `a.b` → [a, b] folded to lower case, `"Foo".bar` → [Foo, bar].
 */
export function parseQualifiedName(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      const start = i;
      while (i < s.length && s[i] !== '.') i++;
      part = s.slice(start, i).trim().toLowerCase();
      if (part === '' || part.includes('"')) return undefined;
    }
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') return undefined;
    i++;
  }
  return parts.length > 0 ? parts : undefined;
}

/** The OID a reg* literal names; throws the error Postgres raises for an unknown name. */
export function resolveRegLiteral(kind: RegKind, text: string, model: PgCatalogModel, span?: Span): number {
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  switch (kind) {
    case 'regclass': {
      const parts = parseQualifiedName(text);
      const found = parts ? model.findRelation(parts) : undefined;
      if (Array.isArray(found)) {
        throw new SqlError(SqlState.undefinedTable, `relation "${text}" is ambiguous`, {
          position: pos(span),
          hint: `Qualify it with its party or federation: ${found.map((r) => `${r.namespace.name}.${r.name}`).join(', ')}.`,
        });
      }
      if (!found) throw new SqlError(SqlState.undefinedTable, `relation "${text}" does not exist`, { position: pos(span) });
      return found.oid;
    }
    case 'regtype': {
      const oid = typeOidByName(text);
      if (oid === undefined) throw new SqlError('42704', `type "${text}" does not exist`, { position: pos(span) });
      return oid;
    }
    case 'regproc':
    case 'regprocedure': {
      const name = text.trim().replace(/^pg_catalog\./i, '').replace(/\(.*\)\s*$/s, '').trim().toLowerCase();
      const proc = PG_TYPE_PROCS.find((p) => p.proname === name);
      if (!proc) throw new SqlError(SqlState.undefinedFunction, `function "${text}" does not exist`, { position: pos(span) });
      return proc.oid;
    }
    case 'regnamespace': {
      const parts = parseQualifiedName(text);
      const ns = parts?.length === 1 ? model.namespace(parts[0]) : undefined;
      if (!ns) throw new SqlError('3F000', `schema "${text}" does not exist`, { position: pos(span) });
      return ns.oid;
    }
    case 'regrole': {
      const parts = parseQualifiedName(text);
      const role = parts?.length === 1 ? model.roles.find((r) => r.name === parts[0]) : undefined;
      if (!role) throw new SqlError('42704', `role "${text}" does not exist`, { position: pos(span) });
      return role.oid;
    }
    default:
      throw new SqlError(SqlState.featureNotSupported, `type ${kind} is not supported`, { position: pos(span) });
  }
}

/** `to_regclass('x')` and friends: the OID, or NULL instead of an error. */
export function tryResolveRegLiteral(kind: RegKind, text: string, model: PgCatalogModel): number | null {
  try {
    return resolveRegLiteral(kind, text, model);
  } catch {
    return null;
  }
}

const cache = new Map<string, Expr>();

/** A template expression with `$1 … $n` placeholders, parsed once (spans removed). */
export function template(sql: string): Expr {
  let t = cache.get(sql);
  if (t === undefined) {
    t = stripSpans(parseExpression(sql));
    cache.set(sql, t);
  }
  return t;
}

/** Replaces every `$n` in `tree` (including inside subqueries) by `args[n-1]`. */
export function substitute<T>(tree: T, args: Expr[]): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (o.kind === 'parameter' && typeof o.index === 'number') return args[o.index - 1];
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = walk(o[k]);
    return out;
  };
  return walk(tree) as T;
}

const NAME_OF: Partial<Record<RegKind, string>> = {
  regclass: 'coalesce((SELECT relname FROM pg_catalog.pg_class WHERE oid = $1), CAST($1 AS VARCHAR))',
  regtype: `${MACRO_SCHEMA}.format_type($1, NULL)`,
  regproc: 'coalesce((SELECT proname FROM pg_catalog.pg_proc WHERE oid = $1), CAST($1 AS VARCHAR))',
  regprocedure: 'coalesce((SELECT proname FROM pg_catalog.pg_proc WHERE oid = $1), CAST($1 AS VARCHAR))',
  regnamespace: 'coalesce((SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = $1), CAST($1 AS VARCHAR))',
  regrole: 'coalesce((SELECT rolname FROM pg_catalog.pg_roles WHERE oid = $1), CAST($1 AS VARCHAR))',
};

/** The text a reg* value prints as (the object's name), for a non-literal OID expression. */
export function regName(kind: RegKind, oid: Expr): Expr {
  const sql = NAME_OF[kind];
  if (sql === undefined) return { kind: 'cast', expr: oid, type: { name: 'varchar' }, syntax: 'cast' };
  return substitute(template(sql), [oid]);
}
