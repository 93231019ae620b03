/**
 * Settings the client must be told about. Postgres reports GUC_REPORT variables
 * (TimeZone, application_name, DateStyle, …) with ParameterStatus whenever they change; PgJDBC
 * and libpq rely on it to decode timestamptz and to check client_encoding. The engine executes
 * SET itself; the wire layer only recognises the statement lexically, validates the few values
 * it depends on (a zone it cannot render, an encoding other than UTF8) before the engine runs
 * it, and reports the new value afterwards.
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import { TimeZone } from './datetime.js';
import type { Token } from './lexer.js';

/** Canonical names of the reported settings, keyed by their lower-case spelling. */
const REPORTED: Record<string, string> = {
  timezone: 'TimeZone',
  application_name: 'application_name',
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  client_encoding: 'client_encoding',
  standard_conforming_strings: 'standard_conforming_strings',
};

export interface SettingChange {
  /** Canonical name (`TimeZone`, …). */
  name: string;
  /** New value, or null for RESET / DEFAULT (back to the session's startup value). */
  value: string | null;
}

function tokenValue(t: Token): string {
  if (t.kind === 'string') return t.text.slice(1, -1).replace(/''/g, "'");
  if (t.kind === 'qident') return t.text.slice(1, -1).replace(/""/g, '"');
  return t.text;
}

/** Recognises `SET [SESSION|LOCAL] x {TO|=} v`, `SET TIME ZONE v`, `RESET x` for reported x. */
export function reportedSetting(tokens: Token[]): SettingChange | null {
  const w = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i].text.toLowerCase() : '');
  let i = 0;
  if (w(0) === 'reset') {
    const name = REPORTED[w(1)];
    return name === undefined || tokens.length !== 2 ? null : { name, value: null };
  }
  if (w(0) !== 'set') return null;
  i = 1;
  if (w(i) === 'session' && w(i + 1) !== 'authorization' && w(i + 1) !== 'characteristics') i++;
  else if (w(i) === 'local') i++;
  let name: string | undefined;
  if (w(i) === 'time' && w(i + 1) === 'zone') {
    name = 'TimeZone';
    i += 2;
  } else {
    name = REPORTED[w(i)];
    i++;
    if (name === undefined) return null;
    if (w(i) === 'to' || (tokens[i]?.kind === 'op' && tokens[i].text === '=')) i++;
    else return null;
  }
  const rest = tokens.slice(i);
  if (rest.length === 0) return null;
  if (rest.length === 1 && (w(i) === 'default' || (name === 'TimeZone' && w(i) === 'local'))) {
    return { name, value: null };
  }
  // `SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE` and friends: leave them to the engine.
  if (name === 'TimeZone' && rest.length === 2 && rest[0].kind === 'op' && (rest[0].text === '-' || rest[0].text === '+')) {
    return { name, value: rest[0].text + tokenValue(rest[1]) };
  }
  if (rest.length !== 1 && name !== 'DateStyle') return null;
  return { name, value: rest.map(tokenValue).join(name === 'DateStyle' ? ', ' : ' ') };
}

/** Rejects values the wire layer cannot honour, before the engine applies them. */
export function validateSetting(change: SettingChange): void {
  if (change.value === null) return;
  if (change.name === 'client_encoding' && !/^(utf-?8|unicode)$/i.test(change.value)) {
    throw new SqlError(SqlState.featureNotSupported, `conversion to client_encoding "${change.value}" is not supported`, {
      hint: 'VeilSQL speaks UTF8 only.',
    });
  }
  if (change.name === 'TimeZone' && zoneFromSetting(change.value) === null) {
    throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "TimeZone": "${change.value}"`);
  }
  if (change.name === 'DateStyle' && !/^\s*iso\b/i.test(change.value) && !/^\s*(mdy|dmy|ymd)\s*$/i.test(change.value)) {
    throw new SqlError(SqlState.featureNotSupported, `DateStyle "${change.value}" is not supported`, {
      hint: 'VeilSQL outputs dates in ISO style only.',
    });
  }
  if (change.name === 'IntervalStyle' && change.value.toLowerCase() !== 'postgres') {
    throw new SqlError(SqlState.featureNotSupported, `IntervalStyle "${change.value}" is not supported`);
  }
  if (change.name === 'standard_conforming_strings' && !/^(on|true|1|yes)$/i.test(change.value)) {
    throw new SqlError(SqlState.featureNotSupported, 'standard_conforming_strings must stay on');
  }
}

/** Normalises the reported value the way Postgres echoes it back. */
export function reportedValue(name: string, value: string): string {
  if (name === 'client_encoding') return 'UTF8';
  if (name === 'DateStyle') return 'ISO, MDY';
  if (name === 'IntervalStyle') return 'postgres';
  if (name === 'standard_conforming_strings') return 'on';
  if (name === 'TimeZone') return zoneFromSetting(value)?.name ?? value;
  return value;
}

/**
 * TimeZone values: IANA names, UTC aliases and Postgres' numeric offsets (`+02`, `-5:30`:
 * as a SET value a bare number means hours east of UTC, the opposite of POSIX `UTC+2`).
 */
export function zoneFromSetting(value: string): TimeZone | null {
  const v = value.trim();
  const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/.exec(v);
  if (m) {
    const h = Number(m[2]);
    const mi = Number(m[3] ?? '0');
    if (h > 15 || mi > 59) return null;
    if (h === 0 && mi === 0) return TimeZone.UTC;
    // Etc/GMT zones are whole hours with inverted sign; others need a fixed-offset zone name.
    const sign = m[1] === '-' ? '-' : '+';
    const z = TimeZone.resolve(`${sign}${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}`);
    if (z !== null) return z;
    if (mi === 0) return TimeZone.resolve(`Etc/GMT${sign === '+' ? '-' : '+'}${h}`);
    return null;
  }
  return TimeZone.resolve(v);
}
