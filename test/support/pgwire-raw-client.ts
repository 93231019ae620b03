/**
 * A scripted Postgres frontend for protocol tests: sends exact frontend messages (pg-protocol's
 * serializer, plus a Bind builder with per-column result formats and binary parameters, which
 * pg-protocol cannot express) and parses backend messages itself, keeping DataRow fields as raw
 * bytes (pg-protocol's parser decodes every field as UTF-8 text, so binary results cannot be
 * compared through it). Works against the VeilSQL gateway and against real PostgreSQL alike.
 */
import * as net from 'node:net';
import { serialize } from 'pg-protocol';

export interface FieldDesc {
  name: string;
  tableOid: number;
  attnum: number;
  typeOid: number;
  typlen: number;
  typmod: number;
  format: number;
}

export type BackendMsg =
  | { type: 'R'; code: number; data: Buffer }
  | { type: 'S'; name: string; value: string }
  | { type: 'K'; pid: number; secret: number }
  | { type: 'Z'; status: string }
  | { type: 'T'; fields: FieldDesc[] }
  | { type: 'D'; values: (Buffer | null)[] }
  | { type: 'C'; tag: string }
  | { type: 'E' | 'N'; fields: Record<string, string> }
  | { type: 't'; oids: number[] }
  | { type: 'H'; format: number; columns: number[] }
  | { type: 'd'; data: Buffer }
  | { type: string; raw: Buffer };

function cstr(buf: Buffer, pos: number): [string, number] {
  const end = buf.indexOf(0, pos);
  return [buf.toString('utf8', pos, end), end + 1];
}

export function parseBackend(type: string, p: Buffer): BackendMsg {
  switch (type) {
    case 'R':
      return { type, code: p.readInt32BE(0), data: p.subarray(4) };
    case 'S': {
      const [name, i] = cstr(p, 0);
      const [value] = cstr(p, i);
      return { type, name, value };
    }
    case 'K':
      return { type, pid: p.readInt32BE(0), secret: p.readInt32BE(4) };
    case 'Z':
      return { type, status: String.fromCharCode(p[0]) };
    case 'T': {
      const n = p.readInt16BE(0);
      let pos = 2;
      const fields: FieldDesc[] = [];
      for (let k = 0; k < n; k++) {
        const [name, next] = cstr(p, pos);
        pos = next;
        fields.push({
          name,
          tableOid: p.readUInt32BE(pos),
          attnum: p.readInt16BE(pos + 4),
          typeOid: p.readUInt32BE(pos + 6),
          typlen: p.readInt16BE(pos + 10),
          typmod: p.readInt32BE(pos + 12),
          format: p.readInt16BE(pos + 16),
        });
        pos += 18;
      }
      return { type, fields };
    }
    case 'D': {
      const n = p.readInt16BE(0);
      let pos = 2;
      const values: (Buffer | null)[] = [];
      for (let k = 0; k < n; k++) {
        const len = p.readInt32BE(pos);
        pos += 4;
        if (len < 0) values.push(null);
        else {
          values.push(Buffer.from(p.subarray(pos, pos + len)));
          pos += len;
        }
      }
      return { type, values };
    }
    case 'C':
      return { type, tag: cstr(p, 0)[0] };
    case 'E':
    case 'N': {
      const fields: Record<string, string> = {};
      let pos = 0;
      while (pos < p.length && p[pos] !== 0) {
        const code = String.fromCharCode(p[pos]);
        const [v, next] = cstr(p, pos + 1);
        fields[code] = v;
        pos = next;
      }
      return { type, fields };
    }
    case 't': {
      const n = p.readInt16BE(0);
      const oids: number[] = [];
      for (let k = 0; k < n; k++) oids.push(p.readUInt32BE(2 + k * 4));
      return { type, oids };
    }
    case 'H': {
      const n = p.readInt16BE(1);
      const columns: number[] = [];
      for (let k = 0; k < n; k++) columns.push(p.readInt16BE(3 + k * 2));
      return { type, format: p[0], columns };
    }
    case 'd':
      return { type, data: Buffer.from(p) };
    default:
      return { type, raw: Buffer.from(p) };
  }
}

/** Bind with explicit parameter formats, raw parameter bytes and result formats. */
export function bindMessage(opts: {
  portal?: string;
  statement?: string;
  paramFormats?: number[];
  params?: (Buffer | string | null)[];
  resultFormats?: number[];
}): Buffer {
  const parts: Buffer[] = [];
  const i16 = (v: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    parts.push(b);
  };
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  parts.push(Buffer.from(`${opts.portal ?? ''}\0${opts.statement ?? ''}\0`, 'utf8'));
  const pf = opts.paramFormats ?? [];
  i16(pf.length);
  pf.forEach(i16);
  const params = opts.params ?? [];
  i16(params.length);
  for (const p of params) {
    if (p === null) i32(-1);
    else {
      const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
      i32(b.length);
      parts.push(b);
    }
  }
  const rf = opts.resultFormats ?? [];
  i16(rf.length);
  rf.forEach(i16);
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head[0] = 'B'.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

export class RawPgClient {
  private buf = Buffer.alloc(0);
  private readonly queue: BackendMsg[] = [];
  private waiter: (() => void) | null = null;
  closed = false;
  pid = 0;
  secret = 0;
  readonly params = new Map<string, string>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1);
        if (this.buf.length < len + 1) break;
        const type = String.fromCharCode(this.buf[0]);
        this.queue.push(parseBackend(type, this.buf.subarray(5, len + 1)));
        this.buf = this.buf.subarray(len + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Opens a TCP connection without sending anything. */
  static async open(port: number, host = '127.0.0.1'): Promise<RawPgClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawPgClient(socket);
  }

  /** Connects and completes a trust-auth startup (until the first ReadyForQuery). */
  static async connect(port: number, params: Record<string, string> = { user: 'tester', database: 'db' }): Promise<RawPgClient> {
    const c = await RawPgClient.open(port);
    c.send(serialize.startup(params));
    const msgs = await c.readUntil((m) => m.type === 'Z' || m.type === 'E');
    for (const m of msgs) {
      if (m.type === 'K') {
        c.pid = (m as { pid: number }).pid;
        c.secret = (m as { secret: number }).secret;
      }
      if (m.type === 'S') c.params.set((m as { name: string }).name, (m as { value: string }).value);
      if (m.type === 'E') throw new Error(`startup failed: ${JSON.stringify((m as { fields: unknown }).fields)}`);
    }
    return c;
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  /** Next message, or null when the server closed the connection (after `timeoutMs`: throws). */
  async next(timeoutMs = 5000): Promise<BackendMsg | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a backend message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.queue.shift() ?? null;
  }

  /** Reads messages up to and including the first that satisfies `pred` (or until close). */
  async readUntil(pred: (m: BackendMsg) => boolean, timeoutMs = 5000): Promise<BackendMsg[]> {
    const out: BackendMsg[] = [];
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === null) return out;
      out.push(m);
      if (pred(m)) return out;
    }
  }

  /** Simple query: all messages up to ReadyForQuery. */
  async query(sql: string): Promise<BackendMsg[]> {
    this.send(serialize.query(sql));
    return this.readUntil((m) => m.type === 'Z');
  }

  /** Parse/Bind/Describe(P)/Execute/Sync of one statement with the given result formats. */
  async extended(sql: string, opts: { resultFormats?: number[]; params?: (Buffer | string | null)[]; paramFormats?: number[]; types?: number[]; maxRows?: number } = {}): Promise<BackendMsg[]> {
    this.send(
      serialize.parse({ text: sql, types: opts.types ?? [] }),
      bindMessage({ params: opts.params ?? [], paramFormats: opts.paramFormats ?? [], resultFormats: opts.resultFormats ?? [] }),
      serialize.describe({ type: 'P' }),
      serialize.execute({ rows: opts.maxRows ?? 0 }),
      serialize.sync(),
    );
    return this.readUntil((m) => m.type === 'Z');
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.socket.write(serialize.end());
    this.socket.end();
    await new Promise<void>((resolve) => {
      if (this.closed) resolve();
      else this.socket.once('close', () => resolve());
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Compact rendering of a message list for assertions: `T`, `D`, `C:SELECT 1`, `E:42601`, … */
export function summary(msgs: BackendMsg[]): string[] {
  return msgs.map((m) => {
    if (m.type === 'C') return `C:${(m as { tag: string }).tag}`;
    if (m.type === 'E' || m.type === 'N') return `${m.type}:${(m as { fields: Record<string, string> }).fields['C']}`;
    if (m.type === 'Z') return `Z:${(m as { status: string }).status}`;
    return m.type;
  });
}
