/**
 * Splits a simple-Query string into statements at top-level semicolons. This is a stand-in for
 * `splitStatements` from `parser/index.ts` (being written concurrently); it is lexer-aware so a
 * semicolon inside a string, identifier, dollar quote or comment never splits.
 */
import { tokenize, type Token } from './lexer.js';

export interface SplitStatement {
  /** Statement text from its first token to its last, without the terminating semicolon. */
  text: string;
  /** 0-based offset of `text` in the whole query string (for error positions). */
  offset: number;
  /** Tokens of this statement with offsets relative to `text`. */
  tokens: Token[];
}

/** Returns the non-empty statements of `sql`; an empty array means an empty query. */
export function splitStatements(sql: string): SplitStatement[] {
  const all = tokenize(sql);
  const out: SplitStatement[] = [];
  let current: Token[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const start = current[0].start;
    const end = current[current.length - 1].end;
    out.push({
      text: sql.slice(start, end),
      offset: start,
      tokens: current.map((t) => ({ ...t, start: t.start - start, end: t.end - start })),
    });
    current = [];
  };
  for (const t of all) {
    if (t.kind === 'op' && t.text === ';') flush();
    else current.push(t);
  }
  flush();
  return out;
}

/** Number of Unicode code points in the first `units` UTF-16 code units of `s`. */
export function codePointsBefore(s: string, units: number): number {
  let count = 0;
  for (let i = 0; i < units && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) i++;
    count++;
  }
  return count;
}
