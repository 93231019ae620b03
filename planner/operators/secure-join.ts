/**
 * Planner side of SECURE JOIN (`a SECURE [LEFT] JOIN b ON a.k = b.k [AND …]`): claims the join
 * and turns it into a private stage run by `executor/operators/secure-join`.
 *
 * Shape the operator serves: one side is held by the requester's gateway in plaintext (its own
 * tables, or the result of an earlier SECURE JOIN in a chain) — the *gateway side*; the other
 * side is a relation of a single other party — the *party side*, which never leaves that party:
 * it becomes a protocol input whose key columns are used as `secure_key` and whose other
 * columns are revealed (`output`) for matched rows only. An inner join whose party side is
 * written first is served the same way (the sides are swapped internally). Everything else —
 * both sides at other parties, a federated table on the party side, LEFT JOIN that would keep
 * the other party's unmatched rows, conditions other than column equalities — is refused with
 * 0A000 naming what is missing.
 *
 * Key alignment: each key pair is cast to the pair's common type and then to text on both
 * sides, so both parties hash the same canonical bytes; text keys are then normalised by the
 * owners' declared rule (trim / Unicode form / case). If both columns declare a rule they must
 * agree.
 */
import type { Expr, TypeName } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import type { BindContext } from '../binder/context.js';
import type { KeyNormalization } from '../catalog-types.js';
import { splitConjuncts } from '../expr-utils.js';
import { outputColumns, walkPlan, type JoinNode, type LogicalPlan, type PlanColumn, type ProjectItem } from '../logical-plan.js';
import type { ColumnUse } from '../policy.js';
import { registerPrivateOperator, type OperatorPlanningContext, type PrivateOperatorPlanner, type PrivateStagePlan } from '../private-operators.js';
import { commonType, displayType, formatDuckDBType, type SqlType } from '../types.js';
import { planAggregateSecureJoin, secureJoinUnderAggregate } from './secure-join-aggregate.js';

export const SECURE_JOIN_OPERATOR = 'secure-join';
/** The party-side protocol name (versioned). */
export const SECURE_JOIN_PROTOCOL = 'psi-join-v1';

/** One aligned key column pair. */
export interface SecureJoinKey {
  /** Gateway-side plan column (a column of the gateway input table). */
  gatewayColumn: string;
  /** DuckDB type both sides cast to before rendering the key as text. */
  keyType: string;
  /** Normalisation of the text key (from the owners' catalogs), if any. */
  normalization?: KeyNormalization;
}

/** A party-side column revealed for matched rows (row mode). */
export interface SecureJoinPayloadColumn {
  /** Output column of the stage. */
  name: string;
  /** DuckDB type of the output column. */
  type: string;
  /** Source: the i-th payload column of the party input, or the gateway key column standing in for a party key column. */
  source: { kind: 'payload'; index: number } | { kind: 'gateway_key'; column: string };
}

export interface SecureJoinRowParams {
  mode: 'row';
  joinType: 'inner' | 'left';
  party: string;
  keys: SecureJoinKey[];
  /** Gateway-side output columns, in order, with DuckDB types. */
  gatewayColumns: { name: string; type: string }[];
  payload: SecureJoinPayloadColumn[];
  /** Number of payload columns in the party input (after the key columns). */
  partyPayloadColumns: number;
}

export type SecureJoinParams =
  | SecureJoinRowParams
  | import('./secure-join-aggregate.js').SecureJoinAggregateParams
  | import('./secure-join-aggregate.js').SecureJoinRowThenAggregate;

const position = (node: { span?: { start: number } }): number | undefined => (node.span ? node.span.start + 1 : undefined);

function refuse(message: string, node: JoinNode, hint?: string): never {
  throw new SqlError(SqlState.featureNotSupported, message, { position: position(node), hint });
}

/** Parties whose tables a subtree reads (federated members included). */
export function partiesOf(plan: LogicalPlan): Set<string> {
  const parties = new Set<string>();
  walkPlan(plan, (p) => {
    if (p.kind === 'scan' && p.source.kind === 'party') parties.add(p.source.party);
  });
  return parties;
}

export type SideRole = { gateway: LogicalPlan; party: LogicalPlan; partyName: string; swapped: boolean };

/** Decides which side the requester holds and which stays at its party, or refuses. */
export function assignSides(node: JoinNode, context: OperatorPlanningContext): SideRole {
  const requester = context.requester;
  const siteOf = (p: LogicalPlan) => context.placement.get(p);
  const remoteParty = (p: LogicalPlan): string | undefined => {
    const s = siteOf(p);
    return s?.kind === 'party' && s.party !== requester ? s.party : undefined;
  };
  const left = remoteParty(node.left);
  const right = remoteParty(node.right);
  const describe = (p: LogicalPlan) => [...partiesOf(p)].join(', ') || 'constants';
  if (left && right) {
    refuse(
      `SECURE JOIN between ${left} and ${right} is not supported: one side must be held by the requester ${requester} (its own tables or an earlier SECURE JOIN's result)`,
      node,
      `A join between two other parties needs a three-party protocol that this version does not provide; join each of them with ${requester}'s own data instead.`,
    );
  }
  if (right) return { gateway: node.left, party: node.right, partyName: right, swapped: false };
  if (left) {
    if (node.type !== 'inner') {
      refuse(
        `SECURE LEFT JOIN keeping every row of ${left}'s side is not supported: it would reveal ${left}'s unmatched rows`,
        node,
        `Put ${requester}'s relation on the left of SECURE LEFT JOIN.`,
      );
    }
    return { gateway: node.right, party: node.left, partyName: left, swapped: true };
  }
  const rightParties = partiesOf(node.right);
  const leftParties = partiesOf(node.left);
  if ([...rightParties].some((p) => p !== requester) || [...leftParties].some((p) => p !== requester)) {
    refuse(
      `SECURE JOIN needs one side to be a relation of a single other party; here the sides read ${describe(node.left)} and ${describe(node.right)}`,
      node,
      'A federated table or a plaintext join of several parties cannot be one side of a SECURE JOIN yet.',
    );
  }
  refuse(`SECURE JOIN of two relations of ${requester} itself needs no private protocol`, node, 'Use a plain JOIN.');
}

/** The (gateway column, party column) pairs of the ON clause, or a refusal. */
export function keyPairs(node: JoinNode, gateway: LogicalPlan, party: LogicalPlan): { gateway: PlanColumn; party: PlanColumn }[] {
  const gatewayCols = new Map(outputColumns(gateway).map((c) => [c.name, c]));
  const partyCols = new Map(outputColumns(party).map((c) => [c.name, c]));
  const pairs: { gateway: PlanColumn; party: PlanColumn }[] = [];
  for (const c of splitConjuncts(node.condition)) {
    const ok = c.kind === 'binary' && c.op === '=' && c.left.kind === 'column' && c.right.kind === 'column';
    if (ok) {
      const l = c.left.kind === 'column' ? c.left.name[0] : '';
      const r = c.right.kind === 'column' ? c.right.name[0] : '';
      if (gatewayCols.has(l) && partyCols.has(r)) {
        pairs.push({ gateway: gatewayCols.get(l)!, party: partyCols.get(r)! });
        continue;
      }
      if (gatewayCols.has(r) && partyCols.has(l)) {
        pairs.push({ gateway: gatewayCols.get(r)!, party: partyCols.get(l)! });
        continue;
      }
    }
    refuse(
      'SECURE JOIN supports only equalities between a column of each side in its ON clause (a.k = b.k [AND a.k2 = b.k2 …])',
      node,
      'Filter each side in WHERE or in a subquery instead.',
    );
  }
  if (pairs.length === 0) refuse('SECURE JOIN needs at least one key equality in its ON clause', node);
  return pairs;
}

function normalizationOf(ctx: BindContext, column: string): KeyNormalization | undefined {
  const origin = ctx.origins.get(column);
  if (!origin || origin.pseudo) return undefined;
  const table = ctx.catalog.party(origin.party)?.tables.find((t) => t.name === origin.table);
  return table?.columns.find((c) => c.name === origin.column)?.normalization;
}

const sameRule = (a: KeyNormalization, b: KeyNormalization) => a.trim === b.trim && a.unicode === b.unicode && a.case === b.case;

/** Types a key may have: exact values with one canonical text form. */
const KEY_TYPE_IDS = new Set(['boolean', 'tinyint', 'smallint', 'integer', 'bigint', 'hugeint', 'utinyint', 'usmallint', 'uinteger', 'ubigint', 'decimal', 'varchar', 'json', 'uuid', 'blob', 'date', 'timestamp', 'timestamptz']);

export function typeName(t: SqlType): TypeName {
  if (t.id === 'decimal') return { name: 'decimal', args: [t.precision ?? 18, t.scale ?? 3] };
  if (t.id === 'timestamptz') return { name: 'timestamptz' };
  if (t.id === 'json') return { name: 'varchar' };
  return { name: t.id };
}

/** Aligns each key pair's type and normalisation. */
export function alignKeys(ctx: BindContext, pairs: { gateway: PlanColumn; party: PlanColumn }[], node: JoinNode): { keyType: SqlType; normalization?: KeyNormalization }[] {
  return pairs.map(({ gateway, party }) => {
    const gt = ctx.typeOf(gateway.name);
    const pt = ctx.typeOf(party.name);
    const common = commonType(gt, pt);
    if (!common || common.id === 'unknown') {
      throw new SqlError(SqlState.datatypeMismatch, `SECURE JOIN keys ${gateway.label} (${displayType(gt)}) and ${party.label} (${displayType(pt)}) have no common type`, {
        position: position(node),
        hint: 'Cast one side in a subquery so both keys have the same type.',
      });
    }
    if (!KEY_TYPE_IDS.has(common.id)) {
      refuse(`SECURE JOIN keys of type ${displayType(common)} are not supported (${gateway.label} = ${party.label})`, node, common.id === 'double' || common.id === 'float' ? 'Floating-point keys have no exact canonical form: cast them to DECIMAL or text.' : 'Cast the keys to text, an integer, a decimal or a date.');
    }
    const rules = [normalizationOf(ctx, gateway.name), normalizationOf(ctx, party.name)].filter((r): r is KeyNormalization => r !== undefined);
    if (rules.length === 2 && !sameRule(rules[0], rules[1])) {
      throw new SqlError(SqlState.featureNotSupported, `SECURE JOIN keys ${gateway.label} and ${party.label} declare different normalisations`, {
        position: position(node),
        detail: `${JSON.stringify(rules[0])} vs ${JSON.stringify(rules[1])}`,
        hint: 'Both owners must declare the same normalize: rule for the key columns (node.yaml).',
      });
    }
    const textual = common.id === 'varchar' || common.id === 'json';
    return { keyType: common, ...(textual && rules[0] ? { normalization: rules[0] } : {}) };
  });
}

const col = (name: string): Expr => ({ kind: 'column', name: [name] });

/** `CAST(CAST(col AS keyType) AS VARCHAR)` (the inner cast only where the column's type differs). */
export function keyText(ctx: BindContext, column: PlanColumn, keyType: SqlType): Expr {
  const own = ctx.typeOf(column.name);
  const sameType = own.id === keyType.id && (own.id !== 'decimal' || own.scale === keyType.scale);
  const aligned: Expr = sameType ? col(column.name) : { kind: 'cast', expr: col(column.name), type: typeName(keyType), syntax: 'cast' };
  return own.id === 'varchar' && sameType ? aligned : { kind: 'cast', expr: aligned, type: { name: 'varchar' }, syntax: 'cast' };
}

/** Whether the requester may see a party column in plaintext (by the column's own policy). */
export function revealable(ctx: BindContext, column: string, requester: string): boolean {
  const origin = ctx.origins.get(column);
  return !origin || origin.party === requester || (origin.level === 'public' && !origin.pseudo);
}

function planRowMode(node: JoinNode, context: OperatorPlanningContext): PrivateStagePlan {
  const { ctx, requester } = context;
  if (node.type !== 'inner' && node.type !== 'left') {
    refuse(`SECURE ${node.type.toUpperCase()} JOIN is not supported`, node, `Use SECURE JOIN or SECURE LEFT JOIN with ${requester}'s relation on the left.`);
  }
  const sides = assignSides(node, context);
  const pairs = keyPairs(node, sides.gateway, sides.party);
  const aligned = alignKeys(ctx, pairs, node);
  const gatewayInput = context.gatewayInput(sides.gateway);

  // The party input: key texts first (secure_key), then the columns revealed for matched rows.
  const items: ProjectItem[] = [];
  const uses: ColumnUse[] = [];
  pairs.forEach((p, i) => {
    items.push({ expr: keyText(ctx, p.party, aligned[i].keyType), column: ctx.newColumn(`psi_key_${i + 1}`, `key_${i + 1}`, { id: 'varchar' }) });
    uses.push('secure_key');
  });
  const payload: SecureJoinPayloadColumn[] = [];
  let payloadIndex = 0;
  for (const c of outputColumns(sides.party)) {
    const pair = pairs.find((p) => p.party.name === c.name);
    const type = formatDuckDBType(ctx.typeOf(c.name));
    if (pair && !revealable(ctx, c.name, requester)) {
      // A key column the requester may not see: nothing above can use it (the policy check
      // refused any such use); it equals the gateway key on matched rows, so stand that in.
      payload.push({ name: c.name, type, source: { kind: 'gateway_key', column: pair.gateway.name } });
      continue;
    }
    items.push({ expr: { kind: 'cast', expr: col(c.name), type: { name: 'varchar' }, syntax: 'cast' }, column: ctx.newColumn(`psi_out_${c.name}`, c.label, { id: 'varchar' }) });
    uses.push('output');
    payload.push({ name: c.name, type, source: { kind: 'payload', index: payloadIndex++ } });
  }
  const partyPlan: LogicalPlan = { kind: 'project', input: sides.party, items };
  context.placement.set(partyPlan, { kind: 'party', party: sides.partyName });
  const partyInput = context.partyInput(partyPlan, uses);

  const params: SecureJoinRowParams = {
    mode: 'row',
    joinType: node.type === 'left' ? 'left' : 'inner',
    party: sides.partyName,
    keys: pairs.map((p, i) => ({ gatewayColumn: p.gateway.name, keyType: formatDuckDBType(aligned[i].keyType), ...(aligned[i].normalization ? { normalization: aligned[i].normalization } : {}) })),
    gatewayColumns: outputColumns(sides.gateway).map((c) => ({ name: c.name, type: formatDuckDBType(ctx.typeOf(c.name)) })),
    payload,
    partyPayloadColumns: payloadIndex,
  };
  const revealed = payload.filter((p) => p.source.kind === 'payload').map((p) => outputColumns(sides.party).find((c) => c.name === p.name)!.label);
  const keys = pairs.map((p) => `${p.gateway.label} = ${p.party.label}`).join(' AND ');
  return {
    operator: SECURE_JOIN_OPERATOR,
    gatewayInputs: [gatewayInput],
    partyInputs: [partyInput],
    params,
    explain: {
      protocol: `ECDH-PSI row mode over Curve25519 (X25519, Elligator2 hash-to-curve), ${requester} ⟷ ${sides.partyName}, keys ${keys}${node.type === 'left' ? ', LEFT (unmatched rows of ' + requester + "'s side kept)" : ''}`,
      disclosure: [
        `${sides.partyName} learns only the number of distinct non-NULL keys of ${requester}'s side (blinded elements; not the intersection, not its size)`,
        `${requester} learns which of its own keys ${sides.partyName} has and, for those rows only, ${revealed.length ? `the values of ${revealed.join(', ')}` : 'their multiplicity'}; plus ${sides.partyName}'s number of rows with a non-NULL key and the padded row size`,
      ],
    },
  };
}

/**
 * Aggregates over a join with a federated table (or its PARTY pseudo-column) are left to the
 * operators built for them (multi-lender dedupe claims such aggregates). The join itself is
 * always claimed — an operator claiming the aggregate above it takes precedence, and a join
 * nobody else serves is refused by `plan` with a message naming why.
 */
function involvesFederatedTable(join: JoinNode): boolean {
  let found = false;
  for (const side of [join.left, join.right]) {
    walkPlan(side, (p) => {
      if ((p.kind === 'setop' && p.federated) || (p.kind === 'scan' && p.partyColumn)) found = true;
    });
  }
  return found;
}

export const secureJoinPlanner: PrivateOperatorPlanner = {
  name: SECURE_JOIN_OPERATOR,
  claims(node: LogicalPlan): boolean {
    if (node.kind === 'join') return node.mode === 'secure';
    const join = secureJoinUnderAggregate(node);
    return join !== undefined && !involvesFederatedTable(join);
  },
  plan(node: LogicalPlan, context: OperatorPlanningContext): PrivateStagePlan {
    if (node.kind === 'join') return planRowMode(node, context);
    return planAggregateSecureJoin(node, context, planRowMode);
  },
};

registerPrivateOperator(secureJoinPlanner);
