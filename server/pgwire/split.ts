/**
 * Splits a simple-Query string into statements at top-level semicolons with the parser's own
 * splitter (`splitStatements` of `parser/index.ts`: lexing only, so a semicolon inside a
 * string, E'' string, identifier, dollar quote or comment never splits, and it never throws),
 * so the wire layer and the engine agree on where statements end. Each statement also gets the
 * wire lexer's tokens, which the wire layer uses to recognise the few statements it handles
 * itself (COPY … TO STDOUT, transaction exits, reportable SETs).
 */
import { splitStatements as splitSql } from '../../parser/index.js';
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
  return splitSql(sql).map(({ text, start }) => ({ text, offset: start, tokens: tokenize(text) }));
}

/**
 * One connection's splits of its recent short query strings: pools, health checks and dashboards
 * send the same short text over and over, and lexing it twice (parser splitter, wire lexer) is a
 * visible share of a trivial query's cost. Per connection, so memory stays small and bounded
 * and no session can time another's queries through it. Results are shared between calls, so
 * callers must not modify them.
 */
export class StatementSplitter {
  private readonly recent = new Map<string, readonly SplitStatement[]>();

  static readonly MAX_ENTRIES = 32;
  static readonly MAX_TEXT = 256;

  split(sql: string): readonly SplitStatement[] {
    const hit = this.recent.get(sql);
    if (hit !== undefined) {
      // Least recently used goes first: move a hit to the end.
      this.recent.delete(sql);
      this.recent.set(sql, hit);
      return hit;
    }
    const split = splitStatements(sql);
    if (sql.length <= StatementSplitter.MAX_TEXT) {
      if (this.recent.size >= StatementSplitter.MAX_ENTRIES) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(sql, split);
    }
    return split;
  }
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
