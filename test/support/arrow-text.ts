/** Arrow cells as the Postgres text a client would receive from the gateway (for comparisons). */
import type { Field, Vector } from 'apache-arrow';
import { cellReader, pgTypeOfField } from '../../server/pgwire/arrow-read.js';
import { TimeZone } from '../../server/pgwire/datetime.js';
import { cellText } from '../../server/pgwire/encode-text.js';

export function arrowCellToText(vector: Vector, row: number, field: Field): string | null {
  const pg = pgTypeOfField(field);
  for (const data of vector.data) {
    if (row < data.length) {
      const cell = cellReader(data, pg)(row);
      return cell === null ? null : cellText(cell, pg, { timeZone: TimeZone.UTC });
    }
    row -= data.length;
  }
  throw new Error('row out of range');
}
