/**
 * Public API of `parser/`: the VeilSQL dialect (SPEC.md §3) → typed AST (`ast.ts`) → SQL.
 *
 * - `parse(sql)`: every `;`-separated statement (empty ones skipped); throws `SqlSyntaxError`.
 * - `parseStatement(sql)`: exactly one statement, else a 42601 error.
 * - `parseExpression(sql)`: one value expression.
 * - `splitStatements(sql)`: statement texts and offsets for the wire gateway (lexing only, never throws).
 * - `print(node, { dialect })`: VeilSQL (round-trips through `parse`) or DuckDB (for execution).
 */
import type { Expr, Statement } from './ast.js';
import { parseExpressionText, parseOneStatement, parseStatements, splitStatementText } from './driver.js';

export * from './ast.js';
export { print, type PrintOptions, type Printable } from './printer.js';
export { SqlSyntaxError } from './syntax-error.js';

export function parse(sql: string): Statement[] {
  return parseStatements(sql);
}

export function parseStatement(sql: string): Statement {
  return parseOneStatement(sql);
}

export function parseExpression(sql: string): Expr {
  return parseExpressionText(sql);
}

export function splitStatements(sql: string): { text: string; start: number }[] {
  return splitStatementText(sql);
}
