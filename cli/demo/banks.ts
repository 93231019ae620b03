/**
 * Small-bank scenarios (seed report, case 2): bank_b and bank_c each keep a `blacklist` that
 * bank_a consults with PRIVATE LOOKUP (匿踪查询: the owner learns nothing about the keys), a
 * `customers` table with bank_a's schema (members of the federated `banks.customers`, used by the
 * DP scenario), and bank_b also an `accounts` table whose customer_ref and customer_id are public
 * so that a local customers ⋈ accounts join works for other requesters.
 *
 * Blacklists deliberately contain some of bank_a's applicants (more of the risky ones) and
 * confirmed fraudsters of bank_a. bank_b lists ~1% of its keys twice (two entries: SQL
 * multiplicity); bank_c's keys are unique but ~3% are stored in another case. bank_c's blacklist is
 * served from CSV (its column types are exactly what DuckDB's CSV sniffer infers), all other
 * tables from Parquet.
 */
import { parseDate, type RawValue } from './csv.js';
import { buildCustomers, type CustomerRow } from './customers.js';
import { col, ID_KEY_NORMALIZATION, type GeneratedTable } from './model.js';
import { messyKey, type Person, type PersonPool } from './people.js';
import type { DemoRng } from './prng.js';

const REASONS = ['loan default', 'card fraud', 'identity theft', 'money laundering', '多头借贷', '恶意逾期', 'synthetic identity'] as const;
const REASON_WEIGHTS = [0.34, 0.18, 0.1, 0.04, 0.14, 0.14, 0.06];
const REASON_SEVERITY: Record<(typeof REASONS)[number], number> = {
  'loan default': 2,
  'card fraud': 4,
  'identity theft': 4,
  'money laundering': 5,
  多头借贷: 3,
  恶意逾期: 3,
  'synthetic identity': 5,
};
const PRODUCTS = ['current', 'savings', 'credit_card', 'mortgage', 'personal_loan'] as const;

export interface BankSizes {
  customers: number;
  blacklist: number;
}

export interface BanksInput {
  asOfDay: number;
  bankACustomers: readonly CustomerRow[];
  applicants: readonly Person[];
  sizes: BankSizes;
}

export interface BanksScenario {
  tables: GeneratedTable[];
  /** Persons on either blacklist (the lenders reuse some of them). */
  blacklisted: Person[];
}

function blacklistColumns(): GeneratedTable['columns'] {
  return [
    col('id_key', 'VARCHAR', 'join_key', 'national ID of the listed person', ID_KEY_NORMALIZATION),
    col('reason', 'VARCHAR', 'public', `${REASONS.join(' | ')} (label returned by PRIVATE LOOKUP)`),
    col('listed_on', 'DATE', 'public', 'date the entry was added (2015 … as-of)'),
    col('severity', 'BIGINT', 'public', '1 (low) … 5 (high), follows the reason'),
  ];
}

/** Picks `k` distinct persons, preferring risky ones (weight 0.05 + risk). */
function pickRisky(rng: DemoRng, persons: readonly Person[], k: number): Person[] {
  const scored = persons.map((p) => ({ p, s: rng.float() * (0.05 + p.risk) }));
  scored.sort((a, b) => b.s - a.s || (a.p.key < b.p.key ? -1 : 1));
  return scored.slice(0, Math.min(k, scored.length)).map((x) => x.p);
}

function buildBlacklist(
  rng: DemoRng,
  party: string,
  listed: Person[],
  asOfDay: number,
  duplicates: number,
  messyRate: number,
): GeneratedTable {
  const first = parseDate('2015-01-01');
  const sequence = listed.concat(rng.sample(listed, duplicates));
  rng.shuffle(sequence);
  const rows: RawValue[][] = sequence.map((p) => {
    const reason = rng.weighted(REASONS, REASON_WEIGHTS);
    let key = p.key;
    if (messyRate > 0 && rng.chance(messyRate)) key = messyKey(p.key, rng, false);
    const severity = Math.max(1, Math.min(5, REASON_SEVERITY[reason] + (rng.chance(0.2) ? rng.pick([-1, 1]) : 0)));
    return [key, reason, rng.range(first, asOfDay), severity];
  });
  return {
      party,
      name: 'blacklist',
      doc:
        `${party}'s internal blacklist, queried by other banks with PRIVATE LOOKUP. ` +
        (duplicates > 0
          ? `${duplicates} id_keys are listed twice (two separate entries).`
          : 'Every id_key is listed once; some are stored in another case (normalisation needed).'),
      columns: blacklistColumns(),
      rows,
      minGroup: 10,
      source: party === 'bank_c' ? 'csv' : 'parquet',
  };
}

function buildAccounts(rng: DemoRng, customers: readonly CustomerRow[], asOfDay: number): GeneratedTable {
  const rows: RawValue[][] = [];
  let next = 20_000_001;
  for (const c of customers) {
    const n = rng.weighted([0, 1, 2, 3], [0.15, 0.5, 0.25, 0.1]);
    for (let i = 0; i < n; i++) {
      const product = rng.weighted(PRODUCTS, [0.4, 0.25, 0.2, 0.05, 0.1]);
      const openedOn = rng.range(c.openedOn, asOfDay - 1);
      let cents: number;
      if (product === 'credit_card') cents = -rng.range(0, 3_000_000);
      else if (product === 'mortgage') cents = -rng.range(20_000_000, 300_000_000);
      else if (product === 'personal_loan') cents = -rng.range(500_000, 20_000_000);
      else cents = Math.round(rng.logNormal(Math.log(8_000), 1.2) * 100);
      rows.push([next++, rng.chance(0.005) ? null : c.customerId, product, openedOn, cents, !rng.chance(0.12)]);
    }
  }
  return {
    party: 'bank_b',
    name: 'accounts',
    doc:
      "bank_b's accounts, ~1.3 per customer (some customers have none; ~0.5% of accounts have a NULL " +
      'customer_ref). customer_ref = customers.customer_id, both public at bank_b, so a local join runs ' +
      'inside bank_b for any requester. Loans and cards carry negative balances.',
    columns: [
      col('account_id', 'BIGINT', 'private', 'account number, unique'),
      col('customer_ref', 'BIGINT', 'public', 'bank_b customers.customer_id of the holder; NULL for orphaned accounts'),
      col('product', 'VARCHAR', 'public', PRODUCTS.join(' | ')),
      col('opened_on', 'DATE', 'public', 'account opening date (not before the customer relationship)'),
      col('balance', 'DECIMAL(12,2)', 'aggregate', 'current balance (negative for credit products)'),
      col('is_active', 'BOOLEAN', 'public', 'false for closed/dormant accounts'),
    ],
    rows,
    minGroup: 10,
  };
}

export function buildBanks(rng: DemoRng, pool: PersonPool, input: BanksInput): BanksScenario {
  const { asOfDay, sizes } = input;
  const bankAPersons = input.bankACustomers.map((c) => c.person);
  const fraudsters = input.bankACustomers.filter((c) => c.isFraud).map((c) => c.person);
  const tables: GeneratedTable[] = [];
  const blacklisted = new Set<Person>();

  const banks = [
    { party: 'bank_b', idBase: 2_000_001, customerIdPolicy: 'public' as const, applicants: 0.1, duplicates: Math.round(sizes.blacklist / 100), messy: 0 },
    { party: 'bank_c', idBase: 3_000_001, customerIdPolicy: 'private' as const, applicants: 0.07, duplicates: 0, messy: 0.03 },
  ];
  let previousCustomers: Person[] = [];
  for (const bank of banks) {
    const r = rng.fork(bank.party);
    // customers: ~20% also bank_a customers, ~10% also the previous bank's, the rest new.
    const shared = r.sample(bankAPersons, Math.round(sizes.customers * 0.2));
    const sharedSet = new Set(shared);
    const fromPrevious = previousCustomers.length
      ? r.sample(previousCustomers, Math.round(sizes.customers * 0.1)).filter((p) => !sharedSet.has(p))
      : [];
    const persons = shared.concat(fromPrevious, pool.createMany(sizes.customers - shared.length - fromPrevious.length - 3));
    r.shuffle(persons);
    const { table, customers } = buildCustomers(r.fork('customers'), persons, {
      party: bank.party,
      idBase: bank.idBase,
      asOfDay,
      duplicatePersons: 3,
      customerIdPolicy: bank.customerIdPolicy,
      doc:
        `${bank.party}'s customers, same schema as bank_a.customers (member of the federated banks.customers). ` +
        `~20% are also bank_a customers${fromPrevious.length ? ', ~10% also bank_b customers' : ''}.` +
        (bank.customerIdPolicy === 'public' ? ' customer_id is public here so that customers ⋈ accounts runs locally.' : ''),
    });
    tables.push(table);
    if (bank.party === 'bank_b') tables.push(buildAccounts(r.fork('accounts'), customers, asOfDay));
    previousCustomers = persons;

    // blacklist: risky applicants of bank_a, bank_a fraudsters, risky own customers, others.
    const distinctListed = sizes.blacklist - bank.duplicates;
    const fromApplicants = pickRisky(r, input.applicants, Math.round(input.applicants.length * bank.applicants));
    const chosen = new Set<Person>(fromApplicants);
    for (const p of r.sample(fraudsters, Math.min(fraudsters.length, Math.round(distinctListed * 0.02)))) chosen.add(p);
    for (const p of pickRisky(r, persons, Math.round(distinctListed * 0.05))) chosen.add(p);
    const listed = [...chosen].slice(0, distinctListed);
    listed.push(...pool.createMany(distinctListed - listed.length));
    const blacklist = buildBlacklist(r.fork('blacklist'), bank.party, listed, asOfDay, bank.duplicates, bank.messy);
    for (const p of listed) blacklisted.add(p);
    tables.push(blacklist);
  }
  return { tables, blacklisted: [...blacklisted] };
}
