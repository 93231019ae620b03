/**
 * Shared machinery for the VeilSQL grammar classes (chevrotain "grammar inheritance":
 * `GrammarBase` ← `ExprGrammar` (expressions, types) ← `VeilSqlParser` (queries, statements)).
 *
 * What lives here and why:
 * - Span helpers: every AST node records `{start, end}` from its first and last token.
 * - Hand-written lookahead scans used as GATEs where LL(k) with a fixed k cannot decide, e.g. is
 *   this `(` a subquery or a parenthesised expression (`((SELECT 1) + 1)`), is `foo.bar(` a
 *   function call, is `timestamp with time zone '…'` a typed literal. They run over the token
 *   vector with a precomputed matching-bracket table, so each scan is O(1) per bracket.
 * - `GrammarError`: failures the grammar detects itself (too deep nesting, duplicate LIMIT, …),
 *   carried to `parser.ts`, which turns every failure into a `SqlSyntaxError`.
 */
import { EmbeddedActionsParser, EOF, tokenMatcher, type IToken, type TokenType } from 'chevrotain';
import type { Span } from './ast.js';
import { errorMessageProvider } from './parse-errors.js';
import {
  allTokens,
  AnyWord,
  Identifier,
  kw,
  LBracket,
  LParen,
  RBracket,
  RParen,
  StringLit,
  Dot,
  type LexedToken,
  type KeywordName,
} from './lexer.js';

/** Maximum bracket nesting; deeper input gets a clear error instead of a stack overflow. */
export const MAX_NESTING = 200;
/** Maximum recursion of the expression rule (prefix operator chains, nested CASE, …). */
export const MAX_EXPR_DEPTH = 1000;

/** An error the grammar itself detected, positioned at a token (empty message: generic wording). */
export class GrammarError extends Error {
  constructor(
    readonly token: IToken,
    message: string,
    readonly expected: string[] = [],
  ) {
    super(message);
    this.name = 'GrammarError';
  }
}

/** Words that can follow a parenthesised query operand (`(SELECT 1) UNION …`). */
const QUERY_CONTINUATIONS = new Set<TokenType>(
  (['union', 'intersect', 'except', 'order', 'limit', 'offset', 'fetch'] as const).map((w) => kw(w)),
);

/** Words allowed as an interval unit (`INTERVAL '1' DAY`, `INTERVAL 7 DAYS`). */
export const INTERVAL_UNITS: ReadonlySet<string> = new Set(
  [
    'microsecond', 'millisecond', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year',
    'decade', 'century', 'millennium',
  ].flatMap((u) => [u, u + 's']).concat(['centuries', 'millennia', 'microseconds', 'milliseconds']),
);

export abstract class GrammarBase extends EmbeddedActionsParser {
  /** The current statement's tokens (same objects as the parser input). */
  protected toks: LexedToken[] = [];
  /** For each `(`/`[` token index, the index of its matching closer (or -1). */
  protected closer: Int32Array = new Int32Array(0);
  protected depth = 0;

  constructor() {
    super(allTokens, {
      maxLookahead: 2,
      recoveryEnabled: false,
      errorMessageProvider,
      // Grammar validation (ambiguities, index clashes) is for development: VEILSQL_PARSER_VALIDATE=1.
      skipValidations: process.env.VEILSQL_PARSER_VALIDATE !== '1',
    });
  }

  /** Installs a statement's tokens and their bracket table (from `matchBrackets`). */
  loadTokens(tokens: LexedToken[], closer: Int32Array): void {
    this.toks = tokens;
    this.closer = closer;
    this.depth = 0;
    this.input = tokens;
  }

  // ───────────────────────────── spans ─────────────────────────────

  /** Offset where the next token starts (the start of the node about to be parsed). */
  protected here(): number {
    return this.LA(1).startOffset;
  }

  /** Span from `start` to the end of the last consumed token. */
  protected spanFrom(start: number): Span {
    return { start, end: this.LA(0).endOffset! + 1 };
  }

  /**
   * Sets `n.span` from `start`. During chevrotain's recording phase, OR/OPTION return a frozen
   * placeholder, so writes are skipped there.
   */
  protected spanned<T extends object>(n: T, start: number): T {
    if (!this.RECORDING_PHASE) (n as { span?: Span }).span = this.spanFrom(start);
    return n;
  }

  /** Runs `f` except during the recording phase (where subrule results are placeholders). */
  protected act<T>(f: () => T, fallback: T): T {
    return this.RECORDING_PHASE ? fallback : f();
  }

  protected tokSpan(t: IToken): Span {
    return { start: t.startOffset, end: t.endOffset! + 1 };
  }

  // ───────────────────────────── token tests ─────────────────────────────

  /** Token at absolute index `i` of the current statement (EOF past the end). */
  protected tokAt(i: number): IToken {
    return i >= 0 && i < this.toks.length ? this.toks[i] : this.eofToken();
  }

  private eofToken(): IToken {
    return this.LA(this.toks.length + 1);
  }

  /** Absolute index of LA(k). */
  protected idxOf(k: number): number {
    const t = this.LA(k) as Partial<LexedToken>;
    return t.idx ?? this.toks.length;
  }

  protected is(t: IToken, type: TokenType): boolean {
    return t.tokenType !== EOF && tokenMatcher(t, type);
  }

  protected isKw(t: IToken, w: KeywordName): boolean {
    return t.tokenType === kw(w);
  }

  protected lower(t: IToken): string {
    return t.image.toLowerCase();
  }

  // ───────────────────────────── lookahead scans ─────────────────────────────

  /**
   * Does the bracket group opening at index `i` hold a query (`(SELECT …)`, `((SELECT …) UNION …)`)
   * rather than an expression (`((SELECT 1) + 1)`, `((SELECT 1), 2)`)?
   */
  protected parenHoldsQuery(i: number): boolean {
    const open = this.tokAt(i);
    if (!this.is(open, LParen)) return false;
    const next = this.tokAt(i + 1);
    if (this.isKw(next, 'select') || this.isKw(next, 'values') || this.isKw(next, 'with')) return true;
    if (!this.is(next, LParen) || !this.parenHoldsQuery(i + 1)) return false;
    const after = this.tokAt(this.closer[i + 1] + 1);
    return this.is(after, RParen) || QUERY_CONTINUATIONS.has(after.tokenType);
  }

  /** Index just past a qualified name starting at `i` (`a`, `a.b`, `a.b.c`), or -1. */
  protected scanQualifiedName(i: number): number {
    if (!this.is(this.tokAt(i), Identifier)) return -1;
    let j = i + 1;
    while (this.is(this.tokAt(j), Dot) && this.is(this.tokAt(j + 1), AnyWord)) j += 2;
    return j;
  }

  /** `name(` or `schema.name(` (also `left(` / `right(`) at LA(k). */
  protected atFunctionCall(k = 1): boolean {
    const i = this.idxOf(k);
    const t = this.tokAt(i);
    if (this.isKw(t, 'left') || this.isKw(t, 'right')) return this.is(this.tokAt(i + 1), LParen);
    const j = this.scanQualifiedName(i);
    return j > 0 && this.is(this.tokAt(j), LParen);
  }

  /** A type name directly followed by a string constant at LA(1): `DATE '…'`, `double precision '1'`. */
  protected atTypedLiteral(): boolean {
    const j = this.scanTypeName(this.idxOf(1));
    return j > 0 && this.is(this.tokAt(j), StringLit);
  }

  /** Index just past a type name (without array bounds) starting at `i`, or -1. Mirrors `typeName`. */
  protected scanTypeName(i: number): number {
    if (!this.is(this.tokAt(i), Identifier)) return -1;
    const words = [this.lower(this.tokAt(i))];
    let j = i + 1;
    if (this.is(this.tokAt(j), Dot) && this.is(this.tokAt(j + 1), AnyWord)) {
      words[0] = this.lower(this.tokAt(j + 1));
      j += 2;
    }
    while (this.typeWordContinues(words, j)) words.push(this.lower(this.tokAt(j++)));
    if (this.is(this.tokAt(j), LParen)) {
      const c = this.closer[j];
      if (c < 0) return -1;
      j = c + 1;
    }
    while (this.typeWordContinues(words, j)) words.push(this.lower(this.tokAt(j++)));
    return j;
  }

  /**
   * Whether the word at index `j` continues the multi-word type `words`: `double precision`,
   * `character varying`, `bit varying`, `national character`, `time[stamp] with[out] time zone`.
   */
  protected typeWordContinues(words: string[], j: number): boolean {
    const t = this.tokAt(j);
    if (!this.is(t, AnyWord)) return false;
    const w = this.lower(t);
    const last = words[words.length - 1];
    const prev = words.length > 1 ? words[words.length - 2] : '';
    if (last === 'time' && (prev === 'with' || prev === 'without')) return w === 'zone';
    switch (last) {
      case 'double':
        return words.length === 1 && w === 'precision';
      case 'national':
        return words.length === 1 && (w === 'character' || w === 'char');
      case 'character':
      case 'char':
      case 'bit':
        return w === 'varying' && (words.length === 1 || prev === 'national');
      case 'timestamp':
      case 'time':
        if (words.length === 1 && (w === 'with' || w === 'without'))
          return this.lower(this.tokAt(j + 1)) === 'time' && this.lower(this.tokAt(j + 2)) === 'zone';
        return false;
      case 'with':
      case 'without':
        return w === 'time';
      default:
        return false;
    }
  }

  /** Is LA(1) an interval unit word? */
  protected atIntervalUnit(): boolean {
    const t = this.LA(1);
    return this.is(t, AnyWord) && t.tokenType !== kw('to') && INTERVAL_UNITS.has(this.lower(t));
  }

  // ───────────────────────────── guards ─────────────────────────────

  /** Called on entry to recursive expression rules: bounded recursion, clear error. */
  protected enter(): void {
    if (++this.depth > MAX_EXPR_DEPTH) {
      throw new GrammarError(this.LA(1), `statement is too complex: expressions nested more than ${MAX_EXPR_DEPTH} levels deep`);
    }
  }

  protected leave(): void {
    this.depth--;
  }

  protected fail(t: IToken, message: string): never {
    throw new GrammarError(t, message);
  }

  /** A plain `syntax error at or near "…"` at `t`, with what would have been accepted. */
  protected failNear(t: IToken, expected: string[]): never {
    throw new GrammarError(t, '', expected);
  }
}

/**
 * Computes the matching-bracket table of a token vector and enforces `MAX_NESTING`. Unbalanced
 * brackets are left for the grammar to report (with the usual "syntax error at or near").
 */
export function matchBrackets(tokens: LexedToken[]): Int32Array {
  const closer = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tt = tokens[i].tokenType;
    if (tt === LParen || tt === LBracket) {
      stack.push(i);
      if (stack.length > MAX_NESTING) {
        throw new GrammarError(
          tokens[i],
          `statement is too deeply nested: more than ${MAX_NESTING} levels of parentheses or brackets`,
        );
      }
    } else if (tt === RParen || tt === RBracket) {
      const open = stack.pop();
      if (open !== undefined) closer[open] = i;
    }
  }
  return closer;
}
