/**
 * `SqlSyntaxError`: what every lexical or grammatical failure of `parser/` becomes.
 *
 * It mirrors what Postgres reports for 42601 so psql and drivers show the familiar output:
 * the message names the offending token (`syntax error at or near "FROM"`, or `… at end of
 * input`), `position` is the 1-based character offset into the submitted text (psql turns it into
 * the `^` marker), and `line`/`column` are the same place for humans and tests. The readable list
 * of what the grammar would have accepted goes into `hint`, the line:column into `detail`.
 */
import { SqlError, SqlState } from './errors.js';

export class SqlSyntaxError extends SqlError {
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column (in characters) of the offending token. */
  readonly column: number;
  /** What would have been accepted at that point, in readable form (may be empty). */
  readonly expected: string[];
  declare position: number;

  constructor(message: string, at: { line: number; column: number; position: number }, expected: string[] = []) {
    const hint = expected.length === 0 ? undefined : `expected ${expected.length === 1 ? '' : 'one of: '}${expected.join(', ')}`;
    super(SqlState.syntaxError, message, {
      detail: `at line ${at.line}, column ${at.column}`,
      ...(hint === undefined ? {} : { hint }),
      position: at.position,
    });
    this.name = 'SqlSyntaxError';
    this.line = at.line;
    this.column = at.column;
    this.position = at.position;
    this.expected = expected;
  }
}

/**
 * Converts a 0-based UTF-16 offset into Postgres' coordinates: 1-based character (code point)
 * position, line and column. Lines are counted on `\n` as Postgres does.
 */
export function locate(text: string, offset: number): { line: number; column: number; position: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let position = 1;
  let column = 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is one character: count it at its high half only.
    const isLowSurrogate = c >= 0xdc00 && c <= 0xdfff && i > 0 && isHigh(text.charCodeAt(i - 1));
    if (isLowSurrogate) continue;
    position++;
    column++;
    if (c === 10) {
      line++;
      column = 1;
    }
  }
  return { line, column, position };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** How a token is quoted in `at or near "…"`: control characters are made visible. */
export function nearText(image: string): string {
  // eslint-disable-next-line no-control-regex
  return image.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
