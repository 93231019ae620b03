/**
 * SHOW PRIVACY BUDGET: every party answers a `dp-budget-v1` session with the state of the asking
 * requester's budget in its own ledger (never another requester's). The gateway asks all
 * parties at once and shows one row per party: the budget, what is spent and what remains, in
 * ρ-zCDP (the ledger's unit) and as the ε it corresponds to, and when the period renews.
 */
import type { PartyConnector } from '../../../connectors/connector.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { DP_BUDGET_PROTOCOL } from '../../../planner/operators/dp-aggregate.js';
import { epsilonEquivalent } from '../../protocols/dp/accounting.js';
import { period, type PrivacyLedger } from './ledger.js';

interface BudgetAnswer {
  configured: boolean;
  epsilon?: number;
  delta?: number;
  periodSeconds?: number;
  allowance: { rho: number; delta: number };
  spent: { rho: number; delta: number };
  remaining: { rho: number; delta: number };
  queries: number;
  windowStart: string;
  windowEnd: string;
}

export async function dpBudgetPartyHandler(ctx: PartyProtocolContext, ledger: PrivacyLedger): Promise<void> {
  const db = await ctx.database();
  try {
    const s = await ledger.state(db, ctx.requester);
    const answer: BudgetAnswer = {
      configured: s.configured,
      ...(s.budget ? { epsilon: s.budget.epsilon, delta: s.budget.delta, periodSeconds: s.budget.periodSeconds } : {}),
      allowance: s.allowance,
      spent: s.spent,
      remaining: s.remaining,
      queries: s.queries,
      windowStart: s.windowStart.toISOString(),
      windowEnd: s.windowEnd.toISOString(),
    };
    await ctx.channel.send(new TextEncoder().encode(JSON.stringify(answer)));
    await ctx.channel.end();
  } finally {
    db.closeSync();
  }
}

/** SHOW output is text, as in Postgres; numbers are written with 10 significant digits. */
export const BUDGET_COLUMNS = [
  { name: 'party', type: 'VARCHAR' },
  { name: 'epsilon_budget', type: 'VARCHAR' },
  { name: 'delta_budget', type: 'VARCHAR' },
  { name: 'period', type: 'VARCHAR' },
  { name: 'rho_budget', type: 'VARCHAR' },
  { name: 'rho_spent', type: 'VARCHAR' },
  { name: 'rho_remaining', type: 'VARCHAR' },
  { name: 'epsilon_spent', type: 'VARCHAR' },
  { name: 'delta_spent', type: 'VARCHAR' },
  { name: 'delta_remaining', type: 'VARCHAR' },
  { name: 'queries', type: 'BIGINT' },
  { name: 'renews_at', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
] as const;

export type BudgetRow = (string | bigint | null)[];

const num = (x: number | undefined): string | null => (x === undefined ? null : String(Number(x.toPrecision(10))));

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function parseAnswer(frame: Uint8Array | null): BudgetAnswer {
  if (!frame) throw new Error('no answer');
  const a = JSON.parse(new TextDecoder().decode(frame)) as BudgetAnswer;
  if (typeof a !== 'object' || a === null || !isNum(a.spent?.rho) || !isNum(a.remaining?.rho) || !isNum(a.allowance?.rho)) throw new Error('malformed answer');
  return a;
}

/** One row per party (sorted by name); unreachable parties and parties without a budget say so. */
export async function privacyBudgetRows(connectors: Map<string, PartyConnector>, queryId: string, timeoutMs: number, signal: AbortSignal): Promise<BudgetRow[]> {
  const parties = [...connectors.keys()].sort();
  return Promise.all(parties.map(async (party): Promise<BudgetRow> => {
    const empty = (status: string): BudgetRow => [party, null, null, null, null, null, null, null, null, null, null, null, status];
    let channel;
    try {
      channel = await connectors.get(party)!.openProtocol({ queryId, protocol: DP_BUDGET_PROTOCOL, params: {}, timeoutMs }, signal);
      const a = parseAnswer(await channel.receive());
      if (!a.configured) return empty('no DP budget (privacy.budget not set): answers no DP query');
      return [
        party, num(a.epsilon), num(a.delta), a.periodSeconds ? period(a.periodSeconds) : null,
        num(a.allowance.rho), num(a.spent.rho), num(a.remaining.rho),
        num(epsilonEquivalent(a.spent.rho, a.delta ?? 1e-6)), num(a.spent.delta), num(a.remaining.delta),
        BigInt(a.queries), a.windowEnd, a.remaining.rho > 0 ? 'available' : 'exhausted',
      ];
    } catch (e) {
      return empty(`unavailable: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      channel?.destroy();
    }
  }));
}
