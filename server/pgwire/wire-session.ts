/**
 * What the query handlers (simple, extended, COPY) need from a connection: the output buffer
 * and its flow control, the engine session, the transaction status byte and query-scoped
 * cancellation. Kept as an interface so the handlers do not depend on socket plumbing.
 */
import type { EngineSession, ExecutionContext } from '../../executor/session-types.js';
import type { EncodeEnv } from './encode-text.js';
import type { StatementSplitter } from './split.js';
import type { MessageWriter } from './writer.js';

export type TxStatus = 'I' | 'T' | 'E';

export interface WireLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** A query's cancellation scope: its AbortController lives as long as its rows can be fetched. */
export interface QueryScope {
  ctx: ExecutionContext;
  /** Aborts the query (client disconnect, portal dropped). */
  abort(reason: 'cancel' | 'disconnect' | 'closed'): void;
  /** Drops the scope from the connection's bookkeeping once the query is finished. */
  release(): void;
}

export interface WireSession {
  readonly out: MessageWriter;
  readonly engine: EngineSession;
  readonly env: EncodeEnv;
  readonly logger: WireLogger;
  /** Splits query strings into statements (remembering this session's recent ones). */
  readonly splitter: StatementSplitter;
  txStatus: TxStatus;
  /** Writes the buffered output; resolves when the socket can take more (backpressure). */
  flush(): Promise<void>;
  /** Flushes only when the buffer is large; called while streaming rows. */
  maybeFlush(): Promise<void>;
  /** A new query scope whose notices go to this client. */
  newScope(): QueryScope;
  /** Marks `scope` as the one a CancelRequest interrupts while `fn` runs. */
  running<T>(scope: QueryScope, fn: () => Promise<T>): Promise<T>;
  /** Applies a session setting the client must hear about (ParameterStatus), e.g. TimeZone. */
  settingChanged(name: string, value: string | null): void;
  /** Transaction ended outside a block (simple Query done, or Sync): portals go with it. */
  dropPortals(): void;
  /** Drops a protocol-level prepared statement (null: all of them and every portal). */
  forgetPrepared(name: string | null): boolean;
  readonly isClosed: boolean;
}
