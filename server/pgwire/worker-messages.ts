/**
 * Messages between a node and its gateway worker processes (Node IPC with the structured-clone
 * serializer, so Maps and Buffers travel as they are). A client socket travels as the handle of
 * a `session` message.
 */
import type { NodeConfig } from '../../connectors/config-types.js';
import type { PgAuthSetup } from './session-host.js';

export interface WorkerInit {
  t: 'init';
  /** Index of this process among the gateway's processes (the node itself is 0). */
  index: number;
  config: NodeConfig;
  /** Where this node's own party endpoint actually listens (`https://host:port`). */
  partyUrl: string;
  auth: PgAuthSetup;
  tls?: { key: Uint8Array; cert: Uint8Array; require?: boolean };
  maxMessageBytes?: number;
  authTimeoutMs?: number;
}

export type ToWorker =
  | WorkerInit
  | { t: 'session' }
  | { t: 'cancel'; pid: number; secret: number }
  | { t: 'close' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  /** One session handed to the worker has ended. */
  | { t: 'ended' }
  | { t: 'cancel'; owner: number; pid: number; secret: number }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; line: string };
