/**
 * Turning chevrotain's failures into Postgres-style `SqlSyntaxError`s.
 *
 * - Position: Postgres reports the first token it could not shift. Chevrotain reports LA(1) of
 *   the failed decision even when the decision failed on LA(2) or LA(3) (`CAST x` fails at `x`,
 *   not at `CAST`), so the message provider records how many lookahead tokens did match and the
 *   error is moved forward by that much.
 * - Expected list: recomputed with chevrotain's content assist over the tokens before the error
 *   (a superset, since it ignores gates), then summarised for humans: "an expression",
 *   "an identifier", "an operator", keywords, punctuation, "end of input".
 * - Lexical errors are tokens (see `LexError`), so they fail the grammar at their own position and
 *   get Postgres' wording ("unterminated quoted string at or near …").
 */
import { EOF, tokenMatcher, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import {
  AnyWord,
  Arrow,
  BadChar,
  Caret,
  Concat,
  DoubleColon,
  Dot,
  Identifier,
  K,
  LBracket,
  LexError,
  LParen,
  Minus,
  NumberLit,
  Param,
  Plus,
  Slash,
  Star,
  StringLit,
  Tilde,
  UnterminatedComment,
  UnterminatedDollar,
  UnterminatedEString,
  UnterminatedIdentifier,
  UnterminatedString,
  ZeroLengthIdentifier,
} from './lexer.js';
import { locate, nearText, SqlSyntaxError } from './syntax-error.js';

interface EncodedInfo {
  /** How many tokens after the exception's token the real offending token is. */
  shift: number;
  expected: string[];
}

function encode(info: EncodedInfo): string {
  return JSON.stringify(info);
}

/** Length of the longest prefix of `actual` matched by one of `paths`, and the tokens expected there. */
function deepestMatch(paths: TokenType[][], actual: IToken[]): EncodedInfo {
  let best = 0;
  const expected = new Map<number, Set<TokenType>>();
  for (const path of paths) {
    let m = 0;
    while (m < path.length && m < actual.length && actual[m].tokenType !== EOF && tokenMatcher(actual[m], path[m])) m++;
    if (m >= path.length) continue;
    best = Math.max(best, m);
    const set = expected.get(m) ?? new Set<TokenType>();
    set.add(path[m]);
    expected.set(m, set);
  }
  return { shift: best, expected: describeExpected([...(expected.get(best) ?? [])]) };
}

/** Encodes what chevrotain knows into the exception message; `toSyntaxError` decodes it. */
export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => encode({ shift: 0, expected: describeExpected([expected]) }),
  buildNotAllInputParsedMessage: () => encode({ shift: 0, expected: ['end of input'] }),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) => encode(deepestMatch(expectedPathsPerAlt.flat(), actual)),
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) => encode(deepestMatch(expectedIterationPaths, actual)),
};

export function decode(message: string): EncodedInfo {
  try {
    const v = JSON.parse(message) as EncodedInfo;
    if (typeof v.shift === 'number' && Array.isArray(v.expected)) return v;
  } catch {
    // not ours
  }
  return { shift: 0, expected: [] };
}

// ───────────────────────────── readable expectations ─────────────────────────────

const EXPR_STARTS = new Set<TokenType>([
  NumberLit, StringLit, Param, Identifier, LParen, LBracket, Minus, Plus, Tilde,
  ...(['case', 'cast', 'exists', 'array', 'not', 'true', 'false', 'null', 'current_date', 'current_time',
    'current_timestamp', 'localtime', 'localtimestamp', 'current_user', 'session_user', 'user',
    'current_role', 'current_schema', 'current_catalog', 'left', 'right'] as const).map((w) => K[w]),
]);

const OPERATOR_WORDS = new Set<TokenType>(
  (['and', 'or', 'is', 'isnull', 'notnull', 'between', 'in', 'like', 'ilike', 'similar', 'collate', 'not', 'at', 'operator'] as const).map(
    (w) => K[w],
  ),
);

function isSymbolOperator(t: TokenType): boolean {
  return typeof t.LABEL === 'string' && /^'[^A-Za-z0-9(),;[\]]+'$/.test(t.LABEL) && t !== Dot;
}

/** Summarises expected token types the way a person would say it. */
export function describeExpected(types: TokenType[]): string[] {
  const set = new Set(types);
  const head: string[] = [];
  const words: string[] = [];
  const punct: string[] = [];
  let eof = false;
  const expression = set.has(NumberLit) || set.has(StringLit);
  const identifier = !expression && [...set].some((t) => t === Identifier || t === AnyWord);
  const operator = set.has(Star) && set.has(Slash) && set.has(Concat);
  if (expression) head.push('an expression');
  if (identifier) head.push('an identifier');
  for (const t of set) {
    if (t === EOF) {
      eof = true;
      continue;
    }
    if (expression && (EXPR_STARTS.has(t) || isIdentifierCategory(t) || t === StringLit || t === Param)) continue;
    if (identifier && (t === Identifier || t === AnyWord)) continue;
    if (operator && (isSymbolOperator(t) || OPERATOR_WORDS.has(t) || t === DoubleColon || t === LBracket || t === Dot || t === Caret || t === Arrow))
      continue;
    if (t === Identifier || t === AnyWord) words.push('an identifier');
    else if (t === NumberLit) words.push('a number');
    else if (t === StringLit) words.push('a string');
    else if (t === Param) words.push('a parameter');
    else if (typeof t.LABEL === 'string' && t.LABEL.startsWith("'")) punct.push(t.LABEL);
    else words.push(typeof t.LABEL === 'string' ? t.LABEL : t.name);
  }
  const out = [...head, ...[...new Set(words)].sort(), ...[...new Set(punct)].sort()];
  if (operator) out.push('an operator');
  if (eof) out.push('end of input');
  return out.length > 16 ? [...out.slice(0, 15), '…'] : out;
}

function isIdentifierCategory(t: TokenType): boolean {
  return (t.CATEGORIES ?? []).includes(Identifier);
}

// ───────────────────────────── conversion ─────────────────────────────

const LEX_MESSAGES = new Map<TokenType, string>([
  [UnterminatedString, 'unterminated quoted string'],
  [UnterminatedEString, 'unterminated quoted string'],
  [UnterminatedIdentifier, 'unterminated quoted identifier'],
  [UnterminatedComment, 'unterminated /* comment'],
  [UnterminatedDollar, 'unterminated dollar-quoted string'],
  [ZeroLengthIdentifier, 'zero-length delimited identifier'],
  [BadChar, 'syntax error'],
]);

/**
 * The error for a failure at `token`. When `token` is EOF the statement ended early: Postgres
 * then reports the `;` that ended it (`terminator`) or, at the very end, "at end of input".
 * `message` (from a `GrammarError`) replaces the generic wording.
 */
export function syntaxErrorAt(
  text: string,
  token: IToken | undefined,
  terminator: IToken | undefined,
  expected: string[],
  message?: string,
): SqlSyntaxError {
  const at = token !== undefined && token.tokenType !== EOF ? token : terminator;
  if (at === undefined) {
    return new SqlSyntaxError(message ?? 'syntax error at end of input', locate(text, text.length), expected);
  }
  if (message !== undefined) return new SqlSyntaxError(message, locate(text, at.startOffset), expected);
  const lexMsg = tokenMatcher(at, LexError) ? LEX_MESSAGES.get(at.tokenType) : undefined;
  const near = `at or near "${nearText(at.image)}"`;
  if (lexMsg !== undefined && lexMsg !== 'syntax error') return new SqlSyntaxError(`${lexMsg} ${near}`, locate(text, at.startOffset));
  return new SqlSyntaxError(`syntax error ${near}`, locate(text, at.startOffset), expected);
}
