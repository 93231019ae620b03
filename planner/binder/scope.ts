/**
 * Name resolution scopes. A scope lists the relations of one FROM clause (each with the
 * qualifiers it answers to and its visible columns) and points to the enclosing query's scope,
 * which is how correlated subqueries see outer columns.
 */
import type { Span } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { isTypoOf as similar } from '../similar-names.js';
import type { PlanColumn } from '../logical-plan.js';

export interface ScopeColumn {
  /** The name the query uses (case-folded). */
  name: string;
  column: PlanColumn;
  /** Pseudo-columns (`PARTY`) resolve by name but are not part of `*`. */
  hidden?: boolean;
}

export interface ScopeRelation {
  /** Qualifier paths this relation answers to, e.g. [['c']] or [['customers'], ['bank_b','customers']]. */
  qualifiers: string[][];
  columns: ScopeColumn[];
  /** Display name for errors. */
  display: string;
}

export interface ResolvedColumn {
  column: PlanColumn;
  /** 0 = this scope, 1 = the enclosing query, … */
  depth: number;
}

export class Scope {
  readonly relations: ScopeRelation[];
  readonly parent?: Scope;
  /** Columns merged by JOIN … USING: unqualified references resolve to this column once. */
  readonly merged = new Map<string, PlanColumn>();

  constructor(relations: ScopeRelation[], parent?: Scope) {
    this.relations = relations;
    this.parent = parent;
  }

  /** Every column name produced by a relation of this scope (not parents). */
  ownColumnNames(): Set<string> {
    const names = new Set<string>();
    for (const r of this.relations) for (const c of r.columns) names.add(c.column.name);
    for (const c of this.merged.values()) names.add(c.name);
    return names;
  }

  resolve(parts: string[], span?: Span): ResolvedColumn {
    let scope: Scope | undefined = this;
    let depth = 0;
    while (scope) {
      const found = scope.resolveHere(parts, span);
      if (found) return { column: found, depth };
      scope = scope.parent;
      depth++;
    }
    throw this.notFound(parts, span);
  }

  private resolveHere(parts: string[], span?: Span): PlanColumn | undefined {
    const name = parts[parts.length - 1];
    const qualifier = parts.slice(0, -1);
    if (qualifier.length === 0) {
      const merged = this.merged.get(name);
      if (merged) return merged;
      const hits: PlanColumn[] = [];
      for (const rel of this.relations) {
        const visible = rel.columns.filter((c) => c.name === name && !c.hidden);
        const col = visible[0] ?? rel.columns.find((c) => c.name === name);
        if (col) hits.push(col.column);
      }
      if (hits.length > 1) {
        throw new SqlError(SqlState.ambiguousColumn, `column reference "${name}" is ambiguous`, {
          position: span ? span.start + 1 : undefined,
          hint: 'Qualify the column with its table alias.',
        });
      }
      return hits[0];
    }
    const rels = this.relations.filter((r) => r.qualifiers.some((q) => endsWith(q, qualifier)));
    if (rels.length > 1) {
      throw new SqlError(SqlState.ambiguousAlias, `table reference "${qualifier.join('.')}" is ambiguous`, {
        position: span ? span.start + 1 : undefined,
      });
    }
    if (rels.length === 0) return undefined;
    const rel = rels[0];
    const col = rel.columns.find((c) => c.name === name && !c.hidden) ?? rel.columns.find((c) => c.name === name);
    if (!col) {
      const close = rel.columns.filter((c) => !c.hidden && similar(c.name, name)).map((c) => c.name);
      throw new SqlError(SqlState.undefinedColumn, `column ${parts.join('.')} does not exist`, {
        position: span ? span.start + 1 : undefined,
        hint: close.length
          ? `Perhaps you meant to reference the column "${qualifier.join('.')}.${close[0]}".`
          : `${rel.display} has columns: ${rel.columns.filter((c) => !c.hidden).map((c) => c.name).join(', ')}.`,
      });
    }
    return col.column;
  }

  private notFound(parts: string[], span?: Span): SqlError {
    const position = span ? span.start + 1 : undefined;
    const qualifier = parts.slice(0, -1);
    if (qualifier.length > 0) {
      return new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${qualifier.join('.')}"`, {
        position,
      });
    }
    const name = parts[0];
    const candidates: string[] = [];
    for (let s: Scope | undefined = this; s; s = s.parent) {
      for (const r of s.relations) {
        for (const c of r.columns) if (!c.hidden && similar(c.name, name)) candidates.push(`${r.display}.${c.name}`);
      }
    }
    return new SqlError(SqlState.undefinedColumn, `column "${name}" does not exist`, {
      position,
      hint: candidates.length ? `Perhaps you meant to reference the column "${candidates[0]}".` : undefined,
    });
  }
}

export function endsWith(path: string[], suffix: string[]): boolean {
  if (suffix.length > path.length) return false;
  const offset = path.length - suffix.length;
  return suffix.every((s, i) => path[offset + i] === s);
}
