/**
 * Filter pushdown: moves each conjunct of WHERE/HAVING/ON as close to the scans as it can go,
 * so that it runs inside the owning party's fragment (less data moves, and the party filters
 * its own rows) — through projections, joins (by the side whose columns it touches), set
 * operations (into every member of a federated table), grouping keys, sorts and DISTINCT.
 * Predicates with subqueries stay where they are.
 */
import type { Expr } from '../../parser/ast.js';
import { joinConjuncts, mapExpr, splitConjuncts } from '../expr-utils.js';
import {
  hasSubquery, outputColumns, referencedColumns, type JoinNode, type LogicalPlan,
} from '../logical-plan.js';

export function pushFilters(plan: LogicalPlan): LogicalPlan {
  return push(plan, []);
}

function wrap(node: LogicalPlan, preds: Expr[]): LogicalPlan {
  const predicate = joinConjuncts(preds);
  return predicate ? { kind: 'filter', input: node, predicate, clause: 'where' } : node;
}

function only(pred: Expr, columns: Set<string>): boolean {
  const refs = referencedColumns(pred);
  for (const r of refs) if (!columns.has(r)) return false;
  return true;
}

function names(plan: LogicalPlan): Set<string> {
  return new Set(outputColumns(plan).map((c) => c.name));
}

/** Replaces column references by expressions (for pushing through a projection). */
function substitute(e: Expr, map: Map<string, Expr>): Expr {
  return mapExpr(e, { expr: (x) => (x.kind === 'column' ? map.get(x.name[0]) : undefined) });
}

function push(plan: LogicalPlan, preds: Expr[]): LogicalPlan {
  const movable = preds.filter((p) => !hasSubquery(p));
  const stuck = preds.filter((p) => hasSubquery(p));
  switch (plan.kind) {
    case 'filter': {
      if (plan.clause === 'min_group') return wrap({ ...plan, input: push(plan.input, []) }, preds);
      return push(plan.input, [...preds, ...splitConjuncts(plan.predicate)]);
    }
    case 'project': {
      const map = new Map(plan.items.map((i) => [i.column.name, i.expr]));
      const down = movable.filter((p) => [...referencedColumns(p)].every((r) => !map.has(r) || !hasSubquery(map.get(r)!)));
      const keep = preds.filter((p) => !down.includes(p));
      return wrap({ ...plan, input: push(plan.input, down.map((p) => substitute(p, map))) }, keep);
    }
    case 'join':
      return pushJoin(plan, movable, stuck);
    case 'setop': {
      const down = movable;
      const inputs = plan.inputs.map((input) => {
        const cols = outputColumns(input);
        const map = new Map(plan.columns.map((c, i): [string, Expr] => [c.name, { kind: 'column', name: [cols[i].name] }]));
        return push(input, down.map((p) => substitute(p, map)));
      });
      return wrap({ ...plan, inputs }, stuck);
    }
    case 'aggregate': {
      const groupCols = new Map(plan.groups.map((g) => [g.column.name, g.expr]));
      const groupNames = new Set(groupCols.keys());
      const down = movable.filter((p) => only(p, groupNames) && plan.groups.length > 0);
      const keep = preds.filter((p) => !down.includes(p));
      return wrap({ ...plan, input: push(plan.input, down.map((p) => substitute(p, groupCols))) }, keep);
    }
    case 'sort':
      return wrap({ ...plan, input: push(plan.input, movable) }, stuck);
    case 'distinct':
      if (plan.on) return wrap({ ...plan, input: push(plan.input, []) }, preds);
      return wrap({ ...plan, input: push(plan.input, movable) }, stuck);
    case 'limit':
    case 'window':
      return wrap({ ...plan, input: push(plan.input, []) } as LogicalPlan, preds);
    case 'scan':
    case 'values':
    case 'table_function': {
      // Correlated predicates (referencing an enclosing query) go above the local ones, so the
      // local ones can still run where the relation lives.
      const own = names(plan);
      const local = preds.filter((p) => only(p, own));
      return wrap(wrap(plan, local), preds.filter((p) => !local.includes(p)));
    }
  }
}

function pushJoin(join: JoinNode, movable: Expr[], stuck: Expr[]): LogicalPlan {
  const leftNames = names(join.left);
  const rightNames = names(join.right);
  const conds = splitConjuncts(join.condition);
  const toLeft: Expr[] = [];
  const toRight: Expr[] = [];
  const above: Expr[] = [...stuck];
  let stay: Expr[] = [];
  const innerLike = join.type === 'inner' || join.type === 'cross';
  for (const p of movable) {
    if (join.type !== 'right' && join.type !== 'full' && only(p, leftNames)) toLeft.push(p);
    else if (join.type !== 'left' && join.type !== 'full' && only(p, rightNames)) toRight.push(p);
    else if (innerLike && join.mode === 'plain') stay.push(p);
    else above.push(p);
  }
  const keptConds: Expr[] = [];
  for (const c of conds) {
    if (hasSubquery(c) || join.mode !== 'plain') keptConds.push(c);
    else if (innerLike && only(c, leftNames)) toLeft.push(c);
    else if ((innerLike || join.type === 'left') && only(c, rightNames)) toRight.push(c);
    else if ((innerLike || join.type === 'right') && only(c, leftNames) && join.type === 'right') toLeft.push(c);
    else keptConds.push(c);
  }
  stay = [...keptConds, ...stay];
  const condition = joinConjuncts(stay);
  const type = join.type === 'cross' && condition ? 'inner' : join.type;
  const node: JoinNode = { ...join, type, condition, left: push(join.left, toLeft), right: push(join.right, toRight) };
  return wrap(node, above);
}
