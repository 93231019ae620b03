import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../connectors/party/audit-log.js';

describe('party audit log', () => {
  it('chains concurrent appends without forks and detects tampering', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const log = await AuditLog.open(c);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append({ requester: 'bank_a', queryId: `q${i}`, event: 'fragment', detail: `SELECT ${i}` })),
    );
    const records = await log.records();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await log.verify()).toBeUndefined();
    // Editing a past record breaks the chain at that record.
    await c.run("UPDATE __veilsql_audit SET detail = 'SELECT nothing' WHERE seq = 17");
    expect(await log.verify()).toBe(17);
    c.closeSync();
    db.closeSync();
  });

  it('continues the chain after a reopen', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const first = await AuditLog.open(c);
    await first.append({ requester: 'telco', queryId: 'a', event: 'fragment', detail: 'x' });
    const second = await AuditLog.open(c);
    await second.append({ requester: 'telco', queryId: 'b', event: 'fragment_done', detail: '1 rows' });
    expect(await second.verify()).toBeUndefined();
    expect((await second.records()).length).toBe(2);
    c.closeSync();
    db.closeSync();
  });
});
