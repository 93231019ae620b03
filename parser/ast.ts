/**
 * The typed abstract syntax tree of the VeilSQL dialect (SPEC.md §3).
 *
 * The AST is the contract between `parser/` and everything above it: the planner binds it, the
 * party re-parses the fragments it receives into it, and `printer.ts` renders it back to SQL
 * (VeilSQL dialect for round trips and fragments, DuckDB dialect for execution).
 *
 * Conventions:
 * - Every node has a `kind` discriminator and an optional `span` (0-based character offsets into
 *   the source text, end exclusive). Spans are the only field that differs between a statement
 *   and its printed-then-reparsed self; `stripSpans` removes them for comparisons.
 * - Identifiers are stored folded as Postgres folds them: unquoted names lower-cased, quoted
 *   names verbatim. The printer re-quotes whatever would not survive folding.
 * - Numeric literals keep their source text, so no precision is lost on the way through JS.
 * - Special syntax with plain function semantics (SUBSTRING(x FROM a FOR b), POSITION(a IN b),
 *   TRIM(BOTH x FROM y), OVERLAY) is normalised to `FunctionCall`; constructs with their own
 *   meaning (EXTRACT, CAST, CASE, INTERVAL, ANY/ALL, …) have their own nodes.
 */

export interface Span {
  /** 0-based offset of the first character. */
  start: number;
  /** 0-based offset one past the last character. */
  end: number;
}

interface NodeBase {
  span?: Span;
}

// ───────────────────────────── statements ─────────────────────────────

export type Statement =
  | Query
  | ExplainStatement
  | ShowStatement
  | SetStatement
  | ResetStatement
  | TransactionStatement
  | DiscardStatement
  | DeallocateStatement;

/** A complete query expression: `[WITH …] body [ORDER BY …] [LIMIT …] [OFFSET …]`. */
export interface Query extends NodeBase {
  kind: 'query';
  with?: WithClause;
  body: QueryBody;
  orderBy?: OrderItem[];
  limit?: Expr;
  offset?: Expr;
}

export interface WithClause extends NodeBase {
  recursive: boolean;
  ctes: CommonTableExpr[];
}

export interface CommonTableExpr extends NodeBase {
  name: string;
  columns?: string[];
  materialized?: boolean;
  query: Query;
}

export type QueryBody = Select | SetOperation | ValuesBody | ParenQuery;

/** A parenthesised query used as a set-operation operand: `(SELECT … ORDER BY … LIMIT 1) UNION …`. */
export interface ParenQuery extends NodeBase {
  kind: 'paren_query';
  query: Query;
}

export interface SetOperation extends NodeBase {
  kind: 'set_operation';
  op: 'union' | 'intersect' | 'except';
  all: boolean;
  left: QueryBody;
  right: QueryBody;
}

export interface ValuesBody extends NodeBase {
  kind: 'values';
  rows: Expr[][];
}

export interface Select extends NodeBase {
  kind: 'select';
  /** `true` for DISTINCT, an expression list for DISTINCT ON (…), absent for ALL/default. */
  distinct?: true | Expr[];
  items: SelectItem[];
  from?: FromItem[];
  where?: Expr;
  groupBy?: GroupBy;
  having?: Expr;
  windows?: NamedWindow[];
  /**
   * Differential-privacy options of this block: the trailing `WITH PRIVACY (…)` of SPEC.md §3
   * (attached to the outermost SELECT block) or BigQuery's
   * `SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (…)`.
   */
  privacy?: PrivacyOptions;
}

export interface GroupBy extends NodeBase {
  /** `GROUP BY ALL` (DuckDB/BigQuery): group by every non-aggregate select item. */
  all?: boolean;
  items: Expr[];
}

export interface NamedWindow extends NodeBase {
  name: string;
  spec: WindowSpec;
}

export interface PrivacyOptions extends NodeBase {
  /** Which surface syntax was used, so the printer can reproduce it. */
  syntax: 'with_privacy' | 'bigquery';
  options: PrivacyOption[];
}

/**
 * One `name = value` privacy option. Values are kept as expressions; the planner validates
 * names (epsilon, delta, privacy_unit, max_groups_contributed, max_rows_contributed, groups,
 * noise, …) and value types. `groups = PUBLIC (v1, v2, …)` is `{ name: 'groups', value:
 * { kind: 'column', … 'public' }, list: [v1, v2, …] }`; `groups = THRESHOLD` has no list.
 */
export interface PrivacyOption extends NodeBase {
  name: string;
  value: Expr;
  list?: Expr[];
}

export type SelectItem = ExprSelectItem | StarSelectItem | ExprStarSelectItem;

export interface ExprSelectItem extends NodeBase {
  kind: 'expr_item';
  expr: Expr;
  alias?: string;
}

/** `*` or `qualifier.*` (qualifier may be `schema.table`). */
export interface StarSelectItem extends NodeBase {
  kind: 'star';
  qualifier?: string[];
}

/** `(expr).*`: expands a composite value (e.g. the record returned by GWAS_ALLELIC). */
export interface ExprStarSelectItem extends NodeBase {
  kind: 'expr_star';
  expr: Expr;
}

export interface OrderItem extends NodeBase {
  expr: Expr;
  direction?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

// ───────────────────────────── FROM clause ─────────────────────────────

export type FromItem = TableRef | SubqueryRef | TableFunctionRef | JoinExpr;

export interface Alias extends NodeBase {
  name: string;
  columns?: string[];
}

/** A named relation: `table`, `party.table`, `federation.table`, `pg_catalog.pg_class`. */
export interface TableRef extends NodeBase {
  kind: 'table';
  name: string[];
  alias?: Alias;
}

/** `(query) alias` — including `(VALUES (…), (…)) q(col, …)`. */
export interface SubqueryRef extends NodeBase {
  kind: 'subquery';
  lateral?: boolean;
  query: Query;
  alias?: Alias;
}

/** A set-returning function in FROM: `generate_series(1, 10) AS g(i)`, `unnest(…)`. */
export interface TableFunctionRef extends NodeBase {
  kind: 'table_function';
  lateral?: boolean;
  call: FunctionCall;
  alias?: Alias;
  withOrdinality?: boolean;
}

export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'cross';

/**
 * How a join is computed. `plain` is an ordinary SQL join; `secure` is `SECURE [LEFT] JOIN`
 * (private set intersection); `lookup` is `PRIVATE LOOKUP` (keyword PIR; always `type: 'left'`
 * because every row of the local relation comes back once).
 */
export type JoinMode = 'plain' | 'secure' | 'lookup';

export interface JoinExpr extends NodeBase {
  kind: 'join';
  type: JoinType;
  mode: JoinMode;
  natural?: boolean;
  left: FromItem;
  right: FromItem;
  on?: Expr;
  using?: string[];
}

// ───────────────────────────── expressions ─────────────────────────────

export type Expr =
  | NumberLiteral
  | StringLiteral
  | BooleanLiteral
  | NullLiteral
  | TypedStringLiteral
  | IntervalLiteral
  | ColumnRef
  | ParameterRef
  | UnaryExpr
  | BinaryExpr
  | LikeExpr
  | BetweenExpr
  | InListExpr
  | InSubqueryExpr
  | IsExpr
  | ExistsExpr
  | ScalarSubquery
  | QuantifiedExpr
  | CaseExpr
  | CastExpr
  | FunctionCall
  | ExtractExpr
  | SpecialValue
  | ArrayExpr
  | ArraySubquery
  | SubscriptExpr
  | FieldAccess
  | CollateExpr
  | RowExpr
  | StarArgument;

export interface NumberLiteral extends NodeBase {
  kind: 'number';
  /** Source text, e.g. `42`, `3.14`, `1e-6`, `.5`. */
  text: string;
}

export interface StringLiteral extends NodeBase {
  kind: 'string';
  /** The decoded value (quotes removed, '' collapsed, E'' escapes applied). */
  value: string;
}

export interface BooleanLiteral extends NodeBase {
  kind: 'boolean';
  value: boolean;
}

export interface NullLiteral extends NodeBase {
  kind: 'null';
}

/** `DATE '2024-01-01'`, `TIMESTAMP '…'`, `TIME '…'`, `UUID '…'` and other `type 'string'` forms. */
export interface TypedStringLiteral extends NodeBase {
  kind: 'typed_string';
  type: TypeName;
  value: string;
}

/** `INTERVAL '7 days'`, `INTERVAL '7' DAY`, `INTERVAL 7 DAY` (DuckDB form). */
export interface IntervalLiteral extends NodeBase {
  kind: 'interval';
  value: Expr;
  /** Lower-cased unit (`day`, `hour`, …) when given after the value. */
  unit?: string;
}

/** A column reference, possibly qualified: `c`, `t.c`, `party.t.c`. */
export interface ColumnRef extends NodeBase {
  kind: 'column';
  name: string[];
}

/** `$1`, `$2`, … (1-based). */
export interface ParameterRef extends NodeBase {
  kind: 'parameter';
  index: number;
}

export type UnaryOperator = '-' | '+' | 'not' | '~';

export interface UnaryExpr extends NodeBase {
  kind: 'unary';
  op: UnaryOperator;
  operand: Expr;
}

export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '%' | '^' | '||'
  | '=' | '<>' | '!=' | '<' | '<=' | '>' | '>='
  | 'and' | 'or'
  | '~' | '!~' | '~*' | '!~*'
  | '&' | '|' | '#' | '<<' | '>>'
  | '@>' | '<@' | '&&' | '->' | '->>';

export interface BinaryExpr extends NodeBase {
  kind: 'binary';
  op: BinaryOperator;
  left: Expr;
  right: Expr;
  /** Set when written `OPERATOR(schema.op)`, e.g. psql's `OPERATOR(pg_catalog.~)`. */
  operatorSchema?: string;
}

export interface LikeExpr extends NodeBase {
  kind: 'like';
  op: 'like' | 'ilike' | 'similar';
  not: boolean;
  expr: Expr;
  pattern: Expr;
  escape?: Expr;
}

export interface BetweenExpr extends NodeBase {
  kind: 'between';
  not: boolean;
  symmetric?: boolean;
  expr: Expr;
  low: Expr;
  high: Expr;
}

export interface InListExpr extends NodeBase {
  kind: 'in_list';
  not: boolean;
  expr: Expr;
  list: Expr[];
}

export interface InSubqueryExpr extends NodeBase {
  kind: 'in_subquery';
  not: boolean;
  expr: Expr;
  query: Query;
}

/** `x IS [NOT] NULL | TRUE | FALSE | UNKNOWN`, `x IS [NOT] DISTINCT FROM y`. */
export interface IsExpr extends NodeBase {
  kind: 'is';
  not: boolean;
  expr: Expr;
  test: 'null' | 'true' | 'false' | 'unknown' | 'distinct_from';
  other?: Expr;
}

export interface ExistsExpr extends NodeBase {
  kind: 'exists';
  query: Query;
}

export interface ScalarSubquery extends NodeBase {
  kind: 'scalar_subquery';
  query: Query;
}

/** `x op ANY (subquery | array)`, `x op ALL (…)`, `x op SOME (…)`. */
export interface QuantifiedExpr extends NodeBase {
  kind: 'quantified';
  op: BinaryOperator;
  quantifier: 'any' | 'all' | 'some';
  expr: Expr;
  query?: Query;
  array?: Expr;
}

export interface CaseExpr extends NodeBase {
  kind: 'case';
  operand?: Expr;
  whens: { when: Expr; then: Expr }[];
  else?: Expr;
}

export interface CastExpr extends NodeBase {
  kind: 'cast';
  expr: Expr;
  type: TypeName;
  /** `CAST(x AS t)`, `x::t` or `TRY_CAST(x AS t)`. */
  syntax: 'cast' | 'colons' | 'try_cast';
}

/**
 * A function or aggregate call. `dp` marks the DP aggregates of SPEC.md §3
 * (`DP COUNT(*)`, `DP SUM(x BOUNDED lo AND hi)`).
 */
export interface FunctionCall extends NodeBase {
  kind: 'function';
  /** Possibly schema-qualified (`pg_catalog.format_type`); lower-cased unless quoted. */
  name: string[];
  args: Expr[];
  distinct?: boolean;
  /** Aggregate-internal ORDER BY: `string_agg(x, ',' ORDER BY y)`. */
  orderBy?: OrderItem[];
  /**
   * Ordered-set aggregate ordering: `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`.
   * (Added by the parser work; distinct from `orderBy`, whose semantics differ.)
   */
  withinGroup?: OrderItem[];
  /** `FILTER (WHERE …)`. */
  filter?: Expr;
  /** `OVER (…)` or `OVER name`. */
  over?: WindowSpec | string;
  dp?: DpAggregateSpec;
}

export interface DpAggregateSpec extends NodeBase {
  /** `BOUNDED lo AND hi` clamping bounds for SUM/AVG. */
  bounds?: { low: Expr; high: Expr };
}

/** The argument of `COUNT(*)`: only valid as a function argument. */
export interface StarArgument extends NodeBase {
  kind: 'star_arg';
}

export interface WindowSpec extends NodeBase {
  /** `OVER (base_window PARTITION BY …)` refers to a named window. */
  baseWindow?: string;
  partitionBy?: Expr[];
  orderBy?: OrderItem[];
  frame?: WindowFrame;
}

export interface WindowFrame extends NodeBase {
  units: 'rows' | 'range' | 'groups';
  start: FrameBound;
  end?: FrameBound;
  exclude?: 'current row' | 'group' | 'ties' | 'no others';
}

export interface FrameBound extends NodeBase {
  type: 'unbounded_preceding' | 'preceding' | 'current_row' | 'following' | 'unbounded_following';
  offset?: Expr;
}

/** `EXTRACT(field FROM expr)`. */
export interface ExtractExpr extends NodeBase {
  kind: 'extract';
  field: string;
  expr: Expr;
}

/** Keyword values without parentheses: CURRENT_DATE, CURRENT_USER, … (lower-cased). */
export interface SpecialValue extends NodeBase {
  kind: 'special';
  name:
    | 'current_date'
    | 'current_time'
    | 'current_timestamp'
    | 'localtime'
    | 'localtimestamp'
    | 'current_user'
    | 'session_user'
    | 'user'
    | 'current_role'
    | 'current_schema'
    | 'current_catalog';
}

/** `ARRAY[a, b]` (or DuckDB's `[a, b]`, printed as ARRAY[…]). */
export interface ArrayExpr extends NodeBase {
  kind: 'array';
  elements: Expr[];
}

/** `ARRAY(subquery)`. */
export interface ArraySubquery extends NodeBase {
  kind: 'array_subquery';
  query: Query;
}

/** `expr[index]` or slice `expr[lower:upper]`. */
export interface SubscriptExpr extends NodeBase {
  kind: 'subscript';
  expr: Expr;
  index?: Expr;
  /** Present for slices; `index` is then the lower bound. */
  slice?: { upper?: Expr };
}

/** `(expr).field`. */
export interface FieldAccess extends NodeBase {
  kind: 'field';
  expr: Expr;
  field: string;
}

/** `expr COLLATE name` (e.g. psql's `COLLATE pg_catalog.default`). */
export interface CollateExpr extends NodeBase {
  kind: 'collate';
  expr: Expr;
  collation: string[];
}

/** `(a, b)` with ≥ 2 elements or `ROW(a, …)`. */
export interface RowExpr extends NodeBase {
  kind: 'row';
  elements: Expr[];
  explicit?: boolean;
}

/**
 * A type as written. `name` is the canonical lower-case spelling of the base type
 * (`integer`, `bigint`, `double precision`, `character varying`, `numeric`,
 * `timestamp with time zone`, `regclass`, …); `args` are typmods (`numeric(12,2)`);
 * `arrayDims` counts trailing `[]`.
 */
export interface TypeName extends NodeBase {
  name: string;
  schema?: string;
  args?: number[];
  arrayDims?: number;
}

// ───────────────────────────── other statements ─────────────────────────────

export interface ExplainStatement extends NodeBase {
  kind: 'explain';
  /** `EXPLAIN`, `EXPLAIN ANALYZE`, `EXPLAIN DP`. */
  mode: 'plan' | 'analyze' | 'dp';
  verbose?: boolean;
  statement: Query;
}

export type ShowTarget =
  | { what: 'parties' }
  | { what: 'tables'; from?: string }
  | { what: 'policies'; from?: string[] }
  | { what: 'privacy_budget' }
  | { what: 'all' }
  /** `SHOW name`; multi-word settings are normalised: `transaction_isolation`, `timezone`. */
  | { what: 'setting'; name: string };

export interface ShowStatement extends NodeBase {
  kind: 'show';
  target: ShowTarget;
}

/**
 * `SET [SESSION|LOCAL] name {=|TO} value[, …]`, `SET name TO DEFAULT`, `SET TIME ZONE …`
 * (name `timezone`), `SET SESSION CHARACTERISTICS AS TRANSACTION …` (name
 * `session_characteristics`, values as written). Bare words in values are `ColumnRef`s.
 */
export interface SetStatement extends NodeBase {
  kind: 'set';
  scope?: 'session' | 'local';
  name: string;
  values: Expr[] | 'default';
}

export interface ResetStatement extends NodeBase {
  kind: 'reset';
  /** A setting name or `all`. */
  name: string;
}

export interface TransactionStatement extends NodeBase {
  kind: 'transaction';
  action: 'begin' | 'start' | 'commit' | 'end' | 'rollback' | 'abort';
  /** Transaction modes as written, lower-cased (`isolation level read committed`, `read only`). */
  modes?: string[];
}

export interface DiscardStatement extends NodeBase {
  kind: 'discard';
  target: 'all' | 'plans' | 'sequences' | 'temp';
}

export interface DeallocateStatement extends NodeBase {
  kind: 'deallocate';
  /** Absent with `all`. */
  name?: string;
  all?: boolean;
}

// ───────────────────────────── helpers ─────────────────────────────

/** A deep copy of `node` with every `span` removed: what round-trip tests compare. */
export function stripSpans<T>(node: T): T {
  return JSON.parse(JSON.stringify(node, (key, value) => (key === 'span' ? undefined : value))) as T;
}
