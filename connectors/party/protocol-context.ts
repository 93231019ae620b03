/**
 * What the party side of a private protocol gets from its `Party`: the session (requester,
 * request, channel, abort signal) and policy-checked access to the party's own rows. A protocol
 * never reads tables directly: it names its input as a SELECT over the party's tables and
 * declares what it will do with each output column (use it as a join key, reveal it to the
 * requester, aggregate it, …); the party checks that against its own policy exactly as it checks
 * fragments, then hands the rows to the protocol in this process. Rows read this way never leave
 * the party except through the protocol itself.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnUse } from '../../planner/policy.js';
import type { PartyCatalog } from '../../planner/catalog-types.js';
import type { FragmentStream, FrameChannel, ProtocolRequest } from '../connector.js';

export interface PartyProtocolContext {
  /** This party's name. */
  party: string;
  /** The verified requester. */
  requester: string;
  request: ProtocolRequest;
  channel: FrameChannel;
  signal: AbortSignal;
  /** This party's catalog as published to the requester (policies, key normalisation). */
  catalog(): Promise<PartyCatalog>;
  /**
   * Runs `sql` over this party's tables as protocol input, after the policy check with
   * `uses[i]` as the use of output column i. Throws 42501 when the policy forbids a use.
   */
  input(sql: string, uses: ColumnUse[]): Promise<FragmentStream>;
  /**
   * The same policy check as `input`, but returns the checked DuckDB SQL instead of running it,
   * so a protocol that only aggregates its input can do so in place, on a `database()`
   * connection, instead of streaming every row through Arrow into a temp table. The SQL reads
   * this party's tables only; the caller runs it (and interrupts it on `signal`).
   */
  inputSql(sql: string, uses: ColumnUse[]): Promise<string>;
  /** A connection to this party's DuckDB for the protocol's persistent state; the caller closes it. */
  database(): Promise<DuckDBConnection>;
  /** Adds a line to the party's audit log for this session. */
  audit(detail: string): Promise<void>;
}

export type PartyProtocolHandler = (ctx: PartyProtocolContext) => Promise<void>;
