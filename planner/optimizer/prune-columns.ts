/**
 * Projection pruning: every operator keeps only the columns something above it needs. Besides
 * saving work, this is what keeps unused columns out of fragments: a party is only asked for
 * (and only checks the policy of) the columns the query really uses.
 */
import {
  nodeExpressions, outputColumns, referencedColumns, type LogicalPlan,
} from '../logical-plan.js';

export function pruneColumns(plan: LogicalPlan): LogicalPlan {
  return prune(plan, new Set(outputColumns(plan).map((c) => c.name)));
}

/**
 * Drops the columns an operator produced only for itself (a filter's or join's own inputs),
 * so nothing above — in particular a fragment boundary — carries them.
 */
function narrow(plan: LogicalPlan, required: Set<string>): LogicalPlan {
  const out = outputColumns(plan);
  const kept = out.filter((c) => required.has(c.name));
  if (kept.length === out.length || kept.length === 0) return plan;
  return { kind: 'project', input: plan, items: kept.map((c) => ({ expr: { kind: 'column', name: [c.name] }, column: c })) };
}

function refsOf(plan: LogicalPlan, into: Set<string>): Set<string> {
  for (const e of nodeExpressions(plan)) referencedColumns(e, into);
  return into;
}

function prune(plan: LogicalPlan, required: Set<string>): LogicalPlan {
  switch (plan.kind) {
    case 'scan': {
      const columns = plan.columns.filter((c) => required.has(c.column.name));
      const partyColumn = plan.partyColumn && required.has(plan.partyColumn.name) ? plan.partyColumn : undefined;
      return { ...plan, columns, partyColumn };
    }
    case 'values':
    case 'table_function':
      return plan;
    case 'project': {
      const items = plan.items.filter((i) => required.has(i.column.name));
      const need = new Set<string>();
      for (const i of items) referencedColumns(i.expr, need);
      return { ...plan, items, input: prune(plan.input, need) };
    }
    case 'filter': case 'sort': case 'limit': {
      const need = refsOf(plan, new Set(required));
      return narrow({ ...plan, input: prune(plan.input, need) } as LogicalPlan, required);
    }
    case 'distinct':
      // DISTINCT compares whole rows: everything its input produces matters.
      return { ...plan, input: prune(plan.input, new Set([...outputColumns(plan.input).map((c) => c.name), ...refsOf(plan, new Set())])) };
    case 'join': {
      const need = refsOf(plan, new Set(required));
      return narrow({ ...plan, left: prune(plan.left, need), right: prune(plan.right, need) }, required);
    }
    case 'aggregate': {
      const aggregates = plan.aggregates.filter((a) => required.has(a.column.name));
      const need = new Set<string>();
      for (const g of plan.groups) referencedColumns(g.expr, need);
      for (const a of aggregates) referencedColumns(a.call, need);
      return { ...plan, aggregates, input: prune(plan.input, need) };
    }
    case 'window': {
      const items = plan.items.filter((i) => required.has(i.column.name));
      const need = new Set(required);
      for (const i of items) referencedColumns(i.call, need);
      return { ...plan, items, input: prune(plan.input, need) };
    }
    case 'setop': {
      // Only UNION ALL may drop columns: the other set operations compare whole rows.
      const keep = plan.columns.map((c) => !(plan.op === 'union' && plan.all) || required.has(c.name));
      if (!keep.some(Boolean) && plan.columns.length) keep[0] = true;
      const columns = plan.columns.filter((_, i) => keep[i]);
      const inputs = plan.inputs.map((input) => {
        const cols = outputColumns(input);
        const wanted = cols.filter((_, i) => keep[i]);
        const pruned = prune(input, new Set(wanted.map((c) => c.name)));
        const got = outputColumns(pruned).map((c) => c.name);
        if (got.length === wanted.length && got.every((n, i) => n === wanted[i].name)) return pruned;
        // Keep positions aligned when the input could not drop exactly those columns.
        return { kind: 'project', input: pruned, items: wanted.map((c) => ({ expr: { kind: 'column', name: [c.name] }, column: c })) } as LogicalPlan;
      });
      return { ...plan, columns, inputs };
    }
  }
}
