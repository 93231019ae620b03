/**
 * Planner side of PRIVATE LOOKUP (`local PRIVATE LOOKUP owner.table b ON b.k = local.k …`):
 * claims `JoinNode`s with mode `lookup` (always a LEFT join). Every row of the requester's local
 * relation (a table, subquery, VALUES or `$n` parameters — whatever the gateway computes) comes
 * back once per label found, like a plaintext LEFT JOIN: with the owner's selected label columns
 * on a match (one row per matching owner entry: a key listed twice gives two rows), NULLs when
 * absent. Over a federated table every member is looked up and the answers are united, exactly
 * as a LEFT JOIN over the union of the members.
 *
 * ON conditions: key equalities `b.col = local.col` (one or more: multi-column keys), plus
 * conditions on the owner's columns alone (they restrict the owner's searchable rows and run at
 * the owner, its policy permitting) and on the local side alone (rows failing them are not
 * looked up and get NULLs, as in a LEFT JOIN). Anything mixing both sides is refused (0A000).
 *
 * Owner inputs: key columns as `secure_key`, label columns as `lookup_label` (policy level
 * `public` or `lookup`), both cast to text, checked here for an early error and again by the
 * owner on receipt.
 */
import type { CastExpr, Expr } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { print } from '../../parser/index.js';
import { mapExpr, splitConjuncts, joinConjuncts } from '../expr-utils.js';
import { outputColumns, referencedColumns, walkPlan, type JoinNode, type LogicalPlan, type PlanColumn } from '../logical-plan.js';
import type { ColumnUse } from '../policy.js';
import { registerPrivateOperator, type OperatorPlanningContext, type PartyInput, type PrivateStagePlan } from '../private-operators.js';
import { formatDuckDBType, T } from '../types.js';
import type { KeyNormalization } from '../catalog-types.js';

export const PRIVATE_LOOKUP_OPERATOR = 'private-lookup';

/** Parameters the executor side receives (JSON). */
export interface LookupStageParams {
  /** Gateway temp table with the local rows, and its columns (in stage output order). */
  local: { table: string; columns: string[] };
  /** Per key: the local column and the DuckDB type of the owner's key column (values are cast to it). */
  keys: { local: string; ownerType: string; output: string }[];
  /** DuckDB SQL over the local columns; rows where it is not true are not looked up. */
  localCondition?: string;
  /** Label columns of the stage output (owner side), with their DuckDB types. */
  labels: { output: string; type: string }[];
  /** One lookup per owner (one per member of a federated table). */
  owners: {
    party: string;
    sql: string;
    uses: ColumnUse[];
    keySources: { table: string; column: string }[];
    normalization: (KeyNormalization | null)[];
  }[];
}

interface KeyPair {
  local: string;
  owner: string;
}

function refuse(node: JoinNode, message: string, hint?: string): never {
  throw new SqlError(SqlState.featureNotSupported, `PRIVATE LOOKUP: ${message}`, { position: node.span ? node.span.start + 1 : undefined, hint });
}

function namesOf(plan: LogicalPlan): Set<string> {
  return new Set(outputColumns(plan).map((c) => c.name));
}

function castToText(e: Expr): CastExpr {
  return { kind: 'cast', expr: e, type: { name: 'varchar' }, syntax: 'cast' };
}

/** The scan column (table, column, normalisation) a plan column of `plan` comes from, if any. */
function sourceOf(plan: LogicalPlan, column: string): { table: string; column: string; normalization?: KeyNormalization; type: string } | undefined {
  let found: ReturnType<typeof sourceOf>;
  walkPlan(plan, (p) => {
    if (found || p.kind !== 'scan' || p.source.kind !== 'party') return;
    const c = p.columns.find((sc) => sc.column.name === column);
    if (!c) return;
    const published = p.source.table.columns.find((pc) => pc.name === c.source);
    found = { table: p.source.table.name, column: c.source, normalization: published?.normalization, type: published?.type ?? formatDuckDBType(c.column.type) };
  });
  return found;
}

/** The owners of the right side: one member per party (federated union) or the side itself. */
function ownerMembers(right: LogicalPlan): { plan: LogicalPlan; rename: Map<string, string> }[] {
  if (right.kind === 'setop' && right.federated && right.op === 'union' && right.all) {
    return right.inputs.map((input) => {
      const cols = outputColumns(input);
      return { plan: input, rename: new Map(right.columns.map((c, i): [string, string] => [c.name, cols[i].name])) };
    });
  }
  return [{ plan: right, rename: new Map(outputColumns(right).map((c): [string, string] => [c.name, c.name])) }];
}

function renameColumns(e: Expr, rename: Map<string, string>): Expr {
  return mapExpr(e, { expr: (x) => (x.kind === 'column' && x.name.length === 1 && rename.has(x.name[0]) ? { kind: 'column', name: [rename.get(x.name[0])!] } : undefined) });
}

function planLookup(node: JoinNode, context: OperatorPlanningContext): PrivateStagePlan {
  const localNames = namesOf(node.left);
  const ownerNames = namesOf(node.right);
  const keys: KeyPair[] = [];
  const ownerOnly: Expr[] = [];
  const localOnly: Expr[] = [];
  for (const c of splitConjuncts(node.condition)) {
    if (c.kind === 'binary' && c.op === '=' && c.left.kind === 'column' && c.right.kind === 'column') {
      const [l, r] = [c.left.name[0], c.right.name[0]];
      if (ownerNames.has(l) && localNames.has(r)) {
        keys.push({ owner: l, local: r });
        continue;
      }
      if (ownerNames.has(r) && localNames.has(l)) {
        keys.push({ owner: r, local: l });
        continue;
      }
    }
    const refs = referencedColumns(c);
    if ([...refs].every((n) => ownerNames.has(n))) ownerOnly.push(c);
    else if ([...refs].every((n) => !ownerNames.has(n))) localOnly.push(c);
    else {
      refuse(node, 'ON may only combine key equalities (owner.column = local.column) with conditions on one side', 'Compute derived keys in a subquery of the local side.');
    }
  }
  if (keys.length === 0) refuse(node, 'ON needs at least one key equality owner.column = local.column');
  if (new Set(keys.map((k) => k.owner)).size !== keys.length) refuse(node, 'each owner key column may appear in one equality only');

  const keyOwnerCols = new Set(keys.map((k) => k.owner));
  const ownerColumns = outputColumns(node.right);
  const labelCols = ownerColumns.filter((c) => !keyOwnerCols.has(c.name));
  const local = context.gatewayInput(node.left);
  const ownerCondition = joinConjuncts(ownerOnly);

  const partyInputs: PartyInput[] = [];
  const owners = ownerMembers(node.right).map(({ plan, rename }) => {
    const site = context.placement.get(plan);
    if (site?.kind !== 'party') refuse(node, 'the looked-up side must be one party\'s table (or a federated table)', 'Join other data on the local side instead.');
    let input: LogicalPlan = ownerCondition ? { kind: 'filter', input: plan, predicate: renameColumns(ownerCondition, rename), clause: 'where' } : plan;
    // The operator's own wrappers run where the owner's relation runs.
    context.placement.set(input, site);
    const items = [
      ...keys.map((k) => ({ name: rename.get(k.owner)!, label: ownerColumns.find((c) => c.name === k.owner)!.label, use: 'secure_key' as const })),
      ...labelCols.map((c) => ({ name: rename.get(c.name)!, label: c.label, use: 'lookup_label' as const })),
    ];
    input = {
      kind: 'project',
      input,
      items: items.map((it) => ({ expr: castToText({ kind: 'column', name: [it.name] }), column: context.ctx.newColumn(`lookup_${it.use === 'secure_key' ? 'key' : 'label'}`, it.label, T.varchar) })),
    };
    context.placement.set(input, site);
    const partyInput = context.partyInput(input, items.map((it) => it.use));
    partyInputs.push(partyInput);
    const sources = keys.map((k) => sourceOf(plan, rename.get(k.owner)!));
    return {
      party: partyInput.party,
      sql: partyInput.sql,
      uses: partyInput.uses,
      keySources: sources.map((s, i) => ({ table: s?.table ?? '', column: s?.column ?? keys[i].owner })),
      normalization: sources.map((s) => s?.normalization ?? null),
    };
  });

  const typeOf = (c: PlanColumn, plan: LogicalPlan) => ownerMembers(plan).map(({ plan: p, rename }) => sourceOf(p, rename.get(c.name)!)?.type).find(Boolean) ?? formatDuckDBType(c.type);
  const params: LookupStageParams = {
    local: { table: local.table, columns: local.columns.map((c) => c.name) },
    keys: keys.map((k) => ({ local: k.local, output: k.owner, ownerType: typeOf(ownerColumns.find((c) => c.name === k.owner)!, node.right) })),
    localCondition: localOnly.length ? print(joinConjuncts(localOnly)!, { dialect: 'duckdb' }) : undefined,
    labels: labelCols.map((c) => ({ output: c.name, type: typeOf(c, node.right) })),
    owners,
  };
  const parties = owners.map((o) => o.party);
  const labelText = labelCols.length ? labelCols.map((c) => c.label).join(', ') : 'no label columns (membership only)';
  return {
    operator: PRIVATE_LOOKUP_OPERATOR,
    gatewayInputs: [local],
    partyInputs,
    params,
    explain: {
      protocol: `labeled keyword PIR: RFC 9497 OPRF (ristretto255) + BFV (n=2048, t=65537) with ${parties.join(', ')}`,
      disclosure: [
        ...parties.map((p) => `${context.requester} -> ${p}: only the number of distinct keys, padded to a bucket (1, 2, 4 … 1024, then multiples of 1024), and the geometry (single-key or cuckoo batch) and query unit count that follow from it (one extra unit with probability ≤ 2^-30 per batch); keys travel blinded (OPRF) and encrypted (BFV)`),
        ...parties.map((p) => `${p} -> ${context.requester}: for each of ${context.requester}'s keys, whether ${p} lists it and its label(s) (${labelText}); nothing about other entries except the table's approximate size (bundle count)`),
        `false-positive probability per key ≤ 2^-40 (bundles × 2^-48)`,
      ],
    },
  };
}

registerPrivateOperator({
  name: PRIVATE_LOOKUP_OPERATOR,
  claims: (node) => node.kind === 'join' && node.mode === 'lookup',
  plan: (node, context) => planLookup(node as JoinNode, context),
});
