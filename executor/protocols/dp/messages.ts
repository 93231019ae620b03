/**
 * Messages of the `dp-aggregate-v2` session between the requester R and each member party P. The
 * masking runs on the secure-summation state machines of `executor/protocols/mpc/secure-sum.ts`
 * (HELLO / SETUP / MASKED); this module defines what the DP operator puts in them and the three
 * control frames it adds around them:
 *
 *   P → R  charged  { remaining }: P has debited the requester's budget in its ledger
 *   P → R  HELLO    announce = offer  { keys P selected (groups = THRESHOLD), else [] }
 *   R → P  SETUP    payload  = groups { the agreed key list: union of offers, PUBLIC keys, or [[]] }
 *   P → R  MASKED   one 64-bit value per (group, cell): bounded partial + noise share, masked
 *   R → P  finish   { outcome: commit | abort }
 *   P → R  receipt  { charged, refunded, remaining }, then P ends the session
 *
 * Control frames start with byte 0x10 (distinct from the secure-sum frame types). Decoders
 * validate shape and size: a malformed message is a protocol violation, never a crash.
 *
 * Reveals: to the requester, each party's selected keys (a DP release) and masked words; to each
 * party, the agreed key list. Cost: one 64-bit word per (group, cell) per party, plus the keys.
 */

export type GroupKey = (string | null)[];

/** Sent by a party once the query is debited; the requester charges parties one at a time on it. */
export interface ChargedMessage {
  type: 'charged';
  remaining: { rho: number; delta: number } | null;
}

export interface OfferMessage {
  type: 'offer';
  keys: GroupKey[];
}

export interface GroupsMessage {
  type: 'groups';
  keys: GroupKey[];
}

export interface FinishMessage {
  type: 'finish';
  outcome: 'commit' | 'abort';
}

export interface ReceiptMessage {
  type: 'receipt';
  charged: { rho: number; delta: number };
  refunded: boolean;
  remaining: { rho: number; delta: number } | null;
}

export type ControlMessage = ChargedMessage | OfferMessage | GroupsMessage | FinishMessage | ReceiptMessage;

export class ProtocolError extends Error {}

const JSON_TAG = 0x10;
/** At most this many groups travel in one session (a DP result of more groups is refused). */
export const MAX_GROUPS = 1_000_000;
const MAX_KEY_TEXT = 4096;

export function encodeControl(message: ControlMessage): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(body.length + 1);
  out[0] = JSON_TAG;
  out.set(body, 1);
  return out;
}

function parseKeys(v: unknown, width: number): GroupKey[] {
  if (!Array.isArray(v) || v.length > MAX_GROUPS) throw new ProtocolError(`group keys must be a list of at most ${MAX_GROUPS}`);
  return v.map((k) => {
    if (!Array.isArray(k) || k.length !== width || !k.every((x) => x === null || (typeof x === 'string' && x.length <= MAX_KEY_TEXT))) {
      throw new ProtocolError(`a group key must be a list of ${width} strings or nulls`);
    }
    return k as GroupKey;
  });
}

export function decodeControl<T extends ControlMessage['type']>(frame: Uint8Array | null, expected: T, groupWidth = 0): Extract<ControlMessage, { type: T }> {
  if (frame === null) throw new ProtocolError(`the session ended before the ${expected} message`);
  if (frame[0] !== JSON_TAG) throw new ProtocolError(`expected the ${expected} message, got a binary frame`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(1)));
  } catch {
    throw new ProtocolError(`the ${expected} message is not valid JSON`);
  }
  const m = raw as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || m.type !== expected) throw new ProtocolError(`expected the ${expected} message`);
  switch (expected) {
    case 'offer':
      return { type: 'offer', keys: parseKeys(m.keys, groupWidth) } as Extract<ControlMessage, { type: T }>;
    case 'groups':
      return { type: 'groups', keys: parseKeys(m.keys, groupWidth) } as Extract<ControlMessage, { type: T }>;
    case 'finish':
      if (m.outcome !== 'commit' && m.outcome !== 'abort') throw new ProtocolError('finish must say commit or abort');
      return { type: 'finish', outcome: m.outcome } as Extract<ControlMessage, { type: T }>;
    case 'charged':
      return { type: 'charged', remaining: parseBudget(m.remaining, 'charged message\'s remaining budget', true) } as Extract<ControlMessage, { type: T }>;
    case 'receipt':
      return {
        type: 'receipt',
        charged: parseBudget(m.charged, 'receipt\'s charged cost', false),
        refunded: m.refunded === true,
        remaining: parseBudget(m.remaining, 'receipt\'s remaining budget', true),
      } as Extract<ControlMessage, { type: T }>;
  }
  throw new ProtocolError(`unknown message ${expected}`);
}

function parseBudget(v: unknown, what: string, nullable: true): { rho: number; delta: number } | null;
function parseBudget(v: unknown, what: string, nullable: false): { rho: number; delta: number };
function parseBudget(v: unknown, what: string, nullable: boolean): { rho: number; delta: number } | null {
  if (v === null && nullable) return null;
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  const b = v as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || !num(b.rho) || !num(b.delta)) throw new ProtocolError(`the ${what} must be {rho, delta} with finite numbers`);
  return { rho: b.rho as number, delta: b.delta as number };
}

/** A canonical sort key for group keys (all parties and the requester order groups the same way). */
export function keyId(key: GroupKey): string {
  return JSON.stringify(key);
}
