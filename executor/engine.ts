/**
 * The federated query engine of one gateway: it knows the federation's parties (through their
 * connectors), caches what each publishes, owns the gateway's in-memory DuckDB where
 * cross-party plaintext work runs and where the emulated `pg_catalog`/`information_schema`
 * live (rebuilt whenever what the parties publish changes), and opens sessions for the wire
 * gateway.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import type { PartyConnector } from '../connectors/connector.js';
import { DuckDBConnectionPool } from '../connectors/duckdb-connection-pool.js';
import { openWithPostgresSemantics } from '../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../parser/errors.js';
import { Catalog } from '../planner/catalog.js';
import type { FederatedTableDef, PartyCatalog } from '../planner/catalog-types.js';
import { GatewayCatalog, type CatalogGeneration } from './pg-catalog/gateway-catalog.js';
import { Session } from './session.js';
import type { EngineSession, QueryEngine } from './session-types.js';
import { canonicalName, SessionSettings } from './settings.js';

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

/** One consistent view for planning a statement: the catalog and its emulated pg_catalog. */
export interface CatalogSnapshot {
  catalog: Catalog;
  generation: CatalogGeneration;
}

export class FederatedEngine implements QueryEngine {
  private readonly cache = new Map<string, CachedCatalog>();
  private inflight?: Promise<CatalogSnapshot>;
  private current?: { fingerprint: string; snapshot: CatalogSnapshot };
  /** When this engine started (`pg_postmaster_start_time()`). */
  readonly startedAt = new Date();

  private constructor(readonly options: EngineOptions, readonly gateway: DuckDBInstance, private readonly pgCatalog: GatewayCatalog) {}

  static async create(options: EngineOptions): Promise<FederatedEngine> {
    // The gateway's DuckDB only ever holds fragment results and catalog tables: it never needs
    // the file system, so a query cannot make it read local files either.
    const gateway = await openWithPostgresSemantics(':memory:', { enable_external_access: 'false' });
    try {
      const pgCatalog = await GatewayCatalog.create(gateway, options.self);
      const engine = new FederatedEngine(options, gateway, pgCatalog);
      // Ask the parties and build the emulated catalog now, not on the first client's query
      // (failures are retried then: a party may come up later).
      void engine.snapshot().catch(() => undefined);
      return engine;
    } catch (e) {
      gateway.closeSync();
      throw e;
    }
  }

  get self(): string {
    return this.options.self;
  }

  get connectors(): Map<string, PartyConnector> {
    return this.options.connectors;
  }

  /**
   * The current catalog; parties are asked again when their entry is older than the TTL.
   * `fresh` asks every party again now (SHOW PARTIES reports live status).
   */
  async catalog(options: { fresh?: boolean } = {}): Promise<Catalog> {
    return (await this.snapshot(options)).catalog;
  }

  /** The snapshot at hand, without asking any party (undefined before the first one). */
  peekSnapshot(): CatalogSnapshot | undefined {
    return this.current?.snapshot;
  }

  /** The current catalog with the pg_catalog generation that describes it. */
  async snapshot(options: { fresh?: boolean } = {}): Promise<CatalogSnapshot> {
    if (options.fresh && !this.inflight) this.cache.clear();
    const joined = this.inflight !== undefined;
    const snapshot = await this.refreshOrJoin();
    // A refresh that began before this call (the one at start-up, typically, while the other
    // nodes were still starting) may have found a party down that is up by now: ask again
    // rather than fail this statement on what it saw.
    if (joined && snapshot.catalog.unavailable.size > 0) return this.refreshOrJoin();
    return snapshot;
  }

  private refreshOrJoin(): Promise<CatalogSnapshot> {
    this.inflight ??= this.refreshCatalog().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forgets cached catalogs (after a party reports an unknown table, say). */
  invalidate(party?: string): void {
    if (party) this.cache.delete(party);
    else this.cache.clear();
  }

  private async refreshCatalog(): Promise<CatalogSnapshot> {
    const ttl = this.options.catalogTtlMs ?? 10_000;
    const timeout = this.options.catalogTimeoutMs ?? 5_000;
    const now = Date.now();
    let fetched = false;
    await Promise.all(
      [...this.options.connectors.values()].map(async (connector) => {
        const cached = this.cache.get(connector.party);
        // Unavailable parties are retried on every query: they may be back.
        if (cached && cached.catalog && now - cached.at < ttl) return;
        fetched = true;
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
    if (!fetched && this.current) return this.current.snapshot;
    const entries = [...this.cache.entries()].sort(([a], [b]) => a.localeCompare(b));
    const parties = entries.flatMap(([, e]) => (e.catalog ? [e.catalog] : []));
    const unavailable = entries.filter(([, e]) => !e.catalog);
    const fingerprint = JSON.stringify([parties, unavailable.map(([p]) => p)]);
    let generation = this.current?.snapshot.generation;
    if (!generation || fingerprint !== this.current?.fingerprint) {
      // What the parties publish changed: describe it in a new pg_catalog generation.
      const base = new Catalog(this.options.self, parties, this.options.federatedTables);
      for (const [party, e] of unavailable) base.unavailable.set(party, e.error ?? 'unreachable');
      try {
        generation = await this.pgCatalog.build(base, defaultSettings());
      } catch (e) {
        throw new SqlError(SqlState.internalError, `could not build the pg_catalog emulation: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const catalog = new Catalog(this.options.self, parties, this.options.federatedTables, generation.tables);
    for (const [party, e] of unavailable) catalog.unavailable.set(party, e.error ?? 'unreachable');
    const snapshot = { catalog, generation };
    this.current = { fingerprint, snapshot };
    return snapshot;
  }

  async openSession(user: string, _database: string, startup: Record<string, string>): Promise<EngineSession> {
    return new Session(this, user, startup);
  }

  async close(): Promise<void> {
    await this.inflight?.catch(() => undefined);
    for (const c of this.options.connectors.values()) await c.close().catch(() => undefined);
    DuckDBConnectionPool.of(this.gateway).close();
    this.gateway.closeSync();
  }
}

/** Settings of a session that set nothing, by canonical name (the stored pg_settings rows). */
function defaultSettings(): [string, string][] {
  return new SessionSettings().all().map(([k, v]) => [canonicalName(k), v]);
}
