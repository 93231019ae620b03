/**
 * Requester side of PRIVATE LOOKUP: canonicalises the local keys, runs one `private-lookup/3`
 * session per owner (members of a federated table concurrently), and writes the LEFT JOIN of the
 * local rows with the labels found into the stage's temp table.
 */
import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../../../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { PrivateStage } from '../../../planner/physical-plan.js';
import type { LookupStageParams } from '../../../planner/operators/private-lookup.js';
import { canonicalKeyBytes, type KeyNormalizationRule } from '../../protocols/keys/canonical-key.js';
import { loadSodium } from '../../protocols/pir/oprf.js';
import { LookupReceiver } from '../../protocols/pir/receiver.js';
import type { OperatorRunContext } from '../registry.js';
import { decodeLabel } from './label-codec.js';
import { PRIVATE_LOOKUP_PROTOCOL, type LookupRequestParams } from './protocol-params.js';
import { acquireRequesterBfv } from './requester-bfv.js';

export interface LookupTraffic {
  up: number;
  down: number;
}

/** Runs one session with one owner; returns the labels found per key (in `keys` order). */
export async function lookupAtOwner(
  context: Pick<OperatorRunContext, 'connectors' | 'queryId' | 'signal' | 'timeoutMs' | 'notice'>,
  owner: LookupStageParams['owners'][number],
  keys: Uint8Array[],
  traffic: LookupTraffic = { up: 0, down: 0 },
): Promise<Uint8Array[][]> {
  const connector = context.connectors.get(owner.party);
  if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${owner.party}" is not part of this federation`);
  const [sodium, requester] = await Promise.all([loadSodium(), acquireRequesterBfv()]);
  let receiver: LookupReceiver | undefined;
  try {
    const session = (receiver = new LookupReceiver(sodium, requester.bfv, keys));
    const params: LookupRequestParams = { sql: owner.sql, uses: owner.uses, keySources: owner.keySources };
    const channel = await connector.openProtocol({ queryId: context.queryId, protocol: PRIVATE_LOOKUP_PROTOCOL, params, timeoutMs: context.timeoutMs }, context.signal);
    const receive = async (what: string): Promise<Uint8Array> => {
      const frame = await channel.receive();
      if (frame === null) throw new SqlError(SqlState.connectionFailure, `party "${owner.party}" ended the PRIVATE LOOKUP session before sending its ${what}`);
      traffic.down += frame.length + 4;
      return frame;
    };
    const send = async (frame: Uint8Array) => {
      traffic.up += frame.length + 4;
      await channel.send(frame);
    };
    const onAbort = () => channel.destroy(new Error('aborted'));
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await send(session.oprfRequest());
      session.acceptHello(await receive('table description'));
      const units = session.acceptOprfResponse(await receive('OPRF evaluations'));
      // Pipelined: unit u+1 is encrypted and sent while the owner evaluates unit u.
      await send(session.query(0));
      for (let u = 0; u < units; u++) {
        if (u + 1 < units) await send(session.query(u + 1));
        while (!session.unitComplete(u)) session.acceptResult(await receive(`answer to query unit ${u + 1}`));
        if (units > 1) {
          context.notice({ severity: 'NOTICE', code: '00000', message: `PRIVATE LOOKUP at ${owner.party}: ${Math.round(((u + 1) / units) * 100)}% (${u + 1}/${units} query units, ${keys.length} keys)` });
        }
      }
      await channel.end();
      return session.labels();
    } catch (e) {
      channel.destroy(e instanceof Error ? e : new Error(String(e)));
      if (e instanceof SqlError) throw e;
      if (context.signal.aborted && context.signal.reason instanceof SqlError) throw context.signal.reason;
      throw new SqlError(SqlState.connectionFailure, `party "${owner.party}" failed during PRIVATE LOOKUP: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    // The session key, then its context (a retired context is freed with its last session).
    receiver?.delete();
    requester.release();
  }
}

function rulesOf(owner: LookupStageParams['owners'][number]): (KeyNormalizationRule | undefined)[] {
  return owner.normalization.map((n) => n ?? undefined);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export async function runPrivateLookup(stage: PrivateStage, context: OperatorRunContext): Promise<void> {
  const p = stage.params as LookupStageParams;
  const db: DuckDBConnection = context.connection;
  const suffix = `${stage.id}_${randomBytes(4).toString('hex')}`;
  const left = `__lk_left_${suffix}`;
  const found = `__lk_found_${suffix}`;
  const keyText = (k: LookupStageParams['keys'][number]) =>
    `CAST(TRY_CAST(${quoteIdent(k.local)} AS ${k.ownerType}) AS VARCHAR)`;
  const on = p.localCondition ? `coalesce((${p.localCondition}), false)` : 'true';
  await db.run(`CREATE TEMP TABLE ${left} AS SELECT row_number() OVER () AS __rid, *, ${p.keys.map((k, i) => `${keyText(k)} AS __k${i}`).join(', ')}, ${on} AS __on FROM ${quoteIdent(p.local.table)}`);
  try {
    const read = await db.runAndReadAll(`SELECT __rid, ${p.keys.map((_, i) => `__k${i}`).join(', ')} FROM ${left} WHERE __on`);
    const localRows = read.getRows().map((r) => ({ rid: Number(r[0]), parts: p.keys.map((_, i) => (r[i + 1] === null ? null : String(r[i + 1]))) }));
    await db.run(`CREATE TEMP TABLE ${found} (__rid BIGINT, ${p.labels.map((_, i) => `__l${i} VARCHAR`).concat('__hit BOOLEAN').join(', ')})`);
    const perOwner = await Promise.all(
      p.owners.map(async (owner) => {
        // Canonical keys under this owner's normalisation; each distinct key is asked once.
        const rules = rulesOf(owner);
        const byKey = new Map<string, { bytes: Uint8Array; rids: number[] }>();
        for (const row of localRows) {
          const bytes = canonicalKeyBytes(row.parts, rules);
          if (!bytes) continue;
          const h = hex(bytes);
          const entry = byKey.get(h) ?? { bytes, rids: [] };
          entry.rids.push(row.rid);
          byKey.set(h, entry);
        }
        const distinct = [...byKey.values()];
        if (distinct.length === 0) return [];
        const labels = await lookupAtOwner(context, owner, distinct.map((d) => d.bytes));
        return distinct.flatMap((d, i) => labels[i].flatMap((label) => d.rids.map((rid) => ({ rid, values: decodeLabel(label, p.labels.length) }))));
      }),
    );
    const appender = await db.createAppender(found);
    for (const hits of perOwner) {
      for (const hit of hits) {
        appender.appendBigInt(BigInt(hit.rid));
        for (const v of hit.values) {
          if (v === null) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.appendBoolean(true);
        appender.endRow();
      }
    }
    appender.flushSync();
    appender.closeSync();
    const outLocal = p.local.columns.map((c) => `l.${quoteIdent(c)} AS ${quoteIdent(c)}`);
    const outKeys = p.keys.map((k, i) => `CASE WHEN f.__hit THEN TRY_CAST(l.__k${i} AS ${k.ownerType}) END AS ${quoteIdent(k.output)}`);
    const outLabels = p.labels.map((l, i) => `CAST(f.__l${i} AS ${l.type}) AS ${quoteIdent(l.output)}`);
    const byName = new Map<string, string>();
    [...outLocal, ...outKeys, ...outLabels].forEach((expr) => byName.set(expr.slice(expr.lastIndexOf(' AS ') + 4), expr));
    const select = stage.columns.map((c) => byName.get(quoteIdent(c.name)) ?? `NULL AS ${quoteIdent(c.name)}`);
    await db.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS SELECT ${select.join(', ')} FROM ${left} l LEFT JOIN ${found} f ON f.__rid = l.__rid ORDER BY l.__rid`);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${left}`).catch(() => undefined);
    await db.run(`DROP TABLE IF EXISTS ${found}`).catch(() => undefined);
  }
}
