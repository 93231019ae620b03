/**
 * The planner's view of the federation: party tables as each party publishes them to this
 * requester, federated tables (the same table at several parties, queried as one), and tables
 * the gateway keeps itself. Name resolution follows Postgres: `schema.table` where a schema is
 * a party, a federation or one of the gateway's catalog schemas (`pg_catalog`,
 * `information_schema`); an unqualified name is looked up in `pg_catalog` first (like Postgres,
 * which searches it before the search path), then in the requester's own party, then among
 * parties and federations wherever it is unique.
 */
import { SqlError, SqlState } from '../parser/errors.js';
import type { Span } from '../parser/ast.js';
import type { FederatedTableDef, PartyCatalog, PublishedColumn, PublishedTable, UnavailableMember } from './catalog-types.js';
import { isTypoOf as similar } from './similar-names.js';

export type ResolvedTable =
  | { kind: 'party'; party: string; table: PublishedTable }
  | {
      kind: 'federated';
      def: FederatedTableDef;
      /** The members whose catalogs are known, in federation order. */
      members: { party: string; table: PublishedTable }[];
      /** Members that are down now, not among `members` (resolution fails when every member is). */
      unavailable: UnavailableMember[];
      columns: PublishedColumn[];
    }
  | { kind: 'gateway'; schema: string; name: string; columns: PublishedColumn[]; duckdbName: string[] };

export interface GatewayTable {
  schema: string;
  name: string;
  columns: PublishedColumn[];
  /** How the gateway's own DuckDB names it. */
  duckdbName: string[];
}

/** The database name clients connect to; accepted as a leading qualifier. */
export const DATABASE_NAME = 'veilsql';

/** The schema of the emulated system catalog, searched first for unqualified names. */
const PG_CATALOG = 'pg_catalog';

export class Catalog {
  readonly requester: string;
  private readonly parties = new Map<string, PartyCatalog>();
  private readonly federated = new Map<string, FederatedTableDef>();
  private readonly gatewayTables = new Map<string, GatewayTable>();
  /** Parties named by the federation whose catalog could not be fetched, with the reason. */
  readonly unavailable = new Map<string, string>();

  constructor(
    requester: string,
    parties: PartyCatalog[],
    federated: FederatedTableDef[] = [],
    gatewayTables: GatewayTable[] = [],
  ) {
    this.requester = requester;
    for (const p of parties) this.parties.set(p.party, p);
    for (const f of federated) this.federated.set(`${f.schema}.${f.name}`, f);
    for (const g of gatewayTables) this.gatewayTables.set(`${g.schema}.${g.name}`, g);
  }

  partyNames(): string[] {
    return [...this.parties.keys()].sort();
  }

  party(name: string): PartyCatalog | undefined {
    return this.parties.get(name);
  }

  federatedTables(): FederatedTableDef[] {
    return [...this.federated.values()];
  }

  /** Schemas a client sees: parties, federations and the gateway's own schemas. */
  schemaNames(): string[] {
    const names = new Set<string>(this.parties.keys());
    for (const f of this.federated.values()) names.add(f.schema);
    for (const g of this.gatewayTables.values()) names.add(g.schema);
    return [...names].sort();
  }

  resolveTable(nameParts: string[], span?: Span): ResolvedTable {
    const parts = nameParts.length === 3 && nameParts[0] === DATABASE_NAME ? nameParts.slice(1) : nameParts;
    const display = nameParts.join('.');
    if (parts.length === 2) {
      const [schema, name] = parts;
      const found = this.lookupQualified(schema, name);
      if (found) return found;
      const down = this.unavailable.get(schema);
      if (down !== undefined) {
        throw new SqlError(SqlState.connectionFailure, `party "${schema}" is unavailable: ${down}`, {
          position: span ? span.start + 1 : undefined,
          hint: 'The query needs this party; retry when it is reachable again (SHOW PARTIES shows its status).',
        });
      }
      throw this.unknownTable(display, span, this.hintForSchema(schema, name));
    }
    if (parts.length === 1) {
      const name = parts[0];
      // Postgres searches pg_catalog before the search path: `pg_class` is always the catalog's.
      const system = this.gatewayTables.get(`${PG_CATALOG}.${name}`);
      if (system) return this.lookupQualified(PG_CATALOG, name)!;
      const own = this.lookupQualified(this.requester, name);
      if (own) return own;
      const candidates: ResolvedTable[] = [];
      const where: string[] = [];
      const gatewaySchemas = new Set([...this.gatewayTables.values()].map((g) => g.schema));
      for (const schema of this.schemaNames()) {
        // The gateway's own schemas (information_schema) are reached qualified only, as in Postgres.
        if (schema === this.requester || gatewaySchemas.has(schema)) continue;
        const r = this.lookupQualified(schema, name);
        if (r) {
          candidates.push(r);
          where.push(`${schema}.${name}`);
        }
      }
      if (candidates.length === 1) return candidates[0];
      if (candidates.length > 1) {
        throw new SqlError(SqlState.undefinedTable, `relation "${name}" is ambiguous`, {
          hint: `Qualify it with its party or federation: ${where.join(', ')}.`,
          position: span ? span.start + 1 : undefined,
        });
      }
      const userSchemas = this.schemaNames().filter((sc) => !gatewaySchemas.has(sc));
      throw this.unknownTable(display, span, `Known schemas (parties and federations): ${userSchemas.join(', ')}.`);
    }
    throw this.unknownTable(display, span);
  }

  private lookupQualified(schema: string, name: string): ResolvedTable | undefined {
    const party = this.parties.get(schema);
    const table = party?.tables.find((t) => t.name === name);
    if (table) return { kind: 'party', party: schema, table };
    const fed = this.federated.get(`${schema}.${name}`);
    if (fed) return this.resolveFederated(fed);
    const gw = this.gatewayTables.get(`${schema}.${name}`);
    if (gw) return { kind: 'gateway', schema: gw.schema, name: gw.name, columns: gw.columns, duckdbName: gw.duckdbName };
    return undefined;
  }

  private resolveFederated(def: FederatedTableDef): ResolvedTable {
    const members: { party: string; table: PublishedTable }[] = [];
    const unavailable: UnavailableMember[] = [];
    for (const party of def.parties) {
      const cat = this.parties.get(party);
      if (!cat) {
        // One member down must not stop queries that never read the members (the dedupe hub
        // answers from tokens uploaded beforehand); plans that read them are refused later.
        const reason = this.unavailable.get(party);
        unavailable.push(reason !== undefined ? { party, reason } : { party });
        continue;
      }
      const table = cat.tables.find((t) => t.name === def.table);
      if (!table) {
        throw new SqlError(
          SqlState.undefinedTable,
          `federated table ${def.schema}.${def.name}: party "${party}" does not publish table "${def.table}"`,
        );
      }
      members.push({ party, table });
    }
    // Without any member there is no schema to bind against.
    if (members.length === 0 && unavailable.length > 0) throw unavailableMemberError(def, unavailable[0]);
    const first = members[0].table.columns;
    for (const m of members.slice(1)) {
      const same =
        m.table.columns.length === first.length &&
        m.table.columns.every((c, i) => c.name === first[i].name && c.type === first[i].type);
      if (!same) {
        const describe = (cols: PublishedColumn[]) => cols.map((c) => `${c.name} ${c.type}`).join(', ');
        throw new SqlError(
          SqlState.datatypeMismatch,
          `federated table ${def.schema}.${def.name}: schema at party "${m.party}" differs from party "${members[0].party}"`,
          { detail: `${members[0].party}: (${describe(first)}); ${m.party}: (${describe(m.table.columns)})` },
        );
      }
    }
    return { kind: 'federated', def, members, unavailable, columns: first };
  }

  private unknownTable(display: string, span: Span | undefined, hint?: string): SqlError {
    return new SqlError(SqlState.undefinedTable, `relation "${display}" does not exist`, {
      hint,
      position: span ? span.start + 1 : undefined,
    });
  }

  private hintForSchema(schema: string, name: string): string {
    const party = this.parties.get(schema);
    if (party) {
      const close = party.tables.map((t) => t.name).filter((t) => similar(t, name));
      return close.length
        ? `Did you mean ${close.map((t) => `${schema}.${t}`).join(' or ')}?`
        : `Party "${schema}" publishes: ${party.tables.map((t) => t.name).join(', ') || '(no tables)'}.`;
    }
    const why = this.unavailable.get(schema);
    if (why) return `Party "${schema}" is currently unavailable: ${why}.`;
    const feds = this.federatedTables().filter((f) => f.schema === schema);
    if (feds.length) return `Federation "${schema}" has: ${feds.map((f) => f.name).join(', ')}.`;
    return `There is no party or federation "${schema}". Known: ${this.schemaNames().join(', ')}.`;
  }
}

/** 08006 for a plan that needs a federated table's member that is down (one message everywhere). */
export function unavailableMemberError(def: Pick<FederatedTableDef, 'schema' | 'name'>, member: UnavailableMember): SqlError {
  return new SqlError(
    SqlState.connectionFailure,
    `federated table ${def.schema}.${def.name}: party "${member.party}" is unavailable${member.reason ? `: ${member.reason}` : ''}`,
    { hint: 'The query reads every member of the federated table; retry when the party is reachable again (SHOW PARTIES shows its status).' },
  );
}
