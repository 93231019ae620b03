/**
 * The contents of the emulated catalog tables, generated from the model. Each generator
 * returns objects keyed by column name; columns a generator does not mention are NULL (for
 * tables PostgreSQL fills with internals VeilSQL has no counterpart for). Tables not listed here
 * (pg_index, pg_constraint, pg_policy, pg_inherits, pg_publication, …) stay empty: VeilSQL has no
 * indexes, constraints, row-level policies (column policies are shown as comments instead),
 * inheritance or publications.
 */
import { catalogRelation, CATALOG_RELATIONS, type CatalogSchema } from './definitions.js';
import { DATABASE, type PgCatalogModel, type PgRelation } from './model.js';
import { OID } from './oids.js';
import { informationSchemaDataType, PG_TYPE_PROCS, PG_TYPE_ROWS, typeRow } from './type-catalog.js';

export type CatalogValue = string | number | boolean | null | (string | number)[];
type Row = Record<string, CatalogValue>;

const ENCODING_UTF8 = 6;

function pgClass(m: PgCatalogModel): Row[] {
  return m.relations.map((r) => ({
    oid: r.oid, relname: r.name, relnamespace: r.namespace.oid, reltype: 0, reloftype: 0, relowner: r.owner,
    relam: r.relkind === 'r' ? OID.heapAm : 0, relfilenode: 0, reltablespace: 0, relpages: 0,
    reltuples: r.rowCount ?? -1, relallvisible: 0, reltoastrelid: 0, relhasindex: false, relisshared: false,
    relpersistence: 'p', relkind: r.relkind, relnatts: r.columns.length, relchecks: 0, relhasrules: false,
    relhastriggers: false, relhassubclass: false, relrowsecurity: false, relforcerowsecurity: false,
    relispopulated: true, relreplident: 'd', relispartition: false, relrewrite: 0, relfrozenxid: 0, relminmxid: 0,
  }));
}

function pgAttribute(m: PgCatalogModel): Row[] {
  return m.relations.flatMap((r) =>
    r.columns.map((c) => {
      const t = typeRow(c.pg.oid);
      return {
        attrelid: r.oid, attname: c.name, atttypid: c.pg.oid, attstattarget: -1, attlen: c.pg.typlen, attnum: c.attnum,
        attndims: c.pg.kind === 'array' ? 1 : 0, attcacheoff: -1, atttypmod: c.pg.typmod, attbyval: t?.typbyval ?? false,
        attalign: t?.typalign ?? 'i', attstorage: t?.typstorage ?? 'x', attcompression: '', attnotnull: c.notNull,
        atthasdef: false, atthasmissing: false, attidentity: '', attgenerated: '', attisdropped: false, attislocal: true,
        attinhcount: 0, attcollation: t?.typcollation ?? 0,
      };
    }),
  );
}

function pgNamespace(m: PgCatalogModel): Row[] {
  return m.namespaces.map((n) => ({ oid: n.oid, nspname: n.name, nspowner: n.owner }));
}

function pgType(): Row[] {
  return PG_TYPE_ROWS.map((t) => ({
    oid: t.oid, typname: t.typname, typnamespace: OID.pgCatalog, typowner: OID.bootstrapRole, typlen: t.typlen,
    typbyval: t.typbyval, typtype: t.typtype, typcategory: t.typcategory, typispreferred: t.typispreferred,
    typisdefined: true, typdelim: ',', typrelid: 0, typsubscript: 0, typelem: t.typelem, typarray: t.typarray,
    typinput: t.typinput, typoutput: t.typoutput, typreceive: t.typreceive, typsend: t.typsend, typmodin: t.typmodin,
    typmodout: t.typmodout, typanalyze: 0, typalign: t.typalign, typstorage: t.typstorage, typnotnull: false,
    typbasetype: 0, typtypmod: -1, typndims: 0, typcollation: t.typcollation,
  }));
}

function pgProc(): Row[] {
  return PG_TYPE_PROCS.map((p) => ({
    oid: p.oid, proname: p.proname, pronamespace: OID.pgCatalog, proowner: OID.bootstrapRole, prolang: 12, procost: 1,
    prorows: 0, provariadic: 0, prosupport: 0, prokind: 'f', prosecdef: false, proleakproof: false, proisstrict: true,
    proretset: false, provolatile: 'i', proparallel: 's', pronargs: p.nargs, pronargdefaults: 0, prorettype: p.rettype,
    proargtypes: [], prosrc: p.proname,
  }));
}

function pgDatabase(m: PgCatalogModel): Row[] {
  return [{
    oid: m.databaseOid, datname: DATABASE, datdba: OID.bootstrapRole, encoding: ENCODING_UTF8, datlocprovider: 'c',
    datistemplate: false, datallowconn: true, datconnlimit: -1, datfrozenxid: 0, datminmxid: 1, dattablespace: 1663,
    datcollate: 'C', datctype: 'C',
  }];
}

function pgRoles(m: PgCatalogModel): Row[] {
  return m.roles.map((r) => ({
    rolname: r.name, rolsuper: r.superuser, rolinherit: true, rolcreaterole: r.superuser, rolcreatedb: r.superuser,
    rolcanlogin: false, rolreplication: false, rolconnlimit: -1, rolpassword: '********', rolbypassrls: false, oid: r.oid,
  }));
}

function pgUser(m: PgCatalogModel): Row[] {
  return m.roles.map((r) => ({
    usename: r.name, usesysid: r.oid, usecreatedb: r.superuser, usesuper: r.superuser, userepl: false,
    usebypassrls: false, passwd: '********',
  }));
}

function pgDescription(m: PgCatalogModel): Row[] {
  const out: Row[] = [];
  for (const n of m.namespaces) if (n.comment) out.push({ objoid: n.oid, classoid: OID.pgNamespace, objsubid: 0, description: n.comment });
  for (const r of m.relations) {
    if (r.comment) out.push({ objoid: r.oid, classoid: OID.pgClass, objsubid: 0, description: r.comment });
    for (const c of r.columns) if (c.comment) out.push({ objoid: r.oid, classoid: OID.pgClass, objsubid: c.attnum, description: c.comment });
  }
  return out;
}

const owner = (m: PgCatalogModel, r: PgRelation) => m.roleName(r.owner) ?? DATABASE;

function pgTables(m: PgCatalogModel): Row[] {
  return m.relations.filter((r) => r.relkind === 'r').map((r) => ({
    schemaname: r.namespace.name, tablename: r.name, tableowner: owner(m, r), tablespace: null,
    hasindexes: false, hasrules: false, hastriggers: false, rowsecurity: false,
  }));
}

function pgViews(m: PgCatalogModel): Row[] {
  return m.relations.filter((r) => r.relkind === 'v').map((r) => ({
    schemaname: r.namespace.name, viewname: r.name, viewowner: owner(m, r), definition: null,
  }));
}

function statTables(m: PgCatalogModel): Row[] {
  const zero = (names: string) => Object.fromEntries(names.split(' ').map((n) => [n, 0]));
  return m.relations.filter((r) => r.kind !== 'catalog').map((r) => ({
    relid: r.oid, schemaname: r.namespace.name, relname: r.name, n_live_tup: r.rowCount ?? 0,
    ...zero('seq_scan seq_tup_read idx_scan idx_tup_fetch n_tup_ins n_tup_upd n_tup_del n_tup_hot_upd n_dead_tup'),
    ...zero('n_mod_since_analyze n_ins_since_vacuum vacuum_count autovacuum_count analyze_count autoanalyze_count'),
  }));
}

function isSchemata(m: PgCatalogModel): Row[] {
  return m.namespaces.map((n) => ({ catalog_name: DATABASE, schema_name: n.name, schema_owner: m.roleName(n.owner) ?? DATABASE }));
}

function isTables(m: PgCatalogModel): Row[] {
  return m.relations.map((r) => ({
    table_catalog: DATABASE, table_schema: r.namespace.name, table_name: r.name,
    table_type: r.relkind === 'v' ? 'VIEW' : 'BASE TABLE', is_insertable_into: 'NO', is_typed: 'NO',
  }));
}

function isViews(m: PgCatalogModel): Row[] {
  return m.relations.filter((r) => r.relkind === 'v').map((r) => ({
    table_catalog: DATABASE, table_schema: r.namespace.name, table_name: r.name, view_definition: null,
    check_option: 'NONE', is_updatable: 'NO', is_insertable_into: 'NO', is_trigger_updatable: 'NO',
    is_trigger_deletable: 'NO', is_trigger_insertable_into: 'NO',
  }));
}

/** numeric_precision / radix / scale and datetime_precision as information_schema reports them. */
function precision(oid: number, typmod: number): Row {
  const bits: Record<number, number> = { 21: 16, 23: 32, 20: 64, 700: 24, 701: 53 };
  if (bits[oid] !== undefined) return { numeric_precision: bits[oid], numeric_precision_radix: 2, numeric_scale: oid === 700 || oid === 701 ? null : 0 };
  if (oid === 1700) {
    return typmod >= 4
      ? { numeric_precision: (typmod - 4) >> 16, numeric_precision_radix: 10, numeric_scale: (typmod - 4) & 0xffff }
      : { numeric_precision_radix: 10 };
  }
  if (oid === 1082) return { datetime_precision: 0 };
  if (oid === 1083 || oid === 1114 || oid === 1184 || oid === 1186) return { datetime_precision: 6 };
  return {};
}

function isColumns(m: PgCatalogModel): Row[] {
  return m.relations.flatMap((r) =>
    r.columns.map((c) => {
      const t = typeRow(c.pg.oid);
      return {
        table_catalog: DATABASE, table_schema: r.namespace.name, table_name: r.name, column_name: c.name,
        ordinal_position: c.attnum, is_nullable: c.notNull ? 'NO' : 'YES', data_type: informationSchemaDataType(c.pg.oid),
        character_octet_length: c.pg.oid === 25 ? 1073741824 : null, ...precision(c.pg.oid, c.pg.typmod),
        udt_catalog: DATABASE, udt_schema: 'pg_catalog', udt_name: t?.typname ?? 'text', dtd_identifier: String(c.attnum),
        is_self_referencing: 'NO', is_identity: 'NO', identity_cycle: 'NO', is_generated: 'NEVER', is_updatable: 'NO',
      };
    }),
  );
}

const GENERATORS: Partial<Record<string, (m: PgCatalogModel) => Row[]>> = {
  'pg_catalog.pg_class': pgClass,
  'pg_catalog.pg_attribute': pgAttribute,
  'pg_catalog.pg_namespace': pgNamespace,
  'pg_catalog.pg_type': pgType,
  'pg_catalog.pg_proc': pgProc,
  'pg_catalog.pg_database': pgDatabase,
  'pg_catalog.pg_roles': pgRoles,
  'pg_catalog.pg_user': pgUser,
  'pg_catalog.pg_description': pgDescription,
  'pg_catalog.pg_tables': pgTables,
  'pg_catalog.pg_views': pgViews,
  'pg_catalog.pg_stat_user_tables': statTables,
  'pg_catalog.pg_stat_all_tables': statTables,
  'pg_catalog.pg_am': () => [
    { oid: OID.heapAm, amname: 'heap', amhandler: 3, amtype: 't' },
    { oid: 403, amname: 'btree', amhandler: 330, amtype: 'i' },
  ],
  'pg_catalog.pg_collation': (): Row[] => [
    { oid: OID.defaultCollation, collname: 'default', collnamespace: OID.pgCatalog, collowner: OID.bootstrapRole, collprovider: 'd', collisdeterministic: true, collencoding: -1 },
    { oid: OID.cCollation, collname: 'C', collnamespace: OID.pgCatalog, collowner: OID.bootstrapRole, collprovider: 'c', collisdeterministic: true, collencoding: -1, collcollate: 'C', collctype: 'C' },
    { oid: 951, collname: 'POSIX', collnamespace: OID.pgCatalog, collowner: OID.bootstrapRole, collprovider: 'c', collisdeterministic: true, collencoding: -1, collcollate: 'POSIX', collctype: 'POSIX' },
  ],
  'pg_catalog.pg_tablespace': () => [
    { oid: 1663, spcname: 'pg_default', spcowner: OID.bootstrapRole },
    { oid: 1664, spcname: 'pg_global', spcowner: OID.bootstrapRole },
  ],
  'pg_catalog.pg_language': () => [
    { oid: 12, lanname: 'internal', lanowner: OID.bootstrapRole, lanispl: false, lanpltrusted: false, lanplcallfoid: 0, laninline: 0, lanvalidator: 0 },
    { oid: 14, lanname: 'sql', lanowner: OID.bootstrapRole, lanispl: false, lanpltrusted: true, lanplcallfoid: 0, laninline: 0, lanvalidator: 0 },
  ],
  'information_schema.schemata': isSchemata,
  'information_schema.tables': isTables,
  'information_schema.views': isViews,
  'information_schema.columns': isColumns,
};

/** Rows of one catalog relation, in its column order. */
export function catalogRows(schema: CatalogSchema, name: string, model: PgCatalogModel, overrides: Record<string, Row[]> = {}): CatalogValue[][] {
  const rel = catalogRelation(schema, name);
  const key = `${schema}.${name}`;
  const objects = overrides[key] ?? GENERATORS[key]?.(model) ?? [];
  return objects.map((o) => rel.columns.map((c) => o[c.name] ?? null));
}

/** Every catalog relation with its rows. */
export function allCatalogRows(model: PgCatalogModel, overrides: Record<string, Row[]> = {}): { schema: CatalogSchema; name: string; rows: CatalogValue[][] }[] {
  return CATALOG_RELATIONS.map((r) => ({ schema: r.schema, name: r.name, rows: catalogRows(r.schema, r.name, model, overrides) }));
}
