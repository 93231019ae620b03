/**
 * Vertical anti-fraud scenario (seed report, case 1): bank_a (the analyst's bank) and an external
 * data source, the telco. bank_a holds `customers` and loan `applicants`; the telco holds `users`,
 * covering half of bank_a's customers plus most new applicants. A SECURE JOIN on id_key followed
 * by aggregates (fraud rate by age band) is the headline query.
 *
 * The telco is a sloppier source system: ~5% of its id_keys are stored in another case or with
 * surrounding blanks (only the declared normalisation trim/NFC/lower makes them match), a few
 * persons have two SIM contracts (duplicate id_key) and a few prepaid SIMs have no id_key (NULL).
 */
import type { RawValue } from './csv.js';
import { buildCustomers, type CustomerRow } from './customers.js';
import { col, ID_KEY_NORMALIZATION, type GeneratedTable } from './model.js';
import { messyKey, REGIONS, type Person, type PersonPool } from './people.js';
import type { DemoRng } from './prng.js';

export const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

export function ageBand(age: number): string {
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65+';
}

export interface VerticalScenario {
  tables: GeneratedTable[];
  bankACustomers: CustomerRow[];
  /** Distinct persons among bank_a's applicants. */
  applicants: Person[];
}

export interface VerticalSizes {
  customers: number;
  applicants: number;
  telcoUsers: number;
}

export function buildVertical(rng: DemoRng, pool: PersonPool, asOfDay: number, sizes: VerticalSizes): VerticalScenario {
  // bank_a.customers
  const customerPersons = pool.createMany(sizes.customers);
  const { table: customers, customers: bankACustomers } = buildCustomers(rng.fork('bank_a.customers'), customerPersons, {
    party: 'bank_a',
    idBase: 1_000_001,
    asOfDay,
    duplicatePersons: Math.max(1, Math.round(sizes.customers / 500)),
    customerIdPolicy: 'private',
    grants: { telco: { balance: 'private' } },
    doc:
      "bank_a's customer master (the analyst's own bank). About half of these persons are also telco users; " +
      'a few persons have two customer records (same id_key, different customer_id).',
  });

  // bank_a.applicants: ~35% existing customers, the rest new to the bank.
  const appRng = rng.fork('bank_a.applicants');
  const existing = Math.round(sizes.applicants * 0.35);
  const repeatApplicants = Math.max(1, Math.round(sizes.applicants / 170));
  const distinctApplicants = sizes.applicants - repeatApplicants;
  const applicantPersons = appRng
    .sample(customerPersons, existing)
    .concat(pool.createMany(distinctApplicants - existing));
  appRng.shuffle(applicantPersons);
  const applicantRows: RawValue[][] = [];
  const appSequence = applicantPersons.concat(appRng.sample(applicantPersons, repeatApplicants));
  appSequence.forEach((p, i) => {
    const amountHundreds = Math.round(appRng.logNormal(Math.log(600), 0.9)) + 10; // ≥ 1,000.00
    applicantRows.push([900_001 + i, p.key, p.name, Math.min(amountHundreds, 50_000) * 10_000, appRng.range(asOfDay - 60, asOfDay)]);
  });
  const applicants: GeneratedTable = {
    party: 'bank_a',
    name: 'applicants',
    doc:
      'Loan applications received by bank_a in the 60 days before the as-of date. About 35% are existing ' +
      'customers; some are on bank_b/bank_c blacklists, most are known to the telco, some also applied at ' +
      'alliance lenders; a few persons applied twice.',
    columns: [
      col('app_id', 'BIGINT', 'private', 'application number, unique'),
      col('id_key', 'VARCHAR', 'join_key', "applicant's synthetic national ID", ID_KEY_NORMALIZATION),
      col('name', 'VARCHAR', 'private', "applicant's name"),
      col('amount', 'DECIMAL(12,2)', 'aggregate', 'requested amount (1,000.00 … 5,000,000.00)'),
      col('applied_at', 'DATE', 'public', 'application date'),
    ],
    rows: applicantRows,
    minGroup: 10,
  };

  // telco.users
  const telRng = rng.fork('telco.users');
  const atTelco = telRng.sample(customerPersons, Math.round(customerPersons.length * 0.5));
  const atTelcoSet = new Set(atTelco);
  const customerSet = new Set(customerPersons);
  const newApplicants = applicantPersons.filter((p) => !customerSet.has(p));
  const applicantsAtTelco = telRng.sample(newApplicants, Math.round(newApplicants.length * 0.6)).filter((p) => !atTelcoSet.has(p));
  const duplicateSims = Math.round(sizes.telcoUsers / 100);
  const nullKeys = Math.max(1, Math.round(sizes.telcoUsers / 400));
  const fillers = sizes.telcoUsers - atTelco.length - applicantsAtTelco.length - duplicateSims - nullKeys;
  if (fillers < 0) throw new Error('telco users too few for the requested overlap');
  const telcoPersons = atTelco.concat(applicantsAtTelco, pool.createMany(fillers));
  const sequence: (Person | null)[] = telcoPersons.concat(telRng.sample(telcoPersons, duplicateSims));
  for (let i = 0; i < nullKeys; i++) sequence.push(null);
  telRng.shuffle(sequence);
  const seenPhone = new Set<Person>();
  const userRows: RawValue[][] = sequence.map((p) => {
    const age = p ? p.age : telRng.range(18, 80);
    const risk = p ? p.risk : telRng.float() * 0.5;
    let key: string | null = null;
    if (p) {
      key = p.key;
      if (telRng.chance(0.05)) key = messyKey(p.key, telRng);
    }
    const phone = p && p.phone && !seenPhone.has(p) ? p.phone : '1' + String(telRng.range(3, 9)) + telRng.digits(9);
    if (p) seenPhone.add(p);
    const tenure = Math.max(1, Math.min(240, Math.round(telRng.float() * 200 * (1 - 0.7 * risk)) + 1));
    const spendCents = Math.round(telRng.logNormal(Math.log(60 + 90 * risk), 0.55) * 100);
    const region = p ? (telRng.chance(0.05) ? telRng.pick(['Beijing', 'Shanghai', 'Guangdong']) : p.region) : telRng.pick(REGIONS);
    return [
      key,
      phone,
      telRng.chance(0.01) ? null : ageBand(age),
      tenure,
      telRng.chance(0.02) ? null : Math.min(spendCents, 99_999_999),
      region,
      telRng.chance(0.08 + 0.25 * risk) ? 1 : 0,
    ];
  });
  const users: GeneratedTable = {
    party: 'telco',
    name: 'users',
    doc:
      "The telco's subscribers (external data source). Covers exactly 50% of bank_a's customers (by " +
      'normalised id_key) and ~60% of new applicants. ~5% of id_keys are stored un-normalised (lower case, ' +
      "'Id' prefix, surrounding blanks), ~1% are a second SIM of the same person, a few are NULL (unregistered prepaid).",
    columns: [
      col('id_key', 'VARCHAR', 'join_key', 'subscriber national ID as registered (may be un-normalised or NULL)', ID_KEY_NORMALIZATION),
      col('phone', 'VARCHAR', 'private', 'the SIM’s number (unique per row)'),
      col('age_band', 'VARCHAR', 'public', `${AGE_BANDS.join(' | ')}; NULL for ~1%`),
      col('tenure_months', 'INTEGER', 'private', 'months since the contract started (1–240)'),
      col('monthly_spend', 'DECIMAL(10,2)', 'aggregate', 'average monthly bill; NULL for ~2%'),
      col('region', 'VARCHAR', 'public', 'region of registration'),
      col('churned', 'INTEGER', 'private', '1 if the subscriber left within the last year'),
    ],
    rows: userRows,
    minGroup: 10,
  };

  return { tables: [customers, applicants, users], bankACustomers, applicants: applicantPersons };
}
