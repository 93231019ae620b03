/**
 * A YAML reader that keeps source positions, so every config error can say
 * `node.yaml:12:7: tables.customers.columns.balance: ...` instead of "invalid config". The
 * schema-specific rules live in `config.ts`; this file only knows YAML shapes, paths and
 * "did you mean" suggestions.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { SqlError, SqlState } from '../parser/errors.js';

/** One path step: a map key or a sequence index. */
export type PathStep = string | number;

/** Renders `['tables', 'customers', 'columns', 'balance']` as `tables.customers.columns.balance`. */
export function formatPath(path: readonly PathStep[]): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(step)) out += out === '' ? step : `.${step}`;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out === '' ? '(top level)' : out;
}

import { didYouMean } from '../planner/similar-names.js';

export { didYouMean, editDistance } from '../planner/similar-names.js';

/** A YAML value node together with the path that reached it (for error messages). */
export interface Located {
  node: YamlNode | null;
  path: PathStep[];
}

export class ConfigReader {
  readonly file: string;
  private readonly lineCounter = new LineCounter();
  readonly root: Located;

  /** Parses `text` (or reads `file` when `text` is omitted); syntax errors are SqlErrors too. */
  constructor(file: string, what: string, text?: string) {
    this.file = file;
    if (text === undefined) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const reason = err.code === 'ENOENT' ? 'no such file' : err.message;
        throw new SqlError(SqlState.configFileError, `cannot read ${what} ${file}: ${reason}`, { cause: e });
      }
    }
    const doc = parseDocument(text, { lineCounter: this.lineCounter, uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e.linePos?.[0];
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new SqlError(SqlState.configFileError, `${where}: invalid YAML in ${what}: ${message}`, { cause: e });
    }
    this.root = { node: (doc.contents as YamlNode | null) ?? null, path: [] };
  }

  /** Throws a SqlError F0000 naming file, line:col, YAML path and the problem. */
  fail(at: Located | { node: YamlNode | null | undefined; path: PathStep[] }, problem: string, hint?: string): never {
    const range = at.node?.range;
    let where = this.file;
    if (range) {
      const { line, col } = this.lineCounter.linePos(range[0]);
      where += `:${line}:${col}`;
    }
    throw new SqlError(SqlState.configFileError, `${where}: ${formatPath(at.path)}: ${problem}`, hint ? { hint } : {});
  }

  /** A mapping's entries in order; throws unless `at` is a mapping with scalar keys. */
  entries(at: Located, what = 'a mapping'): Array<{ key: string; keyNode: YamlNode; value: Located }> {
    if (!isMap(at.node)) this.fail(at, `expected ${what}, got ${describe(at.node)}`);
    const out: Array<{ key: string; keyNode: YamlNode; value: Located }> = [];
    for (const pair of at.node.items) {
      const keyNode = pair.key as YamlNode | null;
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        this.fail({ node: keyNode, path: at.path }, 'keys must be plain names');
      }
      const key = String(keyNode.value);
      out.push({ key, keyNode, value: { node: (pair.value as YamlNode | null) ?? null, path: [...at.path, key] } });
    }
    return out;
  }

  /**
   * The fields of a fixed-shape mapping: rejects unknown keys (suggesting the closest known one)
   * and missing required keys. Returns a lookup of the present ones.
   */
  object(at: Located, known: readonly string[], required: readonly string[] = []): Map<string, Located> {
    const fields = new Map<string, Located>();
    for (const { key, keyNode, value } of this.entries(at)) {
      if (!known.includes(key)) {
        const guess = didYouMean(key, known);
        const keyAt = { node: keyNode, path: [...at.path, key] };
        if (guess) this.fail(keyAt, `unknown key "${key}" (did you mean "${guess}"?)`, `known keys: ${known.join(', ')}`);
        this.fail(keyAt, `unknown key "${key}"`, `known keys: ${known.join(', ')}`);
      }
      fields.set(key, value);
    }
    for (const key of required) {
      if (!fields.has(key) || fields.get(key)!.node === null) {
        if (fields.has(key)) this.fail(fields.get(key)!, `"${key}" must not be empty`);
        this.fail(at, `missing required key "${key}"`);
      }
    }
    return fields;
  }

  string(at: Located, what = 'a string'): string {
    if (!isScalar(at.node) || typeof at.node.value !== 'string' || at.node.value.trim() === '') {
      this.fail(at, `expected ${what}, got ${describe(at.node)}`);
    }
    return at.node.value;
  }

  /** A plain identifier (party, table, column, user names end up in SQL and URLs). */
  name(at: Located, what: string): string {
    const s = this.string(at, what);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) {
      this.fail(at, `${what} "${s}" must start with a letter or underscore and contain only letters, digits and underscores`);
    }
    return s;
  }

  number(at: Located, what = 'a number'): number {
    if (!isScalar(at.node) || typeof at.node.value !== 'number' || !Number.isFinite(at.node.value)) {
      this.fail(at, `expected ${what}, got ${describe(at.node)}`);
    }
    return at.node.value;
  }

  integer(at: Located, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const n = this.number(at, 'an integer');
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(at, `expected an integer between ${min} and ${max}, got ${n}`);
    }
    return n;
  }

  boolean(at: Located): boolean {
    if (!isScalar(at.node) || typeof at.node.value !== 'boolean') {
      this.fail(at, `expected true or false, got ${describe(at.node)}`);
    }
    return at.node.value;
  }

  oneOf<T extends string>(at: Located, allowed: readonly T[], what = 'value'): T {
    const s = isScalar(at.node) && (typeof at.node.value === 'string' || typeof at.node.value === 'number')
      ? String(at.node.value)
      : undefined;
    if (s === undefined) this.fail(at, `expected one of ${allowed.join(', ')}, got ${describe(at.node)}`);
    if (!(allowed as readonly string[]).includes(s)) {
      const guess = didYouMean(s, allowed);
      this.fail(at, `unknown ${what} "${s}"${guess ? ` (did you mean "${guess}"?)` : ''}`, `expected one of ${allowed.join(', ')}`);
    }
    return s as T;
  }

  list(at: Located, what = 'a list'): Located[] {
    if (!isSeq(at.node)) this.fail(at, `expected ${what}, got ${describe(at.node)}`);
    return at.node.items.map((item, i) => ({ node: (item as YamlNode | null) ?? null, path: [...at.path, i] }));
  }

  isMapping(at: Located): boolean {
    return isMap(at.node);
  }
}

function describe(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return v === '' ? 'an empty string' : `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported YAML node';
}
