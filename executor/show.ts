/**
 * SHOW PARTIES | TABLES | POLICIES | PRIVACY BUDGET | ALL | <setting>: the federation as the
 * analyst's gateway sees it, as ordinary result rows.
 */
import type { ShowStatement } from '../parser/ast.js';
import { SqlError, SqlState } from '../parser/errors.js';
import type { Catalog } from '../planner/catalog.js';
import type { CellValue } from './result-batches.js';
import type { ResultColumn } from './session-types.js';
import { canonicalName, type SessionSettings } from './settings.js';

export interface ShowResult {
  columns: ResultColumn[];
  rows: CellValue[][];
}

const v = (name: string): ResultColumn => ({ name, type: 'VARCHAR' });
const n = (name: string): ResultColumn => ({ name, type: 'BIGINT' });

export function runShow(stmt: ShowStatement, catalog: Catalog, settings: SessionSettings, nodeUrls: Map<string, string>): ShowResult {
  const t = stmt.target;
  switch (t.what) {
    case 'parties': {
      const names = new Set([...catalog.partyNames(), ...catalog.unavailable.keys(), ...nodeUrls.keys()]);
      const rows = [...names].sort().map((p): CellValue[] => {
        const cat = catalog.party(p);
        const down = catalog.unavailable.get(p);
        const status = p === catalog.requester ? 'available (this node)' : cat ? 'available' : down !== undefined ? `unavailable: ${down}` : 'unknown';
        return [p, nodeUrls.get(p) ?? null, status, cat ? BigInt(cat.tables.length) : null];
      });
      return { columns: [v('party'), v('url'), v('status'), n('tables')], rows };
    }
    case 'tables': {
      const rows: CellValue[][] = [];
      for (const p of catalog.partyNames()) {
        if (t.from && t.from !== p) continue;
        for (const table of catalog.party(p)!.tables) {
          rows.push([p, table.name, 'party table', BigInt(table.columns.length), BigInt(table.rowCount), null]);
        }
      }
      for (const f of catalog.federatedTables()) {
        if (t.from && t.from !== f.schema) continue;
        rows.push([f.schema, f.name, 'federated table', null, null, f.parties.join(', ')]);
      }
      if (t.from && rows.length === 0 && !catalog.schemaNames().includes(t.from)) {
        throw new SqlError('3F000', `schema "${t.from}" does not exist`, { hint: `Known: ${catalog.schemaNames().join(', ')}.` });
      }
      return { columns: [v('schema'), v('table'), v('kind'), n('columns'), n('rows'), v('parties')], rows };
    }
    case 'policies': {
      const [party, table] = t.from ?? [];
      const rows: CellValue[][] = [];
      for (const p of catalog.partyNames()) {
        if (party && party !== p) continue;
        for (const tab of catalog.party(p)!.tables) {
          if (table && table !== tab.name) continue;
          for (const c of tab.columns) {
            const norm = c.normalization ? `trim=${c.normalization.trim} unicode=${c.normalization.unicode} case=${c.normalization.case}` : null;
            rows.push([p, tab.name, c.name, c.type, c.policy, BigInt(tab.minGroup), norm]);
          }
        }
      }
      if (party && rows.length === 0) {
        throw new SqlError(SqlState.undefinedTable, `no policies found for "${[party, table].filter(Boolean).join('.')}"`, {
          hint: `Known parties: ${catalog.partyNames().join(', ')}.`,
        });
      }
      return { columns: [v('party'), v('table'), v('column'), v('type'), v('level'), n('min_group'), v('normalization')], rows };
    }
    case 'privacy_budget':
      // Answered by the session, which asks every party's ledger (operators/dp-aggregate/budget.ts).
      throw new SqlError(SqlState.internalError, 'SHOW PRIVACY BUDGET is answered by the session');
    case 'all':
      return { columns: [v('name'), v('setting')], rows: settings.all().map(([k, val]) => [canonicalName(k), val]) };
    case 'setting':
      // Postgres names the column after the parameter's canonical spelling (`SHOW time zone`
      // → "TimeZone", `SHOW TRANSACTION ISOLATION LEVEL` → "transaction_isolation").
      return { columns: [v(canonicalName(t.name))], rows: [[settings.get(t.name)]] };
  }
}
