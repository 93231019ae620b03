/**
 * Checks bound parameter values against their declared types before anything runs, as
 * Postgres does at Bind: `invalid input syntax for type integer: "abc"` (22P02) and
 * `value "99999999999" is out of range for type integer` (22003), instead of a cast failure deep
 * inside a party's fragment. Numbers and booleans only; other types are left to DuckDB's casts.
 */
import { SqlError, SqlState } from '../parser/errors.js';
import type { ParamValue } from './session-types.js';

const INTEGERS: Record<string, [string, bigint]> = {
  TINYINT: ['smallint', 127n],
  SMALLINT: ['smallint', 32767n],
  INTEGER: ['integer', 2147483647n],
  BIGINT: ['bigint', 9223372036854775807n],
};

const FLOAT = /^\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)\s*$/i;
const NUMERIC = /^\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|nan)\s*$/i;
const BOOLEAN = /^\s*(t|f|true|false|y|yes|n|no|on|off|1|0)\s*$/i;

function invalid(type: string, text: string): SqlError {
  return new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${type}: "${text}"`);
}

export function checkParams(params: ParamValue[]): void {
  for (const p of params) {
    if (p.text === null || p.type === undefined) continue;
    const type = p.type.toUpperCase();
    const int = INTEGERS[type];
    if (int) {
      if (!/^\s*[+-]?\d+\s*$/.test(p.text)) throw invalid(int[0], p.text);
      const v = BigInt(p.text.trim());
      if (v > int[1] || v < -int[1] - 1n) throw new SqlError('22003', `value "${p.text}" is out of range for type ${int[0]}`);
    } else if ((type === 'DOUBLE' || type === 'FLOAT' || type === 'REAL') && !FLOAT.test(p.text)) {
      throw invalid(type === 'DOUBLE' ? 'double precision' : 'real', p.text);
    } else if (/^(DECIMAL|NUMERIC)\b/.test(type) && !NUMERIC.test(p.text)) {
      throw invalid('numeric', p.text);
    } else if (type === 'BOOLEAN' && !BOOLEAN.test(p.text)) {
      throw invalid('boolean', p.text);
    }
  }
}
