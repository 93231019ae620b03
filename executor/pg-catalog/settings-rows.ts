/**
 * pg_settings rows for a session's settings. pg_settings is per session in Postgres (it shows
 * the session's current values), so the rewrite replaces every reference to it with a VALUES
 * list of these rows; the gateway's stored pg_settings table holds the defaults only.
 */
import type { CatalogValue } from './rows.js';

interface ParameterInfo {
  vartype: 'bool' | 'integer' | 'real' | 'string' | 'enum';
  context: 'internal' | 'user' | 'superuser';
  category: string;
  desc: string;
  unit?: string;
  enumvals?: string[];
}

const LOCALE = 'Client Connection Defaults / Locale and Formatting';
const STATEMENT = 'Client Connection Defaults / Statement Behavior';
const PRESET = 'Preset Options';

const INFO: Record<string, ParameterInfo> = {
  application_name: { vartype: 'string', context: 'user', category: 'Reporting and Logging / What to Log', desc: 'Sets the application name to be reported in statistics and logs.' },
  bytea_output: { vartype: 'enum', context: 'user', category: STATEMENT, desc: 'Sets the output format for bytea.', enumvals: ['escape', 'hex'] },
  client_encoding: { vartype: 'string', context: 'user', category: LOCALE, desc: "Sets the client's character set encoding." },
  DateStyle: { vartype: 'string', context: 'user', category: LOCALE, desc: 'Sets the display format for date and time values.' },
  default_transaction_isolation: { vartype: 'enum', context: 'user', category: STATEMENT, desc: 'Sets the transaction isolation level of each new transaction.', enumvals: ['serializable', 'repeatable read', 'read committed', 'read uncommitted'] },
  default_transaction_read_only: { vartype: 'bool', context: 'user', category: STATEMENT, desc: 'Sets the default read-only status of new transactions.' },
  extra_float_digits: { vartype: 'integer', context: 'user', category: LOCALE, desc: 'Sets the number of digits displayed for floating-point values.' },
  fragment_timeout: { vartype: 'integer', context: 'user', category: 'VeilSQL', desc: 'How long a party may take to answer one query fragment.', unit: 'ms' },
  integer_datetimes: { vartype: 'bool', context: 'internal', category: PRESET, desc: 'Shows whether datetimes are integer based.' },
  IntervalStyle: { vartype: 'enum', context: 'user', category: LOCALE, desc: 'Sets the display format for interval values.', enumvals: ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601'] },
  is_superuser: { vartype: 'bool', context: 'internal', category: PRESET, desc: 'Shows whether the current user is a superuser.' },
  lc_collate: { vartype: 'string', context: 'internal', category: PRESET, desc: 'Shows the collation order locale.' },
  lc_ctype: { vartype: 'string', context: 'internal', category: PRESET, desc: 'Shows the character classification and case conversion locale.' },
  max_identifier_length: { vartype: 'integer', context: 'internal', category: PRESET, desc: 'Shows the maximum identifier length.' },
  search_path: { vartype: 'string', context: 'user', category: STATEMENT, desc: 'Sets the schema search order for names that are not schema-qualified.' },
  server_encoding: { vartype: 'string', context: 'internal', category: PRESET, desc: 'Shows the server (database) character set encoding.' },
  server_version: { vartype: 'string', context: 'internal', category: PRESET, desc: 'Shows the server version.' },
  server_version_num: { vartype: 'integer', context: 'internal', category: PRESET, desc: 'Shows the server version as an integer.' },
  standard_conforming_strings: { vartype: 'bool', context: 'user', category: 'Version and Platform Compatibility / Previous PostgreSQL Versions', desc: "Causes '...' strings to treat backslashes literally." },
  statement_timeout: { vartype: 'integer', context: 'user', category: STATEMENT, desc: 'Sets the maximum allowed duration of any statement.', unit: 'ms' },
  TimeZone: { vartype: 'string', context: 'user', category: LOCALE, desc: 'Sets the time zone for displaying and interpreting time stamps.' },
  transaction_isolation: { vartype: 'enum', context: 'user', category: STATEMENT, desc: "Sets the current transaction's isolation level.", enumvals: ['serializable', 'repeatable read', 'read committed', 'read uncommitted'] },
  transaction_read_only: { vartype: 'bool', context: 'user', category: STATEMENT, desc: "Sets the current transaction's read-only status." },
};

/** The pg_settings columns, in order, with the DuckDB type of each. */
export const PG_SETTINGS_COLUMNS: [string, string][] = [
  ['name', 'VARCHAR'], ['setting', 'VARCHAR'], ['unit', 'VARCHAR'], ['category', 'VARCHAR'], ['short_desc', 'VARCHAR'],
  ['extra_desc', 'VARCHAR'], ['context', 'VARCHAR'], ['vartype', 'VARCHAR'], ['source', 'VARCHAR'], ['min_val', 'VARCHAR'],
  ['max_val', 'VARCHAR'], ['enumvals', 'VARCHAR[]'], ['boot_val', 'VARCHAR'], ['reset_val', 'VARCHAR'], ['sourcefile', 'VARCHAR'],
  ['sourceline', 'INTEGER'], ['pending_restart', 'BOOLEAN'],
];

/** One row per setting; `settings` holds canonical names and current values. */
export function settingsRows(settings: [string, string][]): CatalogValue[][] {
  return settings.map(([name, value]) => {
    const info: ParameterInfo = INFO[name] ?? { vartype: 'string', context: 'user', category: 'Customized Options', desc: '' };
    return [
      name, value, info.unit ?? null, info.category, info.desc, null, info.context, info.vartype,
      info.context === 'internal' ? 'default' : 'session', null, null, info.enumvals ?? null, null, value, null, null, false,
    ];
  });
}
