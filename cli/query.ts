/**
 * `veilsql query --gateway postgres://user:pw@host:port/veilsql "SQL"`: runs statements through
 * a gateway with an ordinary Postgres driver and prints psql-style tables; notices (progress,
 * privacy cost) go to stderr; errors print SQLSTATE, message, position marker and hint.
 */
import pg from 'pg';
import { formatTable } from './format-table.js';

const NUMERIC_OIDS = new Set([20, 21, 23, 700, 701, 1700, 26]);

export interface QueryCliResult {
  output: string;
  ok: boolean;
}

export async function runQueryCommand(gateway: string, sql: string, out: (s: string) => void, err: (s: string) => void): Promise<boolean> {
  // Every value as text, exactly as the gateway sent it.
  const types = { getTypeParser: () => (v: string) => v };
  const client = new pg.Client({ connectionString: gateway, types });
  client.on('notice', (n) => err(`${n.severity ?? 'NOTICE'}:  ${n.message}`));
  try {
    await client.connect();
  } catch (e) {
    err(`veilsql: cannot connect to ${redact(gateway)}: ${(e as Error).message}`);
    return false;
  }
  try {
    const results = await client.query({ text: sql, rowMode: 'array' } as pg.QueryConfig);
    for (const r of Array.isArray(results) ? results : [results]) {
      if (!r.fields || r.fields.length === 0) {
        out(r.command ?? 'OK');
        continue;
      }
      const columns = r.fields.map((f: pg.FieldDef) => ({ name: f.name, numeric: NUMERIC_OIDS.has(f.dataTypeID) }));
      out(formatTable(columns, r.rows as (string | null)[][]));
    }
    return true;
  } catch (e) {
    const pe = e as pg.DatabaseError;
    err(`ERROR:  ${pe.message}${pe.code ? ` (SQLSTATE ${pe.code})` : ''}`);
    if (pe.position) {
      const pos = Number(pe.position);
      const line = lineAt(sql, pos);
      err(`LINE ${line.number}: ${line.text}`);
      err(`${' '.repeat(`LINE ${line.number}: `.length + line.column - 1)}^`);
    }
    if (pe.detail) err(`DETAIL:  ${pe.detail}`);
    if (pe.hint) err(`HINT:  ${pe.hint}`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function lineAt(sql: string, position: number): { number: number; text: string; column: number } {
  const before = sql.slice(0, position - 1);
  const number = before.split('\n').length;
  const start = before.lastIndexOf('\n') + 1;
  const end = sql.indexOf('\n', start);
  return { number, text: sql.slice(start, end < 0 ? undefined : end), column: position - start };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
