/**
 * `veilsql plot manhattan`: renders a GWAS result as `<out>.manhattan.svg` and `<out>.qq.svg`.
 * The result comes from a file (a plink .assoc/.model file, or CSV/TSV with CHR, BP, P columns,
 * e.g. a `veilsql query` export) or from a query run through a gateway, e.g.
 *   veilsql plot manhattan --query "SELECT g.snp, g.chr, g.bp, (GWAS_ALLELIC(…)).* FROM … GROUP BY …" --out as_gwas
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { manhattanSvg, parseGwasTable, qqSvg, type GwasPoint, type PlotOptions } from './manhattan.js';

export interface PlotCommand {
  input?: string;
  query?: string;
  gateway: string;
  out: string;
  options: PlotOptions;
}

async function pointsFromQuery(gateway: string, sql: string): Promise<GwasPoint[]> {
  const client = new pg.Client({ connectionString: gateway, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    const r = await client.query(sql);
    const header = r.fields.map((f) => f.name);
    const lines = [header.join('\t'), ...r.rows.map((row: Record<string, string | null>) => header.map((h) => row[h] ?? 'NA').join('\t'))];
    return parseGwasTable(lines.join('\n'));
  } finally {
    await client.end();
  }
}

/** Returns the files written. */
export async function runPlotCommand(cmd: PlotCommand): Promise<string[]> {
  const points = cmd.input ? parseGwasTable(readFileSync(cmd.input, 'utf8')) : await pointsFromQuery(cmd.gateway, cmd.query!);
  if (points.length === 0) throw new Error('the GWAS result has no rows with a P value');
  const files = [`${cmd.out}.manhattan.svg`, `${cmd.out}.qq.svg`];
  writeFileSync(files[0], manhattanSvg(points, cmd.options));
  writeFileSync(files[1], qqSvg(points, cmd.options));
  return files;
}
