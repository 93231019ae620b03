/**
 * Binding `$n` parameter values into a plan: each parameter becomes a typed literal
 * (`CAST('text' AS type)`), so fragments carry values, never references to state a party
 * does not have. The type is the one the client declared, else the one the binder inferred
 * from the parameter's context; an untyped parameter becomes a plain string literal that
 * DuckDB coerces like Postgres coerces an unknown-typed literal.
 */
import type { Expr, TypeName } from '../parser/ast.js';
import { SqlError } from '../parser/errors.js';
import type { BindContext } from './binder/context.js';
import { mapPlanExpressions, type LogicalPlan } from './logical-plan.js';
import { mapExpr } from './expr-utils.js';
import { formatDuckDBType, isFlexible, type SqlType } from './types.js';

export interface ParameterValue {
  text: string | null;
  type?: SqlType;
}

export function substituteParameters(plan: LogicalPlan, params: ParameterValue[], ctx: BindContext): LogicalPlan {
  return mapPlanExpressions(plan, (e) =>
    mapExpr(e, {
      expr: (x) => {
        if (x.kind !== 'parameter') return undefined;
        const p = params[x.index - 1];
        if (!p) {
          throw new SqlError('42P02', `there is no parameter $${x.index}`, {
            position: x.span ? x.span.start + 1 : undefined,
            hint: `${params.length} parameter value(s) were supplied.`,
          });
        }
        const type = p.type && !isFlexible(p.type) ? p.type : ctx.paramTypes.get(x.index);
        return literal(p.text, type);
      },
    }),
  );
}

function literal(text: string | null, type: SqlType | undefined): Expr {
  if (text === null) return type && !isFlexible(type) ? cast({ kind: 'null' }, type) : { kind: 'null' };
  if (!type || isFlexible(type)) return { kind: 'string', value: text };
  if (type.id === 'blob' && text.startsWith('\\x')) {
    return { kind: 'function', name: ['from_hex'], args: [{ kind: 'string', value: text.slice(2) }] };
  }
  return cast({ kind: 'string', value: text }, type);
}

function cast(e: Expr, type: SqlType): Expr {
  return { kind: 'cast', expr: e, type: typeName(type), syntax: 'cast' };
}

/** A SqlType as an AST type name (what the printer renders). */
export function typeName(type: SqlType): TypeName {
  if (type.id === 'decimal') return { name: 'decimal', args: [type.precision ?? 18, type.scale ?? 3] };
  if (type.id === 'list') {
    const inner = typeName(type.element ?? { id: 'varchar' });
    return { ...inner, arrayDims: (inner.arrayDims ?? 0) + 1 };
  }
  if (type.id === 'timestamptz') return { name: 'timestamp with time zone' };
  if (type.id === 'double') return { name: 'double precision' };
  if (type.id === 'struct' || type.id === 'map' || type.id === 'unknown') return { name: formatDuckDBType(type).toLowerCase() };
  return { name: type.id };
}
