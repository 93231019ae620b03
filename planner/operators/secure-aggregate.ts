/**
 * Planner side of secure aggregation (SPEC.md §5): claims aggregates over federated tables that
 * involve non-public columns (COUNT, SUM, AVG, VAR/STDDEV via sums of squares) and the GWAS
 * aggregates, GROUP BY public columns. Each party computes its partials in its own DuckDB over
 * its protocol input (the projection prepared by `secure-aggregate-inputs.ts`, re-checked by the
 * party: keys `output`, arguments `statistic`); partials are combined with pairwise masks mod
 * 2^(32·L), so the requester learns per-group totals only, and the operator drops groups whose
 * total COUNT(*) is below the tables' `min_group` (the policy's filter above repeats it).
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import type { FunctionCall } from '../../parser/ast.js';
import type { BindContext } from '../binder/context.js';
import { gwasResultType, GWAS_FUNCTIONS } from '../gwas/result-types.js';
import { outputColumns, referencedColumns, walkPlan, type AggregateNode, type LogicalPlan, type PlanColumn } from '../logical-plan.js';
import type { ColumnUse } from '../policy.js';
import { registerPrivateOperator, type OperatorPlanningContext, type PrivateOperatorPlanner, type PrivateStagePlan } from '../private-operators.js';
import { displayType, type SqlType } from '../types.js';
import { containsFederatedUnion, partitionsOf, sensitiveColumns, type Partition } from './partitions.js';
import {
  ALLELE_PARTS, FIXED_POINT_BITS, GWAS_PARTS, SECURE_AGGREGATE_OPERATOR, type Encoding, type GwasCounts, type OutputSpec, type SecureAggregateParams, type ValueSpec,
} from './secure-aggregate-spec.js';

const SUPPORTED = new Set(['count', 'sum', 'avg', 'mean', 'var_pop', 'var_samp', 'variance', 'stddev', 'stddev_pop', 'stddev_samp', ...GWAS_FUNCTIONS]);

const fname = (c: FunctionCall) => c.name[c.name.length - 1];

export const secureAggregatePlanner: PrivateOperatorPlanner = {
  name: SECURE_AGGREGATE_OPERATOR,
  claims(node: LogicalPlan): boolean {
    if (node.kind !== 'aggregate' || node.aggregates.some((a) => a.call.dp)) return false;
    if (node.aggregates.some((a) => GWAS_FUNCTIONS.has(fname(a.call)))) return true;
    if (!containsFederatedUnion(node.input)) return false;
    const sensitive = sensitiveColumns(node.input);
    return node.aggregates.some((a) => [...referencedColumns(a.call)].some((c) => sensitive.has(c)));
  },
  plan(node, context) {
    return planSecureAggregate(node as AggregateNode, context);
  },
};

export function registerSecureAggregatePlanner(): void {
  registerPrivateOperator(secureAggregatePlanner);
}

const position = (c: FunctionCall) => (c.span ? c.span.start + 1 : undefined);

function refuse(message: string, call?: FunctionCall, hint?: string): never {
  throw new SqlError(SqlState.featureNotSupported, message, { position: call ? position(call) : undefined, hint });
}

function planSecureAggregate(node: AggregateNode, context: OperatorPlanningContext): PrivateStagePlan {
  const { ctx, requester } = context;
  for (const a of node.aggregates) {
    const name = fname(a.call);
    if (!SUPPORTED.has(name) || a.call.name.length > 1) {
      refuse(`${name.toUpperCase()} over a federated table with non-public columns is not supported by secure aggregation`, a.call,
        'Secure aggregation computes COUNT, SUM, AVG, VAR_POP/VAR_SAMP, STDDEV_POP/STDDEV_SAMP and GWAS_ALLELIC/GWAS_MODEL.');
    }
    if (a.call.distinct) refuse(`${name.toUpperCase()}(DISTINCT …) cannot be computed by secure aggregation`, a.call);
  }
  const parts = shapeOf(node);
  const input = parts[0].plan;
  const inputColumns = outputColumns(input);
  const unionColumns = node.input.kind === 'setop' ? node.input.columns : inputColumns;
  const indexOf = (name: string): number => unionColumns.findIndex((c) => c.name === name);
  const groupIndex = node.groups.map((g) => (g.expr.kind === 'column' ? indexOf(g.expr.name[0]) : -1));
  if (groupIndex.some((i, k) => i !== k)) throw new SqlError(SqlState.internalError, 'secure aggregation: group keys are not the leading input columns');

  const maxRows = rowBound(parts);
  const values: ValueSpec[] = [{ op: 'count_star', limbs: limbsFor(maxRows) }];
  const valueIndex = new Map<string, number>([['count_star', 0]]);
  const value = (key: string, spec: ValueSpec): number => {
    let i = valueIndex.get(key);
    if (i === undefined) {
      i = values.length;
      values.push(spec);
      valueIndex.set(key, i);
    }
    return i;
  };
  const uses: ColumnUse[] = unionColumns.map((_, i) => (i < node.groups.length ? 'output' : 'statistic'));
  const argColumn = (a: FunctionCall, k: number): number => {
    const arg = a.args[k];
    const i = arg?.kind === 'column' ? indexOf(arg.name[0]) : -1;
    if (i < 0) throw new SqlError(SqlState.internalError, `secure aggregation: argument ${k + 1} of ${fname(a)} is not an input column`);
    return i;
  };
  let gwasSeen: string | undefined;
  // Allelic-only queries need allele counts alone (6 per SNP); GWAS_MODEL needs genotype counts.
  const gwasCounts: GwasCounts = node.aggregates.every((a) => !GWAS_FUNCTIONS.has(fname(a.call)) || fname(a.call) === 'gwas_allelic') ? 'alleles' : 'genotypes';
  const gwasParts = gwasCounts === 'alleles' ? ALLELE_PARTS : GWAS_PARTS;
  const outputs: OutputSpec[] = [];
  const outputTypes: string[] = [];
  for (const a of node.aggregates) {
    const name = fname(a.call);
    const star = a.call.args.length === 0 || a.call.args[0].kind === 'star_arg';
    if (name === 'count') {
      outputs.push({ kind: 'count', value: star ? 0 : value(`count:${argColumn(a.call, 0)}`, { op: 'count', column: argColumn(a.call, 0), limbs: limbsFor(maxRows) }) });
      outputTypes.push('BIGINT');
      continue;
    }
    if (GWAS_FUNCTIONS.has(name)) {
      if (a.call.args.length !== 4) refuse(`${name.toUpperCase()} takes (allele1, allele2, genotype, phenotype)`, a.call);
      const columns = [0, 1, 2, 3].map((k) => argColumn(a.call, k)) as [number, number, number, number];
      const key = columns.join(',');
      if (gwasSeen && gwasSeen !== key) refuse('all GWAS aggregates of one query must have the same arguments', a.call);
      gwasSeen = key;
      uses[columns[0]] = 'output';
      uses[columns[1]] = 'output';
      const phenoType = ctx.typeOf(unionColumns[columns[3]].name);
      const phenotype = phenoType.id === 'boolean' ? 'boolean' : 'plink';
      const first = values.length;
      const base = valueIndex.get(`gwas:${key}`) ?? first;
      if (base === first) {
        gwasParts.forEach((_, part) => values.push({ op: 'gwas', part, counts: gwasCounts, columns, phenotype, limbs: limbsFor(2 * maxRows) }));
        valueIndex.set(`gwas:${key}`, first);
      }
      outputs.push({ kind: 'gwas', test: name === 'gwas_model' ? 'model' : 'allelic', counts: gwasCounts, value: base });
      outputTypes.push(gwasResultType(name)!.text!);
      continue;
    }
    const col = argColumn(a.call, 0);
    const type = ctx.typeOf(unionColumns[col].name);
    const { encoding, scale, maxAbs } = encodingOf(type, a.call);
    const count = value(`count:${col}`, { op: 'count', column: col, limbs: limbsFor(maxRows) });
    const sum = value(`sum:${col}`, { op: 'sum', column: col, encoding, scale, limbs: limbsFor(maxAbs * maxRows) });
    if (name === 'sum') {
      outputs.push({ kind: 'sum', sum, count, encoding, scale });
      outputTypes.push(encoding === 'int' ? 'HUGEINT' : encoding === 'decimal' ? `DECIMAL(38,${scale})` : 'DOUBLE');
    } else if (name === 'avg' || name === 'mean') {
      outputs.push({ kind: 'avg', sum, count, encoding, scale });
      outputTypes.push('DOUBLE');
    } else {
      const sumsq = value(`sumsq:${col}`, { op: 'sumsq', column: col, encoding, scale, limbs: limbsFor(maxAbs * maxAbs * maxRows) });
      const fn = name === 'variance' ? 'var_samp' : name === 'stddev' ? 'stddev_samp' : (name as 'var_pop' | 'var_samp' | 'stddev_pop' | 'stddev_samp');
      outputs.push({ kind: 'var', fn, sum, sumsq, count, encoding, scale });
      outputTypes.push('DOUBLE');
    }
  }

  const partyInputs = parts.map((p) => context.partyInput(p.plan, uses));
  const minGroup = minGroupOf(parts, requester);
  const params: SecureAggregateParams = {
    parties: parts.map((p) => p.party),
    groupCount: node.groups.length,
    values,
    outputs,
    outputTypes,
    countStar: 0,
    minGroup,
  };
  return { operator: SECURE_AGGREGATE_OPERATOR, gatewayInputs: [], partyInputs, params, explain: explainOf(node, parts, params, requester, ctx, gwasSeen !== undefined) };
}

/** The partitions of a prepared aggregate: a union of single-party projections, or one projection. */
function shapeOf(node: AggregateNode): Partition[] {
  const parts = partitionsOf(node.input);
  const projected = parts?.every((p) => p.plan.kind === 'project');
  if (!parts || !projected) {
    refuse('secure aggregation needs its input to be a federated table, optionally joined with other federated tables of the same parties on their co-located key or PARTY',
      undefined,
      'Joins with another party\'s table would have to move rows out of their party; aggregate first, or join on the co-located key (federation.yaml `colocated:`) or on a.PARTY = b.PARTY.');
  }
  return parts;
}

function rowBound(parts: Partition[]): number {
  let rows = 0;
  for (const p of parts) walkPlan(p.plan, (n) => {
    if (n.kind === 'scan' && n.source.kind === 'party') rows += n.source.table.rowCount;
  });
  // Headroom for tables that grew since the catalog was read; parties check the real partials.
  return 2 * rows + 1_000_000;
}

/** Limbs (32-bit words) so that |total| ≤ bound cannot wrap a signed ring. */
function limbsFor(bound: number): number {
  if (bound < 2 ** 31) return 1;
  if (bound < 2 ** 63) return 2;
  return 4;
}

function encodingOf(type: SqlType, call: FunctionCall): { encoding: Encoding; scale: number; maxAbs: number } {
  switch (type.id) {
    case 'tinyint': case 'utinyint': return { encoding: 'int', scale: 0, maxAbs: 2 ** 8 };
    case 'smallint': case 'usmallint': return { encoding: 'int', scale: 0, maxAbs: 2 ** 16 };
    case 'integer': case 'uinteger': return { encoding: 'int', scale: 0, maxAbs: 2 ** 32 };
    case 'bigint': case 'ubigint': case 'hugeint': case 'uhugeint': return { encoding: 'int', scale: 0, maxAbs: 2 ** 64 };
    case 'decimal': return { encoding: 'decimal', scale: type.scale ?? 0, maxAbs: 10 ** (type.precision ?? 38) };
    case 'float': case 'double': return { encoding: 'fixed', scale: FIXED_POINT_BITS, maxAbs: 2 ** 64 };
    default:
      return refuse(`${fname(call).toUpperCase()}(${displayType(type)}) cannot be computed by secure aggregation`, call,
        'Aggregate a numeric column, or cast the argument, e.g. SUM(CAST(x AS DECIMAL(18,2))).');
  }
}

function minGroupOf(parts: Partition[], requester: string): number {
  let m = 1;
  for (const p of parts) walkPlan(p.plan, (n) => {
    if (n.kind === 'scan' && n.source.kind === 'party' && n.source.party !== requester) m = Math.max(m, n.source.table.minGroup);
  });
  return m;
}

function explainOf(node: AggregateNode, parts: Partition[], params: SecureAggregateParams, requester: string, ctx: BindContext, gwas: boolean) {
  const bits = [...new Set(params.values.map((v) => v.limbs * 32))].sort((a, b) => a - b).map((b) => `2^${b}`).join('/');
  const keys = node.groups.map((g) => g.column.label).join(', ');
  const others = parts.filter((p) => p.party !== requester).map((p) => p.party);
  const disclosure: string[] = [];
  for (const p of parts) {
    const what = [
      keys ? `its distinct GROUP BY keys (${keys})` : undefined,
      gwas ? 'the allele names of each SNP' : undefined,
      'one masked vector of partial counts and sums (uniformly random on its own)',
    ].filter(Boolean).join(', then ');
    disclosure.push(`${p.party} -> ${requester}: ${what}`);
  }
  const stats = node.aggregates.map((a) => a.column.label).join(', ');
  disclosure.push(
    `${requester} learns: per-group totals (${stats}) and group sizes, only for groups with at least ${params.minGroup} row(s) in total; no party's partial`,
  );
  if (gwas) {
    const counted = params.values.some((v) => v.op === 'gwas' && v.counts === 'alleles')
      ? 'pooled allele counts of cases and of controls'
      : 'pooled genotype counts of cases and controls';
    disclosure.push(`${requester} learns per SNP: ${counted} and allele counts of all samples; A1, F_A, F_U, CHISQ, P and OR are computed from them at the gateway`);
  }
  if (others.length < 2) {
    disclosure.push(`with fewer than two parties besides ${requester}, totals would expose a partial: ${others.join(', ') || 'each party'} suppresses its own groups smaller than its min_group`);
  }
  void ctx;
  return {
    protocol: `secure aggregation (pairwise X25519 masks, sums mod ${bits}) over ${parts.map((p) => p.party).join(', ')}`,
    disclosure,
  };
}

export type { PlanColumn };
