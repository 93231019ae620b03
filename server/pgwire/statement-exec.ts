/**
 * Runs one statement for either protocol, wrapping the engine call with what only the wire
 * layer can do: refuse work in a failed transaction block, turn COMMIT of a failed block into
 * ROLLBACK, keep the status byte, report changed settings (as the engine lists them in
 * `QueryOutcome.parameterStatus`, or recognised lexically for engines that do not), and own
 * DEALLOCATE / DISCARD ALL for protocol-level prepared statements (which the engine never sees).
 */
import type { ParamValue, QueryOutcome } from '../../executor/session-types.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { leadingWords, type Token } from './lexer.js';
import { reportedSetting, validateSetting } from './session-settings.js';
import { afterSuccess, checkNotAborted, statementForEngine } from './transaction.js';
import type { QueryScope, WireSession } from './wire-session.js';

type WireCommand = { kind: 'deallocate'; name: string | null } | { kind: 'discard-all' } | { kind: 'reset-all' } | null;

/** Statements the wire layer answers itself, so Parse must not ask the engine to describe them. */
export function isWireOwned(tokens: Token[]): boolean {
  return wireCommand(tokens)?.kind === 'deallocate';
}

function wireCommand(tokens: Token[]): WireCommand {
  const [first, second] = leadingWords(tokens, 2);
  if (first === 'DEALLOCATE') {
    let i = second === 'PREPARE' ? 2 : 1;
    const t = tokens[i];
    if (t === undefined || tokens.length !== i + 1) return null;
    if (t.kind === 'word' && t.text.toUpperCase() === 'ALL') return { kind: 'deallocate', name: null };
    if (t.kind === 'word') return { kind: 'deallocate', name: t.text.toLowerCase() };
    if (t.kind === 'qident') return { kind: 'deallocate', name: t.text.slice(1, -1).replace(/""/g, '"') };
    i++;
    return null;
  }
  if (first === 'DISCARD' && second === 'ALL' && tokens.length === 2) return { kind: 'discard-all' };
  if (first === 'RESET' && second === 'ALL' && tokens.length === 2) return { kind: 'reset-all' };
  return null;
}

async function* noBatches(): AsyncGenerator<never> {
  // A statement without rows.
}

function noRows(commandTag: string): QueryOutcome {
  return { columns: null, batches: noBatches(), commandTag };
}

export async function executeStatement(
  session: WireSession,
  sql: string,
  tokens: Token[],
  params: ParamValue[],
  scope: QueryScope,
): Promise<QueryOutcome> {
  checkNotAborted(session, tokens);
  const command = wireCommand(tokens);
  if (command?.kind === 'deallocate') {
    if (command.name === null) {
      session.forgetPrepared(null);
      return noRows('DEALLOCATE ALL');
    }
    // Prepared statements are protocol objects owned by the wire layer (Parse creates them;
    // SQL-level PREPARE is not supported), so the wire layer answers DEALLOCATE alone.
    if (!session.forgetPrepared(command.name)) {
      throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${command.name}" does not exist`);
    }
    return noRows('DEALLOCATE');
  }
  const setting = reportedSetting(tokens);
  if (setting !== null) validateSetting(setting);
  const engineSql = statementForEngine(session, sql, tokens);
  let outcome = await session.running(scope, () => session.engine.execute(engineSql, params, scope.ctx));
  if (engineSql !== sql) outcome = { ...outcome, commandTag: 'ROLLBACK' };
  afterSuccess(session, outcome);
  if (command?.kind === 'discard-all') session.forgetPrepared(null);
  if (outcome.parameterStatus !== undefined) {
    // The engine says which reported settings changed (SET, RESET, DISCARD ALL, set_config()).
    for (const [name, value] of Object.entries(outcome.parameterStatus)) session.settingChanged(name, value);
  } else {
    // An engine that does not report: recognise the statement lexically.
    if (setting !== null) session.settingChanged(setting.name, setting.value);
    if (command?.kind === 'discard-all' || command?.kind === 'reset-all') {
      session.settingChanged('TimeZone', null);
      session.settingChanged('application_name', null);
    }
  }
  return outcome;
}
