/**
 * The DuckDB lowering of `/` and `%` (division by zero raises 22012, as in Postgres) writes small
 * operands twice; it must never make the SQL grow exponentially, evaluate a volatile divisor
 * twice or run a subquery twice.
 */
import { describe, expect, it } from 'vitest';
import { parseStatement, print } from '../../parser/index.js';

const duck = (sql: string) => print(parseStatement(sql), { dialect: 'duckdb' });

describe('division in DuckDB SQL', () => {
  it('checks small operands, with the NULL-dividend exemption', () => {
    expect(duck('SELECT a / b FROM t')).toBe("SELECT a / CASE WHEN b = 0 AND a IS NOT NULL THEN error('division by zero') ELSE b END FROM t");
    expect(duck('SELECT a % 2, 1 / b FROM t')).toBe("SELECT a % 2, 1 / CASE WHEN b = 0 THEN error('division by zero') ELSE b END FROM t");
  });

  it('grows linearly with chained and nested divisions', () => {
    const sizes = [10, 20, 40].map((n) => {
      const chain = `SELECT ${Array.from({ length: n }, (_, i) => `c${i}`).join(' / ')} FROM t`;
      const nested = `SELECT ${Array.from({ length: n }, (_, i) => `c${i}`).join(' / (')}${')'.repeat(n - 1)} FROM t`;
      return [duck(chain).length, duck(nested).length];
    });
    for (const k of [0, 1]) {
      expect(sizes[2][k]).toBeLessThan(5 * sizes[0][k]);
      expect(sizes[2][k] - sizes[1][k]).toBeLessThan(3 * (sizes[1][k] - sizes[0][k]));
    }
  });

  it('never repeats a volatile divisor or a subquery', () => {
    expect(duck('SELECT a / random() FROM t').match(/random\(\)/g)).toHaveLength(1);
    expect(duck('SELECT a / (SELECT max(x) FROM u) FROM t').match(/SELECT max/g)).toHaveLength(1);
    // A large dividend is written once; the zero check on the divisor stays.
    const big = duck(`SELECT (${Array.from({ length: 12 }, (_, i) => `c${i}`).join(' + ')}) / b FROM t`);
    expect(big.match(/c11/g)).toHaveLength(1);
    expect(big).toContain("CASE WHEN b = 0 THEN error('division by zero') ELSE b END");
  });
});
