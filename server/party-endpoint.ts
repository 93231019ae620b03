/**
 * The party endpoint: serves this node's `PartyService` to the other nodes of the federation
 * over HTTP/2 with mutual TLS (routes and error format: `connectors/wire.ts`).
 *
 * Trust: the TLS handshake only completes for client certificates issued by the federation CA
 * (`requestCert` + `rejectUnauthorized`); the requester is the CN of that certificate, and a
 * CN that is not a node of the federation gets 403 on every route. The PartyService re-checks
 * policy for that requester; nothing the requester claims in a request body is trusted.
 *
 * Robustness: every request runs inside its own try/catch and every session/stream has an error
 * listener, so a malformed request, a reset, or a handler exception costs one request, never the
 * process. Fragment results are written with backpressure: one Arrow batch at a time, waiting
 * for 'drain' whenever HTTP/2 flow control (i.e. the requester's reading pace) says stop.
 * A requester that resets the stream aborts the AbortSignal given to executeFragment.
 *
 * Extension point for the crypto protocols (PSI, PIR, secure aggregation): `registerProtocol`
 * binds a name to a handler that gets a `FrameChannel` over one bidirectional HTTP/2 stream
 * (`POST /v1/protocol/<name>?param=value`). The peer sees the end of the party's frames when
 * the handler returns (the end of an HTTP/2 stream travels with its trailers), so protocols
 * that need a mid-session half-close should send an explicit end-of-phase frame instead.
 */
import http2, { type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { raceAbort } from '../connectors/abort.js';
import type { FragmentStream, PartyService } from '../connectors/connector.js';
import type { NodeConfig } from '../connectors/config-types.js';
import { ARROW_STREAM_CONTENT_TYPE, IpcStreamEncoder } from '../connectors/arrow-codec.js';
import { createFrameChannel, waitForDrain, type FrameChannel } from '../connectors/frames.js';
import {
  ERROR_TRAILER,
  FRAMES_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  ROUTE_CATALOG,
  ROUTE_FRAGMENT,
  ROUTE_HEALTH,
  ROUTE_PROTOCOL_PREFIX,
  ROWS_TRAILER,
  STATUS_TRAILER,
  encodeErrorTrailer,
  errorToWire,
  httpStatusFor,
  validateFragmentRequest,
} from '../connectors/wire.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { setMaxListeners } from 'node:events';

export interface ProtocolSession {
  /** Verified name of the requesting node. */
  requester: string;
  protocol: string;
  /** Query-string parameters of the session request. */
  params: Record<string, string>;
  channel: FrameChannel;
  /** Aborted when the requester resets the stream or the endpoint shuts down. */
  signal: AbortSignal;
}

/** Runs one protocol session; resolve = success (trailer ok), throw = the requester gets the error. */
export type ProtocolHandler = (session: ProtocolSession) => Promise<void>;

export interface PartyEndpointOptions {
  service: PartyService;
  /** Names of the nodes allowed to call (the federation's nodes). */
  nodes: Iterable<string>;
  /** PEM key and certificate of this node, and the federation CA certificate. */
  tls: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  host?: string;
  /** 0 picks a free port (see `port` after start). */
  port?: number;
  /** One line per request (and per refused handshake). Default: stderr. */
  logger?: (line: string) => void;
  /** Largest accepted request body (default 1 MiB). */
  maxRequestBytes?: number;
  /** Time allowed to receive a request body (default 10 s). */
  requestBodyTimeoutMs?: number;
  /** Per-stream HTTP/2 receive window we advertise (default 1 MiB). */
  initialWindowSize?: number;
  maxFrameBytes?: number;
}

const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
const DEFAULT_WINDOW = 1024 * 1024;

/** Per-request bookkeeping for the log line. */
interface RequestLog {
  requester: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  started: number;
  error?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly sql: SqlError) {
    super(sql.message);
  }
}

export class PartyEndpoint {
  private readonly server: Http2SecureServer;
  private readonly sessions = new Set<Http2Session>();
  private readonly protocols = new Map<string, ProtocolHandler>();
  private readonly nodes: Set<string>;
  private readonly log: (line: string) => void;
  /** Aborts everything in flight when the endpoint is torn down. */
  private readonly shutdown = (() => {
    // One listener per in-flight request: many concurrent sessions are normal, not a leak.
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  })();
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: PartyEndpointOptions) {
    this.nodes = new Set(options.nodes);
    this.log = options.logger ?? ((line) => process.stderr.write(line + '\n'));
    this.server = http2.createSecureServer({
      key: options.tls.key,
      cert: options.tls.cert,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
      minVersion: 'TLSv1.3',
      settings: { initialWindowSize: options.initialWindowSize ?? DEFAULT_WINDOW, maxConcurrentStreams: 256 },
      // Node's 10 MB default counts queued outbound data; a few concurrent fragments with 1 MiB
      // windows would trip it and get the session reset (ENHANCE_YOUR_CALM).
      maxSessionMemory: 256,
    });
    // A client certificate that the federation CA did not issue makes Node drop the socket
    // without an error event that names the peer, so failed handshakes are noticed here: a TCP
    // connection that closes without ever becoming a TLS session.
    const pending = new Set<string>();
    this.server.on('connection', (raw: Socket) => {
      const peer = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
      pending.add(peer);
      raw.once('close', () => {
        if (pending.delete(peer)) this.log(`party-endpoint ${options.service.name} refused TLS from ${peer}: handshake failed (no valid federation certificate)`);
      });
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      pending.delete(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      // Nagle + delayed ACKs would stall HTTP/2 flow-control round trips by tens of milliseconds.
      socket.setNoDelay(true);
    });
    this.server.on('session', (session) => this.onSession(session));
    this.server.on('stream', (stream, headers) => {
      this.onStream(stream, headers).catch((e: unknown) => {
        // Only reachable if answering the error itself failed (e.g. the stream vanished).
        this.log(`party-endpoint ${options.service.name} dropped a request: ${(e as Error)?.message ?? String(e)}`);
        if (!stream.destroyed) stream.destroy();
      });
    });
    this.server.on('tlsClientError', () => {
      // Reported by the 'connection' bookkeeping above; the error itself is usually just a reset.
    });
    this.server.on('sessionError', () => {
      // Per-session errors are handled on the session; this only prevents an unhandled 'error'.
    });
    this.server.on('error', (err) => this.log(`party-endpoint ${options.service.name} server error: ${err.message}`));
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: PartyEndpointOptions): Promise<PartyEndpoint> {
    const endpoint = new PartyEndpoint(options);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(new SqlError(SqlState.connectionFailure, `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${e.message}`, { cause: e }));
      endpoint.server.once('error', onError);
      endpoint.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        endpoint.server.off('error', onError);
        resolve();
      });
    });
    return endpoint;
  }

  /** Starts the endpoint of a node from its config (key from node.yaml, cert and CA from the federation). */
  static async fromNodeConfig(config: NodeConfig, service: PartyService, extra: Partial<PartyEndpointOptions> = {}): Promise<PartyEndpoint> {
    const self = config.federation.nodes.get(config.name);
    if (!self) throw new SqlError(SqlState.configFileError, `node "${config.name}" is not in federation "${config.federation.name}"`);
    const read = (path: string, what: string) => {
      try {
        return readFileSync(path);
      } catch (e) {
        throw new SqlError(SqlState.configFileError, `cannot read ${what} ${path}: ${(e as Error).message}`, { hint: 'run veilsql init federation.yaml' });
      }
    };
    return PartyEndpoint.start({
      service,
      nodes: config.federation.nodes.keys(),
      tls: { key: read(config.key, 'node key'), cert: read(self.cert, 'node certificate'), ca: read(config.federation.ca, 'federation CA') },
      host: config.listen.host,
      port: config.listen.port,
      ...extra,
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.server.address() as AddressInfo).address;
  }

  /** Binds `POST /v1/protocol/<name>` to `handler`. */
  registerProtocol(name: string, handler: ProtocolHandler): void {
    // Names are versioned (`psi-join/1`); they travel percent-encoded in the path.
    if (!/^[a-z][a-z0-9_-]*(\/[0-9]+)?$/.test(name)) throw new Error(`invalid protocol name "${name}"`);
    if (this.protocols.has(name)) throw new Error(`protocol "${name}" is already registered`);
    this.protocols.set(name, handler);
  }

  /**
   * Stops accepting connections and lets in-flight requests finish; after `graceMs` the rest
   * is cancelled (their AbortSignals fire) and the connections are dropped.
   */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sessions) s.close();
      const timer = setTimeout(() => {
        this.shutdown.abort(new SqlError(SqlState.connectionFailure, `party "${this.options.service.name}" is shutting down`));
        for (const s of this.sessions) s.destroy();
      }, graceMs);
      timer.unref();
      this.server.once('close', () => clearTimeout(timer));
    });
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------

  private onSession(session: Http2Session): void {
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', () => {
      // Streams report their own failures; a dead session only needs to be forgotten.
    });
    if (this.closing) session.close();
  }

  private requesterOf(stream: ServerHttp2Stream): string | undefined {
    const socket = stream.session?.socket as TLSSocket | undefined;
    if (!socket || !socket.authorized) return undefined;
    const cn = socket.getPeerCertificate()?.subject?.CN;
    return typeof cn === 'string' ? cn : Array.isArray(cn) ? cn[0] : undefined;
  }

  private async onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const method = String(headers[':method'] ?? '');
    const rawPath = String(headers[':path'] ?? '');
    const cn = this.requesterOf(stream);
    const entry: RequestLog = { requester: cn ?? '-', method, path: rawPath.split('?')[0], status: 0, bytes: 0, started: performance.now() };
    stream.on('error', () => {
      // A reset or broken pipe; 'close' does the bookkeeping.
    });
    stream.once('close', () => {
      const ms = (performance.now() - entry.started).toFixed(1);
      const status = entry.status === 0 ? 'reset' : String(entry.status);
      this.log(
        `party-endpoint ${this.options.service.name} requester=${entry.requester} ${entry.method} ${entry.path} status=${status} bytes=${entry.bytes} ms=${ms}${entry.error ? ` error=${entry.error}` : ''}`,
      );
    });
    try {
      if (cn === undefined || !this.nodes.has(cn)) {
        throw new HttpError(403, new SqlError(SqlState.invalidAuthorization, `certificate CN "${cn ?? ''}" is not a node of this federation`));
      }
      const url = new URL(rawPath, 'https://party.invalid');
      const path = url.pathname;
      if (path === ROUTE_HEALTH) {
        expectMethod(method, 'GET');
        this.sendJson(stream, entry, 200, { status: 'ok', party: this.options.service.name });
      } else if (path === ROUTE_CATALOG) {
        expectMethod(method, 'GET');
        const catalog = await this.options.service.catalogFor(cn);
        this.sendJson(stream, entry, 200, catalog);
      } else if (path === ROUTE_FRAGMENT) {
        expectMethod(method, 'POST');
        await this.serveFragment(stream, headers, cn, entry);
      } else if (path.startsWith(ROUTE_PROTOCOL_PREFIX)) {
        expectMethod(method, 'POST');
        let name: string;
        try {
          name = decodeURIComponent(path.slice(ROUTE_PROTOCOL_PREFIX.length));
        } catch {
          throw new HttpError(400, new SqlError(SqlState.protocolViolation, 'malformed protocol name'));
        }
        await this.serveProtocol(stream, name, url.searchParams, cn, entry);
      } else {
        throw new HttpError(404, new SqlError(SqlState.featureNotSupported, `no such party endpoint route: ${path}`));
      }
    } catch (e) {
      this.sendError(stream, entry, e);
    }
  }

  private sendJson(stream: ServerHttp2Stream, entry: RequestLog, status: number, body: unknown): void {
    if (stream.destroyed || stream.headersSent) return;
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    entry.status = status;
    entry.bytes += bytes.byteLength;
    try {
      stream.respond({ ':status': status, 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store' });
      stream.end(bytes);
    } catch {
      // The requester reset the stream between our check and the answer: nobody to answer.
    }
  }

  /** Answers an error as a JSON body (or, if the response already started, closes the stream). */
  private sendError(stream: ServerHttp2Stream, entry: RequestLog, e: unknown): void {
    const wire = errorToWire(e instanceof HttpError ? e.sql : e);
    entry.error = wire.sqlstate;
    if (stream.destroyed) return;
    if (stream.headersSent) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const status = e instanceof HttpError ? e.status : httpStatusFor(wire.sqlstate);
    this.sendJson(stream, entry, status, wire);
    // The requester may still be sending a body we refused; stop it without an error code.
    stream.once('finish', () => {
      if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  }

  private async serveFragment(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, requester: string, entry: RequestLog): Promise<void> {
    const body = await readBody(stream, headers, this.options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, this.options.requestBodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, new SqlError(SqlState.protocolViolation, 'invalid fragment request: body is not JSON'));
    }
    const request = validateFragmentRequest(parsed);
    const aborter = this.requestAborter(stream);
    const timer = setTimeout(
      () => aborter.abort(new SqlError(SqlState.queryCanceled, `fragment of query ${request.queryId} exceeded its timeout of ${request.timeoutMs} ms at party "${this.options.service.name}"`)),
      request.timeoutMs,
    );
    try {
      const pending = this.options.service.executeFragment(requester, request, aborter.signal);
      // If we give up waiting, a stream that still arrives must be told to stop producing.
      pending.then(
        (late) => aborter.signal.aborted && void Promise.resolve(late[Symbol.asyncIterator]().return?.()).catch(() => undefined),
        () => undefined,
      );
      const fragment = await raceAbort(pending, aborter.signal);
      await this.streamFragment(stream, fragment, aborter.signal, entry);
    } finally {
      clearTimeout(timer);
      aborter.abort(new SqlError(SqlState.queryCanceled, 'fragment finished'));
    }
  }

  /** An AbortController that fires when the requester resets/closes the stream or we shut down. */
  private requestAborter(stream: ServerHttp2Stream): AbortController {
    const aborter = new AbortController();
    const onClose = () => {
      if (!aborter.signal.aborted) aborter.abort(new SqlError(SqlState.queryCanceled, 'the requester closed the stream'));
    };
    stream.once('close', onClose);
    const onShutdown = () => aborter.abort(this.shutdown.signal.reason);
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    aborter.signal.addEventListener('abort', () => {
      stream.off('close', onClose);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }, { once: true });
    return aborter;
  }

  private async streamFragment(stream: ServerHttp2Stream, fragment: FragmentStream, signal: AbortSignal, entry: RequestLog): Promise<void> {
    const iterator = fragment[Symbol.asyncIterator]();
    let trailers: Record<string, string> | undefined;
    const sendTrailers = () => safeSendTrailers(stream, trailers ?? { [STATUS_TRAILER]: 'incomplete' });
    const write = async (parts: Uint8Array[]) => {
      let more = true;
      for (const bytes of parts) {
        entry.bytes += bytes.byteLength;
        more = stream.write(bytes);
      }
      if (!more) await raceAbort(waitForDrain(stream), signal);
    };
    let rows = 0;
    try {
      entry.status = 200;
      stream.respond({ ':status': 200, 'content-type': ARROW_STREAM_CONTENT_TYPE, 'cache-control': 'no-store' }, { waitForTrailers: true });
      stream.once('wantTrailers', sendTrailers);
      const encoder = new IpcStreamEncoder(fragment.schema);
      await write(encoder.start());
      for (;;) {
        const step = await raceAbort(iterator.next(), signal);
        if (step.done) break;
        rows += step.value.numRows;
        await write(encoder.encode(step.value));
      }
      await write(encoder.end());
      trailers = { [STATUS_TRAILER]: 'ok', [ROWS_TRAILER]: String(rows) };
    } catch (e) {
      // Tell the producer to stop (it may be blocked in DuckDB); its own errors no longer matter.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
      if (stream.destroyed || stream.closed) {
        entry.error = 'canceled'; // the requester is gone: nobody to tell
        return;
      }
      const wire = errorToWire(e);
      entry.error = wire.sqlstate;
      trailers = { [ERROR_TRAILER]: encodeErrorTrailer(wire) };
    }
    if (!stream.destroyed && !stream.writableEnded) stream.end();
  }

  private async serveProtocol(stream: ServerHttp2Stream, name: string, query: URLSearchParams, requester: string, entry: RequestLog): Promise<void> {
    const handler = this.protocols.get(name);
    if (!handler) throw new HttpError(404, new SqlError(SqlState.featureNotSupported, `party "${this.options.service.name}" does not speak protocol "${name}"`));
    const aborter = this.requestAborter(stream);
    entry.status = 200;
    let trailers: Record<string, string> | undefined;
    let wantTrailers = false;
    const flushTrailers = () => {
      if (wantTrailers && trailers) safeSendTrailers(stream, trailers);
    };
    stream.respond({ ':status': 200, 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => {
      wantTrailers = true;
      flushTrailers();
    });
    const channel = createFrameChannel(stream, { maxFrameBytes: this.options.maxFrameBytes, onSend: (n) => (entry.bytes += n) });
    const params = Object.fromEntries(query.entries());
    try {
      await handler({ requester, protocol: name, params, channel, signal: aborter.signal });
      trailers = { [STATUS_TRAILER]: 'ok' };
    } catch (e) {
      if (stream.destroyed || stream.closed) return;
      const wire = errorToWire(e);
      entry.error = wire.sqlstate;
      trailers = { [ERROR_TRAILER]: encodeErrorTrailer(wire) };
    } finally {
      aborter.abort(new SqlError(SqlState.queryCanceled, 'protocol session finished'));
    }
    if (!stream.destroyed && !stream.writableEnded) stream.end();
    flushTrailers();
  }
}

function safeSendTrailers(stream: ServerHttp2Stream, trailers: Record<string, string>): void {
  if (stream.destroyed || stream.closed) return;
  try {
    stream.sendTrailers(trailers);
  } catch {
    // The stream closed under us; the requester treats a missing final status as a failure.
  }
}

function expectMethod(actual: string, expected: string): void {
  if (actual !== expected) {
    throw new HttpError(405, new SqlError(SqlState.protocolViolation, `method ${actual} is not allowed here; use ${expected}`));
  }
}

/** Reads a request body of at most `max` bytes within `timeoutMs`. */
function readBody(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, max: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(headers['content-length'] ?? NaN);
  const tooLarge = () => new HttpError(413, new SqlError('54000', `request body exceeds the limit of ${max} bytes`));
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        stream.pause();
        done(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done();
    const onClose = () => done(new HttpError(400, new SqlError(SqlState.protocolViolation, 'the request was closed before its body was complete')));
    const timer = setTimeout(
      () => done(new HttpError(408, new SqlError(SqlState.protocolViolation, `the request body did not arrive within ${timeoutMs} ms`))),
      timeoutMs,
    );
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onClose);
  });
}
