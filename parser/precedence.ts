/**
 * Operator precedence, shared by the parser (precedence climbing) and the printer (minimal
 * parenthesisation). Higher binds tighter. The order is Postgres' (docs §4.1.6, gram.y):
 *
 *   OR < AND < NOT < IS/ISNULL/NOTNULL < comparison < BETWEEN/IN/LIKE/ILIKE/SIMILAR
 *      < other operators (~, ||, ->, OPERATOR(…), prefix ~) < + - < * / % < ^ < AT TIME ZONE
 *      < COLLATE < unary + - < :: < [] < .field
 *
 * Keeping both sides on one table is what makes `parse(print(ast))` return `ast`: the printer adds
 * parentheses exactly where the parser would otherwise build a different tree.
 */
import type { BinaryOperator, Expr } from './ast.js';

export const Prec = {
  OR: 1,
  AND: 2,
  NOT: 3,
  IS: 4,
  CMP: 5,
  LIKE: 6,
  OTHER: 7,
  ADD: 8,
  MUL: 9,
  EXP: 10,
  AT: 11,
  COLLATE: 12,
  UNARY: 13,
  CAST: 14,
  SUBSCRIPT: 15,
  FIELD: 16,
  /** Literals, names, calls, parenthesised forms: never need parentheses. */
  PRIMARY: 100,
} as const;

const BINARY_PREC: Record<BinaryOperator, number> = {
  or: Prec.OR,
  and: Prec.AND,
  '=': Prec.CMP,
  '<>': Prec.CMP,
  '!=': Prec.CMP,
  '<': Prec.CMP,
  '<=': Prec.CMP,
  '>': Prec.CMP,
  '>=': Prec.CMP,
  '+': Prec.ADD,
  '-': Prec.ADD,
  '*': Prec.MUL,
  '/': Prec.MUL,
  '%': Prec.MUL,
  '^': Prec.EXP,
  '||': Prec.OTHER,
  '~': Prec.OTHER,
  '!~': Prec.OTHER,
  '~*': Prec.OTHER,
  '!~*': Prec.OTHER,
  '&': Prec.OTHER,
  '|': Prec.OTHER,
  '#': Prec.OTHER,
  '<<': Prec.OTHER,
  '>>': Prec.OTHER,
  '@>': Prec.OTHER,
  '<@': Prec.OTHER,
  '&&': Prec.OTHER,
  '->': Prec.OTHER,
  '->>': Prec.OTHER,
};

/** Precedence of a binary operator as written (OPERATOR(schema.op) is always "other"). */
export function binaryPrecedence(op: BinaryOperator, operatorSchema?: string): number {
  return operatorSchema !== undefined ? Prec.OTHER : BINARY_PREC[op];
}

/**
 * Postgres makes comparison, IS and LIKE-family operators non-associative (`a = b = c` is a
 * syntax error there), so the printer parenthesises a same-level left operand for those.
 */
export function isNonAssociative(prec: number): boolean {
  return prec === Prec.CMP || prec === Prec.IS || prec === Prec.LIKE;
}

/** The precedence of the outermost construct of `e` when printed in VeilSQL syntax. */
export function exprPrecedence(e: Expr): number {
  switch (e.kind) {
    case 'binary':
      return binaryPrecedence(e.op, e.operatorSchema);
    case 'unary':
      return e.op === 'not' ? Prec.NOT : e.op === '~' ? Prec.OTHER : Prec.UNARY;
    case 'like':
    case 'between':
    case 'in_list':
    case 'in_subquery':
      return Prec.LIKE;
    case 'is':
      return Prec.IS;
    case 'quantified':
      return binaryPrecedence(e.op);
    case 'collate':
      return Prec.COLLATE;
    case 'cast':
      return e.syntax === 'colons' ? Prec.CAST : Prec.PRIMARY;
    case 'subscript':
      return Prec.SUBSCRIPT;
    case 'field':
      return Prec.FIELD;
    case 'number':
      // A folded negative literal prints as `-1`, i.e. like a unary minus.
      return e.text.startsWith('-') ? Prec.UNARY : Prec.PRIMARY;
    default:
      return Prec.PRIMARY;
  }
}
