/**
 * A small SQL scanner that knows exactly the lexical rules that decide where a statement ends:
 * quoted strings (standard-conforming, so backslash is literal), E'' strings (backslash
 * escapes), quoted identifiers, dollar quoting, `$n` parameters, line comments and nested block
 * comments. The wire layer uses it to split multi-statement Query messages, to recognise the few
 * statements it handles itself (COPY … TO STDOUT, transaction exits, reportable SETs), and never
 * to interpret SQL beyond that: the engine's parser owns the language.
 */

export type TokenKind = 'word' | 'qident' | 'string' | 'dollar' | 'param' | 'number' | 'op';

export interface Token {
  kind: TokenKind;
  /** 0-based offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** Source text of the token. */
  text: string;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** Characters that Postgres allows in multi-character operators. */
const OP_CHARS = new Set('+-*/<>=~!@#%^&|`?'.split(''));

/** Scans `sql` into tokens, skipping whitespace and comments. Unterminated constructs run to the end. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) => {
    out.push({ kind, start, end, text: sql.slice(start, end) });
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // -- line comment
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    // /* nested block comment */
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    const start = i;
    // E'…' with backslash escapes
    if ((c === 69 || c === 101) && sql.charCodeAt(i + 1) === 39) {
      i = scanQuoted(sql, i + 2, 39, true);
      push('string', start, i);
      continue;
    }
    if (c === 39) {
      i = scanQuoted(sql, i + 1, 39, false);
      push('string', start, i);
      continue;
    }
    if (c === 34) {
      i = scanQuoted(sql, i + 1, 34, false);
      push('qident', start, i);
      continue;
    }
    if (c === 36) {
      // $n parameter
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        push('param', start, i);
        continue;
      }
      // $tag$ … $tag$ dollar quoting
      let j = i + 1;
      if (j < n && isIdentStart(sql.charCodeAt(j))) {
        j++;
        while (j < n && isIdentChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
      }
      if (sql.charCodeAt(j) === 36) {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        i = close < 0 ? n : close + tag.length;
        push('dollar', start, i);
        continue;
      }
      i++;
      push('op', start, i);
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
      push('word', start, i);
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (isDigit(d) || d === 46 || d === 95) i++;
        else if ((d === 101 || d === 69) && (isDigit(sql.charCodeAt(i + 1)) || ((sql[i + 1] === '+' || sql[i + 1] === '-') && isDigit(sql.charCodeAt(i + 2))))) i += 2;
        else break;
      }
      push('number', start, i);
      continue;
    }
    if (OP_CHARS.has(sql[i])) {
      i++;
      // Stop before a comment start so `a-- c` is not one operator.
      while (i < n && OP_CHARS.has(sql[i]) && !(sql[i] === '-' && sql[i + 1] === '-') && !(sql[i] === '/' && sql[i + 1] === '*')) i++;
      push('op', start, i);
      continue;
    }
    // ( ) , ; . [ ] : and anything else: single-character tokens
    i++;
    push('op', start, i);
  }
  return out;
}

/** Scans past a quoted construct whose opening quote precedes `i`; doubled quotes escape. */
function scanQuoted(sql: string, i: number, quote: number, backslash: boolean): number {
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslash && c === 92) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** The upper-cased unquoted words at the start of a statement (up to `count`), for dispatch. */
export function leadingWords(tokens: Token[], count: number): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (out.length >= count || t.kind !== 'word') break;
    out.push(t.text.toUpperCase());
  }
  return out;
}
