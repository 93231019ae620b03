/**
 * psql-style aligned table output for `veilsql query`: header, separator, rows, and a
 * "(n rows)" footer. Numbers are right-aligned, everything else left-aligned; NULL is empty.
 */
export function formatTable(columns: { name: string; numeric: boolean }[], rows: (string | null)[][]): string {
  const widths = columns.map((c, i) => Math.max(width(c.name), ...rows.map((r) => width(r[i] ?? ''))));
  const pad = (text: string, w: number, right: boolean) => {
    const fill = ' '.repeat(Math.max(0, w - width(text)));
    return right ? fill + text : text + fill;
  };
  const lines: string[] = [];
  lines.push(columns.map((c, i) => center(c.name, widths[i])).join(' | ').trimEnd());
  lines.push(widths.map((w) => '-'.repeat(w)).join('-+-'));
  for (const r of rows) lines.push(columns.map((c, i) => pad(r[i] ?? '', widths[i], c.numeric)).join(' | ').trimEnd());
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return lines.map((l) => ` ${l}`.replace(/^ (\(\d+ rows?\))$/, '$1')).join('\n');
}

function center(text: string, w: number): string {
  const total = Math.max(0, w - width(text));
  const left = Math.floor(total / 2);
  return ' '.repeat(left) + text + ' '.repeat(total - left);
}

/** Display width: East Asian wide characters take two columns, as in a terminal. */
export function width(text: string): number {
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd) ? 2 : 1;
  }
  return w;
}
