/**
 * The startup packet and what the server says back before the first ReadyForQuery: parsing
 * the protocol version and parameters (with NegotiateProtocolVersion for 3.x minors and
 * `_pq_.` options we do not know), and the ParameterStatus set clients depend on (PgJDBC
 * refuses to connect without server_version, a UTF8 client_encoding and an ISO DateStyle, and
 * decodes binary timestamps as float8 without integer_datetimes=on).
 */
import { SqlError, SqlState } from '../../parser/errors.js';
import { ProtocolViolation } from './errors.js';
import { PayloadReader } from './framing.js';
import { PG_SERVER_VERSION } from './version.js';

export interface StartupPacket {
  major: number;
  minor: number;
  params: Record<string, string>;
  /** `_pq_.*` protocol options the client asked for; we support none. */
  unsupportedOptions: string[];
}

export function parseStartup(payload: Buffer): StartupPacket {
  const r = new PayloadReader(payload);
  const version = r.int32();
  const major = version >>> 16;
  const minor = version & 0xffff;
  if (major !== 3) {
    throw new ProtocolViolation(`unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
  }
  const params: Record<string, string> = {};
  const unsupportedOptions: string[] = [];
  for (;;) {
    const name = r.cstring();
    if (name === '') break;
    const value = r.cstring();
    if (name.startsWith('_pq_.')) unsupportedOptions.push(name);
    else params[name] = value;
  }
  if (r.remaining !== 0) throw new ProtocolViolation('invalid startup packet layout: expected terminator as last byte');
  if (params['user'] === undefined || params['user'] === '') {
    throw new SqlError(SqlState.invalidAuthorization, 'no PostgreSQL user name specified in startup packet');
  }
  if (params['replication'] !== undefined && !/^(false|off|no|0)$/i.test(params['replication'])) {
    throw new SqlError(SqlState.featureNotSupported, 'replication connections are not supported');
  }
  return { major, minor, params, unsupportedOptions };
}

/** The client_encoding to report: UTF8 unless the client asked for no conversion at all. */
export function clientEncodingFor(requested: string | undefined): string {
  if (requested !== undefined && /^sql_ascii$/i.test(requested)) return 'SQL_ASCII';
  return 'UTF8';
}

/** ParameterStatus values after authentication, in Postgres 16's GUC_REPORT set. */
export function initialParameterStatus(user: string, startup: Record<string, string>, timeZone: string): [string, string][] {
  return [
    ['application_name', startup['application_name'] ?? ''],
    ['client_encoding', clientEncodingFor(startup['client_encoding'])],
    ['DateStyle', 'ISO, MDY'],
    ['default_transaction_read_only', 'off'],
    ['in_hot_standby', 'off'],
    ['integer_datetimes', 'on'],
    ['IntervalStyle', 'postgres'],
    ['is_superuser', 'off'],
    ['scram_iterations', '4096'],
    ['server_encoding', 'UTF8'],
    ['server_version', PG_SERVER_VERSION],
    ['session_authorization', user],
    ['standard_conforming_strings', 'on'],
    ['TimeZone', timeZone],
  ];
}
