/**
 * Units of the Describe/execute type agreement: the recast that execution applies when its
 * result came out with other types than Describe announced, on an empty and a non-empty result.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryToArrow } from '../../connectors/arrow/duckdb-to-arrow.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../../connectors/connector.js';
import { castBatches } from '../../executor/pg-catalog/exact-types.js';
import { arrowCellToText } from '../support/arrow-text.js';

describe('castBatches', () => {
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => db.closeSync());

  async function recast(sql: string, target: { name: string; type: string }[]) {
    const c = await db.connect();
    const stream = await queryToArrow(c, sql);
    const columns = stream.schema.fields.map((f) => ({ name: f.name, type: f.metadata.get(DUCKDB_TYPE_METADATA_KEY)! }));
    const out = await castBatches(db, columns, stream, target, new AbortController().signal);
    const rows: (string | null)[][] = [];
    const types: string[][] = [];
    for await (const b of out.batches) {
      types.push(b.schema.fields.map((f) => f.metadata.get(DUCKDB_TYPE_METADATA_KEY) ?? '?'));
      for (let r = 0; r < b.numRows; r++) rows.push(b.schema.fields.map((f, i) => arrowCellToText(b.getChildAt(i)!, r, f)));
    }
    c.closeSync();
    return { columns: out.columns, rows, types };
  }

  it('re-types every column to what Describe announced, keeping names (even duplicates) and values', async () => {
    const r = await recast("SELECT 1::INTEGER AS a, 2.5::DECIMAL(4,1) AS a, 'x' AS s, NULL::INTEGER AS n", [
      { name: 'a', type: 'BIGINT' }, { name: 'a', type: 'DECIMAL(18,3)' }, { name: 's', type: 'VARCHAR' }, { name: 'n', type: 'DOUBLE' },
    ]);
    expect(r.types).toEqual([['BIGINT', 'DECIMAL(18,3)', 'VARCHAR', 'DOUBLE']]);
    expect(r.rows).toEqual([['1', '2.500', 'x', null]]);
    expect(r.columns.map((c) => c.name)).toEqual(['a', 'a', 's', 'n']);
  });

  it('an empty result stays empty, typed as announced', async () => {
    const r = await recast('SELECT 1::INTEGER AS a WHERE false', [{ name: 'a', type: 'BIGINT' }]);
    expect(r.rows).toEqual([]);
    expect(r.columns).toEqual([{ name: 'a', type: 'BIGINT' }]);
  });
});
