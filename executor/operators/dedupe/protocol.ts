/**
 * Names and request parameters of the dedupe's protocol sessions, with strict validation of
 * what a peer sends (a malformed request is a 08P01 for that session, never a crash):
 *
 * | protocol         | from → to            | what |
 * |------------------|----------------------|------|
 * | `dedupe-hub/1`   | lender → hub         | `sync`: evaluate blinded keys (relayed), upload rows; `query`: evaluate, count per group (and, if asked, which counted lenders have not uploaded) |
 * | `toprf-eval/1`   | hub → key holder     | evaluate blinded elements with the holder's share for an epoch and holder set |
 * | `toprf-keygen/1` | hub → key holder, key holder → key holder | deal / share / finalize / retire an epoch key |
 * | `dedupe-local/1` | a node → itself      | a node's own background job (lender sync, hub bookkeeping) with its database and audit log |
 */
import { SqlError, SqlState } from '../../../parser/errors.js';
import { ToprfProtocolError } from '../../protocols/toprf/messages.js';

export const DEDUPE_HUB_PROTOCOL = 'dedupe-hub/1';
export const TOPRF_EVAL_PROTOCOL = 'toprf-eval/1';
export const TOPRF_KEYGEN_PROTOCOL = 'toprf-keygen/1';
export const DEDUPE_LOCAL_PROTOCOL = 'dedupe-local/1';

export interface HubSyncRequest {
  op: 'sync';
  table: string;
}

export interface HubQueryRequest {
  op: 'query';
  table: string;
  /** Lenders whose rows count (after the query's PARTY filters). */
  lenders: string[];
  /** Bucket range [lo, hi); null = unbounded. */
  lo: number | null;
  hi: number | null;
  mode: 'count' | 'flag';
  threshold?: number;
  /** The requester reads an upload-status frame before the first COUNTS (upload-status.ts). */
  status?: boolean;
}

export type HubRequest = HubSyncRequest | HubQueryRequest;

export interface EvalRequest {
  table: string;
  epoch: number;
  /** Shamir indices of the holders the hub combines (the holder folds its Lagrange weight in). */
  set: number[];
}

export type KeygenRequest =
  | { op: 'deal'; table: string; epoch: number; threshold: number; holders: string[] }
  | { op: 'share'; table: string; epoch: number; threshold: number; holders: string[]; share: string; commitments: string[] }
  | { op: 'finalize'; table: string; epoch: number; holders: string[] }
  | { op: 'retire'; table: string; epoch: number };

export interface LocalRequest {
  job: string;
  what: string;
}

function bad(message: string): never {
  throw new SqlError(SqlState.protocolViolation, message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v);
const isTable = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/.test(v);
const isEpoch = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0x7fff_ffff;
const isBucket = (v: unknown): v is number | null => v === null || (Number.isInteger(v) && Math.abs(v as number) <= 0x7fff_ffff);
const isHex = (v: unknown, bytes: number): v is string => typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]+$/.test(v);

export function parseHubRequest(params: unknown): HubRequest {
  if (!isObject(params) || !isTable(params.table)) bad('dedupe hub request: expected { op, table }');
  if (params.op === 'sync') return { op: 'sync', table: params.table };
  if (params.op !== 'query') bad(`dedupe hub request: unknown op ${JSON.stringify(params.op)}`);
  const { lenders, lo, hi, mode, threshold, status } = params;
  if (!Array.isArray(lenders) || !lenders.every(isName) || lenders.length > 10_000) bad('dedupe hub query: lenders must be a list of node names');
  if (!isBucket(lo) || !isBucket(hi)) bad('dedupe hub query: lo and hi must be integers or null');
  if (mode !== 'count' && mode !== 'flag') bad('dedupe hub query: mode must be count or flag');
  if (mode === 'flag' && (!Number.isInteger(threshold) || (threshold as number) < 1)) bad('dedupe hub query: flag mode needs a positive integer threshold');
  if (status !== undefined && typeof status !== 'boolean') bad('dedupe hub query: status must be a boolean');
  return { op: 'query', table: params.table, lenders: lenders as string[], lo, hi, mode, ...(mode === 'flag' ? { threshold: threshold as number } : {}), ...(status ? { status: true } : {}) };
}

function parseHolderList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > 64 || !v.every(isName) || new Set(v).size !== v.length) bad('key holders must be a list of distinct node names');
  return v as string[];
}

export function parseEvalRequest(params: unknown): EvalRequest {
  if (!isObject(params) || !isTable(params.table) || !isEpoch(params.epoch)) bad('threshold-OPRF evaluation: expected { table, epoch, set }');
  const set = params.set;
  if (!Array.isArray(set) || set.length === 0 || set.length > 64 || !set.every((x) => Number.isInteger(x) && x >= 1 && x <= 64) || new Set(set).size !== set.length) {
    bad('threshold-OPRF evaluation: set must list distinct holder indices 1…64');
  }
  return { table: params.table, epoch: params.epoch, set: set as number[] };
}

export function parseKeygenRequest(params: unknown): KeygenRequest {
  if (!isObject(params) || !isTable(params.table) || !isEpoch(params.epoch)) bad('key generation: expected { op, table, epoch, … }');
  const { table, epoch } = params;
  switch (params.op) {
    case 'deal':
    case 'share': {
      const holders = parseHolderList(params.holders);
      const threshold = params.threshold;
      if (!Number.isInteger(threshold) || (threshold as number) < 2 || (threshold as number) > holders.length) bad('key generation: threshold out of range');
      if (params.op === 'deal') return { op: 'deal', table, epoch, threshold: threshold as number, holders };
      const commitments = params.commitments;
      if (!isHex(params.share, 32) || !Array.isArray(commitments) || commitments.length !== threshold || !commitments.every((c) => isHex(c, 32))) {
        bad('key generation: a share message needs a 32-byte share and one 32-byte commitment per coefficient (hex)');
      }
      return { op: 'share', table, epoch, threshold: threshold as number, holders, share: params.share, commitments: commitments as string[] };
    }
    case 'finalize':
      return { op: 'finalize', table, epoch, holders: parseHolderList(params.holders) };
    case 'retire':
      return { op: 'retire', table, epoch };
    default:
      return bad(`key generation: unknown op ${JSON.stringify(params.op)}`);
  }
}

export function parseLocalRequest(params: unknown): LocalRequest {
  if (!isObject(params) || typeof params.job !== 'string' || typeof params.what !== 'string') bad('local job: expected { job, what }');
  return { job: params.job, what: params.what };
}

/** A protocol-layer failure as the peer (or the analyst) sees it. */
export function asSqlError(e: unknown, context: string): SqlError {
  if (e instanceof SqlError) return e;
  if (e instanceof ToprfProtocolError) return new SqlError(SqlState.protocolViolation, `${context}: ${e.message}`);
  if (e instanceof RangeError) return new SqlError(SqlState.protocolViolation, `${context}: ${e.message}`);
  return new SqlError(SqlState.internalError, `${context}: ${e instanceof Error ? e.message : String(e)}`);
}

export const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
