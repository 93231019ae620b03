/**
 * TEST-ONLY QueryEngine over an in-memory DuckDB, for the pgwire suites. It implements the
 * executor/session-types.ts contract directly (no parser, planner or parties): statements go to
 * DuckDB as they are, results are converted to Arrow by the test converter, and the session
 * commands a Postgres client sends (SET/SHOW/RESET, BEGIN/COMMIT/ROLLBACK, DISCARD, DEALLOCATE)
 * are answered minimally. Two test hooks: `select pg_sleep(s)` sleeps (cancellable) and
 * `select veil_notice('text', n)` emits n NoticeResponses before returning.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import type { RecordBatch } from 'apache-arrow';
import type {
  EngineSession,
  ExecutionContext,
  ParamValue,
  QueryEngine,
  QueryOutcome,
  ResultColumn,
  StatementDescription,
} from '../../executor/session-types.js';
import { SqlError, SqlState } from '../../parser/errors.js';
import { arrowSchema, chunkToBatch, duckdbTypeString } from './pgwire-duckdb-arrow.js';

/** DuckDB's ResultReturnType.QUERY_RESULT. */
const QUERY_RESULT = 3;

export interface TestEngineStats {
  opened: number;
  closed: number;
  /** SQL the engine was asked to execute, in order (for assertions). */
  executed: string[];
  /** Parameters of each execute call, in order. */
  params: ParamValue[][];
  /** describe() calls: SQL and hints. */
  described: { sql: string; hints: (string | undefined)[] }[];
}

export class DuckDbTestEngine implements QueryEngine {
  readonly stats: TestEngineStats = { opened: 0, closed: 0, executed: [], params: [], described: [] };

  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(setupSql: string[] = []): Promise<DuckDbTestEngine> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const engine = new DuckDbTestEngine(instance);
    const conn = await instance.connect();
    for (const sql of setupSql) await conn.run(sql);
    conn.closeSync();
    return engine;
  }

  async openSession(user: string, database: string, startup: Record<string, string>): Promise<EngineSession> {
    if (database === 'nosuchdb') throw new SqlError(SqlState.invalidCatalogName, `database "${database}" does not exist`);
    this.stats.opened++;
    const conn = await this.instance.connect();
    return new TestSession(user, conn, startup, this.stats);
  }

  close(): void {
    this.instance.closeSync();
  }
}

function words(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .trim()
    .split(/\s+/)
    .map((w) => w.toUpperCase());
}

function mapDuckError(e: unknown, signal?: AbortSignal): SqlError {
  if (e instanceof SqlError) return e;
  if (signal?.aborted) return new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0];
  // DuckDB marks the error column with a caret under "LINE 1: <sql>"; that is the position.
  let position: number | undefined;
  const lines = msg.split('\n');
  const li = lines.findIndex((l) => l.startsWith('LINE 1: '));
  if (li >= 0 && lines[li + 1] !== undefined) {
    const caret = lines[li + 1].indexOf('^');
    if (caret >= 8) position = caret - 8 + 1;
  }
  let code: string = SqlState.syntaxError;
  if (/^Catalog Error: Table/.test(first)) code = SqlState.undefinedTable;
  else if (/^Binder Error: Referenced column/.test(first)) code = SqlState.undefinedColumn;
  else if (/^Catalog Error: Scalar Function/.test(first)) code = SqlState.undefinedFunction;
  else if (/^Conversion Error/.test(first)) code = SqlState.invalidTextRepresentation;
  else if (/^Out of Range Error|^Invalid Input Error/.test(first)) code = '22003';
  else if (/^Binder Error/.test(first)) code = '42804';
  else if (/^Parser Error/.test(first)) code = SqlState.syntaxError;
  else if (/Division by zero/i.test(first)) code = SqlState.divisionByZero;
  else code = SqlState.internalError;
  const message = first.replace(/^[A-Za-z ]+ Error: /, '');
  return new SqlError(code, message, position === undefined ? {} : { position });
}

async function* none(): AsyncGenerator<RecordBatch> {
  // no rows
}

class TestSession implements EngineSession {
  private readonly settings = new Map<string, string>();
  /** Prepared statements by SQL text (DuckDB re-plans nothing on re-execution). */
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();

  private async prepare(sql: string): Promise<DuckDBPreparedStatement> {
    const hit = this.prepared.get(sql);
    if (hit !== undefined) {
      hit.clearBindings();
      return hit;
    }
    const p = await this.conn.prepare(sql);
    if (this.prepared.size >= 64) {
      const [oldest, stmt] = this.prepared.entries().next().value as [string, DuckDBPreparedStatement];
      this.prepared.delete(oldest);
      stmt.destroySync();
    }
    // Only statements without side effects on the catalog are worth keeping.
    if (/^\s*select\b/i.test(sql)) this.prepared.set(sql, p);
    return p;
  }

  private release(sql: string, p: DuckDBPreparedStatement): void {
    if (this.prepared.get(sql) !== p) p.destroySync();
  }

  constructor(
    readonly user: string,
    private readonly conn: DuckDBConnection,
    startup: Record<string, string>,
    private readonly stats: TestEngineStats,
  ) {
    this.settings.set('timezone', startup['TimeZone'] ?? 'UTC');
    this.settings.set('application_name', startup['application_name'] ?? '');
    this.settings.set('search_path', '"$user", public');
    this.settings.set('transaction_isolation', 'read committed');
    this.settings.set('standard_conforming_strings', 'on');
    this.settings.set('datestyle', 'ISO, MDY');
    this.settings.set('client_encoding', 'UTF8');
    this.settings.set('server_version', '16.4');
    this.settings.set('statement_timeout', '0');
    this.settings.set('max_identifier_length', '63');
  }

  async describe(sql: string, hints: (string | undefined)[]): Promise<StatementDescription> {
    this.stats.described.push({ sql, hints });
    if (this.stats.described.length > 10_000) this.stats.described.splice(0, 5_000);
    const special = this.special(sql);
    if (special !== null) return { paramTypes: /\$1/.test(sql) ? ['DOUBLE'] : [], columns: special.columns };
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await this.prepare(sql);
    } catch (e) {
      throw mapDuckError(e);
    }
    try {
      const paramTypes: string[] = [];
      for (let i = 1; i <= prepared.parameterCount; i++) {
        let t: string | undefined;
        try {
          t = duckdbTypeString(prepared.parameterType(i));
        } catch {
          t = undefined;
        }
        paramTypes.push(hints[i - 1] ?? (t === undefined || t === 'ANY' || t === 'UNKNOWN' ? 'VARCHAR' : t));
      }
      const st = prepared.statementType as number;
      // SELECT, EXPLAIN, PRAGMA, CALL return rows; everything else is a command.
      const returnsRows = st === 1 || st === 4 || st === 17 || st === 19;
      const columns: ResultColumn[] | null = returnsRows
        ? Array.from({ length: prepared.columnCount }, (_, i) => ({ name: prepared.columnName(i), type: duckdbTypeString(prepared.columnType(i)) }))
        : null;
      return { paramTypes, columns };
    } finally {
      this.release(sql, prepared);
    }
  }

  /** Session commands answered without DuckDB; returns null for ordinary SQL. */
  private special(
    sql: string,
  ): { columns: ResultColumn[] | null; run: (ctx: ExecutionContext, params: ParamValue[]) => Promise<QueryOutcome> } | null {
    const w = words(sql);
    const noRows = (commandTag: string, transaction?: QueryOutcome['transaction']) => ({
      columns: null,
      run: async (): Promise<QueryOutcome> => ({ columns: null, batches: none(), commandTag, ...(transaction ? { transaction } : {}) }),
    });
    const oneValue = (name: string, value: string) => {
      const columns = [{ name, type: 'VARCHAR' }];
      return {
        columns,
        run: async (): Promise<QueryOutcome> => this.literalRows(columns, [[value]], 'SHOW'),
      };
    };
    switch (w[0]) {
      case 'BEGIN':
      case 'START':
        return noRows('BEGIN', 'begin');
      case 'COMMIT':
      case 'END':
        return noRows('COMMIT', 'commit');
      case 'ROLLBACK':
      case 'ABORT':
        return noRows('ROLLBACK', 'rollback');
      case 'DISCARD':
        return noRows('DISCARD ALL');
      case 'DEALLOCATE':
        return noRows('DEALLOCATE');
      case 'RESET':
        return noRows('RESET');
      case 'SET': {
        const m = /^\s*set\s+(?:session\s+|local\s+)?(time\s+zone|[a-z_.]+)\s*(?:=|to)?\s*(.*?)\s*;?\s*$/is.exec(sql);
        if (m) {
          const name = m[1].toLowerCase().replace(/\s+/g, ' ') === 'time zone' ? 'timezone' : m[1].toLowerCase();
          this.settings.set(name, m[2].replace(/^'(.*)'$/s, '$1'));
        }
        return noRows('SET');
      }
      case 'SHOW': {
        const rest = sql.trim().replace(/;$/, '').split(/\s+/).slice(1).join(' ').toLowerCase();
        const key = rest === 'time zone' ? 'timezone' : rest === 'transaction isolation level' ? 'transaction_isolation' : rest;
        const value = this.settings.get(key);
        if (value === undefined) throw new SqlError('42704', `unrecognized configuration parameter "${rest}"`);
        return oneValue(key === 'timezone' ? 'TimeZone' : key, value);
      }
    }
    const sleep = /^\s*select\s+pg_sleep\s*\(\s*([\d.]+|\$\d+)(?:::\w+)?\s*\)\s*;?\s*$/i.exec(sql);
    if (sleep) {
      const columns = [{ name: 'pg_sleep', type: 'VARCHAR' }];
      return {
        columns,
        run: async (ctx, params) => {
          const arg = sleep[1].startsWith('$') ? (params[Number(sleep[1].slice(1)) - 1]?.text ?? '0') : sleep[1];
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, Number(arg) * 1000);
            const onAbort = () => {
              clearTimeout(timer);
              reject(new SqlError(SqlState.queryCanceled, 'canceling statement due to user request'));
            };
            if (ctx.signal.aborted) onAbort();
            ctx.signal.addEventListener('abort', onAbort, { once: true });
          });
          return this.literalRows(columns, [['']], 'SELECT');
        },
      };
    }
    const notice = /^\s*select\s+veil_notice\s*\(\s*'([^']*)'\s*,\s*(\d+)\s*\)\s*;?\s*$/i.exec(sql);
    if (notice) {
      const columns = [{ name: 'veil_notice', type: 'INTEGER' }];
      return {
        columns,
        run: async (ctx) => {
          const n = Number(notice[2]);
          for (let i = 1; i <= n; i++) {
            ctx.notice({ severity: 'NOTICE', code: '00000', message: `${notice[1]} ${i}/${n}` });
            await new Promise((r) => setTimeout(r, 5));
          }
          return this.literalRowsTyped(columns, `select ${n}::INTEGER as veil_notice`);
        },
      };
    }
    return null;
  }

  private async literalRows(columns: ResultColumn[], rows: string[][], tag: string): Promise<QueryOutcome> {
    const select = rows
      .map((r) => `select ${r.map((v, i) => `'${v.replace(/'/g, "''")}'::VARCHAR as "${columns[i].name}"`).join(', ')}`)
      .join(' union all ');
    const outcome = await this.literalRowsTyped(columns, select);
    return { ...outcome, commandTag: tag };
  }

  private async literalRowsTyped(columns: ResultColumn[], sql: string): Promise<QueryOutcome> {
    const result = await this.conn.run(sql);
    const types = result.columnTypes();
    const schema = arrowSchema(result.columnNames(), types);
    const chunks = await result.fetchAllChunks();
    async function* batches() {
      for (const c of chunks) if (c.rowCount > 0) yield chunkToBatch(schema, types, c);
    }
    return { columns, batches: batches(), commandTag: 'SELECT' };
  }

  async execute(sql: string, params: ParamValue[], ctx: ExecutionContext): Promise<QueryOutcome> {
    this.stats.executed.push(sql);
    this.stats.params.push(params);
    // Bounded: load tests run hundreds of thousands of statements.
    if (this.stats.executed.length > 10_000) {
      this.stats.executed.splice(0, 5_000);
      this.stats.params.splice(0, 5_000);
    }
    if (ctx.signal.aborted) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
    const special = this.special(sql);
    if (special !== null) return special.run(ctx, params);
    const onAbort = () => this.conn.interrupt();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let prepared: DuckDBPreparedStatement | null = null;
    try {
      prepared = await this.prepare(sql);
      bindParams(prepared, params);
      const result = await prepared.stream();
      const st = prepared.statementType as number;
      const types = result.columnTypes();
      const names = result.columnNames();
      if ((result.returnType as number) !== QUERY_RESULT || (st !== 1 && st !== 4 && st !== 17 && st !== 19)) {
        let count = 0;
        const chunk = await result.fetchChunk();
        if (chunk !== null && chunk.rowCount > 0 && types[0]?.typeId === DuckDBTypeId.BIGINT) {
          count = Number(chunk.getColumnValues(0)[0] as bigint);
        }
        ctx.signal.removeEventListener('abort', onAbort);
        return { columns: null, batches: none(), commandTag: commandTag(sql, st, count) };
      }
      const schema = arrowSchema(names, types);
      const columns = names.map((name, i) => ({ name, type: duckdbTypeString(types[i]) }));
      const conn = this.conn;
      async function* batches(): AsyncGenerator<RecordBatch> {
        try {
          for (;;) {
            let chunk;
            try {
              chunk = await result.fetchChunk();
            } catch (e) {
              throw mapDuckError(e, ctx.signal);
            }
            if (chunk === null || chunk.rowCount === 0) return;
            yield chunkToBatch(schema, types as DuckDBType[], chunk);
          }
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
          void conn;
        }
      }
      return { columns, batches: batches(), commandTag: st === 4 ? 'EXPLAIN' : 'SELECT' };
    } catch (e) {
      ctx.signal.removeEventListener('abort', onAbort);
      throw mapDuckError(e, ctx.signal);
    } finally {
      if (prepared !== null) this.release(sql, prepared);
    }
  }

  async close(): Promise<void> {
    this.stats.closed++;
    for (const p of this.prepared.values()) p.destroySync();
    this.prepared.clear();
    this.conn.closeSync();
  }
}

function commandTag(sql: string, st: number, count: number): string {
  switch (st) {
    case 2:
      return `INSERT 0 ${count}`;
    case 3:
      return `UPDATE ${count}`;
    case 5:
      return `DELETE ${count}`;
    case 7:
    case 15:
    case 9: {
      const w = words(sql);
      const obj = w[1] === 'OR' ? w[3] : w[1] === 'TEMP' || w[1] === 'TEMPORARY' ? w[2] : w[1];
      return `${w[0]} ${obj}`;
    }
    default:
      return words(sql)[0];
  }
}

function bindParams(prepared: DuckDBPreparedStatement, params: ParamValue[]): void {
  params.forEach((p, i) => {
    const idx = i + 1;
    if (p.text === null) {
      prepared.bindNull(idx);
      return;
    }
    const type = (p.type ?? 'VARCHAR').toUpperCase();
    switch (type) {
      case 'SMALLINT':
      case 'INTEGER':
      case 'TINYINT':
        prepared.bindInteger(idx, Number(p.text));
        return;
      case 'BIGINT':
        prepared.bindBigInt(idx, BigInt(p.text));
        return;
      case 'DOUBLE':
      case 'FLOAT':
        prepared.bindDouble(idx, Number(p.text));
        return;
      case 'BOOLEAN':
        prepared.bindBoolean(idx, /^(t|true|on|1|y|yes)$/i.test(p.text.trim()));
        return;
      case 'BLOB':
        prepared.bindBlob(idx, p.text.startsWith('\\x') ? Buffer.from(p.text.slice(2), 'hex') : Buffer.from(p.text, 'utf8'));
        return;
      default:
        prepared.bindVarchar(idx, p.text);
    }
  });
}
