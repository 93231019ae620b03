/**
 * The federated query engine of one gateway: it knows the federation's parties (through their
 * connectors), caches what each publishes, owns the gateway's in-memory DuckDB where
 * cross-party plaintext work runs, and opens sessions for the wire gateway.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { PartyConnector } from '../connectors/connector.js';
import { Catalog } from '../planner/catalog.js';
import type { FederatedTableDef, PartyCatalog } from '../planner/catalog-types.js';
import { Session } from './session.js';
import type { EngineSession, QueryEngine } from './session-types.js';

export interface EngineOptions {
  /** This node's party name: the requester identity of every query planned here. */
  self: string;
  /** A connector per party, including this node's own (embedded) party. */
  connectors: Map<string, PartyConnector>;
  federatedTables: FederatedTableDef[];
  /** Party endpoint URLs, for SHOW PARTIES. */
  nodeUrls?: Map<string, string>;
  fragmentTimeoutMs: number;
  /** How long a fetched party catalog is reused (default 10 s). */
  catalogTtlMs?: number;
  /** Timeout for fetching one party's catalog (default 5 s). */
  catalogTimeoutMs?: number;
}

interface CachedCatalog {
  at: number;
  catalog: PartyCatalog | undefined;
  error?: string;
}

export class FederatedEngine implements QueryEngine {
  private readonly cache = new Map<string, CachedCatalog>();
  private inflight?: Promise<Catalog>;

  private constructor(readonly options: EngineOptions, readonly gateway: DuckDBInstance) {}

  static async create(options: EngineOptions): Promise<FederatedEngine> {
    // The gateway's DuckDB only ever holds fragment results and catalog tables: it never needs
    // the file system, so a query cannot make it read local files either.
    const gateway = await DuckDBInstance.create(':memory:', { enable_external_access: 'false' });
    return new FederatedEngine(options, gateway);
  }

  get self(): string {
    return this.options.self;
  }

  get connectors(): Map<string, PartyConnector> {
    return this.options.connectors;
  }

  /** The current catalog; parties are asked again when their entry is older than the TTL. */
  /** `fresh` asks every party again now (SHOW PARTIES reports live status). */
  async catalog(options: { fresh?: boolean } = {}): Promise<Catalog> {
    if (options.fresh && !this.inflight) this.cache.clear();
    if (this.inflight) return this.inflight;
    this.inflight = this.refreshCatalog().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forgets cached catalogs (after a party reports an unknown table, say). */
  invalidate(party?: string): void {
    if (party) this.cache.delete(party);
    else this.cache.clear();
  }

  private async refreshCatalog(): Promise<Catalog> {
    const ttl = this.options.catalogTtlMs ?? 10_000;
    const timeout = this.options.catalogTimeoutMs ?? 5_000;
    const now = Date.now();
    await Promise.all(
      [...this.options.connectors.values()].map(async (connector) => {
        const cached = this.cache.get(connector.party);
        // Unavailable parties are retried on every query: they may be back.
        if (cached && cached.catalog && now - cached.at < ttl) return;
        const signal = AbortSignal.timeout(timeout);
        try {
          const catalog = await connector.catalog(signal);
          this.cache.set(connector.party, { at: Date.now(), catalog });
        } catch (e) {
          const reason = signal.aborted ? `did not answer within ${timeout} ms` : e instanceof Error ? e.message : String(e);
          this.cache.set(connector.party, { at: Date.now(), catalog: undefined, error: reason });
        }
      }),
    );
    const entries = [...this.cache.entries()];
    const catalog = new Catalog(
      this.options.self,
      entries.flatMap(([, e]) => (e.catalog ? [e.catalog] : [])),
      this.options.federatedTables,
    );
    for (const [party, e] of entries) if (!e.catalog) catalog.unavailable.set(party, e.error ?? 'unreachable');
    return catalog;
  }

  async openSession(user: string, _database: string, startup: Record<string, string>): Promise<EngineSession> {
    return new Session(this, user, startup);
  }

  async close(): Promise<void> {
    for (const c of this.options.connectors.values()) await c.close().catch(() => undefined);
    this.gateway.closeSync();
  }
}
