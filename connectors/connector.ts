/**
 * The boundary between the executor and the parties. A physical plan talks to every party,
 * including the gateway's own, through a `PartyConnector`; whether the party is embedded in
 * this process (`connectors/duckdb`) or reached over mutual TLS (`connectors/remote`) is
 * invisible above this file. The owner side of the same contract is `PartyService`, which the
 * embedded connector calls in-process and the party endpoint (`server/party-endpoint`) serves.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import type { PartyCatalog } from '../planner/catalog-types.js';

/** One single-party query fragment, as the requester asks a party to run it. */
export interface FragmentRequest {
  /** Requester-chosen id shared by all fragments of one federated query (for audit and cancel). */
  queryId: string;
  /**
   * A SELECT in the VeilSQL dialect over the party's own tables (unqualified or qualified with
   * the party name). The party re-parses it, binds it against its own catalog and re-checks its
   * own policy before running it: the requester is not trusted.
   */
  sql: string;
  /** The party aborts the fragment after this long (SQLSTATE 57014). */
  timeoutMs: number;
}

/**
 * A fragment's result: an Arrow schema known up front, then record batches pulled one at a time
 * (backpressure: the producer does not run ahead of the consumer by more than a few batches).
 * Each field carries its DuckDB type in metadata key `veilsql.type`.
 */
export interface FragmentStream extends AsyncIterable<RecordBatch> {
  readonly schema: Schema;
}

/** The owner-side contract of a party, independent of transport. */
export interface PartyService {
  readonly name: string;
  /** The tables and effective column policies this party publishes to `requester`. */
  catalogFor(requester: string): Promise<PartyCatalog>;
  /** Re-checks policy for `requester`, runs the fragment and streams its rows. */
  executeFragment(requester: string, request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream>;
}

/** The requester-side handle on one party. */
export interface PartyConnector {
  readonly party: string;
  catalog(signal?: AbortSignal): Promise<PartyCatalog>;
  execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream>;
  close(): Promise<void>;
}

/** Metadata key on Arrow fields that carries the column's DuckDB type string. */
export const DUCKDB_TYPE_METADATA_KEY = 'veilsql.type';
