/**
 * Catalog queries real clients send at connect time and while browsing, as captured with
 * `psql -E` and from driver sources (research/anchors-pgwire.md §2), with their parameters as
 * the drivers bind them. `check` asserts what the client needs to find in the answer.
 */
import { expect } from 'vitest';
import type { ParamValue } from '../../executor/session-types.js';

export interface ClientQuery {
  client: string;
  sql: string;
  params: ParamValue[];
  check?: (rows: (string | null)[][], columns: string[]) => void;
}

const text = (v: string): ParamValue => ({ text: v });
const col = (rows: (string | null)[][], i: number) => rows.map((r) => r[i]);

export const CLIENT_QUERIES: ClientQuery[] = [
  {
    client: 'psql \\dt',
    sql: `SELECT n.nspname as "Schema", c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2`,
    params: [],
    check: (rows) => expect(rows.map((r) => `${r[0]}.${r[1]} ${r[3]}`)).toEqual([
      'bank_a.branches bank_a', 'bank_a.customers bank_a', 'bank_b.branches bank_b', 'bank_b.customers bank_b', 'banks.branches veilsql',
    ]),
  },
  {
    client: 'psql \\d (1/9)',
    sql: `SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(customers)$' COLLATE pg_catalog.default AND n.nspname OPERATOR(pg_catalog.~) '^(bank_b)$' COLLATE pg_catalog.default ORDER BY 2, 3`,
    params: [],
    check: (rows) => expect(col(rows, 2)).toEqual(['customers']),
  },
  {
    client: 'psql \\d (2/9)',
    sql: `SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')
, c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid) LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = 'bank_a.customers'::regclass`,
    params: [],
    check: (rows) => expect(rows[0].slice(1, 2)).toEqual(['r']),
  },
  {
    client: 'psql \\d (7/9, publications)',
    sql: `SELECT pubname, NULL, NULL FROM pg_catalog.pg_publication p JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid WHERE pc.oid ='1259' and pg_catalog.pg_relation_is_publishable('1259')
UNION
SELECT pubname, pg_get_expr(pr.prqual, c.oid), (CASE WHEN pr.prattrs IS NOT NULL THEN (SELECT string_agg(attname, ', ')
  FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s, pg_catalog.pg_attribute
  WHERE attrelid = pr.prrelid AND attnum = prattrs[s]) ELSE NULL END) FROM pg_catalog.pg_publication p
JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid WHERE pr.prrelid = '1259'
UNION
SELECT pubname, NULL, NULL FROM pg_catalog.pg_publication p WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('1259')
ORDER BY 1`,
    params: [],
    check: (rows) => expect(rows).toEqual([]),
  },
  {
    client: 'psql \\l',
    sql: `SELECT d.datname as "Name", pg_catalog.pg_get_userbyid(d.datdba) as "Owner", pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
  d.datcollate as "Collate", d.datctype as "Ctype", d.daticulocale as "ICU Locale",
  CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
  pg_catalog.array_to_string(d.datacl, E'\\n') AS "Access privileges"
FROM pg_catalog.pg_database d ORDER BY 1`,
    params: [],
    check: (rows) => expect(rows.map((r) => r.slice(0, 3))).toEqual([['veilsql', 'veilsql', 'UTF8']]),
  },
  {
    client: 'PgJDBC getSchemas',
    sql: `SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_' OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_' OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_')) ORDER BY "TABLE_SCHEM"`,
    params: [],
    check: (rows) => expect(col(rows, 0)).toEqual(['bank_a', 'bank_b', 'banks', 'information_schema', 'pg_catalog', 'public']),
  },
  {
    client: 'PgJDBC 42.7 getTables',
    sql: `SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME, CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema' WHEN true THEN CASE WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' WHEN 'i' THEN 'SYSTEM INDEX' ELSE NULL END ELSE NULL END WHEN false THEN CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END ELSE NULL END AS TABLE_TYPE, d.description AS REMARKS, '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 and d.classoid = 'pg_class'::regclass) WHERE c.relnamespace = n.oid AND n.nspname LIKE $1 AND c.relname LIKE $2 AND (false OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) ) ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME`,
    params: [{ type: 'VARCHAR', text: 'bank%' }, { type: 'VARCHAR', text: '%' }],
    check: (rows) => expect(rows.map((r) => `${r[1]}.${r[2]} ${r[3]}`)).toEqual([
      'bank_a.branches TABLE', 'bank_a.customers TABLE', 'bank_b.branches TABLE', 'bank_b.customers TABLE', 'banks.branches TABLE',
    ]),
  },
  {
    client: 'PgJDBC getColumns',
    sql: `SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid) JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum) LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class') LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog') WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped AND n.nspname LIKE $1 AND c.relname LIKE $2) c WHERE true ORDER BY nspname,c.relname,attnum`,
    params: [{ type: 'VARCHAR', text: 'bank_a' }, { type: 'VARCHAR', text: 'customers' }],
    check: (rows) => {
      expect(col(rows, 2)).toEqual(['id', 'name', 'region', 'balance', 'account_no', 'score', 'opened', 'updated', 'active']);
      expect(col(rows, 3)).toEqual(['23', '25', '25', '1700', '20', '701', '1082', '1114', '16']);
      expect(rows[3][5]).toBe(String(((12 << 16) | 2) + 4));
    },
  },
  {
    client: 'PgJDBC type lookup by oid',
    sql: `SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname ) ) as sp ON sp.nspoid = typnamespace WHERE pg_type.oid = $1 ORDER BY sp.r, pg_type.oid DESC`,
    params: [{ type: 'INTEGER', text: '2951' }],
    check: (rows) => expect(rows).toEqual([['t', 'b', '_uuid', '2951']]),
  },
  {
    client: 'PgJDBC type lookup by name',
    sql: `SELECT pg_type.oid, typname FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname ) ) as sp ON sp.nspoid = typnamespace WHERE typname = $1 ORDER BY sp.r, pg_type.oid DESC LIMIT 1`,
    params: [{ type: 'VARCHAR', text: 'interval' }],
    check: (rows) => expect(rows).toEqual([['1186', 'interval']]),
  },
  {
    client: 'DBeaver namespaces',
    sql: `SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname`,
    params: [],
    check: (rows, columns) => {
      expect(columns).toEqual(['oid', 'oid', 'nspname', 'nspowner', 'nspacl', 'description']);
      expect(rows.find((r) => r[2] === 'bank_b')?.[5]).toBe('party bank_b, 2 table(s) published to bank_a');
    },
  },
  { client: 'DBeaver session', sql: 'SELECT current_schema(),session_user', params: [], check: (rows) => expect(rows).toEqual([['bank_a', 'analyst']]) },
  {
    client: 'DBeaver database',
    sql: 'SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=$1',
    params: [text('veilsql')],
    check: (rows) => expect(rows.length).toBe(1),
  },
  {
    client: 'DBeaver settings',
    sql: 'select * from pg_catalog.pg_settings where name=$1',
    params: [text('standard_conforming_strings')],
    check: (rows) => expect(rows.map((r) => r.slice(0, 2))).toEqual([['standard_conforming_strings', 'on']]),
  },
  {
    client: 'DBeaver keywords',
    sql: `SELECT word FROM pg_catalog.pg_get_keywords() WHERE word <> ALL ('{a,abs,absolute,action,ada,add,admin,after,all,allocate,alter,always,and,any,are,array,as,asc}'::text[])`,
    params: [],
    check: (rows) => {
      expect(col(rows, 0)).toContain('select');
      expect(col(rows, 0)).not.toContain('all');
    },
  },
  {
    client: 'SQLAlchemy version',
    sql: 'select pg_catalog.version()',
    params: [],
    check: (rows) => expect(rows[0][0]).toMatch(/^PostgreSQL (\d+)\.?(\d+)? /),
  },
  {
    client: 'SQLAlchemy has_table',
    sql: `SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relname = $1::VARCHAR AND pg_catalog.pg_class.relkind = ANY (ARRAY[$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR, $6::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != $7::VARCHAR`,
    params: ['customers', 'r', 'p', 'f', 'v', 'm', 'pg_catalog'].map(text),
    check: (rows) => expect(rows).toEqual([['customers'], ['customers']]),
  },
  {
    client: 'Metabase privileges',
    sql: `with table_privileges as (select NULL as role, t.schemaname as schema, t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"', 'update') as update,
   pg_catalog.has_table_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"', 'select') as select
 from (select schemaname, tablename as objectname from pg_catalog.pg_tables union select schemaname, viewname as objectname from pg_catalog.pg_views union select schemaname, matviewname as objectname from pg_catalog.pg_matviews) t
 where t.schemaname !~ '^pg_' and t.schemaname <> 'information_schema' and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage'))
select t.* from table_privileges t order by 2, 3`,
    params: [],
    check: (rows) => expect(rows[0]).toEqual([null, 'bank_a', 'branches', 'f', 't']),
  },
  {
    client: 'Metabase table list',
    sql: `SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0) AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') ORDER BY "type" ASC, "schema" ASC, "name" ASC`,
    params: [],
    check: (rows) => expect(rows.map((r) => `${r[0]}.${r[1]}:${r[4]}`)).toEqual([
      'bank_a.branches:8', 'bank_a.customers:40', 'bank_b.branches:8', 'bank_b.customers:40', 'banks.branches:16',
    ]),
  },
  {
    client: 'Grafana table discovery',
    sql: `SELECT quote_ident(table_name) as table_name, ( SELECT quote_ident(column_name) as column_name FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND udt_name IN ('timestamptz','timestamp') ORDER BY ordinal_position LIMIT 1 ) AS time_column, ( SELECT quote_ident(column_name) AS column_name FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND udt_name IN ('float4','float8','int2','int4','int8','numeric') ORDER BY ordinal_position LIMIT 1 ) AS value_column FROM information_schema.tables t WHERE table_schema IN ( SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END FROM generate_series( array_lower(string_to_array(current_setting('search_path'),','),1), array_upper(string_to_array(current_setting('search_path'),','),1) ) as i, string_to_array(current_setting('search_path'),',') s ) ORDER BY table_name`,
    params: [],
    check: (rows) => expect(rows).toEqual([['branches', null, 'branch_id'], ['customers', 'updated', 'id']]),
  },
  {
    client: 'Grafana columns',
    sql: 'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = (parse_ident($1))[1] AND table_name = (parse_ident($1))[2] ORDER BY column_name',
    params: [text('bank_a.branches')],
    check: (rows) => expect(rows).toEqual([['branch_id', 'integer'], ['region', 'text'], ['staff', 'integer']]),
  },
  {
    client: 'Npgsql type loading',
    sql: `SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid FROM (SELECT typ.oid, typ.typnamespace, typ.typname, typ.typtype, typ.typrelid, typ.typnotnull, typ.relkind, elemtyp.oid AS elemtypoid, elemtyp.typname AS elemtypname, elemcls.relkind AS elemrelkind, CASE WHEN elemproc.proname='array_recv' THEN 'a' ELSE elemtyp.typtype END AS elemtyptype FROM (SELECT typ.oid, typnamespace, typname, typrelid, typnotnull, relkind, typelem AS elemoid, CASE WHEN proc.proname='array_recv' THEN 'a' ELSE typ.typtype END AS typtype, CASE WHEN proc.proname='array_recv' THEN typ.typelem WHEN typ.typtype='r' THEN rngsubtype WHEN typ.typtype='d' THEN typ.typbasetype END AS elemtypoid FROM pg_type AS typ LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid) LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive LEFT JOIN pg_range ON (pg_range.rngtypid = typ.oid)) AS typ LEFT JOIN pg_type AS elemtyp ON elemtyp.oid = elemtypoid LEFT JOIN pg_class AS elemcls ON (elemcls.oid = elemtyp.typrelid) LEFT JOIN pg_proc AS elemproc ON elemproc.oid = elemtyp.typreceive) AS t JOIN pg_namespace AS ns ON (ns.oid = typnamespace) WHERE typtype IN ('b', 'r', 'm', 'e', 'd') OR (typtype = 'c' AND relkind='c') OR (typtype = 'p' AND typname IN ('record', 'void', 'unknown')) OR (typtype = 'a' AND (elemtyptype IN ('b', 'r', 'm', 'e', 'd') OR (elemtyptype = 'p' AND elemtypname IN ('record', 'void')) OR (elemtyptype = 'c' AND elemrelkind='c'))) ORDER BY CASE WHEN typtype IN ('b', 'e', 'p') THEN 0 WHEN typtype = 'r' THEN 1 WHEN typtype = 'm' THEN 2 WHEN typtype = 'c' THEN 3 WHEN typtype = 'd' AND elemtyptype <> 'a' THEN 4 WHEN typtype = 'a' THEN 5 WHEN typtype = 'd' AND elemtyptype = 'a' THEN 6 END, t.oid`,
    params: [],
    check: (rows) => {
      expect(rows.find((r) => r[2] === '_int4')?.[3]).toBe('a');
      expect(rows.find((r) => r[2] === 'numeric')?.[3]).toBe('b');
    },
  },
  { client: 'psqlODBC', sql: "select oid, typbasetype from pg_type where typname = 'lo'", params: [], check: (rows) => expect(rows).toEqual([]) },
  {
    client: 'pgAdmin',
    sql: "SELECT set_config('bytea_output','hex',false) FROM pg_settings WHERE name = 'bytea_output'",
    params: [],
    check: (rows) => expect(rows).toEqual([['hex']]),
  },
  {
    client: 'pgAdmin sizes and comments',
    sql: "SELECT pg_catalog.pg_total_relation_size(c.oid) AS total, pg_catalog.obj_description(c.oid, 'pg_class') AS comment, pg_catalog.col_description(c.oid, 1) AS first_column FROM pg_catalog.pg_class c WHERE c.oid = 'bank_b.customers'::regclass",
    params: [],
    check: (rows) => expect(rows).toEqual([['0', 'table of party bank_b, about 40 row(s), min_group 5', 'policy join_key: usable only as a SECURE JOIN / PRIVATE LOOKUP key, never revealed']]),
  },
  {
    client: 'a catalog table joined with party data',
    sql: "SELECT n.nspname, c.relname, c.reltuples, (SELECT count(*) FROM bank_a.customers) AS counted FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'customers' ORDER BY 1",
    params: [],
    check: (rows) => expect(rows).toEqual([['bank_a', 'customers', '40', '40'], ['bank_b', 'customers', '40', '40']]),
  },
  {
    client: 'exact types over parties',
    sql: 'SELECT region, sum(staff) AS staff, avg(staff) AS mean, count(*) AS n, max(branch_id) / 2 AS half FROM banks.branches WHERE staff > $1 GROUP BY region ORDER BY region',
    params: [{ text: '3' }],
    check: (rows) => expect(rows.length).toBe(4),
  },
  {
    client: 'exact types of parameters',
    sql: 'SELECT $1 AS p, $2::int + 1 AS q, NULL AS n, balance * 2 AS b FROM bank_a.customers WHERE id = $3',
    params: [{ text: 'x' }, { text: '4' }, { text: '7' }],
    check: (rows) => expect(rows).toEqual([['x', '5', null, '1108.66']]),
  },
];
