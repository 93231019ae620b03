/**
 * The privacy budget ledger of one party (SPEC.md §5): for every requester, the ρ-zCDP (and the
 * δ of approximate mechanisms) spent in the current budget period, persisted in the party's own
 * DuckDB file as an append-only journal. node.yaml's `privacy.budget { epsilon, delta, period }`
 * is the allowance per requester and period (`accounting.ts`: half of δ pays for the conversion
 * to (ε, δ)-DP). Periods are fixed windows counted from the Unix epoch.
 *
 * - `charge` atomically checks the remaining budget and appends a debit, or refuses with
 *   SQLSTATE 53V01 (privacy budget exhausted) and a HINT with the remaining budget and the cost.
 * - `refund` appends a compensating credit (a failed query, or the unreleased part of one).
 * - Concurrency: all operations of one party go through one queue, and every debit is one
 *   DuckDB transaction (check + insert), so concurrent sessions can never overspend.
 * - Durability: DuckDB commits through its write-ahead log before `charge` returns, so a debit
 *   survives `kill -9`; a crash between debit and release at worst keeps a charge (never
 *   releases unpaid noise).
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../../../parser/errors.js';
import type { PrivacyBudgetConfig } from '../../../connectors/config-types.js';
import { allowanceFromBudget } from '../../protocols/dp/accounting.js';

/** Our SQLSTATE for an exhausted privacy budget: class 53 (insufficient resources), implementation-defined subclass V01. */
export const PRIVACY_BUDGET_EXHAUSTED = '53V01';

const TABLE = '__veilsql_dp_ledger';

export interface Cost {
  rho: number;
  delta: number;
}

export interface BudgetState {
  configured: boolean;
  budget?: PrivacyBudgetConfig;
  allowance: Cost;
  spent: Cost;
  remaining: Cost;
  /** Charges (net of refunds) in this window. */
  queries: number;
  windowStart: Date;
  windowEnd: Date;
}

export interface Charge {
  entryId: string;
  cost: Cost;
  remaining: Cost;
}

export class PrivacyLedger {
  private queue: Promise<unknown> = Promise.resolve();
  private ready = false;

  constructor(readonly party: string, readonly budget: PrivacyBudgetConfig | undefined, private readonly now: () => number = Date.now) {}

  /** Runs `f` after every operation queued before it (one at a time per party). */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureTable(db: DuckDBConnection): Promise<void> {
    if (this.ready) return;
    await db.run(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      entry_id VARCHAR PRIMARY KEY, requester VARCHAR NOT NULL, query_id VARCHAR NOT NULL, window_start BIGINT NOT NULL,
      kind VARCHAR NOT NULL, rho DOUBLE NOT NULL, delta DOUBLE NOT NULL, "at" TIMESTAMP NOT NULL, note VARCHAR)`);
    this.ready = true;
  }

  private window(): { start: number; end: number } {
    const period = (this.budget?.periodSeconds ?? 0) * 1000;
    const now = this.now();
    if (period <= 0) return { start: 0, end: 8.64e15 };
    const start = Math.floor(now / period) * period;
    return { start, end: start + period };
  }

  private async spent(db: DuckDBConnection, requester: string, windowStart: number): Promise<{ spent: Cost; queries: number }> {
    // Queries: those whose charges were not refunded in full.
    const r = await db.runAndReadAll(
      `SELECT coalesce(sum(rho), 0), coalesce(sum(delta), 0), count(*) FILTER (WHERE rho > 1e-15 OR delta > 0)
       FROM (SELECT query_id, sum(rho) AS rho, sum(delta) AS delta FROM ${TABLE} WHERE requester = $1 AND window_start = $2 GROUP BY query_id)`,
      [requester, BigInt(windowStart)],
    );
    const [rho, delta, queries] = r.getRows()[0];
    return { spent: { rho: Math.max(0, Number(rho)), delta: Math.max(0, Number(delta)) }, queries: Number(queries) };
  }

  async state(db: DuckDBConnection, requester: string): Promise<BudgetState> {
    return this.serial(async () => {
      await this.ensureTable(db);
      const w = this.window();
      const allowance = this.allowance();
      const { spent, queries } = await this.spent(db, requester, w.start);
      return {
        configured: this.budget !== undefined,
        ...(this.budget ? { budget: this.budget } : {}),
        allowance,
        spent,
        remaining: { rho: Math.max(0, allowance.rho - spent.rho), delta: Math.max(0, allowance.delta - spent.delta) },
        queries,
        windowStart: new Date(w.start),
        windowEnd: new Date(w.end),
      };
    });
  }

  allowance(): Cost {
    return this.budget ? allowanceFromBudget(this.budget.epsilon, this.budget.delta) : { rho: 0, delta: 0 };
  }

  /**
   * Debits `cost` from `requester`'s budget, or throws 53V01 naming the party, the remaining
   * budget and the cost. `describe` renders the cost the way the analyst wrote it (ε, δ).
   */
  async charge(db: DuckDBConnection, requester: string, queryId: string, cost: Cost, describe: string): Promise<Charge> {
    return this.serial(async () => {
      await this.ensureTable(db);
      const w = this.window();
      const allowance = this.allowance();
      await db.run('BEGIN TRANSACTION');
      try {
        const { spent } = await this.spent(db, requester, w.start);
        const remaining = { rho: Math.max(0, allowance.rho - spent.rho), delta: Math.max(0, allowance.delta - spent.delta) };
        if (!this.budget || spent.rho + cost.rho > allowance.rho || spent.delta + cost.delta > allowance.delta) {
          throw this.exhausted(requester, remaining, cost, describe, new Date(w.end));
        }
        const entryId = randomUUID();
        await db.run(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, 'charge', $5, $6, now()::TIMESTAMP, $7)`, [
          entryId, requester, queryId, BigInt(w.start), cost.rho, cost.delta, describe,
        ]);
        await db.run('COMMIT');
        return { entryId, cost, remaining: { rho: remaining.rho - cost.rho, delta: remaining.delta - cost.delta } };
      } catch (e) {
        await db.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  /** Credits back (part of) a charge, in the charge's own window. */
  async refund(db: DuckDBConnection, charge: Charge, amount: Cost, reason: string): Promise<void> {
    if (amount.rho <= 0 && amount.delta <= 0) return;
    await this.serial(async () => {
      await this.ensureTable(db);
      await db.run(
        `INSERT INTO ${TABLE} SELECT $1, requester, query_id, window_start, 'refund', -$2, -$3, now()::TIMESTAMP, $4 FROM ${TABLE} WHERE entry_id = $5`,
        [randomUUID(), amount.rho, amount.delta, reason, charge.entryId],
      );
    });
  }

  private exhausted(requester: string, remaining: Cost, cost: Cost, describe: string, renews: Date): SqlError {
    if (!this.budget) {
      return new SqlError(PRIVACY_BUDGET_EXHAUSTED, `party "${this.party}" grants no differential-privacy budget`, {
        hint: `Its node.yaml has no privacy.budget, so it answers no DP query (this one costs ${describe}).`,
      });
    }
    const delta = this.budget.delta;
    // ρ is what adds up; the ε of the largest single-aggregate Laplace query still affordable is √(2ρ).
    const remainingText = `ρ=${fmt(remaining.rho)} (one more single-aggregate query up to ε=${fmt(Math.sqrt(2 * remaining.rho))}), δ=${fmt(remaining.delta)}`;
    return new SqlError(PRIVACY_BUDGET_EXHAUSTED, `privacy budget of party "${this.party}" for requester "${requester}" is exhausted`, {
      detail: `This query costs ρ=${fmt(cost.rho)}, δ=${fmt(cost.delta)} (${describe}); the budget is ε=${this.budget.epsilon}, δ=${delta} per ${period(this.budget.periodSeconds)}.`,
      hint: `Remaining at ${this.party}: ${remainingText}; this query costs ρ=${fmt(cost.rho)}, δ=${fmt(cost.delta)}. Lower epsilon (the cost grows with ε²), or wait until ${renews.toISOString()} when the budget renews.`,
    });
  }
}

export function fmt(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(3);
}

export function period(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}min`;
  return `${seconds}s`;
}
