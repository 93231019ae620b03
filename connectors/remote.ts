/**
 * `RemotePartyConnector`: the requester's handle on a party reached over HTTP/2 + mutual TLS
 * (protocol: `wire.ts`, server: `server/party-endpoint.ts`).
 *
 * One HTTP/2 session per party, shared by all requests and re-established on the next request
 * after it dies. The server must present a certificate of the federation CA whose CN is the
 * party's name: another node's valid certificate on the same host is not good enough.
 *
 * Results stream: the FragmentStream pulls Arrow messages from the HTTP/2 response only as the
 * consumer asks for batches, so a slow consumer stops reading, HTTP/2 flow control stops the
 * party, and the party's producer stops (see the endpoint). Aborting the signal resets the
 * stream (RST_STREAM CANCEL), which aborts the party's fragment.
 *
 * Errors: the party's own SqlErrors come back with its SQLSTATE (message prefixed with the party
 * name); anything that means "we could not talk to the party" (refused, TLS failure, reset,
 * timeout, a result cut off without its final trailer) is SqlError 08006
 * `party "telco" is unreachable: <reason>`.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { FragmentRequest, FragmentStream, PartyConnector, ProtocolRequest } from './connector.js';
import type { NodeConfig } from './config-types.js';
import type { PartyCatalog } from '../planner/catalog-types.js';
import { ARROW_STREAM_CONTENT_TYPE, ipcStreamToArrow } from './arrow-codec.js';
import { createFrameChannel, type FrameChannel } from './frames.js';
import {
  ERROR_TRAILER,
  FRAMES_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  ROUTE_CATALOG,
  ROUTE_FRAGMENT,
  ROUTE_HEALTH,
  ROUTE_PROTOCOL_PREFIX,
  STATUS_TRAILER,
  decodeErrorTrailer,
  parseWireError,
} from './wire.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { abortReason } from './abort.js';

export interface RemotePartyOptions {
  /** The party's node name: its certificate CN must be exactly this. */
  party: string;
  /** `https://host:port` of the party endpoint. */
  url: string;
  /**
   * Where to connect instead of the url's address; the certificate is still checked against the
   * url's host and the party's name. A gateway worker process reaches its own node this way,
   * on loopback, whatever address the node listens on.
   */
  dial?: { host: string; port: number };
  /** This node's PEM key and certificate, and the federation CA certificate. */
  tls: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  /** TCP + TLS + HTTP/2 setup (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * How long to wait for response headers, and for the next bytes of a result while the consumer
   * is waiting (default 30 s; fragments allow at least their own timeoutMs plus 5 s).
   */
  requestTimeoutMs?: number;
  /** Per-stream HTTP/2 receive window: how far the party may run ahead of us (default 1 MiB). */
  initialWindowSize?: number;
  /** Largest accepted protocol frame (default: frames.ts). */
  maxFrameBytes?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_WINDOW = 1024 * 1024;
const FRAGMENT_GRACE_MS = 5_000;
const MAX_JSON_RESPONSE_BYTES = 64 * 1024 * 1024;

interface OpenResponse {
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
  /** Filled when the trailers arrive. */
  trailers: { value?: IncomingHttpHeaders };
}

export class RemotePartyConnector implements PartyConnector {
  readonly party: string;
  private readonly url: string;
  private session: ClientHttp2Session | undefined;
  private connecting: Promise<ClientHttp2Session> | undefined;
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: RemotePartyOptions) {
    this.party = options.party;
    this.url = new URL(options.url).origin;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** The connector from `config` (this node's key and cert) to federation node `party`. */
  static fromNodeConfig(config: NodeConfig, party: string, extra: Partial<RemotePartyOptions> = {}): RemotePartyConnector {
    const target = config.federation.nodes.get(party);
    const self = config.federation.nodes.get(config.name);
    if (!target) throw new SqlError(SqlState.undefinedTable, `party "${party}" is not a node of federation "${config.federation.name}"`);
    if (!self) throw new SqlError(SqlState.configFileError, `node "${config.name}" is not in federation "${config.federation.name}"`);
    const read = (path: string, what: string) => {
      try {
        return readFileSync(path);
      } catch (e) {
        throw new SqlError(SqlState.configFileError, `cannot read ${what} ${path}: ${(e as Error).message}`, { hint: 'run veilsql init federation.yaml' });
      }
    };
    return new RemotePartyConnector({
      party,
      url: target.url,
      tls: { key: read(config.key, 'node key'), cert: read(self.cert, 'node certificate'), ca: read(config.federation.ca, 'federation CA') },
      ...extra,
    });
  }

  async health(signal?: AbortSignal): Promise<void> {
    await this.getJson(ROUTE_HEALTH, signal);
  }

  async catalog(signal?: AbortSignal): Promise<PartyCatalog> {
    const catalog = (await this.getJson(ROUTE_CATALOG, signal)) as PartyCatalog;
    if (!catalog || typeof catalog !== 'object' || !Array.isArray(catalog.tables)) {
      throw new SqlError(SqlState.protocolViolation, `party "${this.party}" sent a malformed catalog`);
    }
    if (catalog.party !== this.party) {
      throw new SqlError(SqlState.protocolViolation, `party "${this.party}" sent the catalog of "${String(catalog.party)}"`);
    }
    return catalog;
  }

  async execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    const body = Buffer.from(JSON.stringify(request), 'utf8');
    // The party may legitimately think for up to its own timeout before the first byte.
    const waitMs = Math.max(this.requestTimeoutMs, request.timeoutMs + FRAGMENT_GRACE_MS);
    const res = await this.open('POST', ROUTE_FRAGMENT, body, signal, waitMs);
    const status = Number(res.headers[':status']);
    if (status !== 200) throw await this.errorFromBody(res, status, signal);
    if (res.headers['content-type'] !== ARROW_STREAM_CONTENT_TYPE) {
      res.stream.close(http2.constants.NGHTTP2_CANCEL);
      throw new SqlError(SqlState.protocolViolation, `party "${this.party}" answered a fragment with ${String(res.headers['content-type'])}`);
    }
    let result: FragmentStream;
    try {
      result = await ipcStreamToArrow(this.bodyChunks(res, signal, waitMs));
    } catch (e) {
      if (!res.stream.closed) res.stream.close(http2.constants.NGHTTP2_CANCEL);
      throw e;
    }
    return {
      schema: result.schema,
      [Symbol.asyncIterator]: async function* (this: void) {
        try {
          yield* result;
        } finally {
          // The consumer stopped early (break, error): stop the party too.
          if (!res.stream.closed) res.stream.close(http2.constants.NGHTTP2_CANCEL);
        }
      },
    };
  }

  /**
   * Opens a frame session of a registered protocol (PSI, PIR, …) at the party. Resolves once
   * the party accepted it; the party's failure later surfaces from `receive()`.
   */
  /** Opens a protocol session and sends its request as the first frame (see `ProtocolRequest`). */
  async openProtocol(request: ProtocolRequest, signal: AbortSignal): Promise<FrameChannel> {
    const channel = await this.openProtocolChannel(request.protocol, { queryId: request.queryId }, signal);
    try {
      await channel.send(new TextEncoder().encode(JSON.stringify(request)));
    } catch (e) {
      channel.destroy(e as Error);
      throw e;
    }
    return channel;
  }

  /** The raw session: a frame channel on `POST /v1/protocol/<name>?<params>`. */
  async openProtocolChannel(name: string, params: Record<string, string>, signal: AbortSignal): Promise<FrameChannel> {
    const query = new URLSearchParams(params).toString();
    const path = `${ROUTE_PROTOCOL_PREFIX}${encodeURIComponent(name)}${query ? `?${query}` : ''}`;
    const res = await this.open('POST', path, null, signal, this.requestTimeoutMs);
    const status = Number(res.headers[':status']);
    if (status !== 200) throw await this.errorFromBody(res, status, signal);
    if (res.headers['content-type'] !== FRAMES_CONTENT_TYPE) {
      res.stream.close(http2.constants.NGHTTP2_CANCEL);
      throw new SqlError(SqlState.protocolViolation, `party "${this.party}" answered protocol "${name}" with ${String(res.headers['content-type'])}`);
    }
    const onAbort = () => res.stream.close(http2.constants.NGHTTP2_CANCEL);
    signal.addEventListener('abort', onAbort, { once: true });
    res.stream.once('close', () => signal.removeEventListener('abort', onAbort));
    return createFrameChannel(res.stream, {
      maxFrameBytes: this.options.maxFrameBytes,
      onEnd: () => this.trailerError(res),
      mapError: (e) => (signal.aborted ? abortReason(signal) : this.trailerError(res) ?? this.unreachable(describeError(e))),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (!session || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        session.destroy();
        resolve();
      }, 2000);
      timer.unref();
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // -------------------------------------------------------------------------------------------

  private unreachable(reason: string): SqlError {
    return new SqlError(SqlState.connectionFailure, `party "${this.party}" is unreachable: ${reason}`);
  }

  private timedOut(ms: number): SqlError {
    return new SqlError(SqlState.connectionFailure, `party "${this.party}" did not answer within ${ms}ms`);
  }

  private getSession(): Promise<ClientHttp2Session> {
    if (this.closed) return Promise.reject(new SqlError(SqlState.connectionFailure, `connector to party "${this.party}" is closed`));
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return Promise.resolve(current);
    this.connecting ??= new Promise<ClientHttp2Session>((resolve, reject) => {
      const session = http2.connect(this.url, {
        key: this.options.tls.key,
        cert: this.options.tls.cert,
        ca: this.options.tls.ca,
        minVersion: 'TLSv1.3',
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          const hostError = checkServerIdentity(this.options.dial ? new URL(this.url).hostname.replace(/^\[|\]$/g, '') : host, cert);
          if (hostError) return hostError;
          const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN;
          if (cn !== this.party) return new Error(`the server's certificate is for "${cn ?? ''}", not "${this.party}"`);
          return undefined;
        },
        settings: { initialWindowSize: this.options.initialWindowSize ?? DEFAULT_WINDOW, enablePush: false },
        // Node's 10 MB default is easily reached by a few concurrent result streams (in MB).
        maxSessionMemory: 256,
        // Our own socket so that Nagle can be turned off: with it, the small WINDOW_UPDATE frames
        // that let the party send more wait for delayed ACKs, halving throughput.
        createConnection: (authority: URL, opts: http2.SessionOptions) => {
          const host = authority.hostname.replace(/^\[|\]$/g, '');
          const dial = this.options.dial;
          const socket = tlsConnect({
            ...(opts as ConnectionOptions),
            host: dial?.host ?? host,
            port: dial?.port ?? (Number(authority.port) || 443),
            ALPNProtocols: ['h2'],
            ...(isIP(host) ? {} : { servername: host }),
          });
          socket.setNoDelay(true);
          return socket;
        },
      });
      const timer = setTimeout(() => {
        session.destroy();
        settle(this.timedOut(this.connectTimeoutMs));
      }, this.connectTimeoutMs);
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.connecting = undefined;
        if (error) reject(error);
        else resolve(session);
      };
      session.once('connect', () => {
        this.session = session;
        // The session window covers all streams; make it as large as what we allow per stream × a few.
        session.setLocalWindowSize(Math.max(4 * (this.options.initialWindowSize ?? DEFAULT_WINDOW), 65_535));
        settle();
      });
      session.on('error', (e: Error) => settle(this.unreachable(describeError(e))));
      const forget = () => {
        if (this.session === session) this.session = undefined;
      };
      session.once('close', () => {
        forget();
        settle(this.unreachable('connection closed during setup'));
      });
      session.once('goaway', forget);
    });
    return this.connecting;
  }

  /** Sends a request and waits for its response headers. */
  private async open(method: string, path: string, body: Buffer | null, signal: AbortSignal | undefined, waitMs: number): Promise<OpenResponse> {
    if (signal?.aborted) throw abortReason(signal);
    let session = await this.getSession();
    let stream: ClientHttp2Stream;
    const headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': path };
    if (body) {
      headers['content-type'] = JSON_CONTENT_TYPE;
      headers['content-length'] = body.byteLength;
    }
    try {
      stream = session.request(headers, { endStream: method === 'GET' });
    } catch {
      // The session died between the check and the request (GOAWAY racing us): one fresh try.
      this.session = undefined;
      session = await this.getSession();
      stream = session.request(headers, { endStream: method === 'GET' });
    }
    const trailers: { value?: IncomingHttpHeaders } = {};
    stream.on('trailers', (t: IncomingHttpHeaders) => (trailers.value = t));
    stream.on('error', () => {
      // Reported through the promise below or the body reader; never an uncaught error.
    });
    // A protocol session (no body) keeps its request side open for frames.
    if (body) stream.end(body);

    const responseHeaders = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        stream.off('response', onResponse);
        stream.off('close', onClose);
        stream.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
      };
      const onResponse = (h: IncomingHttpHeaders) => {
        cleanup();
        resolve(h);
      };
      const onError = (e: Error) => {
        cleanup();
        reject(signal?.aborted ? abortReason(signal) : this.unreachable(describeError(e)));
      };
      const onClose = () => {
        cleanup();
        reject(signal?.aborted ? abortReason(signal) : this.unreachable(`the stream closed before a response (code ${stream.rstCode ?? '?'})`));
      };
      const onAbort = () => {
        cleanup();
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        cleanup();
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(this.timedOut(waitMs));
      }, waitMs);
      stream.once('response', onResponse);
      stream.once('close', onClose);
      stream.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { stream, headers: responseHeaders, trailers };
  }

  private async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.open('GET', path, null, signal, this.requestTimeoutMs);
    const status = Number(res.headers[':status']);
    if (status !== 200) throw await this.errorFromBody(res, status, signal);
    const text = await this.readAll(res, signal, this.requestTimeoutMs);
    try {
      return JSON.parse(text);
    } catch {
      throw new SqlError(SqlState.protocolViolation, `party "${this.party}" sent malformed JSON for ${path}`);
    }
  }

  private async readAll(res: OpenResponse, signal: AbortSignal | undefined, waitMs: number): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.bodyChunks(res, signal, waitMs, false)) {
      size += chunk.byteLength;
      if (size > MAX_JSON_RESPONSE_BYTES) {
        res.stream.close(http2.constants.NGHTTP2_CANCEL);
        throw new SqlError(SqlState.protocolViolation, `party "${this.party}" sent more than ${MAX_JSON_RESPONSE_BYTES} bytes of JSON`);
      }
      parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return Buffer.concat(parts, size).toString('utf8');
  }

  private async errorFromBody(res: OpenResponse, status: number, signal: AbortSignal | undefined): Promise<SqlError> {
    let text = '';
    try {
      text = await this.readAll(res, signal, this.requestTimeoutMs);
    } catch (e) {
      if (e instanceof SqlError && e.sqlstate !== SqlState.connectionFailure) return e;
    }
    return parseWireError(text, this.party, status);
  }

  /** The party's error from the trailers, or 08006 if the stream ended without a final status. */
  private trailerError(res: OpenResponse): SqlError | undefined {
    const t = res.trailers.value;
    const error = t?.[ERROR_TRAILER];
    if (typeof error === 'string') return decodeErrorTrailer(error, this.party);
    if (t?.[STATUS_TRAILER] === 'ok') return undefined;
    return this.unreachable('the result stream ended without its final status (connection lost?)');
  }

  /**
   * The response body, pulled on demand (the HTTP/2 stream is paused while the consumer is not
   * asking). While the consumer waits, no bytes for `waitMs` is a timeout. At the end, the
   * trailers decide whether the body was complete.
   */
  private async *bodyChunks(res: OpenResponse, signal: AbortSignal | undefined, waitMs: number, requireTrailers = true): AsyncGenerator<Uint8Array> {
    const { stream } = res;
    const onAbort = () => stream.close(http2.constants.NGHTTP2_CANCEL);
    signal?.addEventListener('abort', onAbort, { once: true });
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // One watchdog per response rather than a timer per 16 KB chunk: it only fires while we are
    // waiting for bytes, never while the consumer holds the stream paused.
    let waitingSince = 0;
    const watchdog = setInterval(() => {
      if (waitingSince !== 0 && performance.now() - waitingSince > waitMs) stream.destroy(this.timedOut(waitMs));
    }, Math.min(1000, Math.max(10, Math.floor(waitMs / 4))));
    try {
      for (;;) {
        let step: IteratorResult<Buffer>;
        waitingSince = performance.now();
        try {
          step = await iterator.next();
        } catch (e) {
          if (signal?.aborted) throw abortReason(signal);
          if (e instanceof SqlError) throw e;
          throw this.trailerErrorIfAny(res) ?? this.unreachable(describeError(e as Error, stream));
        } finally {
          waitingSince = 0;
        }
        if (step.done) break;
        yield new Uint8Array(step.value.buffer, step.value.byteOffset, step.value.byteLength);
      }
      if (signal?.aborted) throw abortReason(signal);
      if (requireTrailers) {
        const error = this.trailerError(res);
        if (error) throw error;
      }
    } finally {
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    }
  }

  private trailerErrorIfAny(res: OpenResponse): SqlError | undefined {
    const error = res.trailers.value?.[ERROR_TRAILER];
    return typeof error === 'string' ? decodeErrorTrailer(error, this.party) : undefined;
  }
}

/** A short human reason for a transport error (what follows "is unreachable: "). */
function describeError(e: Error & { code?: string; errno?: number; address?: string; port?: number }, stream?: ClientHttp2Stream): string {
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return `connection refused${e.address ? ` (${e.address}:${e.port})` : ''}`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `unknown host (${e.message})`;
  if (/^ERR_TLS_|^ERR_SSL_|CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|handshake|tls|ssl/i.test(e.message)) {
    return `TLS handshake failed: ${e.message}`;
  }
  if (code === 'ERR_HTTP2_STREAM_ERROR') return `stream reset (${stream?.rstCode !== undefined ? `code ${stream.rstCode}` : e.message})`;
  if (code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') return 'connection lost';
  return e.message || code || 'unknown error';
}
