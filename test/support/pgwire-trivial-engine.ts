/**
 * TEST-ONLY engine that answers every statement with one constant INTEGER row, with no SQL
 * processing at all: measuring the gateway with it isolates the wire layer's own cost.
 */
import { Field, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import type { EngineSession, QueryEngine, QueryOutcome } from '../../executor/session-types.js';

const columns = [{ name: '?column?', type: 'INTEGER' }];
const schema = new Schema([new Field('?column?', new Int32(), true, new Map([['veilsql.type', 'INTEGER']]))]);
const batch = new RecordBatch(
  schema,
  makeData({
    type: new Struct(schema.fields),
    length: 1,
    nullCount: 0,
    children: [makeData({ type: new Int32(), length: 1, nullCount: 0, data: new Int32Array([1]) })],
  }),
);

async function* oneBatch(): AsyncGenerator<RecordBatch> {
  yield batch;
}

export class TrivialEngine implements QueryEngine {
  async openSession(user: string): Promise<EngineSession> {
    return {
      user,
      describe: async () => ({ paramTypes: [], columns }),
      execute: async (): Promise<QueryOutcome> => ({ columns, batches: oneBatch(), commandTag: 'SELECT' }),
      close: async () => undefined,
    };
  }
}
