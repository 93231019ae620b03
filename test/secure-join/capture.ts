/**
 * Test helpers: a PartyConnector wrapper that records every byte exchanged with a party (the
 * protocol request, every frame both ways, fragment SQL), optionally failing the session after
 * a number of frames as a dying party would; and the search for keys in captured traffic.
 */
import { createHash } from 'node:crypto';
import type { FrameChannel, PartyConnector, ProtocolRequest } from '../../connectors/connector.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { canonicalKeyBytes, normalizeKeyText, type KeyNormalizationRule } from '../../executor/protocols/keys/canonical-key.js';

export interface Capture {
  chunks: Uint8Array[];
  fragments: string[];
  requests: ProtocolRequest[];
  frames: number;
}

export function newCapture(): Capture {
  return { chunks: [], fragments: [], requests: [], frames: 0 };
}

export interface CaptureOptions {
  /** The session fails like a dead party after this many frames received. */
  dieAfterFrames?: number;
  /** Awaited before each frame is sent to the party; read at send time, so a test may set it later. */
  beforeSend?: () => Promise<void> | void;
}

/** Wraps `inner`, recording its traffic into `capture`. */
export function capturing(inner: PartyConnector, capture: Capture, options: CaptureOptions = {}): PartyConnector {
  return {
    party: inner.party,
    catalog: (signal) => inner.catalog(signal),
    close: () => inner.close(),
    async execute(request, signal) {
      capture.fragments.push(request.sql);
      capture.chunks.push(new TextEncoder().encode(request.sql));
      return inner.execute(request, signal);
    },
    async openProtocol(request, signal) {
      capture.requests.push(request);
      capture.chunks.push(new TextEncoder().encode(JSON.stringify(request)));
      const channel = await inner.openProtocol(request, signal);
      let received = 0;
      const dead = () => new SqlError(SqlState.connectionFailure, `party "${inner.party}" is unreachable: connection reset (simulated death)`);
      const wrapped: FrameChannel = {
        async send(frame) {
          await options.beforeSend?.();
          capture.chunks.push(frame.slice());
          capture.frames++;
          return channel.send(frame);
        },
        async receive() {
          const frame = await channel.receive();
          if (frame) {
            capture.chunks.push(frame.slice());
            capture.frames++;
            received++;
            if (options.dieAfterFrames !== undefined && received >= options.dieAfterFrames) {
              channel.destroy(dead());
              throw dead();
            }
          }
          return frame;
        },
        end: () => channel.end(),
        destroy: (e) => channel.destroy(e),
        [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
      };
      return wrapped;
    },
  };
}

/** Every form of a key that must never appear in traffic: raw, normalised, canonical bytes, and their SHA-256/MD5 (raw and hex). */
export function forbiddenForms(key: string, rule: KeyNormalizationRule): Buffer[] {
  const texts = [...new Set([key, normalizeKeyText(key, rule), key.trim()])].filter((t) => t.length >= 6);
  const out: Buffer[] = [];
  for (const t of texts) {
    out.push(Buffer.from(t, 'utf8'));
    for (const algo of ['sha256', 'md5']) {
      const d = createHash(algo).update(t, 'utf8').digest();
      out.push(d, Buffer.from(d.toString('hex')), Buffer.from(d.toString('hex').toUpperCase()), Buffer.from(d.toString('base64')));
    }
  }
  const canon = canonicalKeyBytes([key], [rule]);
  if (canon) {
    out.push(Buffer.from(canon));
    for (const algo of ['sha256', 'md5', 'sha512']) out.push(createHash(algo).update(canon).digest());
  }
  return out;
}

/**
 * The forbidden forms found in the captured traffic (empty when clean). One pass over the
 * traffic: every position's first four bytes index the candidate forms starting with them.
 */
export function leakedKeys(capture: Capture, keys: string[], rule: KeyNormalizationRule): string[] {
  const all = Buffer.concat(capture.chunks.map((c) => Buffer.from(c)));
  const byPrefix = new Map<number, { key: string; form: Buffer }[]>();
  for (const key of keys) {
    for (const form of forbiddenForms(key, rule)) {
      if (form.length < 4) continue;
      const p = form.readUInt32BE(0);
      const list = byPrefix.get(p) ?? [];
      list.push({ key, form });
      byPrefix.set(p, list);
    }
  }
  const found = new Set<string>();
  for (let i = 0; i + 4 <= all.length; i++) {
    const candidates = byPrefix.get(all.readUInt32BE(i));
    if (!candidates) continue;
    for (const { key, form } of candidates) {
      if (i + form.length <= all.length && all.compare(form, 0, form.length, i, i + form.length) === 0) found.add(`${JSON.stringify(key)} as ${form.toString('hex').slice(0, 16)}…`);
    }
  }
  return [...found];
}
