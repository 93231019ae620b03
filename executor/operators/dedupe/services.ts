/**
 * The dedupe roles a node plays, started by the node runner (`server/node.ts`) or a test:
 * - the *hub* of a dedupe table stores tokens and answers counts (hub.ts);
 * - a *key holder* holds a share of every epoch key and evaluates blinded elements (key-holder.ts);
 * - a *lender* (a party of the federated table) tokenises its applications and uploads them
 *   as they arrive (lender-sync.ts); its gateway, if any, runs dedupe queries (runner.ts).
 *
 * One `DedupeNode` per node name, kept in a process-wide registry so the protocol handlers
 * (registered on every `Party`) and the operator runner find the roles of the node they serve.
 * Background work that needs the node's own database (a lender's sync, the hub's bookkeeping)
 * runs as a protocol session of the node with itself (`dedupe-local/1`): it gets the party's
 * database connection and audit log exactly like a session from a peer, and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { NodeConfig, FederatedTableConfig } from '../../../connectors/config-types.js';
import type { PartyConnector } from '../../../connectors/connector.js';
import { createFrameChannelPair } from '../../../connectors/frame-pair.js';
import type { Party } from '../../../connectors/party/party.js';
import type { PartyProtocolContext } from '../../../connectors/party/protocol-context.js';
import { RemotePartyConnector } from '../../../connectors/remote.js';
import { SqlError, SqlState } from '../../../parser/errors.js';
import type { DedupeSettings } from '../../../planner/operators/dedupe.js';
import { HubService } from './hub.js';
import { KeyHolderService } from './key-holder.js';
import { LenderService } from './lender-sync.js';
import { DEDUPE_LOCAL_PROTOCOL, parseLocalRequest } from './protocol.js';

export interface DedupeLogger {
  info(line: string): void;
  warn(line: string): void;
}

export interface DedupeServicesOptions {
  /** A connector from this node to another (default: mutual TLS with this node's key and certificate). */
  connect?: (node: string) => PartyConnector;
  /** Run the periodic work (hub epochs, lender sync); tests drive it by hand instead. Default true. */
  timers?: boolean;
  logger?: DedupeLogger;
  /** Per-session timeout for the sessions this node opens (default 60 s). */
  sessionTimeoutMs?: number;
}

export interface DedupeTable {
  name: string;
  def: FederatedTableConfig;
  settings: DedupeSettings;
}

const registry = new Map<string, DedupeNode>();

/** The dedupe roles of node `name` in this process, if it runs any. */
export function dedupeNode(name: string): DedupeNode | undefined {
  return registry.get(name);
}

/** The node's roles, or the error a peer gets when it asks a node for a role it does not play. */
export function requireDedupeNode(ctx: PartyProtocolContext, what: string): DedupeNode {
  const node = registry.get(ctx.party);
  if (!node) throw new SqlError(SqlState.featureNotSupported, `node "${ctx.party}" runs no multi-lender dedupe service, so it cannot serve ${what}`);
  return node;
}

type LocalJob = (ctx: PartyProtocolContext) => Promise<unknown>;

export class DedupeNode {
  readonly name: string;
  /** Dedupe tables this node has any role in. */
  readonly tables = new Map<string, DedupeTable>();
  hub?: HubService;
  keyHolder?: KeyHolderService;
  lender?: LenderService;
  readonly logger: DedupeLogger;
  readonly sessionTimeoutMs: number;
  private readonly connectors = new Map<string, PartyConnector>();
  private readonly jobs = new Map<string, LocalJob>();
  /** Local jobs in flight: closing waits for them, so none touches a closed database. */
  private readonly running = new Set<Promise<unknown>>();
  private readonly closing = new AbortController();

  constructor(readonly config: NodeConfig, readonly party: Party, private readonly options: DedupeServicesOptions) {
    this.name = config.name;
    this.logger = options.logger ?? { info: () => undefined, warn: () => undefined };
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 60_000;
    // Every session the node opens on its own behalf listens on this signal until it ends: the
    // hub's pooled key-holder sessions (t per concurrent lender session, kept while idle up to
    // 20 s), key generation, local jobs. So a hub serving a dozen lenders at once legitimately
    // holds dozens of listeners; each is removed when its session closes (not a leak), hence
    // no limit rather than Node's default warning at 11.
    setMaxListeners(0, this.closing.signal);
  }

  /** Aborted when the node shuts down (long-running background work stops). */
  get signal(): AbortSignal {
    return this.closing.signal;
  }

  get timers(): boolean {
    return this.options.timers ?? true;
  }

  /** The connector from this node to `node` (one per peer, reused). */
  connector(node: string): PartyConnector {
    let c = this.connectors.get(node);
    if (!c) {
      c = this.options.connect
        ? this.options.connect(node)
        : RemotePartyConnector.fromNodeConfig(this.config, node, { requestTimeoutMs: this.sessionTimeoutMs + 5_000 });
      this.connectors.set(node, c);
    }
    return c;
  }

  /** Runs `job` as a session of this node with itself (its database, its audit log). */
  async local<T>(what: string, job: (ctx: PartyProtocolContext) => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
    const id = randomUUID();
    let result: T | undefined;
    this.jobs.set(id, async (ctx) => {
      result = await job(ctx);
    });
    const [ours, theirs] = createFrameChannelPair();
    const run = this.party.runProtocol(this.name, { queryId: id, protocol: DEDUPE_LOCAL_PROTOCOL, params: { job: id, what }, timeoutMs }, theirs, this.closing.signal);
    this.running.add(run);
    try {
      await run;
      return result as T;
    } finally {
      this.running.delete(run);
      this.jobs.delete(id);
      ours.destroy();
    }
  }

  /** The party side of `dedupe-local/1`: only this node may start its own jobs. */
  async runLocal(ctx: PartyProtocolContext): Promise<void> {
    if (ctx.requester !== ctx.party) throw new SqlError(SqlState.insufficientPrivilege, `node "${ctx.party}" runs its own dedupe jobs only; "${ctx.requester}" may not start them`);
    const { job } = parseLocalRequest(ctx.request.params);
    const run = this.jobs.get(job);
    if (!run) throw new SqlError(SqlState.protocolViolation, `node "${ctx.party}" has no pending local job ${job}`);
    await run(ctx);
  }

  async close(): Promise<void> {
    this.closing.abort(new SqlError(SqlState.connectionFailure, `node "${this.name}" is shutting down`));
    this.lender?.stop();
    this.hub?.stop();
    if (registry.get(this.name) === this) registry.delete(this.name);
    // Background jobs see the abort and stop; wait (bounded) so none outlives the database.
    const settled = Promise.allSettled([...this.running]);
    await Promise.race([settled, new Promise((r) => setTimeout(r, 10_000).unref())]);
    for (const c of this.connectors.values()) await c.close().catch(() => undefined);
    this.connectors.clear();
  }
}

/**
 * Starts the dedupe roles `config` gives this node (none: returns undefined). The hub loads its
 * token index before this resolves; timers (epoch rotation, lender sync) start afterwards.
 */
export async function startDedupeServices(config: NodeConfig, party: Party, options: DedupeServicesOptions = {}): Promise<DedupeNode | undefined> {
  const self = config.federation.nodes.get(config.name);
  const tables: DedupeTable[] = [];
  for (const [name, def] of config.federation.federatedTables) {
    if (def.dedupe) tables.push({ name, def, settings: def.dedupe });
  }
  const relevant = tables.filter((t) => t.settings.hub === config.name || t.settings.keyHolders.includes(config.name) || t.def.parties.includes(config.name));
  if (!self || relevant.length === 0) return undefined;
  const node = new DedupeNode(config, party, options);
  for (const t of relevant) node.tables.set(t.name, t);
  const hubTables = relevant.filter((t) => t.settings.hub === config.name);
  const holderTables = relevant.filter((t) => t.settings.keyHolders.includes(config.name));
  const lenderTables = relevant.filter((t) => t.def.parties.includes(config.name));
  registry.get(config.name)?.close().catch(() => undefined);
  registry.set(config.name, node);
  try {
    if (holderTables.length) node.keyHolder = new KeyHolderService(node, holderTables);
    if (hubTables.length) {
      node.hub = new HubService(node, hubTables);
      await node.hub.load();
    }
    if (lenderTables.length) node.lender = new LenderService(node, lenderTables);
    if (node.timers) {
      node.hub?.startTimer();
      node.lender?.startTimer();
    }
  } catch (e) {
    await node.close();
    throw e;
  }
  return node;
}
