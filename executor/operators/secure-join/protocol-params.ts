/**
 * The request a SECURE JOIN requester sends to the party (`ProtocolRequest.params` of
 * `psi-join-v1`), and the party's validation of it. The party treats every field as untrusted:
 * the input SQL is re-planned and policy-checked by the party itself with the declared uses, and
 * the roles of the input's columns follow from those uses (keys are the `secure_key` columns,
 * revealed values the `output` columns) — never from anything else the requester says.
 */
import type { KeyNormalization } from '../../../planner/catalog-types.js';
import type { ColumnUse } from '../../../planner/policy.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import { isPsiSuite, type PsiSuite } from '../../protocols/psi/group-engine.js';

export interface PsiJoinRequest {
  /** `row`: matched rows revealed; `aggregate`: PSI-sum over the party's value columns. */
  mode: 'row' | 'aggregate';
  suite: PsiSuite;
  /** The party's protocol input (VeilSQL) and the use of each of its columns. */
  input: { sql: string; uses: ColumnUse[] };
  /** Per key column (in input order): aligned type and normalisation. */
  keys: { keyType: string; normalization?: KeyNormalization }[];
  /** Aggregate mode: decimal scale of each value column (the input's `statistic` columns). */
  values?: { scale: number; countOnly?: boolean }[];
}

const isRule = (r: unknown): r is KeyNormalization => {
  const x = r as KeyNormalization;
  return typeof x === 'object' && x !== null && typeof x.trim === 'boolean' && ['NFC', 'NFKC', 'none'].includes(x.unicode) && ['lower', 'upper', 'preserve'].includes(x.case);
};

/** Validates the request; returns it typed, or throws 08P01 naming the bad field. */
export function parsePsiJoinRequest(params: unknown, party: string): PsiJoinRequest {
  const bad = (what: string): never => {
    throw new SqlError(SqlState.protocolViolation, `party "${party}" refused a SECURE JOIN request: ${what}`);
  };
  const p = params as Partial<PsiJoinRequest> | null;
  if (typeof p !== 'object' || p === null) bad('parameters are not an object');
  if (p!.mode !== 'row' && p!.mode !== 'aggregate') bad(`unknown mode ${JSON.stringify(p!.mode)}`);
  const revealed: ColumnUse = p!.mode === 'row' ? 'output' : 'statistic';
  if (!isPsiSuite(p!.suite)) bad(`unknown suite ${JSON.stringify(p!.suite)}`);
  const input = p!.input;
  if (!input || typeof input.sql !== 'string' || !Array.isArray(input.uses)) bad('input must be { sql, uses }');
  const uses = input!.uses;
  for (const u of uses) if (u !== 'secure_key' && u !== revealed) bad(`column use "${String(u)}" is not part of a ${p!.mode}-mode SECURE JOIN`);
  const keyCount = uses.filter((u) => u === 'secure_key').length;
  if (keyCount === 0) bad('no key column');
  if (uses.slice(0, keyCount).some((u) => u !== 'secure_key')) bad('key columns must come first');
  if (!Array.isArray(p!.keys) || p!.keys.length !== keyCount) bad(`${keyCount} key column(s) but ${Array.isArray(p!.keys) ? p!.keys.length : 0} key descriptions`);
  for (const k of p!.keys!) {
    if (typeof k?.keyType !== 'string') bad('key type missing');
    if (k.normalization !== undefined && !isRule(k.normalization)) bad('malformed key normalisation');
  }
  if (p!.mode === 'aggregate') {
    const values = p!.values;
    if (!Array.isArray(values) || values.length !== uses.length - keyCount) bad('one scale per value column is required');
    for (const v of values!) if (!Number.isInteger(v?.scale) || v.scale < 0 || v.scale > 18) bad('value scale out of range');
  }
  return p as PsiJoinRequest;
}
