/**
 * Small results the engine produces itself (SHOW, EXPLAIN) as Arrow batches following
 * `connectors/arrow-contract.ts`, so the wire layer encodes them like any query result.
 */
import { Field, makeData, RecordBatch, Schema, Struct, vectorFromArray, Int64, Utf8, type DataType } from 'apache-arrow';
import { DUCKDB_TYPE_METADATA_KEY } from '../connectors/connector.js';
import type { ResultColumn } from './session-types.js';

export type CellValue = string | bigint | null;

const ARROW_TYPES: Record<string, () => DataType> = {
  VARCHAR: () => new Utf8(),
  BIGINT: () => new Int64(),
};

/** One record batch of `rows` for `columns` (VARCHAR or BIGINT columns). */
export function rowsToBatch(columns: ResultColumn[], rows: CellValue[][]): { schema: Schema; batch: RecordBatch } {
  const fields = columns.map((c) => {
    const make = ARROW_TYPES[c.type];
    if (!make) throw new Error(`rowsToBatch: unsupported column type ${c.type}`);
    return new Field(c.name, make(), true, new Map([[DUCKDB_TYPE_METADATA_KEY, c.type]]));
  });
  const schema = new Schema(fields);
  const children = fields.map((f, i) => vectorFromArray(rows.map((r) => r[i]), f.type).data[0]);
  const data = makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children });
  return { schema, batch: new RecordBatch(schema, data) };
}

export async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}
