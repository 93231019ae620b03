/**
 * The relations of the emulated `pg_catalog` and `information_schema`: names, PostgreSQL's own
 * OIDs and relkinds, and their columns with PostgreSQL's types, as PostgreSQL 15 defines them
 * (plus `pg_database.daticurules` of 16, the version we report). Every column a client may name
 * exists, so client SQL binds; tables VeilSQL has nothing to put in (pg_index, pg_constraint,
 * pg_policy, …) are empty but typed.
 *
 * Postgres-only column types are stored as the DuckDB type their values need: OIDs and reg*
 * types as INTEGER (joinable with each other, like OIDs in Postgres), `name`/`"char"`/
 * `pg_node_tree`/`aclitem` as VARCHAR, `int2vector`/`oidvector` as lists.
 */
import { pgTypeFor, type PgType } from './pg-types.js';

export type CatalogSchema = 'pg_catalog' | 'information_schema';

export interface CatalogColumn {
  name: string;
  /** The type as PostgreSQL declares it (`oid`, `name`, `"char"`, `text[]`, …). */
  pgDeclared: string;
  /** The DuckDB type the gateway stores it as. */
  duckdb: string;
  /** What the wire layer announces for it (RowDescription, pg_attribute.atttypid). */
  pg: PgType;
}

export interface CatalogRelation {
  schema: CatalogSchema;
  name: string;
  /** PostgreSQL's OID for this relation. */
  oid: number;
  /** `r` for catalog tables, `v` for system views, as in PostgreSQL. */
  relkind: 'r' | 'v';
  columns: CatalogColumn[];
}

const SCALAR_TYPES: Record<string, string> = {
  oid: 'INTEGER', regproc: 'INTEGER', regclass: 'INTEGER', regtype: 'INTEGER', regnamespace: 'INTEGER',
  xid: 'INTEGER', cardinal_number: 'INTEGER', integer: 'INTEGER', smallint: 'SMALLINT', bigint: 'BIGINT',
  real: 'FLOAT', 'double precision': 'DOUBLE', boolean: 'BOOLEAN', bytea: 'BLOB', interval: 'INTERVAL',
  'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE', time_stamp: 'TIMESTAMP WITH TIME ZONE',
  name: 'VARCHAR', '"char"': 'VARCHAR', text: 'VARCHAR', pg_node_tree: 'VARCHAR', aclitem: 'VARCHAR',
  inet: 'VARCHAR', sql_identifier: 'VARCHAR', character_data: 'VARCHAR', yes_or_no: 'VARCHAR',
  int2vector: 'SMALLINT[]', oidvector: 'INTEGER[]', anyarray: 'VARCHAR[]',
};

/** The DuckDB storage type for a PostgreSQL catalog column type. */
export function duckdbTypeForCatalog(pgType: string): string {
  if (pgType.endsWith('[]')) return `${duckdbTypeForCatalog(pgType.slice(0, -2))}[]`;
  const t = SCALAR_TYPES[pgType];
  if (t === undefined) throw new Error(`catalog column type ${pgType} has no DuckDB storage type`);
  return t;
}

/** [schema, relation, PostgreSQL OID, relkind, columns]. */
const DEFINITIONS: [CatalogSchema, string, number, 'r' | 'v', string][] = [
  ['pg_catalog', 'pg_am', 2601, 'r', `
    oid oid, amname name, amhandler regproc, amtype "char"`],
  ['pg_catalog', 'pg_amop', 2602, 'r', `
    oid oid, amopfamily oid, amoplefttype oid, amoprighttype oid, amopstrategy smallint, amoppurpose
    "char", amopopr oid, amopmethod oid, amopsortfamily oid`],
  ['pg_catalog', 'pg_attrdef', 2604, 'r', `
    oid oid, adrelid oid, adnum smallint, adbin pg_node_tree`],
  ['pg_catalog', 'pg_attribute', 1249, 'r', `
    attrelid oid, attname name, atttypid oid, attstattarget integer, attlen smallint, attnum
    smallint, attndims integer, attcacheoff integer, atttypmod integer, attbyval boolean, attalign
    "char", attstorage "char", attcompression "char", attnotnull boolean, atthasdef boolean,
    atthasmissing boolean, attidentity "char", attgenerated "char", attisdropped boolean, attislocal
    boolean, attinhcount integer, attcollation oid, attacl aclitem[], attoptions text[],
    attfdwoptions text[], attmissingval anyarray`],
  ['pg_catalog', 'pg_auth_members', 1261, 'r', `
    roleid oid, member oid, grantor oid, admin_option boolean`],
  ['pg_catalog', 'pg_cast', 2605, 'r', `
    oid oid, castsource oid, casttarget oid, castfunc oid, castcontext "char", castmethod "char"`],
  ['pg_catalog', 'pg_class', 1259, 'r', `
    oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid,
    relfilenode oid, reltablespace oid, relpages integer, reltuples real, relallvisible integer,
    reltoastrelid oid, relhasindex boolean, relisshared boolean, relpersistence "char", relkind
    "char", relnatts smallint, relchecks smallint, relhasrules boolean, relhastriggers boolean,
    relhassubclass boolean, relrowsecurity boolean, relforcerowsecurity boolean, relispopulated
    boolean, relreplident "char", relispartition boolean, relrewrite oid, relfrozenxid xid,
    relminmxid xid, relacl aclitem[], reloptions text[], relpartbound pg_node_tree`],
  ['pg_catalog', 'pg_collation', 3456, 'r', `
    oid oid, collname name, collnamespace oid, collowner oid, collprovider "char",
    collisdeterministic boolean, collencoding integer, collcollate text, collctype text,
    colliculocale text, collversion text`],
  ['pg_catalog', 'pg_constraint', 2606, 'r', `
    oid oid, conname name, connamespace oid, contype "char", condeferrable boolean, condeferred
    boolean, convalidated boolean, conrelid oid, contypid oid, conindid oid, conparentid oid,
    confrelid oid, confupdtype "char", confdeltype "char", confmatchtype "char", conislocal boolean,
    coninhcount integer, connoinherit boolean, conkey smallint[], confkey smallint[], conpfeqop
    oid[], conppeqop oid[], conffeqop oid[], confdelsetcols smallint[], conexclop oid[], conbin
    pg_node_tree`],
  ['pg_catalog', 'pg_conversion', 2607, 'r', `
    oid oid, conname name, connamespace oid, conowner oid, conforencoding integer, contoencoding
    integer, conproc regproc, condefault boolean`],
  ['pg_catalog', 'pg_database', 1262, 'r', `
    oid oid, datname name, datdba oid, encoding integer, datlocprovider "char", datistemplate
    boolean, datallowconn boolean, datconnlimit integer, datfrozenxid xid, datminmxid xid,
    dattablespace oid, datcollate text, datctype text, daticulocale text, daticurules text,
    datcollversion text, datacl aclitem[]`],
  ['pg_catalog', 'pg_depend', 2608, 'r', `
    classid oid, objid oid, objsubid integer, refclassid oid, refobjid oid, refobjsubid integer,
    deptype "char"`],
  ['pg_catalog', 'pg_description', 2609, 'r', `
    objoid oid, classoid oid, objsubid integer, description text`],
  ['pg_catalog', 'pg_enum', 3501, 'r', `
    oid oid, enumtypid oid, enumsortorder real, enumlabel name`],
  ['pg_catalog', 'pg_event_trigger', 3466, 'r', `
    oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled "char", evttags
    text[]`],
  ['pg_catalog', 'pg_extension', 3079, 'r', `
    oid oid, extname name, extowner oid, extnamespace oid, extrelocatable boolean, extversion text,
    extconfig oid[], extcondition text[]`],
  ['pg_catalog', 'pg_foreign_data_wrapper', 2328, 'r', `
    oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl aclitem[],
    fdwoptions text[]`],
  ['pg_catalog', 'pg_foreign_server', 1417, 'r', `
    oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl
    aclitem[], srvoptions text[]`],
  ['pg_catalog', 'pg_foreign_table', 3118, 'r', `
    ftrelid oid, ftserver oid, ftoptions text[]`],
  ['pg_catalog', 'pg_index', 2610, 'r', `
    indexrelid oid, indrelid oid, indnatts smallint, indnkeyatts smallint, indisunique boolean,
    indnullsnotdistinct boolean, indisprimary boolean, indisexclusion boolean, indimmediate boolean,
    indisclustered boolean, indisvalid boolean, indcheckxmin boolean, indisready boolean, indislive
    boolean, indisreplident boolean, indkey int2vector, indcollation oidvector, indclass oidvector,
    indoption int2vector, indexprs pg_node_tree, indpred pg_node_tree`],
  ['pg_catalog', 'pg_indexes', 12043, 'v', `
    schemaname name, tablename name, indexname name, tablespace name, indexdef text`],
  ['pg_catalog', 'pg_inherits', 2611, 'r', `
    inhrelid oid, inhparent oid, inhseqno integer, inhdetachpending boolean`],
  ['pg_catalog', 'pg_language', 2612, 'r', `
    oid oid, lanname name, lanowner oid, lanispl boolean, lanpltrusted boolean, lanplcallfoid oid,
    laninline oid, lanvalidator oid, lanacl aclitem[]`],
  ['pg_catalog', 'pg_matviews', 12038, 'v', `
    schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes boolean,
    ispopulated boolean, definition text`],
  ['pg_catalog', 'pg_namespace', 2615, 'r', `
    oid oid, nspname name, nspowner oid, nspacl aclitem[]`],
  ['pg_catalog', 'pg_opclass', 2616, 'r', `
    oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype
    oid, opcdefault boolean, opckeytype oid`],
  ['pg_catalog', 'pg_operator', 2617, 'r', `
    oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind "char", oprcanmerge boolean,
    oprcanhash boolean, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, oprcode
    regproc, oprrest regproc, oprjoin regproc`],
  ['pg_catalog', 'pg_partitioned_table', 3350, 'r', `
    partrelid oid, partstrat "char", partnatts smallint, partdefid oid, partattrs int2vector,
    partclass oidvector, partcollation oidvector, partexprs pg_node_tree`],
  ['pg_catalog', 'pg_policy', 3256, 'r', `
    oid oid, polname name, polrelid oid, polcmd "char", polpermissive boolean, polroles oid[],
    polqual pg_node_tree, polwithcheck pg_node_tree`],
  ['pg_catalog', 'pg_prepared_statements', 12095, 'v', `
    name text, statement text, prepare_time timestamp with time zone, parameter_types regtype[],
    from_sql boolean, generic_plans bigint, custom_plans bigint`],
  ['pg_catalog', 'pg_proc', 1255, 'r', `
    oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost real, prorows real,
    provariadic oid, prosupport regproc, prokind "char", prosecdef boolean, proleakproof boolean,
    proisstrict boolean, proretset boolean, provolatile "char", proparallel "char", pronargs
    smallint, pronargdefaults smallint, prorettype oid, proargtypes oidvector, proallargtypes oid[],
    proargmodes "char"[], proargnames text[], proargdefaults pg_node_tree, protrftypes oid[], prosrc
    text, probin text, prosqlbody pg_node_tree, proconfig text[], proacl aclitem[]`],
  ['pg_catalog', 'pg_publication', 6104, 'r', `
    oid oid, pubname name, pubowner oid, puballtables boolean, pubinsert boolean, pubupdate boolean,
    pubdelete boolean, pubtruncate boolean, pubviaroot boolean`],
  ['pg_catalog', 'pg_publication_namespace', 6237, 'r', `
    oid oid, pnpubid oid, pnnspid oid`],
  ['pg_catalog', 'pg_publication_rel', 6106, 'r', `
    oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector`],
  ['pg_catalog', 'pg_range', 3541, 'r', `
    rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical
    regproc, rngsubdiff regproc`],
  ['pg_catalog', 'pg_rewrite', 2618, 'r', `
    oid oid, rulename name, ev_class oid, ev_type "char", ev_enabled "char", is_instead boolean,
    ev_qual pg_node_tree, ev_action pg_node_tree`],
  ['pg_catalog', 'pg_roles', 12000, 'v', `
    rolname name, rolsuper boolean, rolinherit boolean, rolcreaterole boolean, rolcreatedb boolean,
    rolcanlogin boolean, rolreplication boolean, rolconnlimit integer, rolpassword text,
    rolvaliduntil timestamp with time zone, rolbypassrls boolean, rolconfig text[], oid oid`],
  ['pg_catalog', 'pg_sequence', 2224, 'r', `
    seqrelid oid, seqtypid oid, seqstart bigint, seqincrement bigint, seqmax bigint, seqmin bigint,
    seqcache bigint, seqcycle boolean`],
  ['pg_catalog', 'pg_sequences', 12048, 'v', `
    schemaname name, sequencename name, sequenceowner name, data_type regtype, start_value bigint,
    min_value bigint, max_value bigint, increment_by bigint, cycle boolean, cache_size bigint,
    last_value bigint`],
  ['pg_catalog', 'pg_settings', 12104, 'v', `
    name text, setting text, unit text, category text, short_desc text, extra_desc text, context
    text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text,
    reset_val text, sourcefile text, sourceline integer, pending_restart boolean`],
  ['pg_catalog', 'pg_shdescription', 2396, 'r', `
    objoid oid, classoid oid, description text`],
  ['pg_catalog', 'pg_stat_activity', 12222, 'v', `
    datid oid, datname name, pid integer, leader_pid integer, usesysid oid, usename name,
    application_name text, client_addr inet, client_hostname text, client_port integer,
    backend_start timestamp with time zone, xact_start timestamp with time zone, query_start
    timestamp with time zone, state_change timestamp with time zone, wait_event_type text,
    wait_event text, state text, backend_xid xid, backend_xmin xid, query_id bigint, query text,
    backend_type text`],
  ['pg_catalog', 'pg_stat_all_tables', 12142, 'v', `
    relid oid, schemaname name, relname name, seq_scan bigint, seq_tup_read bigint, idx_scan bigint,
    idx_tup_fetch bigint, n_tup_ins bigint, n_tup_upd bigint, n_tup_del bigint, n_tup_hot_upd
    bigint, n_live_tup bigint, n_dead_tup bigint, n_mod_since_analyze bigint, n_ins_since_vacuum
    bigint, last_vacuum timestamp with time zone, last_autovacuum timestamp with time zone,
    last_analyze timestamp with time zone, last_autoanalyze timestamp with time zone, vacuum_count
    bigint, autovacuum_count bigint, analyze_count bigint, autoanalyze_count bigint`],
  ['pg_catalog', 'pg_stat_user_tables', 12161, 'v', `
    relid oid, schemaname name, relname name, seq_scan bigint, seq_tup_read bigint, idx_scan bigint,
    idx_tup_fetch bigint, n_tup_ins bigint, n_tup_upd bigint, n_tup_del bigint, n_tup_hot_upd
    bigint, n_live_tup bigint, n_dead_tup bigint, n_mod_since_analyze bigint, n_ins_since_vacuum
    bigint, last_vacuum timestamp with time zone, last_autovacuum timestamp with time zone,
    last_analyze timestamp with time zone, last_autoanalyze timestamp with time zone, vacuum_count
    bigint, autovacuum_count bigint, analyze_count bigint, autoanalyze_count bigint`],
  ['pg_catalog', 'pg_statio_user_tables', 12179, 'v', `
    relid oid, schemaname name, relname name, heap_blks_read bigint, heap_blks_hit bigint,
    idx_blks_read bigint, idx_blks_hit bigint, toast_blks_read bigint, toast_blks_hit bigint,
    tidx_blks_read bigint, tidx_blks_hit bigint`],
  ['pg_catalog', 'pg_statistic_ext', 3381, 'r', `
    oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget integer,
    stxkeys int2vector, stxkind "char"[], stxexprs pg_node_tree`],
  ['pg_catalog', 'pg_tables', 12033, 'v', `
    schemaname name, tablename name, tableowner name, tablespace name, hasindexes boolean, hasrules
    boolean, hastriggers boolean, rowsecurity boolean`],
  ['pg_catalog', 'pg_tablespace', 1213, 'r', `
    oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]`],
  ['pg_catalog', 'pg_timezone_names', 12126, 'v', `
    name text, abbrev text, utc_offset interval, is_dst boolean`],
  ['pg_catalog', 'pg_trigger', 2620, 'r', `
    oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype smallint, tgenabled
    "char", tgisinternal boolean, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid,
    tgdeferrable boolean, tginitdeferred boolean, tgnargs smallint, tgattr int2vector, tgargs bytea,
    tgqual pg_node_tree, tgoldtable name, tgnewtable name`],
  ['pg_catalog', 'pg_type', 1247, 'r', `
    oid oid, typname name, typnamespace oid, typowner oid, typlen smallint, typbyval boolean,
    typtype "char", typcategory "char", typispreferred boolean, typisdefined boolean, typdelim
    "char", typrelid oid, typsubscript regproc, typelem oid, typarray oid, typinput regproc,
    typoutput regproc, typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc,
    typanalyze regproc, typalign "char", typstorage "char", typnotnull boolean, typbasetype oid,
    typtypmod integer, typndims integer, typcollation oid, typdefaultbin pg_node_tree, typdefault
    text, typacl aclitem[]`],
  ['pg_catalog', 'pg_user', 12014, 'v', `
    usename name, usesysid oid, usecreatedb boolean, usesuper boolean, userepl boolean, usebypassrls
    boolean, passwd text, valuntil timestamp with time zone, useconfig text[]`],
  ['pg_catalog', 'pg_user_mapping', 1418, 'r', `
    oid oid, umuser oid, umserver oid, umoptions text[]`],
  ['pg_catalog', 'pg_views', 12028, 'v', `
    schemaname name, viewname name, viewowner name, definition text`],
  ['information_schema', 'character_sets', 13250, 'v', `
    character_set_catalog sql_identifier, character_set_schema sql_identifier, character_set_name
    sql_identifier, character_repertoire sql_identifier, form_of_use sql_identifier,
    default_collate_catalog sql_identifier, default_collate_schema sql_identifier,
    default_collate_name sql_identifier`],
  ['information_schema', 'check_constraints', 13260, 'v', `
    constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name
    sql_identifier, check_clause character_data`],
  ['information_schema', 'columns', 13295, 'v', `
    table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier,
    column_name sql_identifier, ordinal_position cardinal_number, column_default character_data,
    is_nullable yes_or_no, data_type character_data, character_maximum_length cardinal_number,
    character_octet_length cardinal_number, numeric_precision cardinal_number,
    numeric_precision_radix cardinal_number, numeric_scale cardinal_number, datetime_precision
    cardinal_number, interval_type character_data, interval_precision cardinal_number,
    character_set_catalog sql_identifier, character_set_schema sql_identifier, character_set_name
    sql_identifier, collation_catalog sql_identifier, collation_schema sql_identifier,
    collation_name sql_identifier, domain_catalog sql_identifier, domain_schema sql_identifier,
    domain_name sql_identifier, udt_catalog sql_identifier, udt_schema sql_identifier, udt_name
    sql_identifier, scope_catalog sql_identifier, scope_schema sql_identifier, scope_name
    sql_identifier, maximum_cardinality cardinal_number, dtd_identifier sql_identifier,
    is_self_referencing yes_or_no, is_identity yes_or_no, identity_generation character_data,
    identity_start character_data, identity_increment character_data, identity_maximum
    character_data, identity_minimum character_data, identity_cycle yes_or_no, is_generated
    character_data, generation_expression character_data, is_updatable yes_or_no`],
  ['information_schema', 'constraint_column_usage', 13300, 'v', `
    table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier,
    column_name sql_identifier, constraint_catalog sql_identifier, constraint_schema sql_identifier,
    constraint_name sql_identifier`],
  ['information_schema', 'key_column_usage', 13329, 'v', `
    constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name
    sql_identifier, table_catalog sql_identifier, table_schema sql_identifier, table_name
    sql_identifier, column_name sql_identifier, ordinal_position cardinal_number,
    position_in_unique_constraint cardinal_number`],
  ['information_schema', 'parameters', 13334, 'v', `
    specific_catalog sql_identifier, specific_schema sql_identifier, specific_name sql_identifier,
    ordinal_position cardinal_number, parameter_mode character_data, is_result yes_or_no, as_locator
    yes_or_no, parameter_name sql_identifier, data_type character_data, character_maximum_length
    cardinal_number, character_octet_length cardinal_number, character_set_catalog sql_identifier,
    character_set_schema sql_identifier, character_set_name sql_identifier, collation_catalog
    sql_identifier, collation_schema sql_identifier, collation_name sql_identifier,
    numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale
    cardinal_number, datetime_precision cardinal_number, interval_type character_data,
    interval_precision cardinal_number, udt_catalog sql_identifier, udt_schema sql_identifier,
    udt_name sql_identifier, scope_catalog sql_identifier, scope_schema sql_identifier, scope_name
    sql_identifier, maximum_cardinality cardinal_number, dtd_identifier sql_identifier,
    parameter_default character_data`],
  ['information_schema', 'referential_constraints', 13339, 'v', `
    constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name
    sql_identifier, unique_constraint_catalog sql_identifier, unique_constraint_schema
    sql_identifier, unique_constraint_name sql_identifier, match_option character_data, update_rule
    character_data, delete_rule character_data`],
  ['information_schema', 'routines', 13377, 'v', `
    specific_catalog sql_identifier, specific_schema sql_identifier, specific_name sql_identifier,
    routine_catalog sql_identifier, routine_schema sql_identifier, routine_name sql_identifier,
    routine_type character_data, module_catalog sql_identifier, module_schema sql_identifier,
    module_name sql_identifier, udt_catalog sql_identifier, udt_schema sql_identifier, udt_name
    sql_identifier, data_type character_data, character_maximum_length cardinal_number,
    character_octet_length cardinal_number, character_set_catalog sql_identifier,
    character_set_schema sql_identifier, character_set_name sql_identifier, collation_catalog
    sql_identifier, collation_schema sql_identifier, collation_name sql_identifier,
    numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale
    cardinal_number, datetime_precision cardinal_number, interval_type character_data,
    interval_precision cardinal_number, type_udt_catalog sql_identifier, type_udt_schema
    sql_identifier, type_udt_name sql_identifier, scope_catalog sql_identifier, scope_schema
    sql_identifier, scope_name sql_identifier, maximum_cardinality cardinal_number, dtd_identifier
    sql_identifier, routine_body character_data, routine_definition character_data, external_name
    character_data, external_language character_data, parameter_style character_data,
    is_deterministic yes_or_no, sql_data_access character_data, is_null_call yes_or_no, sql_path
    character_data, schema_level_routine yes_or_no, max_dynamic_result_sets cardinal_number,
    is_user_defined_cast yes_or_no, is_implicitly_invocable yes_or_no, security_type character_data,
    to_sql_specific_catalog sql_identifier, to_sql_specific_schema sql_identifier,
    to_sql_specific_name sql_identifier, as_locator yes_or_no, created time_stamp, last_altered
    time_stamp, new_savepoint_level yes_or_no, is_udt_dependent yes_or_no,
    result_cast_from_data_type character_data, result_cast_as_locator yes_or_no,
    result_cast_char_max_length cardinal_number, result_cast_char_octet_length cardinal_number,
    result_cast_char_set_catalog sql_identifier, result_cast_char_set_schema sql_identifier,
    result_cast_char_set_name sql_identifier, result_cast_collation_catalog sql_identifier,
    result_cast_collation_schema sql_identifier, result_cast_collation_name sql_identifier,
    result_cast_numeric_precision cardinal_number, result_cast_numeric_precision_radix
    cardinal_number, result_cast_numeric_scale cardinal_number, result_cast_datetime_precision
    cardinal_number, result_cast_interval_type character_data, result_cast_interval_precision
    cardinal_number, result_cast_type_udt_catalog sql_identifier, result_cast_type_udt_schema
    sql_identifier, result_cast_type_udt_name sql_identifier, result_cast_scope_catalog
    sql_identifier, result_cast_scope_schema sql_identifier, result_cast_scope_name sql_identifier,
    result_cast_maximum_cardinality cardinal_number, result_cast_dtd_identifier sql_identifier`],
  ['information_schema', 'schemata', 13382, 'v', `
    catalog_name sql_identifier, schema_name sql_identifier, schema_owner sql_identifier,
    default_character_set_catalog sql_identifier, default_character_set_schema sql_identifier,
    default_character_set_name sql_identifier, sql_path character_data`],
  ['information_schema', 'table_constraints', 13411, 'v', `
    constraint_catalog sql_identifier, constraint_schema sql_identifier, constraint_name
    sql_identifier, table_catalog sql_identifier, table_schema sql_identifier, table_name
    sql_identifier, constraint_type character_data, is_deferrable yes_or_no, initially_deferred
    yes_or_no, enforced yes_or_no, nulls_distinct yes_or_no`],
  ['information_schema', 'tables', 13425, 'v', `
    table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, table_type
    character_data, self_referencing_column_name sql_identifier, reference_generation
    character_data, user_defined_type_catalog sql_identifier, user_defined_type_schema
    sql_identifier, user_defined_type_name sql_identifier, is_insertable_into yes_or_no, is_typed
    yes_or_no, commit_action character_data`],
  ['information_schema', 'views', 13483, 'v', `
    table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier,
    view_definition character_data, check_option character_data, is_updatable yes_or_no,
    is_insertable_into yes_or_no, is_trigger_updatable yes_or_no, is_trigger_deletable yes_or_no,
    is_trigger_insertable_into yes_or_no`],
];

function parseColumns(text: string): CatalogColumn[] {
  return text
    .replace(/\s+/g, ' ')
    .split(', ')
    .map((part) => {
      const space = part.trim().indexOf(' ');
      const name = part.trim().slice(0, space);
      const pgDeclared = part.trim().slice(space + 1);
      const duckdb = duckdbTypeForCatalog(pgDeclared);
      return { name, pgDeclared, duckdb, pg: pgTypeFor(duckdb) };
    });
}

/** Every catalog relation, in a stable order (schema, then name). */
export const CATALOG_RELATIONS: readonly CatalogRelation[] = DEFINITIONS.map(([schema, name, oid, relkind, cols]) => ({
  schema,
  name,
  oid,
  relkind,
  columns: parseColumns(cols),
})).sort((a, b) => (a.schema === b.schema ? a.name.localeCompare(b.name) : a.schema === 'pg_catalog' ? -1 : 1));

const BY_NAME = new Map(CATALOG_RELATIONS.map((r) => [`${r.schema}.${r.name}`, r]));

export function catalogRelation(schema: CatalogSchema, name: string): CatalogRelation {
  const r = BY_NAME.get(`${schema}.${name}`);
  if (!r) throw new Error(`no catalog relation ${schema}.${name}`);
  return r;
}
