/**
 * The extended query protocol: Parse/Bind/Describe/Execute/Close/Flush/Sync over named and
 * unnamed prepared statements and portals. Parse asks the engine to describe the statement
 * (parameter types it inferred where the client sent OID 0, result columns or none); that
 * description is cached, so a later Bind + Execute without Describe (PgJDBC's sixth run)
 * encodes with exactly the types and formats the client was told about. After an error every
 * message up to Sync is discarded; Sync drops the unnamed portal and answers ReadyForQuery.
 */
import type { ParamValue, QueryOutcome, ResultColumn } from '../../executor/session-types.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { parseCopyToStdout, runCopyToStdout, type CopyToStdout } from './copy.js';
import { decodeBinaryParam } from './decode-binary.js';
import { ProtocolViolation, errorFields, queryCanceled, toSqlError } from './errors.js';
import { PayloadReader } from './framing.js';
import type { Token } from './lexer.js';
import { RowCursor, columnTypes, completionTag, expandFormats, rowDescription } from './result-stream.js';
import { codePointsBefore } from './split.js';
import { executeStatement, isWireOwned } from './statement-exec.js';
import { afterFailure, checkNotAborted } from './transaction.js';
import { duckdbTypeForOid, paramOidFor } from './types.js';
import type { QueryScope, WireSession } from './wire-session.js';

interface PreparedStatement {
  name: string;
  /** The single statement's text (empty string for an empty query). */
  sql: string;
  tokens: Token[];
  /** Code points before `sql` in the Parse message's query string. */
  positionBase: number;
  paramOids: number[];
  paramTypes: string[];
  columns: ResultColumn[] | null;
  copy: CopyToStdout | null;
}

interface Portal {
  name: string;
  stmt: PreparedStatement;
  params: ParamValue[];
  /** One result format per column (Bind's 0/1/N codes expanded). */
  formats: number[];
  state: 'ready' | 'suspended' | 'done';
  scope?: QueryScope;
  cursor?: RowCursor;
  tag?: string;
  rowsReturning: boolean;
}

export class ExtendedProtocol {
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  /** Set by an error: everything up to the next Sync is ignored. */
  skipping = false;

  constructor(private readonly session: WireSession) {}

  /** Handles one extended-protocol message; errors become ErrorResponse + skip-until-Sync. */
  async handle(type: string, payload: Buffer): Promise<void> {
    if (type === 'S') {
      await this.sync();
      return;
    }
    if (this.skipping || this.session.isClosed) return;
    try {
      switch (type) {
        case 'P':
          await this.parse(payload);
          break;
        case 'B':
          this.bind(payload);
          break;
        case 'D':
          this.describe(payload);
          break;
        case 'E': {
          const r = new PayloadReader(payload);
          const name = r.cstring();
          const maxRows = r.int32();
          r.end();
          await this.execute(name, maxRows);
          break;
        }
        case 'C':
          await this.close(payload);
          break;
        case 'H':
          await this.session.flush();
          break;
      }
    } catch (e) {
      if (e instanceof ProtocolViolation && e.fatal) throw e;
      const err = toSqlError(e, this.session.logger);
      this.session.out.fields('E', errorFields(err, 'ERROR'));
      afterFailure(this.session);
      this.skipping = true;
    }
  }

  private async parse(payload: Buffer): Promise<void> {
    const r = new PayloadReader(payload);
    const name = r.cstring();
    const query = r.cstring();
    const n = r.int16();
    if (n < 0) throw new ProtocolViolation('invalid parameter count in Parse message');
    const oids: number[] = [];
    for (let i = 0; i < n; i++) oids.push(r.uint32());
    r.end();
    if (name !== '' && this.statements.has(name)) {
      throw new SqlError('42P05', `prepared statement "${name}" already exists`);
    }
    const parts = this.session.splitter.split(query);
    if (parts.length > 1) {
      throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement');
    }
    const part = parts[0];
    const stmt: PreparedStatement = {
      name,
      sql: part?.text ?? '',
      tokens: part?.tokens ?? [],
      positionBase: part === undefined ? 0 : codePointsBefore(query, part.offset),
      paramOids: oids,
      paramTypes: oids.map((o) => duckdbTypeForOid(o) ?? 'VARCHAR'),
      columns: null,
      copy: null,
    };
    if (part !== undefined) {
      checkNotAborted(this.session, stmt.tokens);
      stmt.copy = parseCopyToStdout(stmt.sql, stmt.tokens);
      if (stmt.copy === null && !isWireOwned(stmt.tokens)) {
        const hints = oids.map((o) => (o === 0 ? undefined : duckdbTypeForOid(o)));
        let desc;
        try {
          desc = await this.session.engine.describe(stmt.sql, hints);
        } catch (e) {
          throw shiftPosition(e, stmt.positionBase);
        }
        const count = Math.max(oids.length, desc.paramTypes.length);
        stmt.paramTypes = [];
        stmt.paramOids = [];
        for (let i = 0; i < count; i++) {
          const declared = oids[i] ?? 0;
          const type = desc.paramTypes[i] ?? hints[i] ?? 'VARCHAR';
          stmt.paramTypes.push(type);
          stmt.paramOids.push(declared !== 0 ? declared : paramOidFor(type));
        }
        stmt.columns = desc.columns;
      }
    }
    // Replacing the unnamed statement is implicit; its portals keep their own reference.
    this.statements.set(name, stmt);
    this.session.out.parseComplete();
  }

  private bind(payload: Buffer): void {
    const r = new PayloadReader(payload);
    const portalName = r.cstring();
    const stmtName = r.cstring();
    const nFormats = r.int16();
    const formats: number[] = [];
    for (let i = 0; i < nFormats; i++) formats.push(r.int16());
    const nParams = r.int16();
    const raw: (Buffer | null)[] = [];
    for (let i = 0; i < nParams; i++) {
      const len = r.int32();
      if (len < -1) throw new ProtocolViolation('invalid parameter length in Bind message');
      raw.push(len === -1 ? null : r.bytes(len));
    }
    const nResult = r.int16();
    const resultCodes: number[] = [];
    for (let i = 0; i < nResult; i++) resultCodes.push(r.int16());
    r.end();

    const stmt = this.statements.get(stmtName);
    if (stmt === undefined) {
      throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${stmtName}" does not exist`);
    }
    if (portalName !== '' && this.portals.has(portalName)) {
      throw new SqlError('42P03', `portal "${portalName}" already exists`);
    }
    if (nParams !== stmt.paramOids.length) {
      throw new ProtocolViolation(
        `bind message supplies ${nParams} parameters, but prepared statement "${stmtName}" requires ${stmt.paramOids.length}`,
        false,
      );
    }
    if (nFormats > 1 && nFormats !== nParams) {
      throw new ProtocolViolation(`bind message has ${nFormats} parameter formats but ${nParams} parameters`, false);
    }
    for (const f of [...formats, ...resultCodes]) {
      if (f !== 0 && f !== 1) throw new SqlError(SqlState.invalidParameterValue, `unsupported format code: ${f}`);
    }
    const ncols = stmt.columns?.length ?? 0;
    if (nResult > 1 && nResult !== ncols && stmt.columns !== null) {
      throw new ProtocolViolation(`bind message has ${nResult} result formats but query has ${ncols} columns`, false);
    }
    checkNotAborted(this.session, stmt.tokens);
    const params: ParamValue[] = raw.map((buf, i) => {
      const type = stmt.paramTypes[i];
      if (buf === null) return { type, text: null };
      const format = nFormats === 0 ? 0 : nFormats === 1 ? formats[0] : formats[i];
      if (format === 1) return { type, text: decodeBinaryParam(stmt.paramOids[i], buf, i) };
      const text = buf.toString('utf8');
      if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(buf)) {
        throw new SqlError('22021', `invalid byte sequence for encoding "UTF8" in bind parameter ${i + 1}`);
      }
      return { type, text };
    });
    this.dropPortal(portalName);
    this.portals.set(portalName, {
      name: portalName,
      stmt,
      params,
      formats: expandFormats(resultCodes, ncols),
      state: 'ready',
      rowsReturning: stmt.columns !== null,
    });
    this.session.out.bindComplete();
  }

  private describe(payload: Buffer): void {
    const r = new PayloadReader(payload);
    const kind = String.fromCharCode(r.int8());
    const name = r.cstring();
    r.end();
    const out = this.session.out;
    if (kind === 'S') {
      const stmt = this.statements.get(name);
      if (stmt === undefined) {
        throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${name}" does not exist`);
      }
      out.parameterDescription(stmt.paramOids);
      if (stmt.columns === null) out.noData();
      else rowDescription(out, stmt.columns, expandFormats([], stmt.columns.length));
    } else if (kind === 'P') {
      const portal = this.portals.get(name);
      if (portal === undefined) throw new SqlError('34000', `portal "${name}" does not exist`);
      // Only RowDescription or NoData: a ParameterDescription here broke psycopg 3 (pgwire #145).
      if (portal.stmt.columns === null) out.noData();
      else rowDescription(out, portal.stmt.columns, portal.formats);
    } else {
      throw new ProtocolViolation(`invalid DESCRIBE message subtype ${kind.charCodeAt(0)}`);
    }
  }

  private async execute(name: string, maxRows: number): Promise<void> {
    const portal = this.portals.get(name);
    if (portal === undefined) throw new SqlError('34000', `portal "${name}" does not exist`);
    const session = this.session;
    const out = session.out;
    const stmt = portal.stmt;
    if (stmt.sql === '') {
      out.emptyQueryResponse();
      return;
    }
    checkNotAborted(session, stmt.tokens);
    if (portal.state === 'done') {
      if (!portal.rowsReturning) throw new SqlError('55000', `portal "${name}" cannot be run`);
      out.commandComplete(completionTag(portal.tag ?? 'SELECT', 0));
      return;
    }
    if (portal.state === 'ready') {
      const scope = session.newScope();
      portal.scope = scope;
      try {
        if (stmt.copy !== null) {
          await runCopyToStdout(session, stmt.copy, scope);
          portal.state = 'done';
          portal.rowsReturning = false;
          this.releasePortalScope(portal);
          return;
        }
        const outcome: QueryOutcome = await executeStatement(session, stmt.sql, stmt.tokens, portal.params, scope);
        if (outcome.columns === null) {
          portal.state = 'done';
          portal.rowsReturning = false;
          out.commandComplete(outcome.commandTag);
          this.releasePortalScope(portal);
          return;
        }
        let columns = stmt.columns;
        if (columns === null || columns.length !== outcome.columns.length) {
          // The engine's description and its result disagree; the result wins, but the client
          // may have decoded a different RowDescription, so this is worth a log line.
          session.logger.warn('result columns differ from the statement description', { sql: stmt.sql });
          columns = outcome.columns;
          if (portal.formats.length !== columns.length) portal.formats = expandFormats(portal.formats.slice(0, 1), columns.length);
        }
        portal.tag = outcome.commandTag;
        portal.cursor = new RowCursor(outcome, columnTypes(columns), portal.formats, scope.ctx.signal);
      } catch (e) {
        this.releasePortalScope(portal);
        portal.state = 'done';
        throw this.cancelAware(e, scope, stmt.positionBase);
      }
    }
    const scope = portal.scope as QueryScope;
    const cursor = portal.cursor as RowCursor;
    let finished: boolean;
    try {
      finished = await session.running(scope, () => cursor.send(session, maxRows));
    } catch (e) {
      portal.state = 'done';
      await cursor.close();
      this.releasePortalScope(portal);
      throw this.cancelAware(e, scope, 0);
    }
    if (finished) {
      portal.state = 'done';
      out.commandComplete(completionTag(portal.tag ?? 'SELECT', cursor.sent));
      this.releasePortalScope(portal);
    } else {
      portal.state = 'suspended';
      out.portalSuspended();
    }
  }

  private cancelAware(e: unknown, scope: QueryScope, positionBase: number): unknown {
    if (scope.ctx.signal.aborted && !(e instanceof SqlError && e.sqlstate === SqlState.queryCanceled)) return queryCanceled();
    return shiftPosition(e, positionBase);
  }

  private releasePortalScope(portal: Portal): void {
    portal.scope?.release();
    portal.scope = undefined;
  }

  private async close(payload: Buffer): Promise<void> {
    const r = new PayloadReader(payload);
    const kind = String.fromCharCode(r.int8());
    const name = r.cstring();
    r.end();
    if (kind === 'S') this.statements.delete(name);
    else if (kind === 'P') this.dropPortal(name);
    else throw new ProtocolViolation(`invalid CLOSE message subtype ${kind.charCodeAt(0)}`);
    // Closing something that does not exist is not an error (Postgres says the same).
    this.session.out.closeComplete();
  }

  /** Closes a portal, releasing the engine iterator it may still hold. */
  private dropPortal(name: string): void {
    const portal = this.portals.get(name);
    if (portal === undefined) return;
    this.portals.delete(name);
    if (portal.cursor !== undefined && !portal.cursor.done) {
      portal.scope?.abort('closed');
      void portal.cursor.close();
    }
    this.releasePortalScope(portal);
  }

  private async sync(): Promise<void> {
    this.skipping = false;
    this.dropPortal('');
    // Outside a transaction block the implicit transaction ends at Sync, and portals with it.
    if (this.session.txStatus === 'I') this.dropAllPortals();
    this.session.out.readyForQuery(this.session.txStatus);
    await this.session.flush();
  }

  /** DEALLOCATE / DISCARD ALL: protocol-level statements are forgotten here. */
  forgetStatement(name: string | null): boolean {
    if (name === null) {
      this.statements.clear();
      // The portal running the DEALLOCATE/DISCARD itself is unnamed and finishes normally.
      for (const p of [...this.portals.keys()]) if (p !== '') this.dropPortal(p);
      return true;
    }
    return this.statements.delete(name);
  }

  dropAllPortals(): void {
    for (const name of [...this.portals.keys()]) this.dropPortal(name);
  }

  /** Disconnect: abort every open portal and release engine iterators. */
  async closeAll(): Promise<void> {
    for (const name of [...this.portals.keys()]) this.dropPortal(name);
  }
}

/** Re-bases an engine error position from the statement to the Parse message's query string. */
function shiftPosition(e: unknown, base: number): unknown {
  if (base !== 0 && e instanceof SqlError && e.position !== undefined) e.position += base;
  return e;
}
