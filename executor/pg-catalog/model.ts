/**
 * The federation as PostgreSQL's catalog sees it: schemas are parties and federations (plus
 * `pg_catalog`, `information_schema` and an empty `public`), relations are the tables each party
 * publishes to this requester, the federated tables, and the catalog relations themselves;
 * roles are the parties (owners of their schemas and tables). Every object has a stable OID
 * (`oids.ts`), and descriptions carry what an analyst needs to know before writing a query:
 * which party owns a table, roughly how many rows it has, and each column's policy level.
 *
 * The model is built once per catalog change and shared by the catalog tables (`rows.ts`), the
 * `'name'::regclass` rewrite and `pg_get_userbyid`.
 */
import type { Catalog } from '../../planner/catalog.js';
import type { PolicyLevel, PublishedColumn } from '../../planner/catalog-types.js';
import { CATALOG_RELATIONS } from './definitions.js';
import { OID, OidAllocator } from './oids.js';
import { pgTypeFor, type PgType } from './pg-types.js';

export interface PgNamespace {
  oid: number;
  name: string;
  owner: number;
  kind: 'system' | 'public' | 'party' | 'federation';
  comment: string | null;
}

export interface PgAttribute {
  name: string;
  attnum: number;
  duckdb: string;
  pg: PgType;
  notNull: boolean;
  comment: string | null;
}

export interface PgRelation {
  oid: number;
  namespace: PgNamespace;
  name: string;
  relkind: 'r' | 'v';
  owner: number;
  kind: 'party' | 'federated' | 'catalog';
  columns: PgAttribute[];
  /** Published (approximate) row count; null for catalog relations. */
  rowCount: number | null;
  comment: string | null;
}

export interface PgRole {
  oid: number;
  name: string;
  superuser: boolean;
}

export const DATABASE = 'veilsql';

const LEVEL_TEXT: Record<PolicyLevel, string> = {
  public: 'public: may be revealed',
  lookup: 'lookup: revealed only as the label of a PRIVATE LOOKUP match',
  join_key: 'join_key: usable only as a SECURE JOIN / PRIVATE LOOKUP key, never revealed',
  aggregate: 'aggregate: released only inside aggregates (COUNT, SUM, AVG, …)',
  dp: 'dp: released only through DP aggregates',
  private: 'private: not usable by other parties',
};

function columnComment(c: PublishedColumn, minGroup: number, own: boolean): string {
  const level = LEVEL_TEXT[c.policy] + (c.policy === 'aggregate' ? ` over groups of at least ${minGroup} rows` : '');
  return own ? `policy ${level} (no restriction for this party's own analysts)` : `policy ${level}`;
}

export class PgCatalogModel {
  readonly namespaces: PgNamespace[] = [];
  readonly relations: PgRelation[] = [];
  readonly roles: PgRole[] = [];
  readonly databaseOid: number;
  private readonly byOid = new Map<number, PgRelation>();
  private readonly nsByName = new Map<string, PgNamespace>();
  private readonly relByName = new Map<string, PgRelation>();

  constructor(readonly requester: string, catalog: Catalog) {
    const parties = [...new Set([...catalog.partyNames(), ...catalog.unavailable.keys()])].sort();
    const federations = [...new Set(catalog.federatedTables().map((f) => f.schema))].filter((f) => !parties.includes(f)).sort();

    const reserved = CATALOG_RELATIONS.map((r) => r.oid);
    const alloc = new OidAllocator(reserved);
    const roleOids = alloc.assign('role', parties);
    const nsOids = alloc.assign('namespace', [...parties, ...federations]);
    this.databaseOid = alloc.assign('database', [DATABASE]).get(DATABASE)!;

    this.roles.push({ oid: OID.bootstrapRole, name: DATABASE, superuser: true });
    for (const p of parties) this.roles.push({ oid: roleOids.get(p)!, name: p, superuser: false });

    const system = (oid: number, name: string, comment: string, kind: PgNamespace['kind'] = 'system'): PgNamespace =>
      ({ oid, name, owner: OID.bootstrapRole, kind, comment });
    this.addNamespace(system(OID.pgCatalog, 'pg_catalog', 'system catalog'));
    this.addNamespace(system(OID.public, 'public', 'standard public schema (empty: tables live in party and federation schemas)', 'public'));
    this.addNamespace(system(OID.informationSchema, 'information_schema', 'SQL-standard information schema'));
    for (const p of parties) {
      const down = catalog.unavailable.get(p);
      const tables = catalog.party(p)?.tables.length ?? 0;
      const comment = p === requester
        ? `party ${p} (this gateway's own party), ${tables} table(s)`
        : down !== undefined ? `party ${p}, currently unavailable: ${down}` : `party ${p}, ${tables} table(s) published to ${requester}`;
      this.addNamespace({ oid: nsOids.get(p)!, name: p, owner: roleOids.get(p)!, kind: 'party', comment });
    }
    for (const f of federations) {
      const names = catalog.federatedTables().filter((t) => t.schema === f).map((t) => t.name);
      this.addNamespace({ oid: nsOids.get(f)!, name: f, owner: OID.bootstrapRole, kind: 'federation', comment: `federation ${f}: ${names.join(', ')}` });
    }

    // Party and federated tables.
    const userRelations: { ns: PgNamespace; name: string; build: () => Omit<PgRelation, 'oid' | 'namespace' | 'name'> }[] = [];
    for (const p of catalog.partyNames()) {
      const ns = this.nsByName.get(p)!;
      for (const t of catalog.party(p)!.tables) {
        userRelations.push({
          ns,
          name: t.name,
          build: () => ({
            relkind: 'r',
            owner: ns.owner,
            kind: 'party',
            rowCount: t.rowCount,
            comment: `table of party ${p}, about ${t.rowCount} row(s), min_group ${t.minGroup}`,
            columns: t.columns.map((c, i) => attribute(c, i + 1, columnComment(c, t.minGroup, p === requester))),
          }),
        });
      }
    }
    for (const f of catalog.federatedTables()) {
      const ns = this.nsByName.get(f.schema)!;
      let resolved;
      try {
        resolved = catalog.resolveTable([f.schema, f.name]);
      } catch {
        continue; // every member is unavailable, or their schemas differ: the table cannot be queried now
      }
      if (resolved.kind !== 'federated') continue;
      const members = resolved.members;
      const rows = members.reduce((n, m) => n + m.table.rowCount, 0);
      const minGroup = Math.max(...members.map((m) => m.table.minGroup));
      userRelations.push({
        ns,
        name: f.name,
        build: () => ({
          relkind: 'r',
          owner: ns.owner,
          kind: 'federated',
          rowCount: rows,
          comment: `federated table: the union of table ${f.table} at ${f.parties.join(', ')}, about ${rows} row(s); ` +
            'the pseudo-column PARTY names the party of each row',
          // Member policies can differ; the strongest level governs what the union may reveal.
          columns: resolved.columns.map((c, i) => {
            const level = strongest(members.map((m) => m.table.columns[i]?.policy ?? 'private'));
            return attribute({ ...c, policy: level }, i + 1, columnComment({ ...c, policy: level }, minGroup, false));
          }),
        }),
      });
    }
    const relOids = alloc.assign('relation', userRelations.map((r) => `${r.ns.name}.${r.name}`));
    for (const r of userRelations) {
      this.addRelation({ oid: relOids.get(`${r.ns.name}.${r.name}`)!, namespace: r.ns, name: r.name, ...r.build() });
    }

    // The catalog relations describe themselves too (psql's \d pg_catalog.pg_class works).
    for (const c of CATALOG_RELATIONS) {
      this.addRelation({
        oid: c.oid,
        namespace: this.nsByName.get(c.schema)!,
        name: c.name,
        relkind: c.relkind,
        owner: OID.bootstrapRole,
        kind: 'catalog',
        rowCount: null,
        comment: null,
        columns: c.columns.map((col, i) => ({ name: col.name, attnum: i + 1, duckdb: col.duckdb, pg: col.pg, notNull: false, comment: null })),
      });
    }
  }

  private addNamespace(ns: PgNamespace): void {
    this.namespaces.push(ns);
    this.nsByName.set(ns.name, ns);
  }

  private addRelation(r: PgRelation): void {
    this.relations.push(r);
    this.byOid.set(r.oid, r);
    this.relByName.set(`${r.namespace.name}.${r.name}`, r);
  }

  namespace(name: string): PgNamespace | undefined {
    return this.nsByName.get(name);
  }

  relation(oid: number): PgRelation | undefined {
    return this.byOid.get(oid);
  }

  /**
   * Resolves a relation name the way the planner does: `schema.name`, or an unqualified name
   * in pg_catalog first, then the requester's own party, then wherever it is unique.
   */
  findRelation(parts: string[]): PgRelation | PgRelation[] | undefined {
    const p = parts.length === 3 && parts[0] === DATABASE ? parts.slice(1) : parts;
    if (p.length === 2) return this.relByName.get(`${p[0]}.${p[1]}`);
    if (p.length !== 1) return undefined;
    const hit = this.relByName.get(`pg_catalog.${p[0]}`) ?? this.relByName.get(`${this.requester}.${p[0]}`);
    if (hit) return hit;
    const matches = this.relations.filter((r) => r.name === p[0] && r.kind !== 'catalog');
    return matches.length === 1 ? matches[0] : matches.length > 1 ? matches : undefined;
  }

  roleName(oid: number): string | undefined {
    return this.roles.find((r) => r.oid === oid)?.name;
  }
}

function attribute(c: PublishedColumn, attnum: number, comment: string): PgAttribute {
  return { name: c.name, attnum, duckdb: c.type, pg: pgTypeFor(c.type), notNull: !c.nullable, comment };
}

const ORDER: PolicyLevel[] = ['public', 'lookup', 'join_key', 'aggregate', 'dp', 'private'];

function strongest(levels: PolicyLevel[]): PolicyLevel {
  return levels.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'public');
}
