/**
 * Compares a VeilSQL result with PostgreSQL's result for the same query, tolerant of the ways two
 * correct engines and drivers legitimately differ, strict about everything else:
 * - numbers: bigint, integer numbers and numeric strings compare by exact decimal value
 *   (`'1.50'` = `1.5` = `1.5000`, `7n` = `'7'` = `7`); a non-integer JavaScript number (a DOUBLE)
 *   compares to anything numeric with relative tolerance `relTol` (default 1e-9) or absolute
 *   `absTol` (default 1e-12); NaN/±Infinity compare by name;
 * - dates and timestamps: JavaScript Dates (pg's default parsers make local-time Dates) and
 *   strings compare as `YYYY-MM-DD[ HH:MM:SS[.ffffff]]`, `T` or space, trailing zeros of the
 *   fraction and a `Z`/`+00`/`+00:00` suffix ignored; midnight timestamps equal their date;
 * - booleans: `true`/`false` equal `'t'`/`'f'`/`'true'`/`'false'`; NULL equals only NULL
 *   (`undefined` counts as NULL); other strings compare exactly (no trimming, no Unicode folding);
 * - rows may be objects (compared by column name; both sides must have the same names) or arrays
 *   (by position); `ordered: false` compares as multisets.
 * On a mismatch, `diff` is a readable report: row counts, then the first differing rows with the
 * offending columns marked.
 */

export type Row = Record<string, unknown> | unknown[];

export interface CompareOptions {
  ordered: boolean;
  relTol?: number;
  absTol?: number;
  /** Compare object rows by position instead of by column name. */
  byPosition?: boolean;
  /** How many differing rows to show (default 10). */
  maxShown?: number;
}

export interface CompareResult {
  equal: boolean;
  diff: string;
}

type Canon =
  | { k: 'null' }
  | { k: 'dec'; v: string } // normalised exact decimal
  | { k: 'float'; v: number }
  | { k: 'time'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'str'; v: string };

const DECIMAL_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const TIME_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?(Z|[+-]00(?::?00)?)?$/;

/** Exact decimal normal form: no exponent, no leading/trailing zeros, `-0` → `0`. */
export function normalizeDecimal(text: string): string {
  const m = /^([-+]?)(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const neg = m[1] === '-';
  let digits = (m[2] || '') + (m[3] || '');
  let point = (m[2] || '').length + (m[4] ? Number(m[4]) : 0);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  let int = digits.slice(0, point).replace(/^0+/, '');
  const frac = digits.slice(point).replace(/0+$/, '');
  if (int === '') int = '0';
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== '0' ? `-${body}` : body;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function canonTime(text: string): string | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  if (!m[2]) return m[1];
  let time = m[2].length === 5 ? `${m[2]}:00` : m[2];
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > 1) time += frac;
  return time === '00:00:00' ? m[1] : `${m[1]} ${time}`;
}

function canon(v: unknown): Canon {
  if (v === null || v === undefined) return { k: 'null' };
  if (typeof v === 'bigint') return { k: 'dec', v: v.toString() };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { k: 'str', v: 'NaN' };
    if (!Number.isFinite(v)) return { k: 'str', v: v > 0 ? 'Infinity' : '-Infinity' };
    if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return { k: 'dec', v: normalizeDecimal(String(v)) };
    return { k: 'float', v };
  }
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (v instanceof Date) {
    const s =
      `${pad(v.getFullYear(), 4)}-${pad(v.getMonth() + 1)}-${pad(v.getDate())} ` +
      `${pad(v.getHours())}:${pad(v.getMinutes())}:${pad(v.getSeconds())}.${pad(v.getMilliseconds(), 3)}`;
    return { k: 'time', v: canonTime(s) ?? s };
  }
  if (typeof v === 'string') {
    if (DECIMAL_RE.test(v)) return { k: 'dec', v: normalizeDecimal(v) };
    const t = canonTime(v);
    if (t !== undefined) return { k: 'time', v: t };
    return { k: 'str', v };
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { k: 'str', v: `\\x${Buffer.from(v).toString('hex')}` };
  return { k: 'str', v: JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) };
}

function asNumber(c: Canon): number | undefined {
  if (c.k === 'float') return c.v;
  if (c.k === 'dec') return Number(c.v);
  return undefined;
}

const BOOL_TEXT: Record<string, boolean> = { t: true, true: true, f: false, false: false };

function valuesEqual(a: Canon, b: Canon, relTol: number, absTol: number): boolean {
  if (a.k === 'null' || b.k === 'null') return a.k === b.k;
  if (a.k === 'dec' && b.k === 'dec') return a.v === b.v;
  if (a.k === 'float' || b.k === 'float') {
    const x = asNumber(a);
    const y = asNumber(b);
    if (x === undefined || y === undefined) return false;
    const d = Math.abs(x - y);
    return d <= absTol || d <= relTol * Math.max(Math.abs(x), Math.abs(y));
  }
  if (a.k === 'bool' || b.k === 'bool') {
    const x = a.k === 'bool' ? a.v : a.k === 'str' ? BOOL_TEXT[a.v] : undefined;
    const y = b.k === 'bool' ? b.v : b.k === 'str' ? BOOL_TEXT[b.v] : undefined;
    return x !== undefined && x === y;
  }
  return a.k === b.k && a.v === b.v;
}

function show(c: Canon): string {
  switch (c.k) {
    case 'null':
      return 'NULL';
    case 'str':
      return JSON.stringify(c.v);
    default:
      return String(c.v);
  }
}

interface Table {
  columns: string[];
  rows: Canon[][];
}

function toTable(rows: readonly Row[], columns: string[] | undefined, byPosition: boolean): Table {
  if (rows.length === 0) return { columns: columns ?? [], rows: [] };
  if (Array.isArray(rows[0]) || byPosition) {
    const arrays = rows.map((r) => (Array.isArray(r) ? r : Object.values(r)));
    const width = Math.max(...arrays.map((r) => r.length));
    return { columns: columns ?? Array.from({ length: width }, (_, i) => `#${i + 1}`), rows: arrays.map((r) => r.map(canon)) };
  }
  const cols = columns ?? Object.keys(rows[0] as Record<string, unknown>);
  return { columns: cols, rows: rows.map((r) => cols.map((c) => canon((r as Record<string, unknown>)[c]))) };
}

/** A sort key: floats rounded to 9 significant digits so near-equal rows sort together. */
function sortKey(row: Canon[]): string {
  return row
    .map((c) => {
      if (c.k === 'float') return `n:${Number(c.v.toPrecision(9))}`;
      if (c.k === 'dec') return `n:${Number(Number(c.v).toPrecision(9))}`;
      if (c.k === 'bool') return `s:${c.v ? 't' : 'f'}`;
      if (c.k === 'str' && c.v in BOOL_TEXT) return `s:${BOOL_TEXT[c.v] ? 't' : 'f'}`;
      return `${c.k[0]}:${c.k === 'null' ? '' : c.v}`;
    })
    .join('\u0001');
}

export function compareResults(ours: readonly Row[], theirs: readonly Row[], opts: CompareOptions): CompareResult {
  const relTol = opts.relTol ?? 1e-9;
  const absTol = opts.absTol ?? 1e-12;
  const maxShown = opts.maxShown ?? 10;
  const byPosition = opts.byPosition ?? false;
  const a = toTable(ours, undefined, byPosition);
  const namesFromObjects = !byPosition && ours.length > 0 && !Array.isArray(ours[0]);
  const b = toTable(theirs, namesFromObjects ? a.columns : undefined, byPosition);
  const problems: string[] = [];

  if (namesFromObjects && theirs.length > 0 && !Array.isArray(theirs[0])) {
    const theirCols = Object.keys(theirs[0] as Record<string, unknown>);
    const missing = a.columns.filter((c) => !theirCols.includes(c));
    const extra = theirCols.filter((c) => !a.columns.includes(c));
    if (missing.length || extra.length) {
      problems.push(`column names differ: ours [${a.columns.join(', ')}], PostgreSQL [${theirCols.join(', ')}]`);
    }
  }
  const rowEq = (x: Canon[], y: Canon[]) => x.length === y.length && x.every((v, i) => valuesEqual(v, y[i], relTol, absTol));
  const fmt = (row: Canon[], other?: Canon[]) =>
    '(' + row.map((v, i) => (other && (i >= other.length || !valuesEqual(v, other[i], relTol, absTol)) ? `>>${show(v)}<<` : show(v))).join(', ') + ')';

  if (a.rows.length !== b.rows.length) problems.push(`row count: ours ${a.rows.length}, PostgreSQL ${b.rows.length}`);

  if (opts.ordered) {
    let shown = 0;
    const n = Math.max(a.rows.length, b.rows.length);
    for (let i = 0; i < n && shown < maxShown; i++) {
      const x = a.rows[i];
      const y = b.rows[i];
      if (x && y && rowEq(x, y)) continue;
      shown++;
      problems.push(`row ${i + 1}:\n    ours:       ${x ? fmt(x, y) : '(missing)'}\n    PostgreSQL: ${y ? fmt(y, x) : '(missing)'}`);
    }
  } else {
    const byKey = (rows: Canon[][]) => rows.map((r) => ({ r, key: sortKey(r) })).sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
    const left = byKey(a.rows);
    const right = byKey(b.rows);
    const onlyOurs: Canon[][] = [];
    const onlyTheirs: Canon[][] = [];
    let i = 0;
    let j = 0;
    while (i < left.length || j < right.length) {
      if (i < left.length && j < right.length && rowEq(left[i].r, right[j].r)) {
        i++;
        j++;
      } else if (j >= right.length || (i < left.length && left[i].key <= right[j].key)) onlyOurs.push(left[i++].r);
      else onlyTheirs.push(right[j++].r);
    }
    // Second chance for rows whose floats rounded across a sort-key boundary.
    for (let k = onlyOurs.length - 1; k >= 0; k--) {
      const m = onlyTheirs.findIndex((r) => rowEq(onlyOurs[k], r));
      if (m >= 0) {
        onlyOurs.splice(k, 1);
        onlyTheirs.splice(m, 1);
      }
    }
    if (onlyOurs.length || onlyTheirs.length) {
      problems.push(`rows only in ours (${onlyOurs.length}):`);
      for (const r of onlyOurs.slice(0, maxShown)) problems.push(`    ${fmt(r)}`);
      problems.push(`rows only in PostgreSQL (${onlyTheirs.length}):`);
      for (const r of onlyTheirs.slice(0, maxShown)) problems.push(`    ${fmt(r)}`);
    }
  }
  if (problems.length === 0) return { equal: true, diff: '' };
  return { equal: false, diff: `results differ (columns: ${a.columns.join(', ')})\n${problems.join('\n')}` };
}

/** Throws an Error carrying the readable diff when the results differ. */
export function expectSameResults(ours: readonly Row[], theirs: readonly Row[], opts: CompareOptions): void {
  const r = compareResults(ours, theirs, opts);
  if (!r.equal) throw new Error(r.diff);
}
