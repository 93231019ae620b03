/**
 * The PostgreSQL functions clients call that DuckDB lacks (or implements with DuckDB meaning,
 * like its `format_type`, which maps DuckDB type ids), as DuckDB macros in schema `veil_pg` of
 * the gateway's DuckDB. `rewrite.ts` renames calls to them (`pg_catalog.format_type(…)` →
 * `veil_pg.format_type(…)`); functions whose answer depends on the session or on the catalog
 * (current_setting, pg_get_userbyid, obj_description, `::regclass`, …) are rewritten in the
 * AST instead, see there.
 *
 * VeilSQL is read-only to analysts: privilege checks answer true for reading (SELECT, USAGE,
 * CONNECT, EXECUTE, REFERENCES, TEMP) and false for writing; there are no index, constraint,
 * view, trigger or partition definitions to show, so the pg_get_*def functions return NULL,
 * and sizes are 0 (a party's storage is its own business).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError, SqlState } from '../../parser/errors.js';
import { visitExpr } from '../../planner/expr-utils.js';
import { isSubplanQuery, nodeExpressions, walkPlan, type LogicalPlan } from '../../planner/logical-plan.js';
import { formatTypeSql } from './type-catalog.js';

export const MACRO_SCHEMA = 'veil_pg';

const NULL_TEXT = 'CAST(NULL AS VARCHAR)';
const READ_PRIVILEGE = `NOT regexp_matches(lower(p), '(insert|update|delete|truncate|create|trigger)')`;

/** name → one body per arity, `(params) AS body`. */
const MACROS: Record<string, string[]> = {
  format_type: [`(t, m) AS ${formatTypeSql('t', 'm')}`],
  pg_table_is_visible: ['(o) AS true'],
  pg_type_is_visible: ['(o) AS true'],
  pg_function_is_visible: ['(o) AS true'],
  pg_collation_is_visible: ['(o) AS true'],
  pg_get_expr: [`(e, r) AS ${NULL_TEXT}`, `(e, r, p) AS ${NULL_TEXT}`],
  pg_get_indexdef: [`(o) AS ${NULL_TEXT}`, `(o, c, p) AS ${NULL_TEXT}`],
  pg_get_constraintdef: [`(o) AS ${NULL_TEXT}`, `(o, p) AS ${NULL_TEXT}`],
  pg_get_partkeydef: [`(o) AS ${NULL_TEXT}`],
  pg_get_viewdef: [`(o) AS ${NULL_TEXT}`, `(o, p) AS ${NULL_TEXT}`],
  pg_get_triggerdef: [`(o) AS ${NULL_TEXT}`, `(o, p) AS ${NULL_TEXT}`],
  pg_get_ruledef: [`(o) AS ${NULL_TEXT}`, `(o, p) AS ${NULL_TEXT}`],
  pg_get_functiondef: [`(o) AS ${NULL_TEXT}`],
  pg_get_function_arguments: [`(o) AS ${NULL_TEXT}`],
  pg_get_function_identity_arguments: [`(o) AS ${NULL_TEXT}`],
  pg_get_function_result: [`(o) AS ${NULL_TEXT}`],
  pg_get_statisticsobjdef_columns: [`(o) AS ${NULL_TEXT}`],
  pg_get_serial_sequence: [`(t, c) AS ${NULL_TEXT}`],
  pg_relation_is_publishable: ['(o) AS false'],
  pg_encoding_to_char: [`(e) AS CASE e WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`],
  pg_char_to_encoding: [`(s) AS CASE upper(s) WHEN 'UTF8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END`],
  has_table_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_any_column_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_column_privilege: [`(o, c, p) AS ${READ_PRIVILEGE}`, `(u, o, c, p) AS ${READ_PRIVILEGE}`],
  has_schema_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_database_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_function_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_sequence_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_type_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_language_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_tablespace_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  has_server_privilege: [`(o, p) AS ${READ_PRIVILEGE}`, `(u, o, p) AS ${READ_PRIVILEGE}`],
  pg_has_role: [`(r, p) AS ${READ_PRIVILEGE}`, `(u, r, p) AS ${READ_PRIVILEGE}`],
  pg_relation_size: ['(o) AS CAST(0 AS BIGINT)', '(o, f) AS CAST(0 AS BIGINT)'],
  pg_total_relation_size: ['(o) AS CAST(0 AS BIGINT)'],
  pg_table_size: ['(o) AS CAST(0 AS BIGINT)'],
  pg_indexes_size: ['(o) AS CAST(0 AS BIGINT)'],
  pg_database_size: ['(o) AS CAST(0 AS BIGINT)'],
  pg_size_pretty: [`(b) AS CAST(b AS VARCHAR) || ' bytes'`],
  quote_ident: [`(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE '"' || replace(s, '"', '""') || '"' END`],
  quote_literal: [`(s) AS '''' || replace(CAST(s AS VARCHAR), '''', '''''') || ''''`],
  parse_ident: [
    `(s) AS list_transform(string_split(s, '.'), lambda x: CASE WHEN x[1] = '"' THEN replace(x[2:-2], '""', '"') ELSE lower(trim(x)) END)`,
    `(s, strict) AS list_transform(string_split(s, '.'), lambda x: CASE WHEN x[1] = '"' THEN replace(x[2:-2], '""', '"') ELSE lower(trim(x)) END)`,
  ],
  array_upper: ['(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN CAST(len(a) AS INTEGER) END'],
  array_lower: ['(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END'],
  array_ndims: ['(a) AS CASE WHEN len(a) > 0 THEN 1 END'],
  // information_schema._pg_expandarray is set-returning in Postgres; it only ever meets the
  // (empty) pg_index here, so a typed record is enough to bind `(…).x` and `(…).n`.
  _pg_expandarray: [`(a) AS {'x': CAST(NULL AS INTEGER), 'n': CAST(NULL AS INTEGER)}`],
  pg_is_in_recovery: ['() AS false'],
  pg_my_temp_schema: ['() AS 0'],
  pg_is_other_temp_schema: ['(o) AS false'],
  pg_tablespace_location: [`(o) AS ''`],
  txid_current: ['() AS CAST(1 AS BIGINT)'],
  pg_current_xact_id: ['() AS CAST(1 AS BIGINT)'],
  pg_jit_available: ['() AS false'],
};

/** Names (lower case, without schema) of the functions implemented as macros. */
export const MACRO_NAMES: ReadonlySet<string> = new Set(Object.keys(MACROS));

/** Installs every macro (idempotent). */
export async function installMacros(connection: DuckDBConnection): Promise<void> {
  await connection.run(`CREATE SCHEMA IF NOT EXISTS ${MACRO_SCHEMA}`);
  for (const [name, bodies] of Object.entries(MACROS)) {
    await connection.run(`CREATE OR REPLACE MACRO ${MACRO_SCHEMA}.${name}${bodies.join(', ')}`);
  }
}

/**
 * The macros exist only in the gateway's DuckDB. A call placed inside a fragment (applied to a
 * party's rows, e.g. `SELECT quote_ident(name) FROM bank_a.customers`) would reach a party that
 * has no such function: refuse it before anything is sent, naming the function and the party.
 */
export function refuseMacrosAtParties(fragments: { party: string; plan: LogicalPlan }[]): void {
  for (const fragment of fragments) {
    const check = (plan: LogicalPlan): void =>
      walkPlan(plan, (node) => {
        for (const e of nodeExpressions(node)) {
          visitExpr(
            e,
            (x) => {
              if (x.kind === 'function' && x.name.length === 2 && x.name[0] === MACRO_SCHEMA) {
                throw new SqlError(
                  SqlState.featureNotSupported,
                  `function ${x.name[1]}() is computed by the gateway and cannot be applied to data of party "${fragment.party}"`,
                  {
                    position: x.span ? x.span.start + 1 : undefined,
                    hint: 'Use it on catalog tables (pg_catalog, information_schema), or select the value and apply the function in the client.',
                  },
                );
              }
            },
            (q) => {
              if (isSubplanQuery(q)) check(q.subplan);
            },
          );
        }
      });
    check(fragment.plan);
  }
}
