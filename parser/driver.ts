/**
 * From text to statements: lexing, splitting on `;`, running the (single, reused) chevrotain
 * parser, and converting every failure into a `SqlSyntaxError`.
 *
 * Statements are split on `;` tokens before parsing: a `;` can never occur inside any construct
 * of the grammar (strings, comments and dollar quotes are single tokens), and splitting gives
 * each statement its own bracket table and keeps errors local.
 */
import { EOF, type IRecognitionException, type IToken } from 'chevrotain';
import type { Expr, Statement } from './ast.js';
import { SqlError, SqlState } from './errors.js';
import { GrammarError, matchBrackets } from './grammar-base.js';
import { Semicolon, tokenize, type LexedToken } from './lexer.js';
import { decode, describeExpected, syntaxErrorAt } from './parse-errors.js';
import { VeilSqlParser } from './parser.js';
import { locate, SqlSyntaxError } from './syntax-error.js';

/** Built lazily: self-analysis costs tens of milliseconds, and importers may never parse. */
let instance: VeilSqlParser | undefined;
function parser(): VeilSqlParser {
  instance ??= new VeilSqlParser();
  return instance;
}

/** Content assist is a grammar walk; beyond this many preceding tokens the cheaper hint is used. */
const MAX_ASSIST_PREFIX = 64;

interface Segment {
  tokens: LexedToken[];
  /** The `;` that ended the segment, if any. */
  terminator?: IToken;
}

function segments(tokens: LexedToken[]): Segment[] {
  const out: Segment[] = [];
  let cur: LexedToken[] = [];
  for (const t of tokens) {
    if (t.tokenType === Semicolon) {
      out.push({ tokens: cur, terminator: t });
      cur = [];
    } else cur.push(t);
  }
  out.push({ tokens: cur });
  return out.filter((s) => s.tokens.length > 0);
}

type Entry = 'statement' | 'standaloneExpr';

function run<T>(text: string, seg: Segment, entry: Entry): T {
  const p = parser();
  const tokens = seg.tokens;
  for (let i = 0; i < tokens.length; i++) tokens[i].idx = i;
  try {
    const closer = matchBrackets(tokens);
    p.loadTokens(tokens, closer);
    const result = (entry === 'statement' ? p.statement() : p.standaloneExpr()) as T;
    if (p.errors.length > 0) throw fromRecognition(text, seg, p.errors[0], entry);
    return result;
  } catch (e) {
    if (e instanceof SqlSyntaxError) throw e;
    if (e instanceof GrammarError) throw syntaxErrorAt(text, e.token, seg.terminator, e.expected, e.message === '' ? undefined : e.message);
    if (e instanceof RangeError) {
      // A stack overflow the depth guards did not foresee: still a clean, positioned error.
      throw new SqlSyntaxError('statement is too complex to parse: nested too deeply', locate(text, tokens[0].startOffset));
    }
    throw new SqlError(SqlState.internalError, `internal parser error: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function fromRecognition(text: string, seg: Segment, err: IRecognitionException, entry: Entry): SqlSyntaxError {
  const info = decode(err.message);
  const baseIdx = (err.token as Partial<LexedToken>).idx ?? seg.tokens.length;
  const idx = Math.min(baseIdx + info.shift, seg.tokens.length);
  const token = idx < seg.tokens.length ? seg.tokens[idx] : undefined;
  let expected = info.expected;
  if (idx <= MAX_ASSIST_PREFIX) {
    try {
      const next = parser()
        .computeContentAssist(entry, seg.tokens.slice(0, idx))
        .map((s) => s.nextTokenType);
      if (err.name === 'NotAllInputParsedException') next.push(EOF);
      if (next.length > 0) expected = describeExpected(next);
    } catch {
      // content assist is best effort; keep the decision's own expectation
    }
  }
  return syntaxErrorAt(text, token, seg.terminator, expected);
}

/** Parses `;`-separated statements; empty statements are skipped. */
export function parseStatements(text: string): Statement[] {
  const { tokens } = tokenize(text);
  return segments(tokens).map((seg) => run<Statement>(text, seg, 'statement'));
}

/** Parses exactly one statement (a trailing `;` is fine). */
export function parseOneStatement(text: string): Statement {
  const { tokens } = tokenize(text);
  const segs = segments(tokens);
  if (segs.length === 0) return run<Statement>(text, { tokens: [] }, 'statement');
  const first = run<Statement>(text, segs[0], 'statement');
  if (segs.length > 1) {
    const second = segs[1].tokens[0];
    // Postgres' wording for the same situation in the extended protocol.
    throw new SqlSyntaxError('cannot insert multiple commands into a prepared statement', locate(text, second.startOffset), [
      'end of input',
    ]);
  }
  return first;
}

/** Parses one value expression. */
export function parseExpressionText(text: string): Expr {
  const { tokens } = tokenize(text);
  return run<Expr>(text, { tokens }, 'standaloneExpr');
}

/**
 * The text and offset of each non-empty statement, for the wire gateway. Lexing only: never
 * throws, and `;` inside strings, comments, quoted identifiers and dollar quotes is not a split.
 */
export function splitStatementText(text: string): { text: string; start: number }[] {
  const { tokens } = tokenize(text);
  return segments(tokens).map((s) => {
    const start = s.tokens[0].startOffset;
    const end = s.tokens[s.tokens.length - 1].endOffset! + 1;
    return { text: text.slice(start, end), start };
  });
}
