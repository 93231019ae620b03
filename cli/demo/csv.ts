/**
 * CSV rendering of demo rows (RFC 4180, `\n` line ends, header line), in the one dialect that
 * DuckDB's `read_csv` and PostgreSQL's `COPY … (FORMAT csv, HEADER)` both read identically:
 * - NULL is an empty unquoted field; the generator never produces empty strings (DuckDB would
 *   read a quoted empty string as NULL by default, PostgreSQL as '').
 * - A field is quoted when it contains `"`, `,`, CR/LF or leading/trailing whitespace; `"` is
 *   doubled inside quotes.
 * - DATE `YYYY-MM-DD`, TIMESTAMP `YYYY-MM-DD HH:MM:SS`, DECIMAL(p,s) with exactly s fraction
 *   digits, BOOLEAN `true`/`false`, DOUBLE as JavaScript prints it (shortest round-trip form).
 *
 * Raw values by column type: DATE = days since 1970-01-01, TIMESTAMP = seconds since the epoch
 * (UTC, no zone), DECIMAL = integer in units of 10^-s, integers/DOUBLE = number, VARCHAR = string.
 */

export type RawValue = string | number | bigint | boolean | null;

const DAY_MS = 86_400_000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Days since 1970-01-01 → `YYYY-MM-DD`. */
export function formatDate(days: number): string {
  const d = new Date(days * DAY_MS);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** `YYYY-MM-DD` → days since 1970-01-01. */
export function parseDate(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new Error(`bad ISO date ${JSON.stringify(iso)}`);
  return Math.round(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
}

/** Seconds since the epoch → `YYYY-MM-DD HH:MM:SS`. */
export function formatTimestamp(seconds: number): string {
  const d = new Date(seconds * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  );
}

/** Integer units of 10^-scale → fixed-point text, e.g. (-5, 2) → `-0.05`. */
export function formatDecimal(units: number | bigint, scale: number): string {
  const v = typeof units === 'bigint' ? units : BigInt(units);
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = abs.slice(0, abs.length - scale);
  const frac = abs.slice(abs.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** The scale of a `DECIMAL(p,s)` type string, or undefined for other types. */
export function decimalScale(type: string): number | undefined {
  const m = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
  return m ? Number(m[2]) : undefined;
}

/** Formats one raw value as CSV text (unquoted) according to the column's DuckDB type. */
export function formatValue(value: RawValue, type: string): string | null {
  if (value === null) return null;
  const upper = type.toUpperCase();
  const scale = decimalScale(upper);
  if (scale !== undefined) {
    if (typeof value !== 'number' && typeof value !== 'bigint') throw new Error(`DECIMAL wants integer units, got ${typeof value}`);
    return formatDecimal(value, scale);
  }
  switch (upper) {
    case 'DATE':
      if (typeof value !== 'number') throw new Error('DATE wants days since epoch');
      return formatDate(value);
    case 'TIMESTAMP':
      if (typeof value !== 'number') throw new Error('TIMESTAMP wants seconds since epoch');
      return formatTimestamp(value);
    case 'BOOLEAN':
      return value ? 'true' : 'false';
    default:
      return String(value);
  }
}

function quoteField(text: string): string {
  if (text === '') throw new Error('the demo CSV dialect has no empty strings (they would read back as NULL in DuckDB)');
  if (/[",\r\n]/.test(text) || /^\s|\s$/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** Renders a whole CSV file: header line plus one line per row. */
export function renderCsv(columns: readonly { name: string; type: string }[], rows: readonly RawValue[][]): string {
  const parts: string[] = [columns.map((c) => quoteField(c.name)).join(',')];
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`row has ${row.length} values, table has ${columns.length} columns`);
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const text = formatValue(row[i], columns[i].type);
      if (i > 0) line += ',';
      if (text !== null) line += quoteField(text);
    }
    parts.push(line);
  }
  return parts.join('\n') + '\n';
}
