/**
 * The analyst is told when a dedupe answer misses lenders: the hub reports which of the lenders
 * a query counts have not uploaded under the query's key epoch, and the requester turns that
 * into a WARNING (01000) naming them; the answer itself is unchanged. A malformed status from
 * the hub fails the query with 08P01.
 */
import { describe, expect, it } from 'vitest';
import { SqlError } from '../../parser/errors.js';
import { parseUploadStatus, uploadStatusNotice } from '../../executor/operators/dedupe/upload-status.js';
import { AS_OF, startAlliance } from './alliance.js';

const Q = `SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS n FROM lender_001.applications a SECURE JOIN alliance.applications b ON b.id_key = a.id_key WHERE b.applied_at >= DATE '${AS_OF}' - 14 AND b.PARTY <> 'lender_001' GROUP BY a.app_id ORDER BY a.app_id`;
const E = (all: string, me: string, skip: string[]) =>
  `SELECT a.app_id, count(DISTINCT b.lender) FROM ${me} a JOIN ${all} b ON a.k = b.k WHERE b.applied_at >= DATE '${AS_OF}' - 14 AND b.lender NOT IN (${['lender_001', ...skip].map((l) => `'${l}'`).join(', ')}) GROUP BY a.app_id ORDER BY a.app_id`;
const isUploadWarning = (m: string) => m.startsWith('DEDUPE: alliance.applications:') && m.includes('not uploaded');

describe('lenders that have not uploaded under the query epoch', () => {
  it('are named in a warning until they sync; the answer is what the uploaded tokens give', async () => {
    const a = await startAlliance({ lenders: 4, perLender: 40, mode: 'embedded', seed: 3 });
    try {
      await a.services.get('hub')!.hub!.tick();
      for (const l of ['lender_001', 'lender_002', 'lender_004']) await a.services.get(l)!.lender!.syncAll();

      const before = await a.query(Q);
      const warnings = before.notices.filter((n) => isUploadWarning(n.message));
      expect(warnings).toHaveLength(1);
      const w = warnings[0];
      expect(w.severity).toBe('WARNING');
      expect(w.code).toBe('01000');
      expect(w.message).toBe('DEDUPE: alliance.applications: 1 of 3 lenders counted has not uploaded tokens under the current key epoch yet (lender_003); its applications are not counted');
      expect(w.detail).toMatch(/^Key epoch 1\. The hub last heard from: lender_003 not since the hub started\.$/);
      // The answer stands as is: exactly the lenders that uploaded.
      expect(before.rows).toEqual(await a.expected((all, me) => E(all, me, ['lender_003'])));

      await a.services.get('lender_003')!.lender!.syncAll();
      const after = await a.query(Q);
      expect(after.notices.filter((n) => isUploadWarning(n.message))).toEqual([]);
      expect(after.rows).toEqual(await a.expected((all, me) => E(all, me, [])));
    } finally {
      await a.close();
    }
  }, 120_000);
});

describe('the upload status frame and its notice', () => {
  const lenders = Array.from({ length: 19 }, (_, i) => `lender_${String(i + 1).padStart(2, '0')}`);

  it('lists at most ten names, then …, and says when the hub last heard from each', () => {
    const missing = lenders.slice(0, 12).map((lender, i) => ({ lender, heardSecondsAgo: i === 0 ? null : i * 30 }));
    const n = uploadStatusNotice('alliance.applications', parseUploadStatus({ epoch: 7, missing }, 7, lenders), lenders.length)!;
    expect(n.message).toBe(`DEDUPE: alliance.applications: 12 of 19 lenders counted have not uploaded tokens under the current key epoch yet (${lenders.slice(0, 10).join(', ')}, …); their applications are not counted`);
    expect(n.detail).toContain('lender_01 not since the hub started, lender_02 30 s ago');
    expect(n.detail).toContain('lender_12 5 min ago');
    expect(uploadStatusNotice('alliance.applications', parseUploadStatus({ epoch: 7, missing: [] }, 7, lenders), lenders.length)).toBeUndefined();
  });

  it('rejects a malformed status with 08P01', () => {
    const malformed: Record<string, unknown>[] = [
      { epoch: 6, missing: [] },
      { epoch: 7 },
      { epoch: 7, missing: 'lender_01' },
      { epoch: 7, missing: [{ lender: 'lender_99', heardSecondsAgo: null }] },
      { epoch: 7, missing: [{ lender: 'lender_01', heardSecondsAgo: -1 }] },
      { epoch: 7, missing: [{ lender: 'lender_01', heardSecondsAgo: 1.5 }] },
      { epoch: 7, missing: [{ lender: 'lender_01', heardSecondsAgo: null }, { lender: 'lender_01', heardSecondsAgo: null }] },
      { epoch: 7, missing: [null] },
    ];
    for (const m of malformed) {
      const e = (() => {
        try {
          parseUploadStatus(m, 7, lenders);
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e, JSON.stringify(m)).toBeInstanceOf(SqlError);
      expect((e as SqlError).sqlstate).toBe('08P01');
    }
  });
});
