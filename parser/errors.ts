/**
 * The one error type every user-facing failure becomes: a Postgres SQLSTATE, a message that
 * names the thing, optional detail/hint, and a 1-based character position into the SQL text
 * (what psql turns into the `^` marker). The wire gateway maps it to an ErrorResponse as is.
 */
export class SqlError extends Error {
  readonly sqlstate: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character offset into the statement text, as in Postgres' ErrorResponse 'P'. */
  position?: number;

  constructor(
    sqlstate: string,
    message: string,
    extra: { detail?: string; hint?: string; position?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SqlError';
    this.sqlstate = sqlstate;
    if (extra.detail !== undefined) this.detail = extra.detail;
    if (extra.hint !== undefined) this.hint = extra.hint;
    if (extra.position !== undefined) this.position = extra.position;
  }
}

/** SQLSTATEs used across VeilSQL, named so call sites read as intent. */
export const SqlState = {
  syntaxError: '42601',
  undefinedTable: '42P01',
  undefinedColumn: '42703',
  undefinedFunction: '42883',
  ambiguousColumn: '42702',
  ambiguousAlias: '42712',
  datatypeMismatch: '42804',
  groupingError: '42803',
  insufficientPrivilege: '42501',
  featureNotSupported: '0A000',
  invalidParameterValue: '22023',
  invalidTextRepresentation: '22P02',
  divisionByZero: '22012',
  connectionFailure: '08006',
  protocolViolation: '08P01',
  queryCanceled: '57014',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  invalidCatalogName: '3D000',
  invalidSqlStatementName: '26000',
  inFailedTransaction: '25P02',
  configFileError: 'F0000',
  internalError: 'XX000',
} as const;
