/**
 * Manhattan and QQ plots of GWAS results as standalone SVG (no dependencies): one point per
 * SNP at its genome position (chromosomes side by side in alternating colours) against
 * −log10(P), with the genome-wide (5e-8) and suggestive (1e-5) significance lines and the top
 * hits labelled; and observed vs expected −log10(P) with the diagonal and the genomic inflation
 * factor λ (median χ² / 0.4549) when χ² is known. P values that underflowed to 0 are plotted
 * from log10_p when the result has it (GWAS_ALLELIC's finite column), else capped at the top.
 */

export interface GwasPoint {
  chr: string;
  bp: number;
  snp?: string;
  /** −log10(P). */
  score: number;
  chisq?: number;
}

export interface PlotOptions {
  title?: string;
  genomeWide?: number;
  suggestive?: number;
  /** How many top SNPs to label. */
  labelTop?: number;
  width?: number;
  height?: number;
}

const COLORS = ['#1f4e79', '#6fa8dc'];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function chrOrder(chr: string): number {
  const c = chr.replace(/^chr/i, '').toUpperCase();
  if (/^\d+$/.test(c)) return Number(c);
  return { X: 23, Y: 24, XY: 25, MT: 26, M: 26 }[c] ?? 100;
}

function niceMax(v: number): number {
  return Math.max(8, Math.ceil(v + 0.5));
}

export function manhattanSvg(points: GwasPoint[], options: PlotOptions = {}): string {
  const width = options.width ?? 1200;
  const height = options.height ?? 500;
  const margin = { left: 60, right: 20, top: 40, bottom: 50 };
  const genomeWide = -Math.log10(options.genomeWide ?? 5e-8);
  const suggestive = -Math.log10(options.suggestive ?? 1e-5);
  const chrs = [...new Set(points.map((p) => p.chr))].sort((a, b) => chrOrder(a) - chrOrder(b) || a.localeCompare(b));
  const span = new Map<string, number>();
  for (const p of points) span.set(p.chr, Math.max(span.get(p.chr) ?? 0, p.bp));
  const offset = new Map<string, number>();
  let total = 0;
  for (const c of chrs) {
    offset.set(c, total);
    total += (span.get(c) ?? 0) + 1;
  }
  const yMax = niceMax(Math.max(genomeWide, ...points.map((p) => p.score)));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x = (p: GwasPoint) => margin.left + ((offset.get(p.chr)! + p.bp) / Math.max(1, total)) * plotW;
  const y = (score: number) => margin.top + plotH - (Math.min(score, yMax) / yMax) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escape(options.title)}</text>`);
  out.push(`<g class="axes" stroke="#333"><line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}"/><line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}"/></g>`);
  for (let t = 0; t <= yMax; t += yMax > 40 ? 10 : yMax > 16 ? 4 : 2) {
    out.push(`<text class="ytick" x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<text x="16" y="${margin.top + plotH / 2}" transform="rotate(-90 16 ${margin.top + plotH / 2})" text-anchor="middle">−log10(P)</text>`);
  chrs.forEach((c, i) => {
    const mid = margin.left + ((offset.get(c)! + (span.get(c) ?? 0) / 2) / Math.max(1, total)) * plotW;
    out.push(`<text class="chr" x="${mid.toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle" fill="${COLORS[i % 2]}">${escape(c)}</text>`);
  });
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">chromosome</text>`);
  out.push('<g class="points">');
  const colorOf = new Map(chrs.map((c, i) => [c, COLORS[i % 2]]));
  for (const p of points) {
    out.push(`<circle cx="${x(p).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="2" fill="${p.score >= genomeWide ? '#c00000' : colorOf.get(p.chr)}"/>`);
  }
  out.push('</g>');
  out.push(`<line class="genome-wide" x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(genomeWide).toFixed(1)}" y2="${y(genomeWide).toFixed(1)}" stroke="#c00000" stroke-dasharray="6 4"/>`);
  out.push(`<line class="suggestive" x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(suggestive).toFixed(1)}" y2="${y(suggestive).toFixed(1)}" stroke="#1f77b4" stroke-dasharray="2 4"/>`);
  const top = [...points].filter((p) => p.snp && p.score >= suggestive).sort((a, b) => b.score - a.score).slice(0, options.labelTop ?? 5);
  for (const p of top) out.push(`<text class="label" x="${(x(p) + 4).toFixed(1)}" y="${(y(p.score) - 4).toFixed(1)}">${escape(p.snp!)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export function qqSvg(points: GwasPoint[], options: PlotOptions = {}): string {
  const size = options.height ?? 500;
  const margin = 50;
  const n = points.length;
  const observed = points.map((p) => p.score).sort((a, b) => b - a);
  const expected = observed.map((_, i) => -Math.log10((i + 0.5) / n));
  const max = niceMax(Math.max(expected[0] ?? 1, observed[0] ?? 1));
  const plot = size - 2 * margin;
  const sx = (v: number) => margin + (Math.min(v, max) / max) * plot;
  const sy = (v: number) => size - margin - (Math.min(v, max) / max) * plot;
  const chis = points.map((p) => p.chisq).filter((c): c is number => c !== undefined && Number.isFinite(c)).sort((a, b) => a - b);
  const lambda = chis.length ? chis[Math.floor(chis.length / 2)] / 0.4549364 : undefined;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${size}" height="${size}" fill="white"/>`);
  out.push(`<text x="${size / 2}" y="22" text-anchor="middle" font-size="15">${escape(options.title ? `${options.title} — QQ` : 'QQ plot')}</text>`);
  out.push(`<line class="diagonal" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(max)}" y2="${sy(max)}" stroke="#c00000"/>`);
  out.push(`<g class="axes" stroke="#333"><line x1="${margin}" y1="${size - margin}" x2="${size - margin}" y2="${size - margin}"/><line x1="${margin}" y1="${margin}" x2="${margin}" y2="${size - margin}"/></g>`);
  out.push(`<text x="${size / 2}" y="${size - 12}" text-anchor="middle">expected −log10(P)</text>`);
  out.push(`<text x="14" y="${size / 2}" transform="rotate(-90 14 ${size / 2})" text-anchor="middle">observed −log10(P)</text>`);
  out.push('<g class="points">');
  observed.forEach((o, i) => out.push(`<circle cx="${sx(expected[i]).toFixed(1)}" cy="${sy(o).toFixed(1)}" r="2" fill="#1f4e79"/>`));
  out.push('</g>');
  if (lambda !== undefined) out.push(`<text class="lambda" x="${margin + 10}" y="${margin + 14}">λ = ${lambda.toFixed(3)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/**
 * GWAS rows from text: a plink .assoc/.model file or CSV/TSV with (case-insensitive) columns
 * CHR, BP, P and optionally SNP, CHISQ, LOG10_P. For .model files only the ALLELIC rows count.
 */
export function parseGwasTable(text: string): GwasPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) return [];
  const sep = lines[0].includes('\t') ? /\t/ : lines[0].includes(',') ? /,/ : /\s+/;
  const header = lines[0].trim().split(sep).map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [chr, bp, p, snp, chisq, log10p, test] = ['chr', 'bp', 'p', 'snp', 'chisq', 'log10_p', 'test'].map(col);
  if (chr < 0 || p < 0) throw new Error(`the GWAS table needs CHR and P columns; found: ${header.join(', ')}`);
  const points: GwasPoint[] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(sep).map((x) => x.trim());
    if (test >= 0 && f[test] !== 'ALLELIC') continue;
    const pv = Number(f[p]);
    const l10 = log10p >= 0 ? Number(f[log10p]) : Number.NaN;
    let score = Number.isFinite(l10) ? -l10 : pv > 0 ? -Math.log10(pv) : Number.NaN;
    if (!Number.isFinite(score) && pv === 0) score = 320;
    if (!Number.isFinite(score)) continue;
    const position = bp >= 0 ? Number(f[bp]) : points.length;
    points.push({ chr: f[chr], bp: Number.isFinite(position) ? position : 0, snp: snp >= 0 ? f[snp] : undefined, score, chisq: chisq >= 0 ? Number(f[chisq]) : undefined });
  }
  return points;
}
