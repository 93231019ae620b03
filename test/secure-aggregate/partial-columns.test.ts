/**
 * Partials read from DuckDB's BIGINT columns: values that fit a double exactly stay in the fast
 * Float64Array; anything at or beyond ±2^53 switches the column to exact BigInts — including
 * the edges, negative values and a switch in the middle of a column spread over several chunks.
 */
import { makeVector } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { toPartialColumn } from '../../executor/operators/secure-aggregate/party-partials.js';

const TWO53 = 2n ** 53n;

function column(...chunks: bigint[][]) {
  return chunks.map((values) => makeVector(BigInt64Array.from(values)));
}

describe('toPartialColumn', () => {
  test('safe integers of both signs stay a Float64Array, exactly', () => {
    const values = [0n, 1n, -1n, 4294967295n, 4294967296n, -4294967296n, -4294967297n, TWO53 - 1n, -(TWO53 - 1n), 123456789012345n];
    const out = toPartialColumn(column(values.slice(0, 4), values.slice(4)), values.length);
    expect(out).toBeInstanceOf(Float64Array);
    expect(Array.from(out as Float64Array)).toEqual(values.map(Number));
  });

  test.each([TWO53, -TWO53, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n])('%s switches the column to exact values', (big) => {
    const values = [5n, -7n, big, 9n, -(TWO53 - 1n)];
    const out = toPartialColumn(column(values.slice(0, 2), values.slice(2)), values.length);
    expect(Array.isArray(out)).toBe(true);
    expect((out as (bigint | number)[]).map((v) => BigInt(v))).toEqual(values);
  });
});
