/**
 * The boundary between the executor and the parties. A physical plan talks to every party,
 * including the gateway's own, through a `PartyConnector`; whether the party is embedded in
 * this process (`connectors/duckdb`) or reached over mutual TLS (`connectors/remote`) is
 * invisible above this file. The owner side of the same contract is `PartyService`, which the
 * embedded connector calls in-process and the party endpoint (`server/party-endpoint`) serves.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import type { PartyCatalog } from '../planner/catalog-types.js';
import type { FrameChannel } from './frames.js';

export type { FrameChannel } from './frames.js';

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
 * One session of a private protocol (PSI, PIR, secure aggregation, …) between the requester and
 * a party. The request travels as the first frame of the session's channel (JSON), so its size
 * is not limited by HTTP headers; everything after that is the protocol's own frames.
 */
export interface ProtocolRequest {
  queryId: string;
  /** Registered protocol name, versioned: `psi-join/1`. */
  protocol: string;
  /** Protocol parameters, JSON-serialisable: e.g. the SQL of the party's input and each input column's role. */
  params: unknown;
  /** The party gives up after this long (SQLSTATE 57014). */
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
  /** Protocols this party speaks (names as in `ProtocolRequest.protocol`). */
  protocols(): string[];
  /** Runs the party's side of one protocol session to completion over `channel`. */
  runProtocol(requester: string, request: ProtocolRequest, channel: FrameChannel, signal: AbortSignal): Promise<void>;
}

/** The requester-side handle on one party. */
export interface PartyConnector {
  readonly party: string;
  catalog(signal?: AbortSignal): Promise<PartyCatalog>;
  execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream>;
  /** Opens a protocol session; the request has already been sent when this resolves. */
  openProtocol(request: ProtocolRequest, signal: AbortSignal): Promise<FrameChannel>;
  close(): Promise<void>;
}

/** Metadata key on Arrow fields that carries the column's DuckDB type string. */
export const DUCKDB_TYPE_METADATA_KEY = 'veilsql.type';
