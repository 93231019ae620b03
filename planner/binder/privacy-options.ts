/**
 * Differential-privacy options of a SELECT block: the trailing `WITH PRIVACY (…)`, BigQuery's
 * `SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (…)`, and the session defaults (`SET dp.epsilon =
 * 0.5`, …). The binder resolves and validates them once per block that has DP aggregates and
 * attaches the result to the block's aggregate node, where the DP operator's planner reads it
 * (`dpOptionsOf`). Optimizer rewrites copy nodes with object spread, which keeps the options.
 *
 * Two rewrites of the SELECT's AST happen before binding (`prepareDpSelect`):
 * - in a block with privacy options every COUNT/SUM/AVG is a DP aggregate (BigQuery semantics;
 *   writing DP explicitly is optional there);
 * - `DP_CI_LOW(alias)` / `DP_CI_HIGH(alias)` become a copy of the aliased DP aggregate marked
 *   with the interval end it asks for, so the operator releases the interval with the value.
 */
import type { DpAggregateSpec, Expr, FunctionCall, PrivacyOption, Select, SelectItem } from '../../parser/ast.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { mapExpr } from '../expr-utils.js';
import type { AggregateNode } from '../logical-plan.js';
import type { BindContext } from './context.js';
import type { Scope } from './scope.js';

export type DpNoise = 'laplace' | 'gaussian';

export interface DpOptions {
  epsilon: number;
  delta: number;
  noise: DpNoise;
  /** Source column name of the privacy unit (lower case); absent: every row is its own unit. */
  privacyUnit?: string;
  maxGroupsContributed: number;
  maxRowsContributed: number;
  maxPartiesContributed: number;
  /** THRESHOLD (keys from the data, released above a noisy threshold) or PUBLIC (declared keys). */
  groups: { mode: 'threshold' } | { mode: 'public'; keys: PublicKeyLiteral[][] };
  confidence: number;
}

/** A declared public group key value: its literal text, or null for NULL. */
export type PublicKeyLiteral = string | null;

/** A DP aggregate call that stands for one end of another DP aggregate's interval. */
export interface DpCallSpec extends DpAggregateSpec {
  ci?: 'low' | 'high';
}

export const DP_DEFAULTS: Omit<DpOptions, 'groups' | 'privacyUnit'> = {
  epsilon: 1,
  delta: 1e-8,
  noise: 'laplace',
  maxGroupsContributed: 1,
  maxRowsContributed: 1,
  maxPartiesContributed: 1,
  confidence: 0.95,
};

/** Option names, with the BigQuery spellings we accept as synonyms. */
const NAMES: Record<string, string> = {
  epsilon: 'epsilon',
  delta: 'delta',
  noise: 'noise',
  privacy_unit: 'privacy_unit',
  privacy_unit_column: 'privacy_unit',
  max_groups_contributed: 'max_groups_contributed',
  max_partitions_contributed: 'max_groups_contributed',
  max_rows_contributed: 'max_rows_contributed',
  max_parties_contributed: 'max_parties_contributed',
  groups: 'groups',
  group_selection_strategy: 'groups',
  confidence: 'confidence',
};

/** The session settings that provide defaults (`SET dp.epsilon = 0.5`). */
export const DP_SETTING_NAMES = ['epsilon', 'delta', 'noise', 'privacy_unit', 'max_groups_contributed', 'max_rows_contributed', 'max_parties_contributed', 'groups', 'confidence'];

const DP_AGGREGATES = new Set(['count', 'sum', 'avg']);
const KEY = 'dpOptions';

const pos = (n: { span?: { start: number } } | undefined): number | undefined => (n?.span ? n.span.start + 1 : undefined);

export function dpOptionsOf(node: AggregateNode): DpOptions | undefined {
  return (node as AggregateNode & { [KEY]?: DpOptions })[KEY];
}

export function attachDpOptions(node: AggregateNode, options: DpOptions): AggregateNode {
  return Object.assign(node, { [KEY]: options });
}

export function ciOf(call: FunctionCall): 'low' | 'high' | undefined {
  return (call.dp as DpCallSpec | undefined)?.ci;
}

function isPlainAggregate(e: Expr): e is FunctionCall {
  return e.kind === 'function' && e.over === undefined && e.name.length === 1;
}

/** Marks COUNT/SUM/AVG as DP in a block with privacy options (not inside subqueries). */
function markImplicitDp(e: Expr): Expr {
  return mapExpr(e, {
    expr: (x) => {
      if (!isPlainAggregate(x) || x.dp) return undefined;
      const name = x.name[0];
      if (!DP_AGGREGATES.has(name)) return undefined;
      return { ...x, args: x.args, dp: { span: x.span } };
    },
    query: (q) => q,
  });
}

/**
 * Rewrites a SELECT for DP binding: implicit DP aggregates under privacy options, and
 * DP_CI_LOW/HIGH over an alias (or a DP aggregate written inline) as marked DP aggregates.
 */
export function prepareDpSelect(sel: Select): Select {
  const mentionsCi = sel.items.some((i) => i.kind === 'expr_item' && containsCiCall(i.expr));
  if (!sel.privacy && !mentionsCi) return sel;
  let items = sel.items;
  let having = sel.having;
  if (sel.privacy) {
    items = items.map((i) => (i.kind === 'expr_item' ? { ...i, expr: markImplicitDp(i.expr) } : i));
    if (having) having = markImplicitDp(having);
  }
  const byAlias = new Map<string, FunctionCall>();
  for (const i of items) {
    if (i.kind === 'expr_item' && i.alias && i.expr.kind === 'function' && i.expr.dp) byAlias.set(i.alias, i.expr);
  }
  const ciCall = (x: FunctionCall, end: 'low' | 'high'): FunctionCall => {
    const name = x.name[0].toUpperCase();
    if (x.args.length !== 1) {
      throw new SqlError(SqlState.undefinedFunction, `${name} takes exactly one argument: the alias of a DP aggregate`, { position: pos(x) });
    }
    const arg = x.args[0];
    let target: FunctionCall | undefined;
    if (arg.kind === 'column' && arg.name.length === 1) target = byAlias.get(arg.name[0]);
    else if (arg.kind === 'function' && arg.dp) target = arg;
    if (!target) {
      throw new SqlError(SqlState.undefinedColumn, `${name}(${arg.kind === 'column' ? arg.name.join('.') : '…'}) must name a DP aggregate of the same SELECT list`, {
        position: pos(arg),
        hint: `Give the DP aggregate an alias and refer to it, e.g. SELECT DP COUNT(*) AS n, ${name}(n) …`,
      });
    }
    const dp: DpCallSpec = { ...target.dp, ci: end };
    return { ...target, dp, span: x.span };
  };
  const rewriteCi = (e: Expr): Expr =>
    mapExpr(e, {
      expr: (x) => {
        if (x.kind !== 'function' || x.name.length !== 1) return undefined;
        if (x.name[0] === 'dp_ci_low') return ciCall(x, 'low');
        if (x.name[0] === 'dp_ci_high') return ciCall(x, 'high');
        return undefined;
      },
      query: (q) => q,
    });
  items = items.map((i): SelectItem => {
    if (i.kind !== 'expr_item' || !containsCiCall(i.expr)) return i;
    // Keep Postgres' column name for the unaliased call (`dp_ci_low`).
    const alias = i.alias ?? (i.expr.kind === 'function' ? i.expr.name[i.expr.name.length - 1] : undefined);
    return { ...i, expr: rewriteCi(i.expr), ...(alias ? { alias } : {}) };
  });
  return { ...sel, items, ...(having ? { having } : {}) };
}

function containsCiCall(e: Expr): boolean {
  let found = false;
  mapExpr(e, {
    expr: (x) => {
      if (x.kind === 'function' && x.name.length === 1 && (x.name[0] === 'dp_ci_low' || x.name[0] === 'dp_ci_high')) found = true;
      return found ? x : undefined;
    },
    query: (q) => q,
  });
  return found;
}

function optionError(o: PrivacyOption | undefined, message: string, hint?: string): SqlError {
  return new SqlError(SqlState.invalidParameterValue, message, { position: pos(o), ...(hint ? { hint } : {}) });
}

function numberValue(e: Expr): number | undefined {
  if (e.kind === 'number') return Number(e.text);
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'number') return -Number(e.operand.text);
  if (e.kind === 'string' && e.value.trim() !== '' && Number.isFinite(Number(e.value))) return Number(e.value);
  return undefined;
}

function wordValue(e: Expr): string | undefined {
  if (e.kind === 'column' && e.name.length === 1) return e.name[0].toLowerCase();
  if (e.kind === 'string') return e.value.toLowerCase();
  return undefined;
}

function literalText(e: Expr, o: PrivacyOption): PublicKeyLiteral {
  if (e.kind === 'null') return null;
  if (e.kind === 'string') return e.value;
  if (e.kind === 'boolean') return e.value ? 'true' : 'false';
  if (e.kind === 'number') return e.text;
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'number') return `-${e.operand.text}`;
  if (e.kind === 'typed_string') return e.value;
  throw optionError(o, 'groups = PUBLIC (…) takes literal key values');
}

/** A setting/option value as text → a typed option value, or an error naming the option. */
function parseValue(name: string, raw: { num?: number; word?: string }, o: PrivacyOption | undefined): number | string {
  const positiveInt = (max: number) => {
    if (raw.num === undefined || !Number.isInteger(raw.num) || raw.num < 1 || raw.num > max) throw optionError(o, `${name} must be an integer between 1 and ${max}`);
    return raw.num;
  };
  switch (name) {
    case 'epsilon':
      if (raw.num === undefined || !(raw.num > 0) || raw.num > 100) throw optionError(o, 'epsilon must be a number in (0, 100]');
      return raw.num;
    case 'delta':
      if (raw.num === undefined || raw.num < 0 || raw.num > 0.01) throw optionError(o, 'delta must be a number in [0, 0.01]', 'Typical values are 1e-6 … 1e-10, well below 1 / (number of people).');
      return raw.num;
    case 'confidence':
      if (raw.num === undefined || !(raw.num > 0 && raw.num < 1)) throw optionError(o, 'confidence must be a number in (0, 1), e.g. 0.95');
      return raw.num;
    case 'noise':
      if (raw.word !== 'laplace' && raw.word !== 'gaussian') throw optionError(o, 'noise must be laplace or gaussian');
      return raw.word;
    case 'max_groups_contributed':
    case 'max_rows_contributed':
      return positiveInt(1_000_000);
    case 'max_parties_contributed':
      return positiveInt(1000);
    case 'privacy_unit':
      if (!raw.word) throw optionError(o, 'privacy_unit must name a column');
      return raw.word;
    default:
      throw optionError(o, `unknown privacy option "${name}"`);
  }
}

/**
 * Checks `SET dp.<name> = <text>` when it is set (the binder re-checks when a query uses it).
 * Unknown names are 42704, bad values 22023.
 */
export function validateDpSetting(name: string, text: string): void {
  const canonical = NAMES[name];
  if (!canonical || !DP_SETTING_NAMES.includes(name)) {
    throw new SqlError('42704', `unrecognized configuration parameter "dp.${name}"`, {
      hint: `DP settings: ${DP_SETTING_NAMES.filter((n) => n !== 'groups').map((n) => `dp.${n}`).join(', ')}.`,
    });
  }
  if (canonical === 'groups') throw new SqlError(SqlState.invalidParameterValue, 'groups is chosen per query (WITH PRIVACY (groups = …)), not as a session default');
  const num = text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
  parseValue(canonical, { num, word: text.trim().toLowerCase() }, undefined);
}

/** The session's `dp.*` settings without the prefix (what `planQuery` takes as privacy defaults). */
export function dpSessionDefaults(settings: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of settings) if (k.startsWith('dp.')) out[k.slice(3)] = v;
  return out;
}

/**
 * The options of a block with DP aggregates: defaults, then the session's `dp.*` settings, then
 * the block's own options. The privacy unit must name a column of the block's FROM clause.
 */
export function resolveDpOptions(sel: Select, ctx: BindContext, scope: Scope): DpOptions {
  const options: DpOptions = { ...DP_DEFAULTS, groups: { mode: 'threshold' } };
  const assign = (name: string, value: number | string) => {
    switch (name) {
      case 'epsilon': options.epsilon = value as number; break;
      case 'delta': options.delta = value as number; break;
      case 'confidence': options.confidence = value as number; break;
      case 'noise': options.noise = value as DpNoise; break;
      case 'max_groups_contributed': options.maxGroupsContributed = value as number; break;
      case 'max_rows_contributed': options.maxRowsContributed = value as number; break;
      case 'max_parties_contributed': options.maxPartiesContributed = value as number; break;
      case 'privacy_unit': options.privacyUnit = value as string; break;
    }
  };
  for (const [setting, text] of Object.entries(ctx.privacyDefaults)) {
    const name = NAMES[setting];
    if (!name || name === 'groups') continue;
    const num = text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
    try {
      assign(name, parseValue(name, { num, word: text.trim().toLowerCase() }, undefined));
    } catch (e) {
      if (e instanceof SqlError) throw new SqlError(e.sqlstate, `session setting dp.${setting}: ${e.message}`, { hint: 'Change it with SET, or RESET it.' });
      throw e;
    }
  }
  const seen = new Set<string>();
  for (const o of sel.privacy?.options ?? []) {
    const name = NAMES[o.name.toLowerCase()];
    if (!name) {
      throw new SqlError(SqlState.syntaxError, `unknown privacy option "${o.name}"`, {
        position: pos(o),
        hint: `Known options: ${[...new Set(Object.values(NAMES))].join(', ')}.`,
      });
    }
    if (seen.has(name)) throw new SqlError(SqlState.syntaxError, `privacy option "${name}" is given twice`, { position: pos(o) });
    seen.add(name);
    if (name === 'groups') {
      const mode = wordValue(o.value);
      if (mode === 'threshold' && !o.list) options.groups = { mode: 'threshold' };
      else if ((mode === 'public' || mode === 'public_groups') && o.list?.length) {
        options.groups = { mode: 'public', keys: o.list.map((v) => (v.kind === 'row' ? v.elements.map((x) => literalText(x, o)) : [literalText(v, o)])) };
      } else throw optionError(o, "groups must be THRESHOLD or PUBLIC ('v1', 'v2', …)");
      continue;
    }
    assign(name, parseValue(name, { num: numberValue(o.value), word: wordValue(o.value) }, o));
  }
  if (options.privacyUnit) {
    const unitOption = sel.privacy?.options.find((o) => NAMES[o.name.toLowerCase()] === 'privacy_unit');
    try {
      scope.resolve([options.privacyUnit], unitOption?.value.span);
    } catch (e) {
      if (e instanceof SqlError) {
        throw new SqlError(e.sqlstate, `privacy_unit: ${e.message}`, { position: pos(unitOption?.value), hint: 'The privacy unit must be a column of the FROM clause, e.g. privacy_unit = customer_id.' });
      }
      throw e;
    }
  } else if (options.maxGroupsContributed !== 1 || options.maxRowsContributed !== 1) {
    throw new SqlError(SqlState.invalidParameterValue, 'max_groups_contributed and max_rows_contributed bound what one privacy unit contributes: declare privacy_unit too', {
      position: pos(sel.privacy),
      hint: 'Without privacy_unit every row is its own unit (one row, one group).',
    });
  }
  if (options.noise === 'gaussian' && options.delta === 0) {
    throw new SqlError(SqlState.invalidParameterValue, 'noise = gaussian needs delta > 0', { position: pos(sel.privacy) });
  }
  return options;
}

/** `dp_ci_low` / `dp_ci_high` outside a SELECT list that has the DP aggregate they name. */
export function misplacedCiError(call: FunctionCall): SqlError {
  const name = call.name[call.name.length - 1].toUpperCase();
  return new SqlError(SqlState.undefinedFunction, `${name} can only be used in a SELECT list, on the alias of a DP aggregate of that list`, {
    position: pos(call),
    hint: `E.g. SELECT region, DP COUNT(*) AS n, ${name}(n) FROM … GROUP BY region.`,
  });
}
