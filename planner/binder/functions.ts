/**
 * What the binder needs to know about functions: which names are aggregates, which aggregates
 * only ever release a statistic (vs. an individual value), result types of the common ones,
 * and which set-returning functions may appear in FROM.
 */
import { gwasResultType } from '../gwas/result-types.js';
import { isInteger, isNumeric, T, type SqlType } from '../types.js';

/** DuckDB/Postgres aggregate function names (lower case). */
export const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'mean', 'min', 'max', 'median', 'mode', 'stddev', 'stddev_pop', 'stddev_samp',
  'variance', 'var_pop', 'var_samp', 'string_agg', 'group_concat', 'listagg', 'array_agg', 'list', 'bool_and',
  'bool_or', 'every', 'any_value', 'first', 'last', 'arg_min', 'arg_max', 'argmin', 'argmax', 'min_by',
  'max_by', 'approx_count_distinct', 'quantile', 'quantile_cont', 'quantile_disc', 'approx_quantile', 'corr',
  'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'regr_r2', 'regr_count', 'regr_avgx', 'regr_avgy',
  'regr_sxx', 'regr_syy', 'regr_sxy', 'bit_and', 'bit_or', 'bit_xor', 'product', 'kurtosis', 'skewness',
  'entropy', 'histogram', 'fsum', 'favg', 'count_if', 'countif', 'json_group_array', 'json_group_object',
  'mad', 'geomean', 'geometric_mean', 'sumkahan', 'kahan_sum', 'percentile_cont', 'percentile_disc',
  // Federated GWAS (planner/gwas/result-types.ts), computed by secure aggregation.
  'gwas_allelic', 'gwas_model',
]);

/**
 * Aggregates whose result is a statistic over the group rather than one row's value: these are
 * allowed on `aggregate`-level columns. MIN/MAX/ANY_VALUE/ARRAY_AGG/… release individual values
 * and need the column to be public.
 */
export const STATISTIC_AGGREGATES = new Set([
  'count', 'sum', 'avg', 'mean', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'count_if', 'countif', 'approx_count_distinct', 'corr', 'covar_pop', 'covar_samp', 'fsum', 'favg',
  'regr_slope', 'regr_intercept', 'regr_r2', 'regr_count', 'sumkahan', 'kahan_sum',
  // Per-SNP association statistics over allele counts (only totals are released).
  'gwas_allelic', 'gwas_model',
]);

/** Aggregates that can be computed as partials per party and combined (for pushdown). */
export const DECOMPOSABLE = new Set(['count', 'sum', 'min', 'max', 'avg', 'mean', 'bool_and', 'bool_or', 'every']);

/**
 * Set-returning functions allowed in FROM. Everything else is refused: DuckDB's table functions
 * include readers of local files (read_csv, read_parquet, glob, …), metadata of the whole
 * database (duckdb_tables, pragma_*) and `query('<any SQL>')`, none of which a requester may
 * run at a party or at the gateway. `duckdb_keywords()` (a constant list of SQL keywords) backs
 * Postgres' `pg_get_keywords()`, which DBeaver calls.
 */
export const TABLE_FUNCTIONS = new Set(['generate_series', 'range', 'unnest', 'generate_subscripts', 'duckdb_keywords']);

export function isAggregateName(name: string): boolean {
  return AGGREGATES.has(name);
}

/** Result type of a function call given its argument types; `unknown` when not modelled. */
export function functionResultType(name: string, args: SqlType[], star: boolean): SqlType {
  const a0 = args[0] ?? T.unknown;
  const gwas = gwasResultType(name);
  if (gwas) return gwas;
  switch (name) {
    case 'count': case 'count_if': case 'countif': case 'approx_count_distinct': case 'regr_count':
      return T.bigint;
    case 'sum': case 'fsum': case 'sumkahan': case 'kahan_sum':
      if (star) return T.unknown;
      if (isInteger(a0)) return T.hugeint;
      if (a0.id === 'decimal') return { id: 'decimal', precision: 38, scale: a0.scale ?? 0 };
      return isNumeric(a0) ? T.double : a0;
    case 'avg': case 'mean': case 'favg': case 'stddev': case 'stddev_pop': case 'stddev_samp':
    case 'variance': case 'var_pop': case 'var_samp': case 'corr': case 'covar_pop': case 'covar_samp':
    case 'median': case 'quantile_cont':
      return a0.id === 'decimal' && (name === 'avg' || name === 'mean') ? T.double : T.double;
    case 'min': case 'max': case 'any_value': case 'first': case 'last': case 'mode': case 'arg_min':
    case 'arg_max': case 'min_by': case 'max_by': case 'quantile_disc':
      return a0;
    case 'bool_and': case 'bool_or': case 'every':
      return T.boolean;
    case 'string_agg': case 'group_concat': case 'listagg':
      return T.varchar;
    case 'array_agg': case 'list':
      return { id: 'list', element: a0 };
    case 'length': case 'char_length': case 'character_length': case 'strpos': case 'octet_length':
    case 'row_number': case 'rank': case 'dense_rank': case 'ntile':
      return T.bigint;
    case 'lower': case 'upper': case 'trim': case 'ltrim': case 'rtrim': case 'substring': case 'substr':
    case 'concat': case 'concat_ws': case 'replace': case 'left': case 'right': case 'lpad': case 'rpad':
    case 'md5': case 'sha256': case 'to_char': case 'format': case 'initcap': case 'reverse': case 'repeat':
    case 'version': case 'current_database': case 'current_schema': case 'current_user': case 'typeof':
      return T.varchar;
    // Postgres catalog functions (the gateway's macros, executor/pg-catalog/macros.ts).
    case 'format_type': case 'pg_get_expr': case 'pg_get_indexdef': case 'pg_get_constraintdef': case 'pg_get_partkeydef':
    case 'pg_get_viewdef': case 'pg_get_triggerdef': case 'pg_get_ruledef': case 'pg_get_functiondef': case 'pg_get_userbyid':
    case 'pg_get_function_arguments': case 'pg_get_function_result': case 'pg_get_statisticsobjdef_columns':
    case 'pg_encoding_to_char': case 'quote_ident': case 'quote_literal': case 'pg_size_pretty': case 'obj_description':
    case 'col_description':
      return T.varchar;
    case 'pg_table_is_visible': case 'pg_type_is_visible': case 'pg_function_is_visible': case 'pg_relation_is_publishable':
    case 'has_table_privilege': case 'has_schema_privilege': case 'has_any_column_privilege': case 'has_column_privilege':
    case 'has_database_privilege': case 'has_function_privilege': case 'pg_is_in_recovery':
      return T.boolean;
    case 'pg_relation_size': case 'pg_total_relation_size': case 'pg_table_size': case 'pg_indexes_size': case 'pg_database_size':
      return T.bigint;
    case 'array_upper': case 'array_lower':
      return T.integer;
    case 'parse_ident': case 'string_to_array': case 'current_schemas':
      return { id: 'list', element: T.varchar };
    case 'abs': case 'round': case 'floor': case 'ceil': case 'ceiling': case 'trunc': case 'sign':
      return isNumeric(a0) ? a0 : T.double;
    case 'sqrt': case 'ln': case 'log': case 'log10': case 'log2': case 'exp': case 'power': case 'pow':
    case 'random': case 'percent_rank': case 'cume_dist': case 'pi': case 'radians': case 'degrees':
      return T.double;
    case 'coalesce': case 'nullif': case 'greatest': case 'least': case 'ifnull':
      return args.find((t) => t.id !== 'null') ?? a0;
    case 'now': case 'current_timestamp': case 'get_current_timestamp':
      return T.timestamptz;
    case 'date_trunc':
      return args[1]?.id === 'date' ? T.timestamp : (args[1] ?? T.timestamp);
    case 'date_part': case 'extract': case 'year': case 'month': case 'day': case 'hour': case 'minute':
    case 'quarter': case 'week': case 'dayofweek': case 'dayofyear':
      return T.bigint;
    case 'to_date': case 'make_date': case 'current_date':
      return T.date;
    case 'lag': case 'lead': case 'first_value': case 'last_value': case 'nth_value':
      return a0;
    default:
      return T.unknown;
  }
}
