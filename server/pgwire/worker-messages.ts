/**
 * Messages between a node and its gateway worker processes (Node IPC with the structured-clone
 * serializer, so Maps and Buffers travel as they are). A client socket travels as the handle of
 * a `session` message.
 */
import type { NodeConfig } from '../../connectors/config-types.js';
import type { PgAuthSetup } from './auth-setup.js';

export interface WorkerInit {
  t: 'init';
  /** Index of this process among the gateway's processes (the node itself is 0). */
  index: number;
  config: NodeConfig;
  /** Where this node's own party endpoint is reached from this machine. */
  partyDial: { host: string; port: number };
  auth: PgAuthSetup;
  tls?: { key: Uint8Array; cert: Uint8Array; require?: boolean };
  maxMessageBytes?: number;
  authTimeoutMs?: number;
}

export type ToWorker =
  | WorkerInit
  /** A client socket (the message's handle), numbered by the node. */
  | { t: 'session'; id: number }
  | { t: 'cancel'; pid: number; secret: number }
  | { t: 'close' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  /** The worker serves session `id`: the node may close its copy of the socket. */
  | { t: 'adopted'; id: number }
  /** Session `id` has ended (or its socket never arrived). */
  | { t: 'ended'; id: number }
  | { t: 'cancel'; owner: number; pid: number; secret: number }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; line: string };
