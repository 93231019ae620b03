/**
 * One client connection as a state machine: startup (SSL/GSSENC negotiation, CancelRequest,
 * the startup packet), authentication (trust or SCRAM-SHA-256), then the query phase that
 * dispatches simple and extended protocol messages one at a time. Input is framed with hard
 * limits; output is buffered and flushed with socket backpressure. Any protocol violation ends
 * this connection only, with a FATAL ErrorResponse; nothing thrown here escapes to the server.
 */
import { getEventListeners } from 'node:events';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { EngineSession, Notice, QueryEngine } from '../../executor/session-types.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { CancelRegistry, type Cancellable } from './cancel-registry.js';
import { TimeZone } from './datetime.js';
import type { EncodeEnv } from './encode-text.js';
import { ProtocolViolation, errorFields, toSqlError } from './errors.js';
import { ExtendedProtocol } from './extended.js';
import { FrameReader, PayloadReader, type Frame } from './framing.js';
import { handleSimpleQuery } from './query.js';
import { ScramExchange, SCRAM_MECHANISM, type ScramVerifier } from './scram.js';
import { reportedValue, zoneFromSetting } from './session-settings.js';
import { StatementSplitter } from './split.js';
import { initialParameterStatus, parseStartup, type StartupPacket } from './startup.js';
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from './version.js';
import type { QueryScope, TxStatus, WireLogger, WireSession } from './wire-session.js';
import { MessageWriter } from './writer.js';

export interface ConnectionDeps {
  engine: QueryEngine;
  authMethod: 'trust' | 'scram-sha-256';
  /** Known users; for SCRAM each has a verifier. Empty with trust means "any user". */
  verifiers: Map<string, ScramVerifier | null>;
  tls: tls.SecureContext | null;
  requireTls: boolean;
  logger: WireLogger;
  registry: CancelRegistry;
  /** Per-server secret for unknown-user SCRAM salts. */
  mockKey: Buffer;
  maxMessageBytes: number;
  authTimeoutMs: number;
  onClose(conn: Connection): void;
}

type Phase = 'startup' | 'sasl-initial' | 'sasl-final' | 'opening' | 'ready' | 'closed';

/** Pause reading when this much unprocessed input piles up behind a running query. */
const INPUT_HIGH_WATER = 1 << 20;
const OUTPUT_FLUSH_THRESHOLD = 64 * 1024;

export class Connection implements WireSession, Cancellable {
  readonly out = new MessageWriter();
  readonly env: EncodeEnv = { timeZone: TimeZone.UTC };
  readonly splitter = new StatementSplitter();
  readonly logger: WireLogger;
  txStatus: TxStatus = 'I';

  private transport: net.Socket | tls.TLSSocket;
  private readonly reader: FrameReader;
  private phase: Phase = 'startup';
  private processing = false;
  private paused = false;
  private secure = false;
  private engineSession: EngineSession | null = null;
  private readonly extended: ExtendedProtocol;
  private readonly scopes = new Set<QueryScope>();
  private active: QueryScope | null = null;
  private scram: ScramExchange | null = null;
  private startup: StartupPacket | null = null;
  private pid = 0;
  private authTimer: NodeJS.Timeout | null = null;
  private spareController: AbortController | null = null;
  private readonly noticeSink = (n: Notice): void => this.sendNotice(n);

  constructor(
    private readonly socket: net.Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.transport = socket;
    this.reader = new FrameReader(deps.maxMessageBytes);
    this.extended = new ExtendedProtocol(this);
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const base = deps.logger;
    const meta = (m?: Record<string, unknown>) => ({ remote, pid: this.pid, ...m });
    this.logger = {
      debug: (msg, m) => base.debug(msg, meta(m)),
      info: (msg, m) => base.info(msg, meta(m)),
      warn: (msg, m) => base.warn(msg, meta(m)),
      error: (msg, m) => base.error(msg, meta(m)),
    };
    socket.setNoDelay(true);
    this.attach(socket);
    socket.on('close', () => this.close());
    this.authTimer = setTimeout(() => {
      if (this.phase !== 'ready' && this.phase !== 'closed') {
        void this.fatal(new SqlError(SqlState.queryCanceled, 'canceling authentication due to timeout'));
      }
    }, deps.authTimeoutMs);
    this.authTimer.unref();
  }

  private attach(stream: net.Socket | tls.TLSSocket): void {
    stream.on('data', this.onData);
    stream.on('error', (err) => {
      this.logger.debug('client socket error', { error: err.message });
      this.close();
    });
    stream.on('end', () => this.close());
  }

  get engine(): EngineSession {
    if (this.engineSession === null) throw new Error('engine session used before authentication');
    return this.engineSession;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  // ---- input ----------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase === 'closed') return;
    this.reader.push(chunk);
    if (this.processing && this.reader.bufferedBytes > INPUT_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.transport.pause();
    }
    void this.pump();
  };

  /** Processes buffered messages strictly in order; re-entered calls return immediately. */
  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.phase !== 'closed') {
        const frame = this.reader.next();
        if (frame === null) break;
        await this.dispatch(frame);
      }
    } catch (e) {
      await this.fatal(e);
    } finally {
      this.processing = false;
      if (this.paused && this.phase !== 'closed') {
        this.paused = false;
        this.transport.resume();
      }
    }
  }

  private async dispatch(frame: Frame): Promise<void> {
    switch (this.phase) {
      case 'startup':
        await this.onStartupPacket(frame.payload);
        return;
      case 'sasl-initial':
      case 'sasl-final':
        await this.onSaslMessage(frame);
        return;
      case 'ready':
        await this.onQueryPhaseMessage(frame);
        return;
      default:
        return;
    }
  }

  private async onQueryPhaseMessage(frame: Frame): Promise<void> {
    const { type, payload } = frame;
    switch (type) {
      case 'X':
        this.close();
        return;
      case 'S':
      case 'P':
      case 'B':
      case 'D':
      case 'E':
      case 'C':
      case 'H':
        await this.extended.handle(type, payload);
        return;
    }
    // Everything else is ignored while an extended-protocol error waits for Sync.
    if (this.extended.skipping) return;
    switch (type) {
      case 'Q': {
        const r = new PayloadReader(payload);
        const sql = r.cstring();
        r.end();
        await handleSimpleQuery(this, sql);
        return;
      }
      case 'd':
      case 'c':
      case 'f':
        // CopyData/CopyDone/CopyFail outside COPY FROM STDIN: Postgres ignores them too.
        return;
      case 'F':
        this.out.fields('E', errorFields(new SqlError(SqlState.featureNotSupported, 'the fast-path function call protocol is not supported')));
        this.out.readyForQuery(this.txStatus);
        await this.flush();
        return;
      default:
        throw new ProtocolViolation(`unexpected message type "${type}" after authentication`);
    }
  }

  // ---- startup and authentication -----------------------------------------------------

  private async onStartupPacket(payload: Buffer): Promise<void> {
    const code = payload.readInt32BE(0);
    if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
      if (payload.length !== 4) throw new ProtocolViolation('invalid length of startup packet');
      if (code === SSL_REQUEST_CODE && this.deps.tls !== null && !this.secure) {
        // Bytes already behind the SSLRequest would be read as plaintext after the handshake
        // (CVE-2021-23214 "buffer stuffing"): refuse instead.
        if (this.reader.bufferedBytes > 0) throw new ProtocolViolation('received unencrypted data after SSL request');
        this.out.rawByte('S');
        await this.flush();
        this.upgradeToTls();
      } else {
        this.out.rawByte('N');
        await this.flush();
      }
      return;
    }
    if (code === CANCEL_REQUEST_CODE) {
      if (payload.length === 12) {
        const matched = this.deps.registry.cancel(payload.readInt32BE(4), payload.readInt32BE(8));
        this.logger.debug('cancel request', { matched });
      }
      this.close();
      return;
    }
    const startup = parseStartup(payload);
    if (this.deps.requireTls && !this.secure) {
      throw new SqlError(SqlState.invalidAuthorization, 'SSL connection is required', {
        hint: 'Connect with sslmode=require (or stronger).',
      });
    }
    this.startup = startup;
    this.reader.startupPhase = false;
    if (startup.minor > 0 || startup.unsupportedOptions.length > 0) {
      this.out.negotiateProtocolVersion(0, startup.unsupportedOptions);
    }
    const user = startup.params['user'];
    const known = this.deps.verifiers.has(user);
    if (this.deps.authMethod === 'trust') {
      if (this.deps.verifiers.size > 0 && !known) {
        throw new SqlError(SqlState.invalidAuthorization, `role "${user}" does not exist`);
      }
      await this.openSession();
      return;
    }
    this.scram = new ScramExchange(user, this.deps.verifiers.get(user) ?? null, this.deps.mockKey);
    this.out.authenticationSasl([SCRAM_MECHANISM]);
    this.phase = 'sasl-initial';
    await this.flush();
  }

  private upgradeToTls(): void {
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.deps.tls ?? undefined });
    this.transport = secure;
    this.secure = true;
    this.attach(secure);
  }

  private async onSaslMessage(frame: Frame): Promise<void> {
    if (frame.type === 'X') {
      // libpq sends Terminate when the user cancels the password prompt.
      this.close();
      return;
    }
    if (frame.type !== 'p') {
      throw new ProtocolViolation(`expected SASL response, got message type ${frame.type.charCodeAt(0)}`);
    }
    const scram = this.scram as ScramExchange;
    const r = new PayloadReader(frame.payload);
    if (this.phase === 'sasl-initial') {
      const mechanism = r.cstring();
      const len = r.int32();
      const data = len < 0 ? '' : r.bytes(len).toString('utf8');
      r.end();
      if (mechanism !== SCRAM_MECHANISM) {
        throw new ProtocolViolation('client selected an invalid SASL authentication mechanism');
      }
      this.out.authenticationSaslContinue(scram.start(data));
      this.phase = 'sasl-final';
      await this.flush();
      return;
    }
    const serverFinal = scram.finish(frame.payload.toString('utf8'));
    this.out.authenticationSaslFinal(serverFinal);
    this.scram = null;
    await this.openSession();
  }

  private async openSession(): Promise<void> {
    const startup = this.startup as StartupPacket;
    const user = startup.params['user'];
    const database = startup.params['database'] || user;
    this.phase = 'opening';
    const session = await this.deps.engine.openSession(user, database, { ...startup.params });
    if (this.isClosed) {
      await session.close().catch(() => undefined);
      return;
    }
    this.engineSession = session;
    const requestedZone = startup.params['TimeZone'];
    const zone = requestedZone === undefined ? TimeZone.UTC : (zoneFromSetting(requestedZone) ?? TimeZone.UTC);
    this.env.timeZone = zone;
    this.out.authenticationOk();
    for (const [name, value] of initialParameterStatus(user, startup.params, zone.name)) {
      this.out.parameterStatus(name, value);
    }
    const key = this.deps.registry.register(this);
    this.pid = key.pid;
    this.out.backendKeyData(key.pid, key.secret);
    this.out.readyForQuery('I');
    this.phase = 'ready';
    if (this.authTimer !== null) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.logger.debug('session started', { user, database });
    await this.flush();
  }

  // ---- WireSession ----------------------------------------------------------------------

  async flush(): Promise<void> {
    if (this.out.size === 0 || this.phase === 'closed') return;
    const transport = this.transport;
    if (transport.destroyed || !transport.writable) return;
    const ok = transport.write(this.out.take());
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          transport.off('drain', done);
          transport.off('close', done);
          resolve();
        };
        transport.on('drain', done);
        transport.on('close', done);
      });
    }
  }

  async maybeFlush(): Promise<void> {
    if (this.out.size >= OUTPUT_FLUSH_THRESHOLD) await this.flush();
  }

  newScope(): QueryScope {
    // AbortControllers are costly to create (a measurable share of a trivial query), so one
    // that finished unaborted with no listener left is recycled for the next statement.
    const controller = this.spareController ?? new AbortController();
    this.spareController = null;
    const scope: QueryScope = {
      ctx: { signal: controller.signal, notice: this.noticeSink },
      abort: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
      },
      release: () => {
        if (!this.scopes.delete(scope)) return;
        if (!controller.signal.aborted && getEventListeners(controller.signal, 'abort').length === 0) {
          this.spareController = controller;
        }
      },
    };
    this.scopes.add(scope);
    return scope;
  }

  async running<T>(scope: QueryScope, fn: () => Promise<T>): Promise<T> {
    const previous = this.active;
    this.active = scope;
    try {
      return await fn();
    } finally {
      this.active = previous;
    }
  }

  cancelRunningQuery(): void {
    this.active?.abort('cancel');
  }

  private sendNotice(n: Notice): void {
    if (this.phase !== 'ready') return;
    this.out.notice(n);
    // Progress notices matter while the query runs, so they go out now, not with the result.
    void this.flush();
  }

  settingChanged(name: string, value: string | null): void {
    const startupValue = this.startup?.params[name === 'TimeZone' ? 'TimeZone' : name];
    let v = value ?? startupValue ?? (name === 'TimeZone' ? 'UTC' : '');
    if (name === 'TimeZone') {
      const zone = zoneFromSetting(v) ?? TimeZone.UTC;
      this.env.timeZone = zone;
      v = zone.name;
    }
    this.out.parameterStatus(name, reportedValue(name, v));
  }

  dropPortals(): void {
    this.extended.dropAllPortals();
  }

  forgetPrepared(name: string | null): boolean {
    return this.extended.forgetStatement(name);
  }

  // ---- shutdown -------------------------------------------------------------------------

  /** Sends a FATAL error (best effort) and closes. */
  private async fatal(e: unknown): Promise<void> {
    if (this.phase === 'closed') return;
    const err = e instanceof SqlError ? e : toSqlError(e, this.logger);
    if (!(e instanceof SqlError)) this.logger.warn('closing connection after an internal error');
    this.out.fields('E', errorFields(err, 'FATAL'));
    await this.flush().catch(() => undefined);
    this.close();
  }

  /** Server shutdown: tell the client why, then close. */
  async terminate(): Promise<void> {
    if (this.phase === 'closed') return;
    if (this.phase === 'ready') {
      this.out.fields('E', errorFields(new SqlError('57P01', 'terminating connection due to administrator command'), 'FATAL'));
      await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 200))]);
    }
    this.close();
  }

  /** Idempotent: releases the engine session, aborts running work, closes the socket. */
  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.authTimer !== null) clearTimeout(this.authTimer);
    if (this.pid !== 0) this.deps.registry.unregister(this.pid);
    for (const scope of this.scopes) scope.abort('disconnect');
    this.scopes.clear();
    void this.extended.closeAll();
    const transport = this.transport;
    if (!transport.destroyed) {
      if (this.out.size > 0) transport.write(this.out.take());
      transport.end();
      // A client that never reads would keep the socket half-open forever.
      setTimeout(() => transport.destroy(), 1000).unref();
    }
    const session = this.engineSession;
    this.engineSession = null;
    if (session !== null) {
      session.close().catch((err: unknown) => this.logger.warn('engine session close failed', { error: String(err) }));
    }
    this.deps.onClose(this);
  }
}
