/**
 * The `customers` table shared by bank_a, bank_b and bank_c (the federated `banks.customers` of
 * the horizontal / DP scenario): same columns and types at every bank, so the federated table has
 * one schema. Policies: ids and names private, id_key a normalised join key, region/segment/
 * opened_on public, money `aggregate` (and private towards the telco at bank_a, via a grant),
 * is_fraud only through DP aggregates.
 */
import type { PolicyLevel } from '../../planner/catalog-types.js';
import { parseDate, type RawValue } from './csv.js';
import { col, ID_KEY_NORMALIZATION, type GeneratedTable } from './model.js';
import type { Person } from './people.js';
import type { DemoRng } from './prng.js';

export const SEGMENTS = ['retail', 'premium', 'sme', 'private_banking'] as const;
const SEGMENT_WEIGHTS = [0.7, 0.15, 0.12, 0.03];

/** Largest value a DECIMAL(12,2) holds, in cents. */
const MAX_DECIMAL_12_2 = 999_999_999_999;

export interface CustomerOptions {
  party: string;
  /** First customer_id (ids are consecutive from here). */
  idBase: number;
  /** As-of date in days since the epoch. */
  asOfDay: number;
  /** Persons that get a second customer record (same id_key, new customer_id). */
  duplicatePersons: number;
  /** customer_id policy: `public` at bank_b so its local customers ⋈ accounts join works for others. */
  customerIdPolicy: PolicyLevel;
  grants?: Record<string, Record<string, PolicyLevel>>;
  doc: string;
}

export interface CustomerRow {
  customerId: number;
  person: Person;
  openedOn: number;
  isFraud: boolean;
}

export function customerColumns(customerIdPolicy: PolicyLevel): GeneratedTable['columns'] {
  return [
    col('customer_id', 'BIGINT', customerIdPolicy, 'bank-internal customer number, unique per row (ranges differ per bank)'),
    col('id_key', 'VARCHAR', 'join_key', "synthetic national ID, 'ID' + 12 digits", ID_KEY_NORMALIZATION),
    col('name', 'VARCHAR', 'private', 'full name (Chinese, accented, one NFD spelling, commas and quotes)'),
    col('phone', 'VARCHAR', 'private', '11-digit mobile number; NULL when unknown'),
    col('region', 'VARCHAR', 'public', 'province; NULL for ~1% of rows'),
    col('segment', 'VARCHAR', 'public', 'retail | premium | sme | private_banking'),
    col('opened_on', 'DATE', 'public', 'date the relationship started (2005 … as-of − 30 days)'),
    col('balance', 'DECIMAL(12,2)', 'aggregate', 'current balance; a few negative (overdraft) and zero balances'),
    col('is_fraud', 'INTEGER', 'dp', '1 if the customer was confirmed as fraud, else 0 (boolean as integer)'),
    col('credit_score', 'INTEGER', 'aggregate', 'bureau score 300–850; NULL for ~4%'),
  ];
}

export function buildCustomers(
  rng: DemoRng,
  persons: readonly Person[],
  opts: CustomerOptions,
): { table: GeneratedTable; customers: CustomerRow[] } {
  const first = parseDate('2005-01-01');
  const last = opts.asOfDay - 30;
  const rows: RawValue[][] = [];
  const customers: CustomerRow[] = [];
  const withDuplicates = persons.concat(rng.sample(persons, Math.min(opts.duplicatePersons, persons.length)));
  withDuplicates.forEach((person, i) => {
    const customerId = opts.idBase + i;
    const segment = rng.weighted(SEGMENTS, SEGMENT_WEIGHTS);
    const openedOn = rng.range(first, last);
    let cents: number;
    const roll = rng.float();
    if (roll < 0.03) cents = -rng.range(1, 500_000); // overdraft
    else if (roll < 0.04) cents = 0;
    else {
      const scale = segment === 'private_banking' ? 40 : segment === 'premium' ? 5 : segment === 'sme' ? 3 : 1;
      cents = Math.round(rng.logNormal(Math.log(20_000), 1.1) * scale * 100);
    }
    if (i === 0) cents = 8_765_432_109; // one very large balance (87,654,321.09)
    cents = Math.min(cents, MAX_DECIMAL_12_2);
    const isFraud = rng.chance(0.004 + 0.22 * person.risk * person.risk);
    let score: number | null = Math.round(790 - 380 * person.risk + rng.normal() * 35);
    score = Math.max(300, Math.min(850, score));
    if (rng.chance(0.04)) score = null;
    rows.push([
      customerId,
      person.key,
      person.name,
      person.phone,
      rng.chance(0.01) ? null : person.region,
      segment,
      openedOn,
      cents,
      isFraud ? 1 : 0,
      score,
    ]);
    customers.push({ customerId, person, openedOn, isFraud });
  });
  const table: GeneratedTable = {
    party: opts.party,
    name: 'customers',
    doc: opts.doc,
    columns: customerColumns(opts.customerIdPolicy),
    rows,
    minGroup: 10,
    grants: opts.grants ?? {},
  };
  return { table, customers };
}
