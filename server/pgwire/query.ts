/**
 * The simple Query message: one string, possibly several statements. Each statement gets its
 * own RowDescription, DataRows and CommandComplete (or EmptyQueryResponse when the string has no
 * statement at all); the first error stops the rest, and exactly one ReadyForQuery ends the
 * exchange either way (omitting it after an error is what hung psql in pgwire #146).
 */
import { SqlError } from '../../parser/errors.js';
import { parseCopyToStdout, runCopyToStdout } from './copy.js';
import { errorFields, queryCanceled, toSqlError } from './errors.js';
import type { Token } from './lexer.js';
import { RowCursor, columnTypes, completionTag, expandFormats, rowDescription } from './result-stream.js';
import { codePointsBefore } from './split.js';
import { executeStatement } from './statement-exec.js';
import { afterFailure, checkNotAborted } from './transaction.js';
import type { QueryScope, WireSession } from './wire-session.js';

export async function handleSimpleQuery(session: WireSession, sql: string): Promise<void> {
  const statements = session.splitter.split(sql);
  const out = session.out;
  if (statements.length === 0) {
    out.emptyQueryResponse();
  }
  for (const st of statements) {
    // A client that disconnected mid-message gets nothing more run on its behalf.
    if (session.isClosed) return;
    const scope = session.newScope();
    // Positions from the engine are relative to the statement; clients count from the message.
    let positionBase = codePointsBefore(sql, st.offset);
    try {
      checkNotAborted(session, st.tokens);
      const copy = parseCopyToStdout(st.text, st.tokens);
      if (copy !== null) {
        positionBase += codePointsBefore(st.text, copy.queryOffset);
        await runCopyToStdout(session, copy, scope);
      } else {
        await runStatement(session, st.text, st.tokens, scope);
      }
    } catch (e) {
      const err = scope.ctx.signal.aborted && !(e instanceof SqlError && e.sqlstate === '57014') ? queryCanceled() : toSqlError(e, session.logger, { sql: st.text });
      out.fields('E', errorFields(err, 'ERROR', positionBase));
      afterFailure(session);
      break;
    } finally {
      scope.release();
    }
  }
  // A Query message outside a block is its own transaction; portals do not outlive it.
  if (session.txStatus === 'I') session.dropPortals();
  out.readyForQuery(session.txStatus);
  await session.flush();
}

/** Runs one statement with text results. */
async function runStatement(session: WireSession, sql: string, tokens: Token[], scope: QueryScope): Promise<void> {
  const outcome = await executeStatement(session, sql, tokens, [], scope);
  const out = session.out;
  if (outcome.columns === null) {
    out.commandComplete(outcome.commandTag);
    return;
  }
  const types = columnTypes(outcome.columns);
  const formats = expandFormats([], types.length);
  rowDescription(out, outcome.columns, formats);
  const cursor = new RowCursor(outcome, types, formats, scope.ctx.signal);
  try {
    await session.running(scope, () => cursor.send(session, 0));
  } finally {
    await cursor.close();
  }
  out.commandComplete(completionTag(outcome.commandTag, cursor.sent));
}
