/**
 * Joins of two federated tables that run inside each party (SPEC.md §3): when both sides are
 * unions over the same parties and the join condition pins matching rows to the same party,
 *
 *   Join(Union(l_1 … l_n), Union(r_1 … r_n))  →  Union(Join(l_1, r_1) … Join(l_n, r_n)).
 *
 * A condition pins rows to one party when it contains an equality of
 * - the `PARTY` pseudo-columns of both sides (exact by definition), or
 * - both sides' declared co-located keys (`colocated: sample_id` in federation.yaml): the
 *   federation promises that a key value lives at one party only, in every table declaring it.
 * Each per-party join then becomes part of that party's fragment (or protocol input), so no row
 * of either table leaves its party for the join. The rule runs bottom-up, so a chain
 * `genotypes ⋈ samples ⋈ variants` folds into one union of per-party joins.
 */
import type { Expr } from '../../parser/ast.js';
import type { BindContext } from '../binder/context.js';
import type { FederatedTableDef } from '../catalog-types.js';
import { joinConjuncts, mapExpr, splitConjuncts } from '../expr-utils.js';
import { children, outputColumns, withChildren, type JoinNode, type LogicalPlan, type SetOpNode } from '../logical-plan.js';
import { partyOfSubtree } from '../operators/partitions.js';

export function pushColocatedJoins(plan: LogicalPlan, ctx: BindContext): LogicalPlan {
  const node = withChildren(plan, children(plan).map((c) => pushColocatedJoins(c, ctx)));
  if (node.kind !== 'join' || node.mode !== 'plain' || node.type === 'cross' || !node.condition) return node;
  const left = partitionedUnion(node.left);
  const right = partitionedUnion(node.right);
  if (!left || !right || left.parties.length !== right.parties.length) return node;
  // Align the right side's members with the left side's party order.
  const order = left.parties.map((p) => right.parties.indexOf(p));
  if (order.some((i) => i < 0)) return node;
  const rightInputs = order.map((i) => right.union.inputs[i]);
  if (!splitConjuncts(node.condition).some((c) => pinsParty(c, left.union, right.union, ctx))) return node;
  return distribute(node, left.union, { ...right.union, inputs: rightInputs }, left.parties);
}

interface Partitioned {
  union: SetOpNode;
  parties: string[];
}

/** A UNION ALL whose every input sits at one party, each party once (a federated table or its descendants). */
function partitionedUnion(plan: LogicalPlan): Partitioned | undefined {
  if (plan.kind !== 'setop' || plan.op !== 'union' || !plan.all || !plan.federated) return undefined;
  const parties = plan.inputs.map(partyOfSubtree);
  if (parties.some((p) => p === undefined) || new Set(parties).size !== parties.length) return undefined;
  return { union: plan, parties: parties as string[] };
}

function pinsParty(c: Expr, left: SetOpNode, right: SetOpNode, ctx: BindContext): boolean {
  if (c.kind !== 'binary' || c.op !== '=' || c.left.kind !== 'column' || c.right.kind !== 'column') return false;
  const a = c.left.name[0];
  const b = c.right.name[0];
  const roleOf = (name: string): { l?: Role; r?: Role } => ({ l: unionRole(left, name, ctx), r: unionRole(right, name, ctx) });
  const ra = roleOf(a);
  const rb = roleOf(b);
  const matches = (x: Role | undefined, y: Role | undefined) => x !== undefined && y !== undefined && x === y;
  return matches(ra.l, rb.r) || matches(ra.r, rb.l);
}

type Role = 'party' | 'colocated';

/** What a union column is in every member: the PARTY pseudo-column, a co-located key, or neither. */
function unionRole(union: SetOpNode, name: string, ctx: BindContext): Role | undefined {
  const i = union.columns.findIndex((c) => c.name === name);
  if (i < 0) return undefined;
  let role: Role | undefined;
  for (const input of union.inputs) {
    const base = traceBase(input, outputColumns(input)[i].name);
    const origin = base ? ctx.origins.get(base) : undefined;
    if (!origin) return undefined;
    let r: Role | undefined;
    if (origin.pseudo === 'party') r = 'party';
    else if (origin.federated && colocatedOf(ctx, origin.federated) === origin.column) r = 'colocated';
    if (!r || (role && r !== role)) return undefined;
    role = r;
  }
  return role;
}

function colocatedOf(ctx: BindContext, federated: string): string | undefined {
  return ctx.catalog.federatedTables().find((f) => `${f.schema}.${f.name}` === federated)?.colocated;
}

/** The scan column a plan column is, unchanged, or undefined if it is computed. */
export function traceBase(plan: LogicalPlan, name: string): string | undefined {
  switch (plan.kind) {
    case 'scan':
      if (plan.partyColumn?.name === name || plan.columns.some((c) => c.column.name === name)) return name;
      return undefined;
    case 'project': {
      const item = plan.items.find((i) => i.column.name === name);
      return item && item.expr.kind === 'column' ? traceBase(plan.input, item.expr.name[0]) : undefined;
    }
    case 'filter': case 'sort': case 'limit': case 'distinct':
      return traceBase(plan.input, name);
    case 'join':
      return outputColumns(plan.left).some((c) => c.name === name) ? traceBase(plan.left, name) : traceBase(plan.right, name);
    case 'setop': {
      // Inside a union the column is each member's column: answer with the first member's base
      // (callers that need every member check each input themselves).
      const i = plan.columns.findIndex((c) => c.name === name);
      return i < 0 ? undefined : traceBase(plan.inputs[0], outputColumns(plan.inputs[0])[i].name);
    }
    case 'aggregate': {
      const g = plan.groups.find((x) => x.column.name === name);
      return g && g.expr.kind === 'column' ? traceBase(plan.input, g.expr.name[0]) : undefined;
    }
    default:
      return undefined;
  }
}

function distribute(join: JoinNode, left: SetOpNode, right: SetOpNode, parties: string[]): LogicalPlan {
  const inputs = parties.map((_, p) => {
    const l = left.inputs[p];
    const r = right.inputs[p];
    const rename = new Map<string, string>();
    left.columns.forEach((c, i) => rename.set(c.name, outputColumns(l)[i].name));
    right.columns.forEach((c, i) => rename.set(c.name, outputColumns(r)[i].name));
    const condition = mapExpr(join.condition!, {
      expr: (x) => (x.kind === 'column' && rename.has(x.name[0]) ? { ...x, name: [rename.get(x.name[0])!] } : undefined),
    });
    const member: JoinNode = { ...join, left: l, right: r, condition: joinConjuncts(splitConjuncts(condition)) };
    return member as LogicalPlan;
  });
  const def: FederatedTableDef = {
    schema: left.federated!.schema,
    name: `(${left.federated!.name} JOIN ${right.federated!.name} inside each party)`,
    table: left.federated!.table,
    parties,
  };
  // A member down on either side is missing from the per-party joins: keep it on record.
  const unavailable = [...(left.unavailable ?? []), ...(right.unavailable ?? [])].filter((m, i, all) => all.findIndex((o) => o.party === m.party) === i);
  return { kind: 'setop', op: 'union', all: true, inputs, columns: outputColumns(join), federated: def, ...(unavailable.length ? { unavailable } : {}) };
}
