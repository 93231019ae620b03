/**
 * Session settings (SET / SHOW / RESET). Postgres clients set and read many parameters at
 * connect time; VeilSQL accepts any `SET` (like datafusion-postgres and others do) so clients
 * never fail on a parameter we do not model, and answers `SHOW` for the ones clients read.
 * VeilSQL's own settings (`fragment_timeout`) are validated.
 *
 * Names are case-insensitive and stored lower-case; `canonicalName` gives Postgres' spelling
 * (`TimeZone`, `DateStyle`), which is what SHOW names its column, what pg_settings lists and
 * what ParameterStatus reports for the settings Postgres marks GUC_REPORT.
 */
import { SqlError, SqlState } from '../parser/errors.js';
import { validateDpSetting } from '../planner/binder/privacy-options.js';
import { PG_SERVER_VERSION, PG_SERVER_VERSION_NUM } from './pg-catalog/version.js';

export const SERVER_VERSION = PG_SERVER_VERSION;

const DEFAULTS: Record<string, string> = {
  server_version: PG_SERVER_VERSION,
  server_version_num: String(PG_SERVER_VERSION_NUM),
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
  default_transaction_read_only: 'off',
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
const READ_ONLY = new Set(['server_version', 'server_version_num', 'server_encoding', 'integer_datetimes', 'max_identifier_length', 'lc_collate', 'lc_ctype', 'is_superuser']);

/** Postgres' spelling of the parameters whose name is not all lower case. */
const CANONICAL: Record<string, string> = { timezone: 'TimeZone', datestyle: 'DateStyle', intervalstyle: 'IntervalStyle' };

/** Settings Postgres reports with ParameterStatus whenever they change (GUC_REPORT). */
const REPORTED = new Set(['application_name', 'client_encoding', 'datestyle', 'intervalstyle', 'standard_conforming_strings', 'timezone', 'is_superuser', 'server_version', 'integer_datetimes']);

export function canonicalName(name: string): string {
  const key = normalize(name);
  return CANONICAL[key] ?? key;
}

export class SessionSettings {
  private readonly values = new Map<string, string>();
  /** Values at session start (defaults plus startup-packet parameters): what RESET restores. */
  private readonly initial = new Map<string, string>();
  /** Reported settings changed since the last `takeReported()`. */
  private readonly changed = new Set<string>();

  constructor(overrides: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(DEFAULTS)) this.initial.set(k, v);
    for (const [k, v] of Object.entries(overrides)) this.initial.set(normalize(k), v);
    for (const [k, v] of this.initial) this.values.set(k, v);
  }

  get(name: string): string {
    const key = normalize(name);
    const v = this.values.get(key);
    if (v === undefined) {
      throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
    }
    return v;
  }

  /** The value, or undefined for a parameter nobody set (current_setting(name, true)). */
  find(name: string): string | undefined {
    return this.values.get(normalize(name));
  }

  set(name: string, value: string | undefined): void {
    const key = normalize(name);
    if (READ_ONLY.has(key)) {
      throw new SqlError('55P02', `parameter "${canonicalName(key)}" cannot be changed`);
    }
    if (value === undefined) {
      this.reset(key);
      return;
    }
    // DP defaults (`SET dp.epsilon = 0.5`) are checked when set; the binder applies them.
    if (key.startsWith('dp.')) validateDpSetting(key.slice(3), value);
    if (key === 'fragment_timeout') {
      const ms = parseDurationMs(value);
      if (ms === undefined || ms <= 0) {
        throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "fragment_timeout": "${value}"`, {
          hint: 'Use milliseconds or a duration like 5s, 2min.',
        });
      }
      this.assign(key, String(ms));
      return;
    }
    this.assign(key, value);
  }

  reset(name: string): void {
    const key = normalize(name);
    if (key === 'all') {
      for (const k of [...this.values.keys()]) if (!READ_ONLY.has(k)) this.resetOne(k);
      return;
    }
    this.resetOne(key);
  }

  private resetOne(key: string): void {
    const d = this.initial.get(key);
    if (d === undefined) this.values.delete(key);
    else this.assign(key, d);
  }

  private assign(key: string, value: string): void {
    if (REPORTED.has(key) && this.values.get(key) !== value) this.changed.add(key);
    this.values.set(key, value);
  }

  /**
   * The reported settings changed since the last call, by canonical name, for the wire layer's
   * ParameterStatus messages (QueryOutcome.parameterStatus); undefined when nothing changed.
   */
  takeReported(): Record<string, string> | undefined {
    if (this.changed.size === 0) return undefined;
    const out: Record<string, string> = {};
    for (const k of this.changed) out[canonicalName(k)] = this.values.get(k) ?? '';
    this.changed.clear();
    return out;
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
  if (n === 'session authorization') return 'session_authorization';
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
