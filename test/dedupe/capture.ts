/**
 * Traffic capture for in-process federations: records, for every protocol session any `Party`
 * in this process serves, the request and every frame in both directions, attributed to
 * (requester → party). With real transport this is the plaintext each node receives after TLS;
 * with embedded connectors it is the same bytes. `find` searches captured bytes for any of many
 * needles at once (Rabin–Karp per needle length), so "no ID, no hash of one, no token" can be
 * checked over megabytes against thousands of candidates.
 */
import { vi, type MockInstance } from 'vitest';
import type { FrameChannel, ProtocolRequest } from '../../connectors/connector.js';
import { Party } from '../../connectors/party/party.js';

export interface CapturedSession {
  requester: string;
  party: string;
  protocol: string;
  /** Bytes the party received: the request (JSON) and the requester's frames. */
  toParty: Uint8Array[];
  /** Bytes the requester received: the party's frames. */
  toRequester: Uint8Array[];
}

export interface Capture {
  sessions: CapturedSession[];
  /** Everything `node` received (as a party and as a requester), optionally only for some protocols. */
  receivedBy(node: string, protocols?: (p: string) => boolean): Uint8Array;
  stop(): void;
}

function wrap(channel: FrameChannel, session: CapturedSession): FrameChannel {
  return {
    send: (frame) => {
      session.toRequester.push(frame.slice());
      return channel.send(frame);
    },
    receive: async () => {
      const frame = await channel.receive();
      if (frame) session.toParty.push(frame.slice());
      return frame;
    },
    end: () => channel.end(),
    destroy: (e) => channel.destroy(e),
    [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
  };
}

export function captureTraffic(): Capture {
  const sessions: CapturedSession[] = [];
  const original = Party.prototype.runProtocol;
  const spy: MockInstance = vi.spyOn(Party.prototype, 'runProtocol').mockImplementation(function (this: Party, requester: string, request: ProtocolRequest, channel: FrameChannel, signal: AbortSignal) {
    const session: CapturedSession = { requester, party: this.name, protocol: String(request?.protocol), toParty: [new TextEncoder().encode(JSON.stringify(request))], toRequester: [] };
    sessions.push(session);
    return original.call(this, requester, request, wrap(channel, session), signal);
  });
  return {
    sessions,
    receivedBy(node, protocols = () => true) {
      const parts: Uint8Array[] = [];
      for (const s of sessions) {
        if (!protocols(s.protocol)) continue;
        if (s.party === node && s.requester !== node) parts.push(...s.toParty);
        if (s.requester === node && s.party !== node) parts.push(...s.toRequester);
      }
      const total = parts.reduce((n, p) => n + p.length + 1, 0);
      const out = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length + 1; // a zero byte between frames: no needle spans two frames
      }
      return out;
    },
    stop() {
      spy.mockRestore();
    },
  };
}

/** Every needle (by index) that occurs in `haystack`. */
export function find(haystack: Uint8Array, needles: readonly Uint8Array[]): Set<number> {
  const found = new Set<number>();
  const byLength = new Map<number, number[]>();
  needles.forEach((n, i) => {
    if (n.length === 0) return;
    const list = byLength.get(n.length) ?? [];
    list.push(i);
    byLength.set(n.length, list);
  });
  const B = 257;
  for (const [L, ids] of byLength) {
    if (L > haystack.length) continue;
    let power = 1;
    for (let i = 1; i < L; i++) power = Math.imul(power, B);
    const hashOf = (bytes: Uint8Array, from: number) => {
      let h = 0;
      for (let i = 0; i < L; i++) h = (Math.imul(h, B) + bytes[from + i]) | 0;
      return h;
    };
    const table = new Map<number, number[]>();
    for (const id of ids) {
      const h = hashOf(needles[id], 0);
      const list = table.get(h) ?? [];
      list.push(id);
      table.set(h, list);
    }
    let h = hashOf(haystack, 0);
    for (let at = 0; ; at++) {
      const hits = table.get(h);
      if (hits) {
        for (const id of hits) {
          const n = needles[id];
          let same = true;
          for (let i = 0; i < L && same; i++) same = haystack[at + i] === n[i];
          if (same) found.add(id);
        }
      }
      if (at + L >= haystack.length) break;
      h = (Math.imul(h - Math.imul(haystack[at], power), B) + haystack[at + L]) | 0;
    }
  }
  return found;
}
