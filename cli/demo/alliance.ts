/**
 * Multi-lender alliance scenario (seed report, 多头借贷): N lenders (`lender_01` … default 20,
 * any N ≥ 1) each hold `applications`; the federated table `alliance.applications` spans them all.
 * A hub answers "how many other lenders saw this applicant recently" without learning who asks or
 * about whom.
 *
 * Realism: about a quarter of each lender's applications come from "hot" borrowers who apply at
 * 2–6 lenders within a few days (the pattern the alliance exists to catch); some of them are
 * bank_a applicants and blacklisted persons, so the scenarios connect. A few persons apply twice at
 * the same lender, ~2% of id_keys are stored un-normalised and a few are NULL. Applications span
 * the 90 days up to the as-of date, so `applied_at >= DATE '<as-of>' - 7` selects the last week.
 */
import type { RawValue } from './csv.js';
import { col, ID_KEY_NORMALIZATION, type GeneratedTable } from './model.js';
import { messyKey, type Person, type PersonPool } from './people.js';
import type { DemoRng } from './prng.js';

const PRODUCTS = ['cash_loan', 'consumer_loan', 'credit_card', 'auto_loan', 'mortgage'] as const;
const PRODUCT_WEIGHTS = [0.42, 0.28, 0.15, 0.1, 0.05];

/** `lender_01` … `lender_20` (three digits once there are more than 99). */
export function lenderNames(count: number): string[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`lender count must be a positive integer, got ${count}`);
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => `lender_${String(i + 1).padStart(width, '0')}`);
}

export interface AllianceInput {
  asOfDay: number;
  lenders: number;
  applicationsPerLender: number;
  /** bank_a applicants and blacklisted persons, some of whom become multi-lender borrowers. */
  applicants: readonly Person[];
  blacklisted: readonly Person[];
}

interface Application {
  person: Person | null;
  seconds: number;
}

/** A time on `day` between 07:00 and 23:00, in seconds since the epoch. */
function timeOn(rng: DemoRng, day: number): number {
  return day * 86_400 + 7 * 3600 + rng.int(16 * 3600);
}

export function buildAlliance(rng: DemoRng, pool: PersonPool, input: AllianceInput): GeneratedTable[] {
  const names = lenderNames(input.lenders);
  const perLender = input.applicationsPerLender;
  const first = input.asOfDay - 90;
  const apps: Application[][] = names.map(() => []);

  // Hot borrowers: each applies at k distinct lenders within ±4 days of a burst day.
  const hotCount = Math.max(2, Math.round((perLender * input.lenders) / 12));
  const hot: Person[] = [
    ...rng.sample(input.applicants, Math.min(input.applicants.length, Math.round(hotCount * 0.08))),
    ...rng.sample(input.blacklisted, Math.min(input.blacklisted.length, Math.round(hotCount * 0.04))),
  ];
  const hotSet = new Set(hot);
  hot.splice(0, hot.length, ...[...hotSet]);
  hot.push(...pool.createMany(hotCount - hot.length));
  for (const person of hot) {
    const maxK = Math.min(6, input.lenders);
    const k = input.lenders === 1 ? 1 : rng.range(2, Math.max(2, maxK));
    const lenders = rng.sample(names.map((_, i) => i), k);
    if (input.lenders === 1) lenders.push(0); // a single lender still sees the repeat
    const burst = rng.range(first + 4, input.asOfDay);
    for (const l of lenders) {
      const day = Math.min(input.asOfDay, Math.max(first, burst + rng.range(-4, 4)));
      apps[l].push({ person, seconds: timeOn(rng, day) });
    }
  }

  // Fill every lender with one-off applicants; ~1% apply twice at the same lender.
  names.forEach((_, l) => {
    const r = rng.fork(names[l]);
    const own: Application[] = apps[l];
    while (own.length < perLender) {
      const nullKey = r.chance(0.003);
      const person = nullKey ? null : pool.create();
      own.push({ person, seconds: timeOn(r, r.range(first, input.asOfDay)) });
      if (person && own.length < perLender && r.chance(0.01)) {
        own.push({ person, seconds: timeOn(r, r.range(first, input.asOfDay)) });
      }
    }
  });

  return names.map((party, l) => {
    const r = rng.fork(`${party}.rows`);
    const own = apps[l].slice().sort((a, b) => a.seconds - b.seconds);
    const rows: RawValue[][] = own.map((a, i) => {
      let key: string | null = a.person ? a.person.key : null;
      if (key !== null && r.chance(0.02)) key = messyKey(key, r);
      const product = r.weighted(PRODUCTS, PRODUCT_WEIGHTS);
      const base = product === 'mortgage' ? 800_000 : product === 'auto_loan' ? 120_000 : product === 'credit_card' ? 20_000 : 15_000;
      const cents = Math.round(base * (0.3 + r.float() * 1.7)) * 100;
      return [(l + 1) * 1_000_000 + i + 1, key, a.seconds, cents, product];
    });
    return {
      party,
      name: 'applications',
      doc:
        `${party}'s loan applications over the 90 days up to the as-of date (member of alliance.applications). ` +
        '~25% come from borrowers who applied at several lenders within a few days.',
      columns: [
        col('app_id', 'BIGINT', 'private', 'application number, unique across the alliance (lender × 1,000,000 + n)'),
        col('id_key', 'VARCHAR', 'join_key', "applicant's national ID (≈2% un-normalised, a few NULL)", ID_KEY_NORMALIZATION),
        col('applied_at', 'TIMESTAMP', 'public', 'submission time (no time zone)'),
        col('amount', 'DECIMAL(12,2)', 'aggregate', 'requested amount'),
        col('product', 'VARCHAR', 'public', PRODUCTS.join(' | ')),
      ],
      rows,
      minGroup: 10,
    };
  });
}
