/**
 * The ReadyForQuery status byte (I idle, T in a transaction block, E failed block) and the rule
 * that a failed block accepts only statements that end it. The engine reports BEGIN/COMMIT/
 * ROLLBACK through `QueryOutcome.transaction`; failures are known only here.
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import type { QueryOutcome } from '../../executor/session-types.js';
import { leadingWords, type Token } from './lexer.js';
import type { WireSession } from './wire-session.js';

const EXIT_WORDS = new Set(['COMMIT', 'ROLLBACK', 'ABORT', 'END']);

export function isTransactionExit(tokens: Token[]): boolean {
  const [first] = leadingWords(tokens, 1);
  return first !== undefined && EXIT_WORDS.has(first);
}

/** Throws 25P02 when the session's block has failed and `tokens` does not end it. */
export function checkNotAborted(session: WireSession, tokens: Token[]): void {
  if (session.txStatus === 'E' && !isTransactionExit(tokens)) {
    throw new SqlError(
      SqlState.inFailedTransaction,
      'current transaction is aborted, commands ignored until end of transaction block',
    );
  }
}

/**
 * In a failed block COMMIT/END can only roll back (Postgres answers them with the ROLLBACK
 * tag), so the engine is asked to roll back rather than to commit partial work.
 */
export function statementForEngine(session: WireSession, sql: string, tokens: Token[]): string {
  if (session.txStatus !== 'E') return sql;
  const [first, second] = leadingWords(tokens, 2);
  if ((first === 'COMMIT' || first === 'END') && second !== 'PREPARED') return 'ROLLBACK';
  return sql;
}

/** Updates the status byte after a statement succeeded. */
export function afterSuccess(session: WireSession, outcome: QueryOutcome): void {
  if (outcome.transaction === 'begin') session.txStatus = 'T';
  else if (outcome.transaction === 'commit' || outcome.transaction === 'rollback') session.txStatus = 'I';
  // ROLLBACK TO SAVEPOINT inside a failed block: the block is usable again.
  else if (session.txStatus === 'E') session.txStatus = 'T';
}

/** Updates the status byte after a statement failed: only an explicit block can fail. */
export function afterFailure(session: WireSession): void {
  if (session.txStatus === 'T') session.txStatus = 'E';
}
