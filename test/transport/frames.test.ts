/**
 * The length-prefixed frame codec and FrameChannel that the PSI/PIR/MPC protocols will run on:
 * exact round trips under arbitrary chunking, clean errors for oversized and truncated frames,
 * and send-side backpressure against a slow reader.
 */
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createFrameChannel, encodeFrame, encodeFrameContiguous, FrameDecoder } from '../../connectors/frames.js';
import { SqlError } from '../../parser/errors.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function socketPair(): Promise<[net.Socket, net.Socket, () => void]> {
  // Half-open like an HTTP/2 stream: ending one direction leaves the other usable.
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const b = await accepted;
  return [a, b, () => server.close()];
}

describe('frame codec', () => {
  it('round-trips frames of many sizes through arbitrary chunk boundaries', () => {
    const frames = [0, 1, 3, 4, 5, 100, 65_536, 1_000_003, 0, 7].map((n) => randomBytes(n));
    const wire = concat(frames.map((f) => encodeFrameContiguous(f)));
    for (let trial = 0; trial < 20; trial++) {
      const decoder = new FrameDecoder();
      const out: Uint8Array[] = [];
      for (let at = 0; at < wire.byteLength; ) {
        const step = trial === 0 ? 1 : randomInt(1, 70_000);
        out.push(...decoder.push(wire.subarray(at, at + step)));
        at += step;
        if (trial === 0 && at > 300) {
          // One byte at a time for the small frames, then the rest in one go.
          out.push(...decoder.push(wire.subarray(at)));
          break;
        }
      }
      decoder.finish();
      expect(out.length).toBe(frames.length);
      out.forEach((f, i) => expect(Buffer.compare(Buffer.from(f), frames[i])).toBe(0));
    }
  });

  it('uses a 4-byte big-endian length prefix', () => {
    const [header, payload] = encodeFrame(new Uint8Array(258));
    expect([...header]).toEqual([0, 0, 1, 2]);
    expect(payload.byteLength).toBe(258);
  });

  it('refuses an oversized frame from its prefix alone, before buffering it', () => {
    const decoder = new FrameDecoder(1024);
    const prefix = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
    expect(() => decoder.push(prefix)).toThrowError(/peer sent a frame of 2147483647 bytes, more than the maximum frame size of 1024 bytes/);
    try {
      new FrameDecoder(10).push(encodeFrameContiguous(new Uint8Array(11)));
    } catch (e) {
      expect((e as SqlError).sqlstate).toBe('08P01');
    }
    expect(() => encodeFrame(new Uint8Array(2048), 1024)).toThrowError(/frame of 2048 bytes exceeds the maximum frame size of 1024 bytes/);
  });

  it('reports a stream that ends inside a frame', () => {
    const d1 = new FrameDecoder();
    d1.push(encodeFrameContiguous(new Uint8Array(10)).subarray(0, 9));
    expect(() => d1.finish()).toThrowError(/stream ended inside a frame \(received 5 of 10 payload bytes\)/);
    const d2 = new FrameDecoder();
    d2.push(new Uint8Array([0, 0]));
    expect(() => d2.finish()).toThrowError(/received 2 of 4 length-prefix bytes/);
  });
});

describe('FrameChannel over a socket', () => {
  it('exchanges frames both ways and ends cleanly', async () => {
    const [a, b, stop] = await socketPair();
    const left = createFrameChannel(a);
    const right = createFrameChannel(b);
    const sent = [randomBytes(10), new Uint8Array(0), randomBytes(300_000)];
    for (const f of sent) await left.send(f);
    await left.end();
    const got: Uint8Array[] = [];
    for await (const f of right) got.push(f);
    expect(got.map((f) => Buffer.from(f).toString('hex'))).toEqual(sent.map((f) => Buffer.from(f).toString('hex')));
    await right.send(new TextEncoder().encode('bye'));
    expect(new TextDecoder().decode((await left.receive())!)).toBe('bye');
    right.destroy();
    left.destroy();
    stop();
  });

  it('applies backpressure: send waits while the peer is not reading', async () => {
    const [a, b, stop] = await socketPair();
    const sender = createFrameChannel(a);
    const receiver = createFrameChannel(b);
    const frame = randomBytes(256 * 1024);
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < 200; i++) {
        await sender.send(frame);
        sent++;
      }
      await sender.end();
    })();
    await new Promise((r) => setTimeout(r, 300));
    // 50 MB offered; socket buffers hold a few MB at most, so send() must have blocked.
    expect(sent).toBeLessThan(60);
    let received = 0;
    for await (const f of receiver) {
      expect(f.byteLength).toBe(frame.byteLength);
      received++;
    }
    await sending;
    expect(received).toBe(200);
    stop();
  });

  it('turns a malformed peer into a clean error, not a hang or a crash', async () => {
    const [a, b, stop] = await socketPair();
    const receiver = createFrameChannel(b, { maxFrameBytes: 1000 });
    a.write(Buffer.from([0, 0, 0x10, 0])); // 4096-byte frame announced
    await expect(receiver.receive()).rejects.toThrowError(/maximum frame size of 1000 bytes/);
    a.destroy();
    const [c, d] = await socketPair();
    const r2 = createFrameChannel(d);
    c.end(Buffer.from([0, 0, 0, 9, 1, 2]));
    await expect(r2.receive()).rejects.toThrowError(/stream ended inside a frame/);
    stop();
  });
});
