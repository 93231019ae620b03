/**
 * Session settings (SET / SHOW / RESET). Postgres clients set and read many parameters at
 * connect time; VeilSQL accepts any `SET` (like datafusion-postgres and others do) so clients
 * never fail on a parameter we do not model, and answers `SHOW` for the ones clients read.
 * VeilSQL's own settings (`fragment_timeout`) are validated.
 */
import { SqlError, SqlState } from '../parser/errors.js';

export const SERVER_VERSION = '16.4';

const DEFAULTS: Record<string, string> = {
  server_version: SERVER_VERSION,
  server_version_num: '160004',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  datestyle: 'ISO, MDY',
  intervalstyle: 'postgres',
  timezone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  search_path: '"$user", public',
  transaction_isolation: 'read committed',
  default_transaction_isolation: 'read committed',
  transaction_read_only: 'off',
  max_identifier_length: '63',
  statement_timeout: '0',
  extra_float_digits: '1',
  application_name: '',
  is_superuser: 'off',
  lc_collate: 'C',
  lc_ctype: 'C',
  bytea_output: 'hex',
  fragment_timeout: '30000',
};

/** Parameters a client may not change (Postgres says 55P02 / 0A000 for these). */
const READ_ONLY = new Set(['server_version', 'server_version_num', 'server_encoding', 'integer_datetimes', 'max_identifier_length', 'lc_collate', 'lc_ctype']);

export class SessionSettings {
  private readonly values = new Map<string, string>();

  constructor(overrides: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(DEFAULTS)) this.values.set(k, v);
    for (const [k, v] of Object.entries(overrides)) this.values.set(k.toLowerCase(), v);
  }

  get(name: string): string {
    const key = normalize(name);
    const v = this.values.get(key);
    if (v === undefined) {
      throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
    }
    return v;
  }

  set(name: string, value: string | undefined): void {
    const key = normalize(name);
    if (READ_ONLY.has(key)) {
      throw new SqlError('55P02', `parameter "${name}" cannot be changed`);
    }
    if (value === undefined) {
      this.reset(key);
      return;
    }
    if (key === 'fragment_timeout') {
      const ms = parseDurationMs(value);
      if (ms === undefined || ms <= 0) {
        throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "fragment_timeout": "${value}"`, {
          hint: 'Use milliseconds or a duration like 5s, 2min.',
        });
      }
      this.values.set(key, String(ms));
      return;
    }
    this.values.set(key, value);
  }

  reset(name: string): void {
    const key = normalize(name);
    if (key === 'all') {
      for (const [k, v] of Object.entries(DEFAULTS)) if (!READ_ONLY.has(k)) this.values.set(k, v);
      return;
    }
    const d = DEFAULTS[key];
    if (d === undefined) this.values.delete(key);
    else this.values.set(key, d);
  }

  all(): [string, string][] {
    return [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  fragmentTimeoutMs(): number {
    return Number(this.values.get('fragment_timeout'));
  }
}

function normalize(name: string): string {
  const n = name.toLowerCase();
  if (n === 'time zone' || n === 'time_zone') return 'timezone';
  if (n === 'transaction isolation level') return 'transaction_isolation';
  return n;
}

/** `1500`, `1500ms`, `5s`, `2min`, `1h` → milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|h)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' || unit === 'sec' ? 1000 : unit === 'min' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}
