/**
 * EXPLAIN DP: for every DP aggregate of a plan, the numbers the parties will use — computed by
 * the same calibration they run — without contacting any party or spending any budget: the
 * privacy parameters and contribution bounds, the cost each party charges, how groups are
 * selected (and the threshold), and per measurement the noise distribution, its scale and the
 * width of the confidence interval.
 */
import type { PhysicalPlan, PrivateStage } from '../../../planner/physical-plan.js';
import { DP_AGGREGATE_OPERATOR, type DpStageParams } from '../../../planner/operators/dp-aggregate.js';
import type { CellPlan } from '../../protocols/dp/calibrate.js';
import { toNumber } from '../../protocols/dp/rational.js';
import { fmt } from './ledger.js';
import { noiseContributors } from './party-handler.js';
import { planCalibration } from './runner.js';

/** Lattice steps → value units of the cell's column. */
function inValueUnits(steps: number, cell: CellPlan): number {
  if (!cell.fine) return steps;
  return (steps * Number(cell.coarse) * Number(cell.fine.unitNum)) / Number(cell.fine.unitDen);
}

function noiseText(cell: CellPlan): string {
  if (cell.noise.kind === 'laplace') return `discrete Laplace, scale ${fmt(toNumber(cell.noise.scale))} steps`;
  return `discrete Gaussian, σ ${fmt(Math.sqrt(toNumber(cell.noise.sigma2)))} steps`;
}

const ROLE: Record<CellPlan['role'], string> = { count: '', sum: '', avg_sum: ' (recentred sum part)', avg_count: ' (count part)' };

/** Whether a plan contains a DP aggregate stage. */
export function hasDpAggregate(planned: { physical: PhysicalPlan }): boolean {
  return planned.physical.stages.some((s) => s.kind === 'private' && s.operator === DP_AGGREGATE_OPERATOR);
}

export function explainDp(physical: PhysicalPlan, requester: string): string[] {
  const stages = physical.stages.filter((s): s is PrivateStage => s.kind === 'private' && s.operator === DP_AGGREGATE_OPERATOR);
  if (stages.length === 0) return ['No DP aggregates: this query spends no privacy budget.'];
  const lines: string[] = [];
  for (const stage of stages) {
    const params = stage.params as DpStageParams;
    const { spec, calibration } = planCalibration(params, requester);
    const contributors = noiseContributors(params.members, requester);
    lines.push(`DP aggregate (stage #${stage.id}) over ${params.members.join(', ')}, asked by ${requester}`);
    lines.push(`  Privacy: ε=${spec.epsilon}, δ=${spec.delta}, ${spec.noise} noise, ${Math.round(spec.confidence * 100)}% confidence intervals`);
    lines.push(spec.unit
      ? `  Privacy unit ${params.privacyUnit}: at most ${spec.maxGroupsContributed} group(s) × ${spec.maxRowsContributed} row(s) per unit at each party, at most ${spec.maxPartiesContributed} part${spec.maxPartiesContributed === 1 ? 'y' : 'ies'} per unit`
      : '  Privacy unit: one row (each row is its own unit)');
    lines.push(`  Cost: each of ${params.members.join(', ')} charges ρ=${fmt(calibration.cost.rho)}, δ=${fmt(calibration.cost.delta)} to ${requester}'s budget (${calibration.parts} part(s) of equal share); EXPLAIN DP charges nothing`);
    if (calibration.selection) {
      const s = calibration.selection;
      lines.push(`  Groups: THRESHOLD — each party names a group only when its count of distinct units + discrete Laplace (scale ${fmt(toNumber(s.scale))}) ≥ ${s.threshold} (ε=${fmt(s.epsilonPerParty)}, δ=${fmt(s.deltaPerParty)} per party)`);
    } else if (spec.selection === 'public') {
      lines.push(`  Groups: PUBLIC — ${params.publicKeys?.length ?? 0} declared key(s), each released whether or not it occurs`);
    } else {
      lines.push('  Groups: one (no GROUP BY)');
    }
    lines.push(spec.noise === 'laplace'
      ? `  Noise: ${contributors.join(', ')} each add a Pólya share (NB(1/${contributors.length}) − NB(1/${contributors.length})); their sum is exactly the discrete Laplace below`
      : `  Noise: ${contributors.join(', ')} each add a discrete Gaussian share; their sum meets the stated ρ (Kairouz–Liu–Steinke 2021)`);
    for (const cell of calibration.cells) {
      const label = params.labels[cell.measurement] ?? `measurement ${cell.measurement + 1}`;
      const step = inValueUnits(1, cell);
      const half = inValueUnits(cell.halfWidth, cell);
      const conf = spec.measurements[cell.measurement].kind === 'avg' ? ' (Bonferroni share of the AVG interval)' : '';
      lines.push(`  ${label}${ROLE[cell.role]}: ${noiseText(cell)} (std ${fmt(inValueUnits(cell.stddev, cell))}), lattice step ${fmt(step)}, sensitivity ${cell.perGroup} step(s) per group, CI ± ${fmt(half)}${conf}`);
    }
  }
  return lines;
}
