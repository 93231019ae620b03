/**
 * `COPY (query) TO STDOUT` and `COPY table [(cols)] TO STDOUT`, handled in the wire layer
 * because only the wire layer has a stdout: psql's `\copy (select …) to stdout` sends exactly
 * this. The inner query goes to the engine like any other statement; its rows leave as
 * CopyOutResponse, one CopyData per row, CopyDone and `COPY n`. Text and CSV formats follow
 * Postgres' CopyAttributeOutText / CopyAttributeOutCSV escaping.
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import type { RecordBatch } from 'apache-arrow';
import { cellText } from './encode-text.js';
import { queryCanceled } from './errors.js';
import type { Token } from './lexer.js';
import { batchReaders, columnTypes } from './result-stream.js';
import type { QueryScope, WireSession } from './wire-session.js';

export interface CopyToStdout {
  /** The SELECT to run, and its offset in the COPY statement (for error positions). */
  query: string;
  queryOffset: number;
  format: 'text' | 'csv';
  header: boolean;
  delimiter: string;
  nullString: string;
  quote: string;
  escape: string;
}

function unquote(t: Token): string | null {
  if (t.kind !== 'string') return null;
  const s = t.text;
  if (s[0] === 'E' || s[0] === 'e') {
    return s.slice(2, -1).replace(/''/g, "'").replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
  }
  return s.slice(1, -1).replace(/''/g, "'");
}

function syntax(message: string, t?: Token): SqlError {
  return new SqlError(SqlState.syntaxError, message, t === undefined ? {} : { position: t.start + 1 });
}

/**
 * Recognises `COPY … TO STDOUT [options]`. Returns null for any other statement (including
 * COPY FROM, which the engine then rejects).
 */
export function parseCopyToStdout(sql: string, tokens: Token[]): CopyToStdout | null {
  const word = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i].text.toUpperCase() : '');
  const op = (i: number, s: string) => tokens[i]?.kind === 'op' && tokens[i].text === s;
  if (word(0) !== 'COPY') return null;
  let i = 1;
  let query: string;
  let queryOffset: number;
  if (op(i, '(')) {
    let depth = 0;
    let j = i;
    for (; j < tokens.length; j++) {
      if (op(j, '(')) depth++;
      else if (op(j, ')') && --depth === 0) break;
    }
    if (j >= tokens.length) return null;
    queryOffset = tokens[i + 1]?.start ?? tokens[i].end;
    query = sql.slice(queryOffset, tokens[j - 1].end);
    i = j + 1;
  } else {
    // COPY [schema.]table [(col, …)]: rewritten to the equivalent SELECT.
    const start = i;
    while (i < tokens.length && (tokens[i].kind === 'word' || tokens[i].kind === 'qident' || op(i, '.'))) {
      if (word(i) === 'TO' || word(i) === 'FROM') break;
      i++;
    }
    if (i === start) return null;
    const table = sql.slice(tokens[start].start, tokens[i - 1].end);
    let cols = '*';
    if (op(i, '(')) {
      const open = i;
      while (i < tokens.length && !op(i, ')')) i++;
      cols = sql.slice(tokens[open].end, tokens[i]?.start ?? sql.length).trim();
      i++;
    }
    query = `SELECT ${cols} FROM ${table}`;
    queryOffset = 0;
  }
  if (word(i) !== 'TO' || word(i + 1) !== 'STDOUT') return null;
  i += 2;
  const opts: CopyToStdout = {
    query,
    queryOffset,
    format: 'text',
    header: false,
    delimiter: '\t',
    nullString: '\\N',
    quote: '"',
    escape: '"',
  };
  let delimiterSet = false;
  let nullSet = false;
  const setFormat = (f: string, t: Token) => {
    const v = f.toLowerCase();
    if (v === 'csv' || v === 'text') opts.format = v;
    else if (v === 'binary') throw new SqlError(SqlState.featureNotSupported, 'COPY BINARY is not supported', { position: t.start + 1 });
    else throw syntax(`COPY format "${f}" not recognized`, t);
  };
  const stringAt = (k: number): string => {
    const v = tokens[k] === undefined ? null : unquote(tokens[k]);
    if (v === null) throw syntax('syntax error in COPY options', tokens[k]);
    return v;
  };
  if (word(i) === 'WITH') i++;
  if (op(i, '(')) {
    i++;
    while (i < tokens.length && !op(i, ')')) {
      const name = word(i);
      const nameTok = tokens[i];
      i++;
      let value: string | null = null;
      if (!op(i, ',') && !op(i, ')')) {
        const t = tokens[i];
        value = t.kind === 'string' ? unquote(t) : t.text;
        i++;
      }
      switch (name) {
        case 'FORMAT':
          setFormat(value ?? '', nameTok);
          break;
        case 'HEADER':
          opts.header = value === null || /^(true|on|1|match)$/i.test(value);
          break;
        case 'DELIMITER':
          opts.delimiter = value ?? '';
          delimiterSet = true;
          break;
        case 'NULL':
          opts.nullString = value ?? '';
          nullSet = true;
          break;
        case 'QUOTE':
          opts.quote = value ?? '"';
          break;
        case 'ESCAPE':
          opts.escape = value ?? '"';
          break;
        case 'ENCODING':
          if (value !== null && !/^utf-?8$/i.test(value)) {
            throw new SqlError(SqlState.featureNotSupported, 'COPY supports only UTF8 encoding');
          }
          break;
        default:
          throw syntax(`option "${name.toLowerCase()}" not recognized`, nameTok);
      }
      if (op(i, ',')) i++;
    }
    i++;
  } else {
    // Pre-9.0 option syntax, still what many scripts use: CSV HEADER DELIMITER 'x' NULL 'y' …
    while (i < tokens.length) {
      const w = word(i);
      if (w === 'CSV') {
        opts.format = 'csv';
        i++;
      } else if (w === 'BINARY') {
        setFormat('binary', tokens[i]);
      } else if (w === 'HEADER') {
        opts.header = true;
        i++;
      } else if (w === 'DELIMITER' || w === 'NULL' || w === 'QUOTE' || w === 'ESCAPE') {
        i++;
        if (word(i) === 'AS') i++;
        const v = stringAt(i);
        i++;
        if (w === 'DELIMITER') {
          opts.delimiter = v;
          delimiterSet = true;
        } else if (w === 'NULL') {
          opts.nullString = v;
          nullSet = true;
        } else if (w === 'QUOTE') opts.quote = v;
        else opts.escape = v;
      } else {
        throw syntax(`syntax error at or near "${tokens[i].text}"`, tokens[i]);
      }
    }
  }
  if (i < tokens.length) throw syntax(`syntax error at or near "${tokens[i].text}"`, tokens[i]);
  if (opts.format === 'csv') {
    if (!delimiterSet) opts.delimiter = ',';
    if (!nullSet) opts.nullString = '';
  }
  if (opts.delimiter.length !== 1) {
    throw new SqlError(SqlState.featureNotSupported, 'COPY delimiter must be a single one-byte character');
  }
  return opts;
}

function textField(v: string, delim: string): string {
  let out = '';
  for (const ch of v) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        out += ch === delim ? `\\${ch}` : ch;
    }
  }
  return out;
}

function csvField(v: string, o: CopyToStdout, singleColumn: boolean): string {
  const needs =
    v === o.nullString ||
    v.includes(o.delimiter) ||
    v.includes(o.quote) ||
    v.includes('\n') ||
    v.includes('\r') ||
    (singleColumn && v === '\\.');
  if (!needs) return v;
  let out = o.quote;
  for (const ch of v) {
    if (ch === o.quote || ch === o.escape) out += o.escape;
    out += ch;
  }
  return out + o.quote;
}

/** Runs the COPY: the engine executes the query, rows stream out as CopyData. */
export async function runCopyToStdout(session: WireSession, copy: CopyToStdout, scope: QueryScope): Promise<void> {
  const outcome = await session.running(scope, () => session.engine.execute(copy.query, [], scope.ctx));
  if (outcome.columns === null) {
    throw new SqlError(SqlState.featureNotSupported, 'COPY query must return rows');
  }
  const columns = outcome.columns;
  const types = columnTypes(columns);
  const w = session.out;
  w.copyOutResponse(columns.length, 0);
  const line = (values: (string | null)[]) => {
    let s = '';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) s += copy.delimiter;
      const v = values[i];
      if (v === null) s += copy.nullString;
      else s += copy.format === 'csv' ? csvField(v, copy, values.length === 1) : textField(v, copy.delimiter);
    }
    w.begin('d').text(s + '\n').end();
  };
  if (copy.header) line(columns.map((c) => c.name));
  let rows = 0;
  await session.running(scope, async () => {
    for await (const batch of outcome.batches as AsyncIterable<RecordBatch>) {
      if (scope.ctx.signal.aborted) throw queryCanceled();
      const readers = batchReaders(batch, types);
      for (let r = 0; r < batch.numRows; r++) {
        line(
          readers.map((read, c) => {
            const cell = read(r);
            return cell === null ? null : cellText(cell, types[c], session.env);
          }),
        );
        rows++;
        if (w.size >= 65_536) await session.maybeFlush();
        if (session.isClosed) throw queryCanceled();
      }
    }
  });
  w.copyDone();
  w.commandComplete(`COPY ${rows}`);
}
