/**
 * The contract between the Postgres wire gateway (`server/pgwire`) and the engine that plans and
 * runs federated queries. The wire layer knows protocol and encodings; the engine knows SQL,
 * parties and privacy. Result rows travel as Arrow record batches whose fields carry their
 * DuckDB type in metadata (`veilsql.type`), so the wire layer can encode exactly (int8 and
 * numeric never pass through a JS number).
 */
import type { RecordBatch } from 'apache-arrow';

export interface ResultColumn {
  name: string;
  /** DuckDB type string: `BIGINT`, `DECIMAL(12,2)`, `VARCHAR`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`, … */
  type: string;
}

/**
 * A bound parameter in canonical text form (what Postgres' text format would carry); the wire
 * layer decodes binary parameters into this form. `type` is the DuckDB type the client declared
 * or the engine inferred; absent means "unknown, treat as text literal". bytea travels as
 * `\x<hex>`.
 */
export interface ParamValue {
  type?: string;
  text: string | null;
}

export interface StatementDescription {
  /** DuckDB types of `$1 … $n` (inferred where the client left them unknown; `VARCHAR` as last resort). */
  paramTypes: string[];
  /** Result columns, or `null` for statements that return no rows (SET, BEGIN, …). */
  columns: ResultColumn[] | null;
}

export interface Notice {
  severity: 'NOTICE' | 'WARNING' | 'INFO' | 'DEBUG' | 'LOG';
  /** SQLSTATE; `00000` for plain notices. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export interface ExecutionContext {
  /** Aborted when the client cancels (CancelRequest) or disconnects; the engine fails with 57014. */
  signal: AbortSignal;
  /** Progress of long operators and privacy cost, sent to the client as NoticeResponse. */
  notice: (notice: Notice) => void;
}

export interface QueryOutcome {
  /** `null` when the statement returns no rows. */
  columns: ResultColumn[] | null;
  /** The rows; consumed at most once. Empty for statements without rows. */
  batches: AsyncIterable<RecordBatch>;
  /**
   * Command tag without the row count for SELECT-like statements (`SELECT`, `SHOW`, `EXPLAIN`:
   * the wire layer appends the count it sent), complete otherwise (`SET`, `BEGIN`, `COMMIT`,
   * `ROLLBACK`, `DISCARD ALL`, `DEALLOCATE`, `RESET`).
   */
  commandTag: string;
  /** Set by transaction statements so the wire layer can track the ReadyForQuery status byte. */
  transaction?: 'begin' | 'commit' | 'rollback';
  /**
   * Settings Postgres reports to the client (GUC_REPORT: TimeZone, DateStyle,
   * application_name, …) that this statement changed, by canonical name with their new values:
   * SET, RESET, DISCARD ALL, or `set_config()` inside a query. The wire layer sends one
   * ParameterStatus for each (and re-reads TimeZone for timestamptz output).
   */
  parameterStatus?: Record<string, string>;
}

/** One client session: settings (SET/SHOW), prepared-statement-independent state. */
export interface EngineSession {
  readonly user: string;
  /** Plans a single statement without running it, for Parse/Describe. Throws `SqlError`. */
  describe(sql: string, paramTypeHints: (string | undefined)[]): Promise<StatementDescription>;
  /** Runs a single statement. Throws `SqlError` (57014 when `ctx.signal` aborts). */
  execute(sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome>;
  close(): Promise<void>;
}

export interface QueryEngine {
  /** Opens a session for an authenticated user; `startup` holds the client's startup parameters. */
  openSession(user: string, database: string, startup: Record<string, string>): Promise<EngineSession>;
}
