/**
 * The VeilSQL lexer: Postgres lexical rules on top of chevrotain.
 *
 * Design notes (why it looks like this):
 * - Keywords are NOT separate regex tokens. The lexer matches every bare word as `Word` and a
 *   post-pass re-types words found in `KEYWORDS` (one hash lookup per word). That keeps the lexer
 *   fast (no 150-way regex race per word) and makes case-insensitivity trivial.
 * - Postgres lets most keywords double as identifiers (`name`, `type`, `date`, `value`, `party`,
 *   `position`, `filter`, …). Non-reserved keywords therefore carry the `Identifier` category, so
 *   `CONSUME(Identifier)` accepts them while rules that need the keyword can still ask for it by
 *   type. Only the short `RESERVED` list is off limits as a bare identifier.
 * - Every word-like token (keywords, words, quoted identifiers) also carries `AnyWord`, used where
 *   Postgres accepts any keyword (`AS label`, after a dot, `COLLATE pg_catalog.default`, SET values).
 * - Unterminated strings / quoted identifiers / comments / dollar quotes lex as dedicated error
 *   tokens that run to the end of input. `parse` turns them into Postgres' own messages
 *   ("unterminated quoted string at or near …"); `splitStatements` simply keeps them inside the
 *   last statement instead of failing.
 */
import { createToken, createTokenInstance, Lexer, type IToken, type TokenType } from 'chevrotain';

// ───────────────────────────── categories ─────────────────────────────

/** Anything usable as a (non-reserved) identifier. */
export const Identifier = createToken({ name: 'Identifier', pattern: Lexer.NA });
/** Any word at all, reserved keywords included (ColLabel in Postgres' grammar). */
export const AnyWord = createToken({ name: 'AnyWord', pattern: Lexer.NA });
/** String constants of every spelling. */
export const StringLit = createToken({ name: 'StringLit', pattern: Lexer.NA });
/** Tokens that only exist to report a lexical error with Postgres' wording. */
export const LexError = createToken({ name: 'LexError', pattern: Lexer.NA });
/** A character no token matches (inserted by `tokenize`, so the parser fails right there). */
export const BadChar = createToken({ name: 'BadChar', pattern: Lexer.NA, categories: [LexError] });
/** `""`: Postgres rejects empty delimited identifiers. */
export const ZeroLengthIdentifier = createToken({ name: 'ZeroLengthIdentifier', pattern: Lexer.NA, categories: [LexError] });

// ───────────────────────────── custom matchers ─────────────────────────────

type Exec = (text: string, offset: number) => RegExpExecArray | null;

function matched(text: string, start: number, end: number): RegExpExecArray {
  return [text.slice(start, end)] as unknown as RegExpExecArray;
}

/** `'…'` with `''` doubling (standard_conforming_strings = on: backslash is literal). */
function quotedExec(quote: string, prefixLen: number, backslashEscapes: boolean, terminated: boolean): Exec {
  return (text, offset) => {
    let i = offset + prefixLen;
    if (text[i] !== quote) return null;
    i++;
    for (;;) {
      if (i >= text.length) return terminated ? null : matched(text, offset, text.length);
      const c = text[i];
      if (backslashEscapes && c === '\\') {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (text[i + 1] === quote) {
          i += 2;
          continue;
        }
        return terminated ? matched(text, offset, i + 1) : null;
      }
      i++;
    }
  };
}

function ePrefixed(inner: Exec): Exec {
  return (text, offset) => {
    const c = text[offset];
    if (c !== 'e' && c !== 'E') return null;
    return inner(text, offset);
  };
}

const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** `$tag$ … $tag$` (tag may be empty); `$1` is a parameter, not a tag. */
function dollarExec(terminated: boolean): Exec {
  return (text, offset) => {
    DOLLAR_TAG.lastIndex = offset;
    const m = DOLLAR_TAG.exec(text);
    if (!m) return null;
    const delim = m[0];
    const close = text.indexOf(delim, offset + delim.length);
    if (close < 0) return terminated ? null : matched(text, offset, text.length);
    return terminated ? matched(text, offset, close + delim.length) : null;
  };
}

/** `/* … *\/` with Postgres' nesting. */
function blockCommentExec(terminated: boolean): Exec {
  return (text, offset) => {
    if (text[offset] !== '/' || text[offset + 1] !== '*') return null;
    let depth = 1;
    let i = offset + 2;
    while (i < text.length) {
      if (text[i] === '/' && text[i + 1] === '*') {
        depth++;
        i += 2;
      } else if (text[i] === '*' && text[i + 1] === '/') {
        depth--;
        i += 2;
        if (depth === 0) return terminated ? matched(text, offset, i) : null;
      } else i++;
    }
    return terminated ? null : matched(text, offset, text.length);
  };
}

function custom(name: string, exec: Exec, hints: string[], extra: Partial<Parameters<typeof createToken>[0]> = {}): TokenType {
  return createToken({ name, pattern: { exec }, line_breaks: true, start_chars_hint: hints, ...extra });
}

// ───────────────────────────── lexer tokens ─────────────────────────────

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });
export const LineComment = createToken({ name: 'LineComment', pattern: /--[^\n\r]*/, group: 'comments' });
export const BlockComment = custom('BlockComment', blockCommentExec(true), ['/'], { group: 'comments' });
export const UnterminatedComment = custom('UnterminatedComment', blockCommentExec(false), ['/'], { categories: [LexError] });

export const EString = custom('EString', ePrefixed(quotedExec("'", 1, true, true)), ['e', 'E'], { categories: [StringLit] });
export const UnterminatedEString = custom('UnterminatedEString', ePrefixed(quotedExec("'", 1, true, false)), ['e', 'E'], {
  categories: [LexError],
});
export const PlainString = custom('PlainString', quotedExec("'", 0, false, true), ["'"], { categories: [StringLit] });
export const UnterminatedString = custom('UnterminatedString', quotedExec("'", 0, false, false), ["'"], { categories: [LexError] });
export const DollarString = custom('DollarString', dollarExec(true), ['$'], { categories: [StringLit] });
export const UnterminatedDollar = custom('UnterminatedDollar', dollarExec(false), ['$'], { categories: [LexError] });

export const Param = createToken({ name: 'Param', pattern: /\$\d+/ });
export const QuotedIdentifier = custom('QuotedIdentifier', quotedExec('"', 0, false, true), ['"'], {
  categories: [Identifier, AnyWord],
});
export const UnterminatedIdentifier = custom('UnterminatedIdentifier', quotedExec('"', 0, false, false), ['"'], {
  categories: [LexError],
});
export const NumberLit = createToken({ name: 'NumberLit', pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/ });
export const Word = createToken({
  name: 'Word',
  pattern: /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/,
  categories: [Identifier, AnyWord],
});

function op(name: string, image: string): TokenType {
  const escaped = image.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return createToken({ name, pattern: new RegExp(escaped), label: `'${image}'` });
}

// Operators, longest first so that e.g. `->>` wins over `->` and `-`.
export const DoubleColon = op('DoubleColon', '::');
export const LongArrow = op('LongArrow', '->>');
export const Arrow = op('Arrow', '->');
export const NotRegexI = op('NotRegexI', '!~*');
export const NotRegex = op('NotRegex', '!~');
export const BangEq = op('BangEq', '!=');
export const RegexI = op('RegexI', '~*');
export const Tilde = op('Tilde', '~');
export const NotEq = op('NotEq', '<>');
export const LtEq = op('LtEq', '<=');
export const GtEq = op('GtEq', '>=');
export const ShiftL = op('ShiftL', '<<');
export const ShiftR = op('ShiftR', '>>');
export const ContainedBy = op('ContainedBy', '<@');
export const Contains = op('Contains', '@>');
export const Lt = op('Lt', '<');
export const Gt = op('Gt', '>');
export const Eq = op('Eq', '=');
export const Concat = op('Concat', '||');
export const Pipe = op('Pipe', '|');
export const Overlap = op('Overlap', '&&');
export const Amp = op('Amp', '&');
export const Caret = op('Caret', '^');
export const Percent = op('Percent', '%');
export const Hash = op('Hash', '#');
export const Plus = op('Plus', '+');
export const Minus = op('Minus', '-');
export const Star = op('Star', '*');
export const Slash = op('Slash', '/');
export const LParen = op('LParen', '(');
export const RParen = op('RParen', ')');
export const LBracket = op('LBracket', '[');
export const RBracket = op('RBracket', ']');
export const Comma = op('Comma', ',');
export const Semicolon = op('Semicolon', ';');
export const Dot = op('Dot', '.');
export const Colon = op('Colon', ':');

const lexerTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  EString,
  UnterminatedEString,
  PlainString,
  UnterminatedString,
  DollarString,
  UnterminatedDollar,
  Param,
  QuotedIdentifier,
  UnterminatedIdentifier,
  NumberLit,
  Word,
  DoubleColon,
  LongArrow,
  Arrow,
  NotRegexI,
  NotRegex,
  BangEq,
  RegexI,
  Tilde,
  NotEq,
  LtEq,
  GtEq,
  ShiftL,
  ShiftR,
  ContainedBy,
  Contains,
  Lt,
  Gt,
  Eq,
  Concat,
  Pipe,
  Overlap,
  Amp,
  Caret,
  Percent,
  Hash,
  Plus,
  Minus,
  Star,
  Slash,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semicolon,
  Dot,
  Colon,
];

// ───────────────────────────── keywords ─────────────────────────────

/**
 * Reserved words: never bare identifiers (quote them: `"order"`). This is Postgres' reserved set
 * plus the join/predicate words (LEFT, JOIN, LIKE, IS, BETWEEN, …) whose use as names would make
 * the grammar ambiguous; it is deliberately short.
 */
export const RESERVED_WORDS = [
  'all', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'between', 'both', 'case', 'cast',
  'collate', 'cross', 'current_catalog', 'current_date', 'current_role', 'current_schema',
  'current_time', 'current_timestamp', 'current_user', 'default', 'desc', 'distinct', 'else', 'end',
  'except', 'exists', 'false', 'fetch', 'for', 'from', 'full', 'group', 'having', 'ilike', 'in',
  'inner', 'intersect', 'into', 'is', 'isnull', 'join', 'lateral', 'leading', 'left', 'like',
  'limit', 'localtime', 'localtimestamp', 'natural', 'not', 'notnull', 'null', 'offset', 'on',
  'only', 'or', 'order', 'outer', 'placing', 'right', 'select', 'session_user', 'similar', 'some',
  'symmetric', 'table', 'then', 'to', 'trailing', 'true', 'union', 'user', 'using', 'values',
  'when', 'where', 'window', 'with',
] as const;

/** Keywords the grammar needs by type but that stay usable as identifiers. */
export const NON_RESERVED_WORDS = [
  'abort', 'analyze', 'at', 'authorization', 'begin', 'bounded', 'budget', 'by', 'chain',
  'characteristics', 'commit', 'committed', 'current', 'deallocate', 'deferrable',
  'differential_privacy', 'discard', 'dp', 'escape', 'exclude', 'explain', 'extract', 'filter',
  'first', 'following', 'groups', 'interval', 'isolation', 'last', 'level', 'local', 'lookup',
  'materialized', 'names', 'next', 'no', 'nulls', 'operator', 'options', 'ordinality', 'others',
  'over', 'overlay', 'parties', 'partition', 'plans', 'policies', 'position', 'preceding',
  'prepare', 'privacy', 'private', 'range', 'read', 'recursive', 'repeatable', 'reset', 'rollback',
  'row', 'rows', 'secure', 'sequences', 'serializable', 'session', 'set', 'show', 'start',
  'substring', 'tables', 'temp', 'temporary', 'ties', 'time', 'transaction', 'trim', 'try_cast',
  'unbounded', 'uncommitted', 'unknown', 'verbose', 'within', 'work', 'write', 'zone',
] as const;

type ReservedWord = (typeof RESERVED_WORDS)[number];
type NonReservedWord = (typeof NON_RESERVED_WORDS)[number];
export type KeywordName = ReservedWord | NonReservedWord;

function keywordTokenName(word: string): string {
  return 'Kw_' + word;
}

/** Keyword token types by lower-case word. */
export const KEYWORDS = new Map<string, TokenType>();
for (const w of RESERVED_WORDS) {
  KEYWORDS.set(w, createToken({ name: keywordTokenName(w), pattern: Lexer.NA, categories: [AnyWord], label: w.toUpperCase() }));
}
for (const w of NON_RESERVED_WORDS) {
  KEYWORDS.set(
    w,
    createToken({ name: keywordTokenName(w), pattern: Lexer.NA, categories: [Identifier, AnyWord], label: w.toUpperCase() }),
  );
}

/** Keyword token types by word: `K.select`, `K.not` (typed so a typo is a compile error). */
export const K = Object.fromEntries(KEYWORDS) as Record<KeywordName, TokenType>;

/** The token type of keyword `w` (typed so a typo is a compile error). */
export function kw(w: KeywordName): TokenType {
  return KEYWORDS.get(w)!;
}

const RESERVED_SET: ReadonlySet<string> = new Set(RESERVED_WORDS);
/** True if `word` (lower-case) cannot be written as a bare identifier in VeilSQL. */
export function isReservedWord(word: string): boolean {
  return RESERVED_SET.has(word);
}

/** Every token type the parser must know (lexer tokens, keywords, categories). */
export const allTokens: TokenType[] = [
  Identifier,
  AnyWord,
  StringLit,
  LexError,
  BadChar,
  ZeroLengthIdentifier,
  ...lexerTokens,
  ...KEYWORDS.values(),
];

// ───────────────────────────── lexing ─────────────────────────────

const sqlLexer = new Lexer(lexerTokens, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  skipValidations: true,
});

export interface LexedToken extends IToken {
  /** Index of this token in the (comment-free) token vector. */
  idx: number;
}

export interface LexResult {
  /**
   * Significant tokens in order, comments excluded. Characters no token matches are included as
   * `BadChar` tokens, and lexical errors (unterminated strings, …) as their `LexError` tokens, so
   * consumers meet every error in position order and `splitStatements` never fails.
   */
  tokens: LexedToken[];
  comments: IToken[];
}

/** Lowers A–Z only, as Postgres does for unquoted identifiers in UTF-8 databases. */
export function foldIdentifier(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function retype(t: IToken, type: TokenType): void {
  t.tokenType = type;
  t.tokenTypeIdx = type.tokenTypeIdx!;
}

export function tokenize(text: string): LexResult {
  const r = sqlLexer.tokenize(text);
  let tokens = r.tokens as LexedToken[];
  if (r.errors.length > 0) {
    const bad = r.errors.map((e) => {
      const run = text.slice(e.offset, e.offset + Math.max(1, e.length));
      return createTokenInstance(BadChar, run, e.offset, e.offset + run.length - 1, NaN, NaN, NaN, NaN) as LexedToken;
    });
    tokens = [...tokens, ...bad].sort((a, b) => a.startOffset - b.startOffset);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    t.idx = i;
    // 'onlyOffset' position tracking records start offsets only; spans need the end too.
    t.endOffset = t.startOffset + t.image.length - 1;
    if (t.tokenType === Word) {
      const k = KEYWORDS.get(foldIdentifier(t.image));
      if (k !== undefined) retype(t, k);
    } else if (t.tokenType === QuotedIdentifier && t.image.length === 2) {
      retype(t, ZeroLengthIdentifier);
    }
  }
  return { tokens, comments: (r.groups.comments ?? []) as IToken[] };
}

// ───────────────────────────── token values ─────────────────────────────

/** The identifier a word-like token denotes: folded if bare, verbatim (with "" undoubled) if quoted. */
export function identifierName(t: IToken): string {
  if (t.tokenType === QuotedIdentifier) return t.image.slice(1, -1).replace(/""/g, '"');
  return foldIdentifier(t.image);
}

/** The decoded value of a string token. */
export function stringValue(t: IToken): string {
  const img = t.image;
  if (t.tokenType === PlainString) return img.slice(1, -1).replace(/''/g, "'");
  if (t.tokenType === DollarString) {
    const tagEnd = img.indexOf('$', 1);
    return img.slice(tagEnd + 1, img.length - tagEnd - 1);
  }
  return decodeEscapeString(img.slice(2, -1));
}

/** Postgres E'' escapes: \b \f \n \r \t \v \xHH \ooo \uXXXX \UXXXXXXXX, \<other> = other, '' = '. */
function decodeEscapeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      out += "'";
      i++; // '' inside E'' is one quote
      continue;
    }
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    switch (n) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        const m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(i + 1));
        if (m) {
          out += String.fromCharCode(parseInt(m[0], 16));
          i += m[0].length;
        } else out += 'x';
        break;
      }
      case 'u':
      case 'U': {
        const len = n === 'u' ? 4 : 8;
        const hex = s.slice(i + 1, i + 1 + len);
        const cp = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === len ? parseInt(hex, 16) : NaN;
        if (Number.isFinite(cp) && cp <= 0x10ffff) {
          out += String.fromCodePoint(cp);
          i += len;
        } else out += n;
        break;
      }
      default: {
        const m = /^[0-7]{1,3}/.exec(s.slice(i));
        if (m) {
          out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
          i += m[0].length - 1;
        } else if (n !== undefined) out += n;
      }
    }
  }
  return out;
}
