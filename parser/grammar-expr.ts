/**
 * Expression grammar: value expressions, type names, function calls and window specifications.
 *
 * Binary and postfix operators are parsed by precedence climbing inside one rule (`expr(minPrec)`)
 * instead of the textbook chain of one rule per level. That keeps recursion proportional to the
 * actual nesting of the input (≈3 rules per parenthesis, not 15), which is what lets us accept
 * 200 nested parentheses without exhausting the stack, and it is faster. The precedence table is
 * shared with the printer (`precedence.ts`).
 *
 * Chevrotain computes LL(k) lookahead within a rule only; wherever an optional part starts with a
 * word that may also legally follow in the *caller* (`f(x) filter` where `filter` is an alias),
 * the OPTION carries an explicit GATE looking one or two tokens further.
 */
import { type IOrAlt, type IToken, type OrMethodOpts, type ParserMethod, type TokenType } from 'chevrotain';
import type * as A from './ast.js';
import { GrammarBase } from './grammar-base.js';
import {
  AnyWord,
  Amp,
  Arrow,
  BangEq,
  Caret,
  Colon,
  Comma,
  Concat,
  ContainedBy,
  Contains,
  Dot,
  DoubleColon,
  Eq,
  Gt,
  GtEq,
  Hash,
  Identifier,
  identifierName,
  K,
  LBracket,
  LongArrow,
  LParen,
  Lt,
  LtEq,
  Minus,
  NotEq,
  NotRegex,
  NotRegexI,
  NumberLit,
  Overlap,
  Param,
  Percent,
  Pipe,
  Plus,
  RBracket,
  RegexI,
  RParen,
  ShiftL,
  ShiftR,
  Slash,
  Star,
  StringLit,
  stringValue,
  Tilde,
} from './lexer.js';
import { Prec } from './precedence.js';


/** Symbolic binary operators: token → AST operator and precedence. */
const SYMBOL_OPS: [TokenType, A.BinaryOperator][] = [
  [Eq, '='], [NotEq, '<>'], [BangEq, '!='], [Lt, '<'], [LtEq, '<='], [Gt, '>'], [GtEq, '>='],
  [Plus, '+'], [Minus, '-'], [Star, '*'], [Slash, '/'], [Percent, '%'], [Caret, '^'],
  [Concat, '||'], [Tilde, '~'], [NotRegex, '!~'], [RegexI, '~*'], [NotRegexI, '!~*'],
  [Amp, '&'], [Pipe, '|'], [Hash, '#'], [ShiftL, '<<'], [ShiftR, '>>'],
  [Contains, '@>'], [ContainedBy, '<@'], [Overlap, '&&'], [Arrow, '->'], [LongArrow, '->>'],
];

const OP_PREC: Record<string, number> = {
  '=': Prec.CMP, '<>': Prec.CMP, '!=': Prec.CMP, '<': Prec.CMP, '<=': Prec.CMP, '>': Prec.CMP, '>=': Prec.CMP,
  '+': Prec.ADD, '-': Prec.ADD, '*': Prec.MUL, '/': Prec.MUL, '%': Prec.MUL, '^': Prec.EXP,
};

interface OpInfo {
  op: A.BinaryOperator;
  prec: number;
  schema?: string;
}

/** Infix/postfix precedence by token type index (the simple, one-token cases). */
const INFIX_PREC: number[] = [];
function setPrec(t: TokenType, p: number): void {
  INFIX_PREC[t.tokenTypeIdx!] = p;
}
for (const [t, op] of SYMBOL_OPS) setPrec(t, OP_PREC[op] ?? Prec.OTHER);
setPrec(K.or, Prec.OR);
setPrec(K.and, Prec.AND);
for (const w of ['is', 'isnull', 'notnull'] as const) setPrec(K[w], Prec.IS);
for (const w of ['between', 'in', 'like', 'ilike', 'similar'] as const) setPrec(K[w], Prec.LIKE);
setPrec(K.collate, Prec.COLLATE);
setPrec(DoubleColon, Prec.CAST);
setPrec(LBracket, Prec.SUBSCRIPT);

/** Words that may follow an infix NOT (`a NOT IN …`). */
const NOT_PREDICATES = new Set<TokenType>([K.between, K.in, K.like, K.ilike, K.similar]);

export abstract class ExprGrammar extends GrammarBase {
  // Rules defined further down the class chain (chevrotain grammar inheritance): expressions
  // embed subqueries, special forms, types and calls.
  protected abstract query: ParserMethod<[], A.Query>;
  protected abstract caseExpr: ParserMethod<[], A.CaseExpr>;
  protected abstract castExpr: ParserMethod<[], A.CastExpr>;
  protected abstract arrayExpr: ParserMethod<[], A.Expr>;
  protected abstract listLiteral: ParserMethod<[], A.ArrayExpr>;
  protected abstract rowExpr: ParserMethod<[], A.RowExpr>;
  protected abstract intervalLiteral: ParserMethod<[], A.IntervalLiteral>;
  protected abstract extractExpr: ParserMethod<[], A.ExtractExpr>;
  protected abstract substringExpr: ParserMethod<[], A.FunctionCall>;
  protected abstract positionExpr: ParserMethod<[], A.FunctionCall>;
  protected abstract trimExpr: ParserMethod<[], A.FunctionCall>;
  protected abstract overlayExpr: ParserMethod<[], A.FunctionCall>;
  protected abstract specialValue: ParserMethod<[], A.Expr>;
  protected abstract typedLiteral: ParserMethod<[], A.TypedStringLiteral>;
  protected abstract typeName: ParserMethod<[], A.TypeName>;
  protected abstract funcCall: ParserMethod<[dp?: IToken], A.FunctionCall>;

  // ───────────────────────────── names ─────────────────────────────

  ident = this.RULE('ident', (): string => identifierName(this.CONSUME(Identifier)));

  colLabel = this.RULE('colLabel', (): string => identifierName(this.CONSUME(AnyWord)));

  /** `a`, `a.b`, `a.b.c` (later parts may be any word, as after a dot in Postgres). */
  qualifiedName = this.RULE('qualifiedName', (): string[] => {
    const parts = [this.SUBRULE(this.ident)];
    this.MANY({
      GATE: () => this.is(this.LA(2), AnyWord),
      DEF: () => {
        this.CONSUME(Dot);
        parts.push(this.SUBRULE(this.colLabel));
      },
    });
    return parts;
  });

  // ───────────────────────────── expressions ─────────────────────────────

  /**
   * An expression containing only operators binding at least as tight as `minPrec`: prefix
   * operators or a primary, then infix/postfix operators while they bind tightly enough.
   * (Prefix handling is inlined rather than a separate rule: every rule on the recursion path
   * costs stack, and nesting depth is bounded by the stack of an un-JITted process.)
   */
  expr = this.RULE('expr', (minPrec?: number): A.Expr => {
    const min = minPrec ?? 0;
    const start = this.here();
    this.ACTION(() => this.enter());
    let left = this.OR([
      {
        ALT: () => {
          this.CONSUME(K.not);
          return this.unary('not', this.SUBRULE(this.expr, { ARGS: [Prec.NOT + 1] }), start);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Minus);
          const e = this.SUBRULE2(this.expr, { ARGS: [Prec.UNARY + 1] });
          // Postgres folds a minus into a numeric constant (`-1` is a constant, `-1::int` is not).
          if (e.kind === 'number' && !e.text.startsWith('-')) return { kind: 'number', text: '-' + e.text, span: this.spanFrom(start) };
          return this.unary('-', e, start);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Plus);
          return this.unary('+', this.SUBRULE3(this.expr, { ARGS: [Prec.UNARY + 1] }), start);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Tilde);
          return this.unary('~', this.SUBRULE4(this.expr, { ARGS: [Prec.OTHER + 1] }), start);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
    this.MANY({
      GATE: () => this.infixPrec() >= min,
      DEF: () => {
        left = this.SUBRULE(this.infixTail, { ARGS: [left, start] });
      },
    });
    this.ACTION(() => this.leave());
    return left;
  });

  /** The precedence of the infix/postfix operator at LA(1), or -1 if there is none. */
  protected infixPrec(): number {
    const t = this.LA(1);
    const p = INFIX_PREC[t.tokenTypeIdx];
    if (p !== undefined) return p;
    const n = this.LA(2);
    switch (t.tokenType) {
      case K.not:
        return NOT_PREDICATES.has(n.tokenType) ? Prec.LIKE : -1;
      case K.operator:
        return this.is(n, LParen) ? Prec.OTHER : -1;
      case K.at:
        return this.isKw(n, 'time') && this.isKw(this.LA(3), 'zone') ? Prec.AT : -1;
      case Dot:
        return this.is(n, AnyWord) ? Prec.FIELD : -1;
      default:
        return -1;
    }
  }

  private unary(op: A.UnaryOperator, operand: A.Expr, start: number): A.UnaryExpr {
    return { kind: 'unary', op, operand, span: this.spanFrom(start) };
  }

  /** One infix or postfix operator applied to `left` (which began at `start`). */
  infixTail = this.RULE('infixTail', (left: A.Expr, start: number): A.Expr => {
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(K.or);
          const right = this.SUBRULE(this.expr, { ARGS: [Prec.OR + 1] });
          return { kind: 'binary', op: 'or', left, right, span: this.spanFrom(start) } as A.BinaryExpr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.and);
          const right = this.SUBRULE2(this.expr, { ARGS: [Prec.AND + 1] });
          return { kind: 'binary', op: 'and', left, right, span: this.spanFrom(start) } as A.BinaryExpr;
        },
      },
      { ALT: () => this.SUBRULE(this.isTail, { ARGS: [left, start] }) },
      { ALT: () => this.SUBRULE(this.predicateTail, { ARGS: [left, start] }) },
      {
        ALT: () => {
          // The right side of a binary operator: an operand, or `ANY|ALL|SOME (subquery | array)`.
          const op = this.SUBRULE(this.binaryOperator);
          return this.OR2([
            { ALT: () => this.SUBRULE(this.quantifiedTail, { ARGS: [left, op, start] }) },
            {
              ALT: () => {
                const right = this.SUBRULE4(this.expr, { ARGS: [op.prec + 1] });
                const e: A.BinaryExpr = { kind: 'binary', op: op.op, left, right, span: this.spanFrom(start) };
                if (op.schema !== undefined) e.operatorSchema = op.schema;
                return e;
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          // `x AT TIME ZONE z` is timezone(z, x) in both Postgres and DuckDB.
          this.CONSUME(K.at);
          this.CONSUME(K.time);
          this.CONSUME(K.zone);
          const zone = this.SUBRULE3(this.expr, { ARGS: [Prec.AT + 1] });
          return { kind: 'function', name: ['timezone'], args: [zone, left], span: this.spanFrom(start) } as A.FunctionCall;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.collate);
          const collation = this.SUBRULE(this.anyQualifiedName);
          return { kind: 'collate', expr: left, collation, span: this.spanFrom(start) } as A.CollateExpr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(DoubleColon);
          const type = this.SUBRULE(this.typeName);
          return { kind: 'cast', expr: left, type, syntax: 'colons', span: this.spanFrom(start) } as A.CastExpr;
        },
      },
      { ALT: () => this.SUBRULE(this.subscript, { ARGS: [left, start] }) },
      {
        ALT: () => {
          this.CONSUME2(Dot);
          const field = this.SUBRULE(this.colLabel);
          return { kind: 'field', expr: left, field, span: this.spanFrom(start) } as A.FieldAccess;
        },
      },
    ]);
  });

  /** `name(.name)*`: an identifier, then any words after dots (`pg_catalog.default`). */
  anyQualifiedName = this.RULE('anyQualifiedName', (): string[] => {
    const parts = [this.SUBRULE(this.ident)];
    this.MANY({
      GATE: () => this.is(this.LA(2), AnyWord),
      DEF: () => {
        this.CONSUME(Dot);
        parts.push(this.SUBRULE(this.colLabel));
      },
    });
    return parts;
  });

  isTail = this.RULE('isTail', (left: A.Expr, start: number): A.Expr => {
    const mk = (not: boolean, test: A.IsExpr['test'], other?: A.Expr): A.IsExpr => {
      const e: A.IsExpr = { kind: 'is', not, expr: left, test, span: this.spanFrom(start) };
      if (other !== undefined) e.other = other;
      return e;
    };
    return this.OR([
      { ALT: () => (this.CONSUME(K.isnull), mk(false, 'null')) },
      { ALT: () => (this.CONSUME(K.notnull), mk(true, 'null')) },
      {
        ALT: () => {
          this.CONSUME(K.is);
          const not = this.OPTION(() => this.CONSUME(K.not)) !== undefined;
          return this.OR2([
            { ALT: () => (this.CONSUME(K.null), mk(not, 'null')) },
            { ALT: () => (this.CONSUME(K.true), mk(not, 'true')) },
            { ALT: () => (this.CONSUME(K.false), mk(not, 'false')) },
            { ALT: () => (this.CONSUME(K.unknown), mk(not, 'unknown')) },
            {
              ALT: () => {
                this.CONSUME(K.distinct);
                this.CONSUME(K.from);
                const other = this.SUBRULE(this.expr, { ARGS: [Prec.IS + 1] });
                return mk(not, 'distinct_from', other);
              },
            },
          ]);
        },
      },
    ]);
  });

  /** `[NOT] BETWEEN | IN | LIKE | ILIKE | SIMILAR TO`. */
  predicateTail = this.RULE('predicateTail', (left: A.Expr, start: number): A.Expr => {
    const not = this.OPTION(() => this.CONSUME(K.not)) !== undefined;
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(K.between);
          const sym = this.OPTION2(() =>
            this.OR2([{ ALT: () => (this.CONSUME(K.symmetric), true) }, { ALT: () => (this.CONSUME(K.asymmetric), false) }]),
          );
          const low = this.SUBRULE(this.expr, { ARGS: [Prec.LIKE + 1] });
          this.CONSUME(K.and);
          const high = this.SUBRULE2(this.expr, { ARGS: [Prec.LIKE + 1] });
          const e: A.BetweenExpr = { kind: 'between', not, expr: left, low, high, span: this.spanFrom(start) };
          if (sym === true) e.symmetric = true;
          return e;
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.in);
          return this.OR3({
            IGNORE_AMBIGUITIES: true,
            MAX_LOOKAHEAD: 1,
            DEF: [
              {
                GATE: () => this.parenHoldsQuery(this.idxOf(1)),
                ALT: () => {
                  const query = this.SUBRULE(this.subqueryParens);
                  return { kind: 'in_subquery', not, expr: left, query, span: this.spanFrom(start) } as A.InSubqueryExpr;
                },
              },
              {
                ALT: () => {
                  this.CONSUME(LParen);
                  const list = this.SUBRULE(this.exprList);
                  this.CONSUME(RParen);
                  return { kind: 'in_list', not, expr: left, list, span: this.spanFrom(start) } as A.InListExpr;
                },
              },
            ],
          });
        },
      },
      {
        ALT: () => {
          const op = this.OR4([
            { ALT: () => (this.CONSUME(K.like), 'like' as const) },
            { ALT: () => (this.CONSUME(K.ilike), 'ilike' as const) },
            { ALT: () => (this.CONSUME(K.similar), this.CONSUME(K.to), 'similar' as const) },
          ]);
          const pattern = this.SUBRULE3(this.expr, { ARGS: [Prec.LIKE + 1] });
          const escape = this.OPTION3(() => {
            this.CONSUME(K.escape);
            return this.SUBRULE4(this.expr, { ARGS: [Prec.LIKE + 1] });
          });
          const e: A.LikeExpr = { kind: 'like', op, not, expr: left, pattern, span: this.spanFrom(start) };
          if (escape !== undefined) e.escape = escape;
          return e;
        },
      },
    ]);
  });

  /** A symbolic operator or `OPERATOR(schema.op)`. */
  binaryOperator = this.RULE('binaryOperator', (): OpInfo =>
    this.OR([
      { ALT: () => this.SUBRULE(this.operatorSymbol) },
      {
        ALT: () => {
          this.CONSUME(K.operator);
          this.CONSUME(LParen);
          const schema = this.OPTION(() => {
            const s = this.SUBRULE(this.ident);
            this.CONSUME(Dot);
            return s;
          });
          const sym = this.SUBRULE2(this.operatorSymbol);
          this.CONSUME(RParen);
          const info: OpInfo = { op: sym.op, prec: Prec.OTHER };
          if (schema !== undefined) info.schema = schema;
          return info;
        },
      },
    ]),
  );

  operatorSymbol = this.RULE('operatorSymbol', (): OpInfo =>
    this.OR(
      (this.operatorAlts ??= SYMBOL_OPS.map(([tok, op]) => ({
        ALT: () => {
          this.CONSUME(tok);
          return { op, prec: OP_PREC[op] ?? Prec.OTHER };
        },
      }))),
    ),
  );

  /** Built once (see `primaryAlts`). */
  private operatorAlts: IOrAlt<OpInfo>[] | undefined;

  /** `op ANY|ALL|SOME (subquery | array)` after a binary operator. */
  quantifiedTail = this.RULE('quantifiedTail', (left: A.Expr, op: OpInfo = { op: '=', prec: 0 }, start = 0): A.Expr => {
    const quantifier = this.OR([
      { ALT: () => (this.CONSUME(K.any), 'any' as const) },
      { ALT: () => (this.CONSUME(K.all), 'all' as const) },
      { ALT: () => (this.CONSUME(K.some), 'some' as const) },
    ]);
    const e: A.QuantifiedExpr = { kind: 'quantified', op: op.op, quantifier, expr: left };
    this.OR2({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        { GATE: () => this.parenHoldsQuery(this.idxOf(1)), ALT: () => void (e.query = this.SUBRULE(this.subqueryParens)) },
        {
          ALT: () => {
            this.CONSUME(LParen);
            e.array = this.SUBRULE(this.expr);
            this.CONSUME(RParen);
          },
        },
      ],
    });
    return this.spanned(e, start);
  });

  /** `[i]`, `[lo:hi]`, `[:hi]`, `[lo:]`. */
  subscript = this.RULE('subscript', (left: A.Expr, start: number): A.Expr => {
    this.CONSUME(LBracket);
    const e: A.SubscriptExpr = { kind: 'subscript', expr: left };
    this.OPTION(() => void (e.index = this.SUBRULE(this.expr)));
    this.OPTION2(() => {
      this.CONSUME(Colon);
      e.slice = {};
      this.OPTION3(() => void (e.slice!.upper = this.SUBRULE2(this.expr)));
    });
    this.CONSUME(RBracket);
    this.ACTION(() => {
      if (e.index === undefined && e.slice === undefined) this.failNear(this.LA(0), ['an expression', "':'"]);
    });
    e.span = this.spanFrom(start);
    return e;
  });

  exprList = this.RULE('exprList', (): A.Expr[] => {
    const list = [this.SUBRULE(this.expr)];
    this.MANY(() => {
      this.CONSUME(Comma);
      list.push(this.SUBRULE2(this.expr));
    });
    return list;
  });

  /** `( query )` — the query's own span excludes the parentheses. */
  subqueryParens = this.RULE('subqueryParens', (): A.Query => {
    this.CONSUME(LParen);
    const q = this.SUBRULE(this.query);
    this.CONSUME(RParen);
    return q;
  });

  // ───────────────────────────── primaries ─────────────────────────────

  /**
   * Primary expressions. The decision uses one token of lookahead plus explicit GATEs: letting
   * chevrotain compute 3-token paths through every alternative (they all reach `expr`) made
   * self-analysis take over a minute. Alternatives that start with a non-reserved keyword
   * (`row`, `interval`, `extract`, `dp`, …) only apply when the following token fits; otherwise the
   * word is an ordinary name and falls through to the column reference.
   */
  primary = this.RULE('primary', (): A.Expr => this.OR((this.primaryAlts ??= this.buildPrimaryAlts())));

  /**
   * The alternatives of `primary`, built once: chevrotain allows reusing them when the closures
   * capture no per-call state (each alternative reads its own start offset), and rebuilding ~25
   * closures on every primary expression was the parser's largest source of garbage.
   */
  private primaryAlts: OrMethodOpts<A.Expr> | undefined;

  private buildPrimaryAlts(): OrMethodOpts<A.Expr> {
    const tok = (type: TokenType, make: (t: IToken) => A.Expr) => ({ ALT: () => make(this.CONSUME(type)) });
    const nextIs = (t: TokenType) => () => this.is(this.LA(2), t);
    return {
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        tok(NumberLit, (t) => ({ kind: 'number', text: t.image, span: this.tokSpan(t) })),
        tok(StringLit, (t) => ({ kind: 'string', value: stringValue(t), span: this.tokSpan(t) })),
        tok(Param, (t) => this.parameter(t)),
        tok(K.true, (t) => ({ kind: 'boolean', value: true, span: this.tokSpan(t) })),
        tok(K.false, (t) => ({ kind: 'boolean', value: false, span: this.tokSpan(t) })),
        tok(K.null, (t) => ({ kind: 'null', span: this.tokSpan(t) })),
        {
          // `(SELECT …)`: a scalar subquery (the gate tells it from `((SELECT 1) + 1)`).
          GATE: () => this.parenHoldsQuery(this.idxOf(1)),
          ALT: () => {
            const start = this.here();
            this.CONSUME2(LParen);
            const query = this.SUBRULE(this.query);
            this.CONSUME2(RParen);
            return { kind: 'scalar_subquery', query, span: this.spanFrom(start) } as A.ScalarSubquery;
          },
        },
        {
          // `(expr)` (no node of its own) or the row constructor `(a, b)`.
          ALT: () => {
            const start = this.here();
            this.CONSUME(LParen);
            const first = this.SUBRULE(this.expr);
            let list: A.Expr[] | undefined;
            this.MANY(() => {
              this.CONSUME(Comma);
              const next = this.SUBRULE2(this.expr);
              (list ??= [first]).push(next);
            });
            this.CONSUME(RParen);
            return list === undefined ? first : ({ kind: 'row', elements: list, span: this.spanFrom(start) } as A.RowExpr);
          },
        },
        { ALT: () => this.SUBRULE(this.caseExpr) },
        { GATE: () => this.isKw(this.LA(1), 'cast') || this.is(this.LA(2), LParen), ALT: () => this.SUBRULE(this.castExpr) },
        {
          ALT: () => {
            const start = this.here();
            this.CONSUME(K.exists);
            const query = this.SUBRULE(this.subqueryParens);
            return { kind: 'exists', query, span: this.spanFrom(start) } as A.ExistsExpr;
          },
        },
        { ALT: () => this.SUBRULE(this.arrayExpr) },
        { ALT: () => this.SUBRULE(this.listLiteral) },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.rowExpr) },
        {
          GATE: () => this.is(this.LA(2), StringLit) || this.is(this.LA(2), NumberLit) || this.is(this.LA(2), LParen),
          ALT: () => this.SUBRULE(this.intervalLiteral),
        },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.extractExpr) },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.substringExpr) },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.positionExpr) },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.trimExpr) },
        { GATE: nextIs(LParen), ALT: () => this.SUBRULE(this.overlayExpr) },
        { ALT: () => this.SUBRULE(this.specialValue) },
        {
          // `DP COUNT(*)`, `DP SUM(x BOUNDED 0 AND 10)`: any aggregate name after DP.
          GATE: () => this.atFunctionCall(2),
          ALT: () => {
            const dp = this.CONSUME(K.dp);
            return this.SUBRULE(this.funcCall, { ARGS: [dp] });
          },
        },
        { GATE: () => this.atTypedLiteral(), ALT: () => this.SUBRULE(this.typedLiteral) },
        { GATE: () => this.atFunctionCall(1), ALT: () => this.SUBRULE2(this.funcCall) },
        {
          ALT: () => {
            const start = this.here();
            const name = this.SUBRULE(this.qualifiedName);
            return { kind: 'column', name, span: this.spanFrom(start) } as A.ColumnRef;
          },
        },
      ],
    };
  }

  private parameter(t: IToken): A.ParameterRef {
    const index = Number(t.image.slice(1));
    if (!this.RECORDING_PHASE && !(index >= 1 && index <= 65535)) this.fail(t, `there is no parameter ${t.image}`);
    return { kind: 'parameter', index, span: this.tokSpan(t) };
  }

  // ───────────────────────────── misc ─────────────────────────────

  /** `(a, b, c)` of identifiers (alias column lists, USING, CTE columns). */
  identList = this.RULE('identList', (): string[] => {
    this.CONSUME(LParen);
    const names = [this.SUBRULE(this.ident)];
    this.MANY(() => {
      this.CONSUME(Comma);
      names.push(this.SUBRULE2(this.ident));
    });
    this.CONSUME(RParen);
    return names;
  });
}
