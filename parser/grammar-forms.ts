/**
 * Special syntactic forms with their own grammar: CASE, CAST/TRY_CAST, ARRAY[…]/ARRAY(…), list
 * literals, ROW(…), INTERVAL literals, EXTRACT, SUBSTRING/POSITION/TRIM/OVERLAY (normalised to
 * plain calls DuckDB and Postgres both accept), niladic keyword values, typed literals and type
 * names. Split from `grammar-expr.ts` to keep each file about one concept.
 */
import type { IOrAlt } from 'chevrotain';
import type * as A from './ast.js';
import { ExprGrammar } from './grammar-expr.js';
import { AnyWord, Comma, Dot, K, LBracket, LParen, NumberLit, RBracket, RParen, StringLit, stringValue } from './lexer.js';
import { Prec } from './precedence.js';

/** Niladic keyword values (`CURRENT_DATE`, `USER`, …). */
const SPECIALS: A.SpecialValue['name'][] = [
  'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'current_user',
  'session_user', 'user', 'current_role', 'current_catalog',
];


const INTERVAL_UNIT_WORD = /^(microsecond|millisecond|second|minute|hour|day|week|month|quarter|year|decade|century|millennium)s?$/;

export abstract class FormsGrammar extends ExprGrammar {
  caseExpr = this.RULE('caseExpr', (): A.CaseExpr => {
    const start = this.here();
    this.CONSUME(K.case);
    const e: A.CaseExpr = { kind: 'case', whens: [] };
    this.OPTION(() => void (e.operand = this.SUBRULE(this.expr)));
    this.AT_LEAST_ONE(() => {
      this.CONSUME(K.when);
      const when = this.SUBRULE2(this.expr);
      this.CONSUME(K.then);
      const then = this.SUBRULE3(this.expr);
      e.whens.push({ when, then });
    });
    this.OPTION2(() => {
      this.CONSUME(K.else);
      e.else = this.SUBRULE4(this.expr);
    });
    this.CONSUME(K.end);
    e.span = this.spanFrom(start);
    return e;
  });

  castExpr = this.RULE('castExpr', (): A.CastExpr => {
    const start = this.here();
    const syntax = this.OR([
      { ALT: () => (this.CONSUME(K.cast), 'cast' as const) },
      { ALT: () => (this.CONSUME(K.try_cast), 'try_cast' as const) },
    ]);
    this.CONSUME(LParen);
    const expr = this.SUBRULE(this.expr);
    this.CONSUME(K.as);
    const type = this.SUBRULE(this.typeName);
    this.CONSUME(RParen);
    return { kind: 'cast', expr, type, syntax, span: this.spanFrom(start) };
  });

  arrayExpr = this.RULE('arrayExpr', (): A.Expr => {
    const start = this.here();
    this.CONSUME(K.array);
    return this.OR([
      {
        ALT: () => {
          const query = this.SUBRULE(this.subqueryParens);
          return { kind: 'array_subquery', query, span: this.spanFrom(start) } as A.ArraySubquery;
        },
      },
      {
        ALT: () => {
          const elements = this.SUBRULE(this.bracketList);
          return { kind: 'array', elements, span: this.spanFrom(start) } as A.ArrayExpr;
        },
      },
    ]);
  });

  /** DuckDB's list literal `[1, 2]`, also the inner rows of `ARRAY[[1,2],[3,4]]`. */
  listLiteral = this.RULE('listLiteral', (): A.ArrayExpr => {
    const start = this.here();
    const elements = this.SUBRULE(this.bracketList);
    return { kind: 'array', elements, span: this.spanFrom(start) };
  });

  bracketList = this.RULE('bracketList', (): A.Expr[] => {
    this.CONSUME(LBracket);
    const elements = this.OPTION(() => this.SUBRULE(this.exprList)) ?? [];
    this.CONSUME(RBracket);
    return elements;
  });

  rowExpr = this.RULE('rowExpr', (): A.RowExpr => {
    const start = this.here();
    this.CONSUME(K.row);
    this.CONSUME(LParen);
    const elements = this.OPTION(() => this.SUBRULE(this.exprList)) ?? [];
    this.CONSUME(RParen);
    return { kind: 'row', elements, explicit: true, span: this.spanFrom(start) };
  });

  /** `INTERVAL '7 days'`, `INTERVAL '7' DAY`, `INTERVAL 7 DAYS`, `INTERVAL '1-2' YEAR TO MONTH`. */
  intervalLiteral = this.RULE('intervalLiteral', (): A.IntervalLiteral => {
    const start = this.here();
    this.CONSUME(K.interval);
    const vStart = this.here();
    const value = this.OR([
      { ALT: () => ({ kind: 'string', value: stringValue(this.CONSUME(StringLit)), span: this.spanFrom(vStart) }) as A.Expr },
      { ALT: () => ({ kind: 'number', text: this.CONSUME(NumberLit).image, span: this.spanFrom(vStart) }) as A.Expr },
      {
        ALT: () => {
          this.CONSUME(LParen);
          const e = this.SUBRULE(this.expr);
          this.CONSUME(RParen);
          return e;
        },
      },
    ]);
    const e: A.IntervalLiteral = { kind: 'interval', value };
    this.OPTION({
      GATE: () => this.atIntervalUnit(),
      DEF: () => {
        let unit = this.lower(this.CONSUME(AnyWord));
        this.OPTION2({
          GATE: () => this.isKw(this.LA(1), 'to') && INTERVAL_UNIT_WORD.test(this.lower(this.LA(2))),
          DEF: () => {
            this.CONSUME(K.to);
            unit += ' to ' + this.lower(this.CONSUME2(AnyWord));
          },
        });
        e.unit = unit;
      },
    });
    e.span = this.spanFrom(start);
    return e;
  });

  extractExpr = this.RULE('extractExpr', (): A.ExtractExpr => {
    const start = this.here();
    this.CONSUME(K.extract);
    this.CONSUME(LParen);
    const field = this.OR([
      { ALT: () => this.SUBRULE(this.ident) },
      { ALT: () => stringValue(this.CONSUME(StringLit)).toLowerCase() },
    ]);
    this.CONSUME(K.from);
    const expr = this.SUBRULE(this.expr);
    this.CONSUME(RParen);
    return { kind: 'extract', field, expr, span: this.spanFrom(start) };
  });

  /** SUBSTRING(x FROM a [FOR b]) → substring(x, a[, b]); SUBSTRING(x FOR b) → substring(x, 1, b). */
  substringExpr = this.RULE('substringExpr', (): A.FunctionCall => {
    const start = this.here();
    this.CONSUME(K.substring);
    this.CONSUME(LParen);
    const args = [this.SUBRULE(this.expr)];
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.from);
          args.push(this.SUBRULE2(this.expr));
          this.OPTION(() => {
            this.CONSUME(K.for);
            args.push(this.SUBRULE3(this.expr));
          });
        },
      },
      {
        ALT: () => {
          const f = this.CONSUME2(K.for);
          args.push({ kind: 'number', text: '1', span: this.tokSpan(f) }, this.SUBRULE4(this.expr));
        },
      },
      {
        ALT: () =>
          this.MANY(() => {
            this.CONSUME(Comma);
            args.push(this.SUBRULE5(this.expr));
          }),
      },
    ]);
    this.CONSUME(RParen);
    return { kind: 'function', name: ['substring'], args, span: this.spanFrom(start) };
  });

  /** POSITION(a IN b) → strpos(b, a) (both Postgres and DuckDB have strpos). */
  positionExpr = this.RULE('positionExpr', (): A.FunctionCall => {
    const start = this.here();
    this.CONSUME(K.position);
    this.CONSUME(LParen);
    const needle = this.SUBRULE(this.expr, { ARGS: [Prec.LIKE + 1] });
    this.CONSUME(K.in);
    const haystack = this.SUBRULE2(this.expr);
    this.CONSUME(RParen);
    return { kind: 'function', name: ['strpos'], args: [haystack, needle], span: this.spanFrom(start) };
  });

  /** TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) → trim|ltrim|rtrim(s[, chars]); TRIM(s[, chars]). */
  trimExpr = this.RULE('trimExpr', (): A.FunctionCall => {
    const start = this.here();
    this.CONSUME(K.trim);
    this.CONSUME(LParen);
    const mode = this.OPTION(() =>
      this.OR([
        { ALT: () => (this.CONSUME(K.both), 'trim') },
        { ALT: () => (this.CONSUME(K.leading), 'ltrim') },
        { ALT: () => (this.CONSUME(K.trailing), 'rtrim') },
      ]),
    );
    const args = this.OR2([
      {
        ALT: () => {
          this.CONSUME(K.from);
          return this.SUBRULE(this.exprList);
        },
      },
      {
        ALT: () => {
          const first = this.SUBRULE(this.expr);
          return this.OR3([
            {
              ALT: () => {
                this.CONSUME2(K.from);
                const list = this.SUBRULE2(this.exprList);
                return this.act(() => [...list, first], []);
              },
            },
            {
              ALT: () => {
                const rest = [first];
                this.MANY(() => {
                  this.CONSUME(Comma);
                  rest.push(this.SUBRULE2(this.expr));
                });
                return rest;
              },
            },
          ]);
        },
      },
    ]);
    this.CONSUME(RParen);
    return { kind: 'function', name: [mode ?? 'trim'], args, span: this.spanFrom(start) };
  });

  /** OVERLAY(a PLACING b FROM c [FOR d]) → overlay(a, b, c[, d]). */
  overlayExpr = this.RULE('overlayExpr', (): A.FunctionCall => {
    const start = this.here();
    this.CONSUME(K.overlay);
    this.CONSUME(LParen);
    const args = [this.SUBRULE(this.expr)];
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.placing);
          args.push(this.SUBRULE2(this.expr));
          this.CONSUME(K.from);
          args.push(this.SUBRULE3(this.expr));
          this.OPTION(() => {
            this.CONSUME(K.for);
            args.push(this.SUBRULE4(this.expr));
          });
        },
      },
      {
        ALT: () =>
          this.MANY(() => {
            this.CONSUME(Comma);
            args.push(this.SUBRULE5(this.expr));
          }),
      },
    ]);
    this.CONSUME(RParen);
    return { kind: 'function', name: ['overlay'], args, span: this.spanFrom(start) };
  });

  /** CURRENT_DATE, USER, …; `current_schema` bare is special, `current_schema()` a call. */
  specialValue = this.RULE('specialValue', (): A.Expr => this.OR((this.specialAlts ??= this.buildSpecialAlts())));

  /** Built once (see `ExprGrammar.primaryAlts`). */
  private specialAlts: IOrAlt<A.Expr>[] | undefined;

  private buildSpecialAlts(): IOrAlt<A.Expr>[] {
    return [
      ...SPECIALS.map((name) => ({
        ALT: () => ({ kind: 'special', name, span: this.tokSpan(this.CONSUME(K[name])) }) as A.SpecialValue,
      })),
      {
        ALT: () => {
          const start = this.here();
          this.CONSUME(K.current_schema);
          const call = this.OPTION(() => {
            this.CONSUME(LParen);
            this.CONSUME(RParen);
            return true;
          });
          const span = this.spanFrom(start);
          return call === true
            ? ({ kind: 'function', name: ['current_schema'], args: [], span } as A.FunctionCall)
            : ({ kind: 'special', name: 'current_schema', span } as A.SpecialValue);
        },
      },
    ];
  }

  typedLiteral = this.RULE('typedLiteral', (): A.TypedStringLiteral => {
    const start = this.here();
    const type = this.SUBRULE(this.typeName);
    const value = stringValue(this.CONSUME(StringLit));
    return { kind: 'typed_string', type, value, span: this.spanFrom(start) };
  });

  /**
   * A function or aggregate call with its trailing clauses. `dp` is the DP keyword token when
   * called as `DP name(…)`; only then is `BOUNDED lo AND hi` accepted.

  // ───────────────────────────── types ─────────────────────────────

  /**
   * A type as written: `int`, `pg_catalog.text`, `numeric(12,2)`, `double precision`,
   * `character varying(10)`, `timestamp(3) with time zone`, `name[]`.
   */
  typeName = this.RULE('typeName', (): A.TypeName => {
    const start = this.here();
    const t: A.TypeName = { name: '' };
    let first = this.SUBRULE(this.ident);
    this.OPTION({
      GATE: () => this.is(this.LA(2), AnyWord),
      DEF: () => {
        this.CONSUME(Dot);
        t.schema = first;
        first = this.SUBRULE(this.colLabel);
      },
    });
    const words = [first];
    this.MANY({
      MAX_LOOKAHEAD: 1,
      GATE: () => this.typeWordContinues(words, this.idxOf(1)),
      DEF: () => void words.push(this.lower(this.CONSUME(AnyWord))),
    });
    this.OPTION2({
      GATE: () => this.is(this.LA(2), NumberLit),
      DEF: () => {
        this.CONSUME(LParen);
        const args = [Number(this.CONSUME(NumberLit).image)];
        this.MANY2(() => {
          this.CONSUME(Comma);
          args.push(Number(this.CONSUME2(NumberLit).image));
        });
        this.CONSUME(RParen);
        t.args = args;
      },
    });
    this.MANY3({
      MAX_LOOKAHEAD: 1,
      GATE: () => this.typeWordContinues(words, this.idxOf(1)),
      DEF: () => void words.push(this.lower(this.CONSUME2(AnyWord))),
    });
    this.MANY4(() => {
      this.CONSUME(LBracket);
      this.OPTION3(() => this.CONSUME3(NumberLit));
      this.CONSUME(RBracket);
      t.arrayDims = (t.arrayDims ?? 0) + 1;
    });
    t.name = words.join(' ');
    t.span = this.spanFrom(start);
    return t;
  });
}
