/** A small federation catalog for planner unit tests (no parties are started). */
import { Catalog } from '../../planner/catalog.js';
import type { PartyCatalog, PolicyLevel, PublishedColumn } from '../../planner/catalog-types.js';

const col = (name: string, type: string, policy: PolicyLevel): PublishedColumn => ({ name, type, policy, nullable: true });

const customers = (policyOf: (c: string) => PolicyLevel) => ({
  name: 'customers',
  minGroup: 10,
  rowCount: 1000,
  columns: [
    col('customer_id', 'BIGINT', policyOf('customer_id')),
    col('id_key', 'VARCHAR', policyOf('id_key')),
    col('region', 'VARCHAR', policyOf('region')),
    col('segment', 'VARCHAR', policyOf('segment')),
    col('balance', 'DECIMAL(12,2)', policyOf('balance')),
    col('is_fraud', 'INTEGER', policyOf('is_fraud')),
    col('opened_on', 'DATE', policyOf('opened_on')),
  ],
});

const bankPolicy = (c: string): PolicyLevel =>
  ({ customer_id: 'private', id_key: 'join_key', region: 'public', segment: 'public', balance: 'aggregate', is_fraud: 'dp', opened_on: 'public' } as Record<string, PolicyLevel>)[c];

export const bankA: PartyCatalog = { party: 'bank_a', tables: [customers(bankPolicy)] };
export const bankB: PartyCatalog = {
  party: 'bank_b',
  tables: [
    customers(bankPolicy),
    {
      name: 'accounts',
      minGroup: 5,
      rowCount: 500,
      columns: [
        col('account_id', 'BIGINT', 'public'),
        col('customer_ref', 'BIGINT', 'public'),
        col('product', 'VARCHAR', 'public'),
        col('balance', 'DECIMAL(12,2)', 'public'),
      ],
    },
  ],
};
export const telco: PartyCatalog = {
  party: 'telco',
  tables: [
    {
      name: 'users',
      minGroup: 20,
      rowCount: 2000,
      columns: [
        col('id_key', 'VARCHAR', 'join_key'),
        col('phone', 'VARCHAR', 'private'),
        col('age_band', 'VARCHAR', 'public'),
        col('region', 'VARCHAR', 'public'),
        col('monthly_spend', 'DECIMAL(10,2)', 'aggregate'),
      ],
    },
  ],
};

export function testCatalog(requester = 'bank_a'): Catalog {
  return new Catalog(requester, [bankA, bankB, telco], [
    { schema: 'banks', name: 'customers', table: 'customers', parties: ['bank_a', 'bank_b'] },
  ]);
}
