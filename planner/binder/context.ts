/**
 * State shared by all binder functions while one statement is bound: the catalog, the unique
 * column-name allocator, the type and origin of every plan column, and parameter types.
 */
import type { CommonTableExpr } from '../../parser/ast.js';
import type { Catalog } from '../catalog.js';
import type { PolicyLevel } from '../catalog-types.js';
import type { PlanColumn } from '../logical-plan.js';
import { T, type SqlType } from '../types.js';

/** Where a scan column comes from; what the policy checker needs to know about it. */
export interface ColumnOrigin {
  party: string;
  table: string;
  column: string;
  level: PolicyLevel;
  minGroup: number;
  /** Set when the scan is a member of this federated table. */
  federated?: string;
  /** The `PARTY` pseudo-column of a federated table member. */
  pseudo?: 'party';
}

export interface CteBinding {
  def: CommonTableExpr;
  /** CTEs visible to this CTE's own body (those defined before it). */
  visible: Map<string, CteBinding>;
}

export class BindContext {
  readonly catalog: Catalog;
  readonly types = new Map<string, SqlType>();
  readonly origins = new Map<string, ColumnOrigin>();
  /** Types of `$n` parameters (1-based index → type), from client hints or inference. */
  readonly paramTypes = new Map<number, SqlType>();
  /** The session's `dp.*` settings (without the prefix): defaults for DP aggregates' privacy options. */
  privacyDefaults: Record<string, string> = {};
  private readonly used = new Set<string>();
  /** Next suffix to try per base name: a 100-member federated union asks for each name 100 times. */
  private readonly nextSuffix = new Map<string, number>();
  private aliasCounter = 0;

  constructor(catalog: Catalog, paramHints: (SqlType | undefined)[] = []) {
    this.catalog = catalog;
    paramHints.forEach((t, i) => {
      if (t) this.paramTypes.set(i + 1, t);
    });
  }

  /** A new plan column with a statement-unique SQL name derived from `base`. */
  newColumn(base: string, label: string, type: SqlType): PlanColumn {
    const name = this.uniqueName(base);
    this.types.set(name, type);
    return { name, label, type };
  }

  uniqueName(base: string): string {
    let clean = base.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    if (!clean || /^[0-9]/.test(clean)) clean = `c_${clean}`;
    if (clean.startsWith('__')) clean = clean.replace(/^_+/, '');
    let name = clean;
    let i = this.nextSuffix.get(clean) ?? 2;
    if (this.used.has(name)) {
      // A generated name (`x_2`) may itself have been taken as a base earlier: keep probing.
      do name = `${clean}_${i++}`;
      while (this.used.has(name));
    }
    this.nextSuffix.set(clean, i);
    this.used.add(name);
    return name;
  }

  /** A fresh relation alias for generated SQL (`t1`, `t2`, …). */
  nextAlias(prefix = 't'): string {
    return `${prefix}${++this.aliasCounter}`;
  }

  typeOf(name: string): SqlType {
    return this.types.get(name) ?? T.unknown;
  }
}
