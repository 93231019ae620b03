/**
 * Query grammar: WITH, set operations, SELECT blocks, FROM/joins (incl. SECURE JOIN and PRIVATE
 * LOOKUP), VALUES, LIMIT/OFFSET/FETCH and the privacy clauses.
 *
 * Notable decisions:
 * - `WITH PRIVACY (…)` is only recognised right after a query (LA(1..2) = WITH PRIVACY), so a CTE
 *   named `privacy` at statement start still works. It attaches to the query's SELECT block; on a
 *   set operation it is an error (which SELECT would it protect?).
 * - `LIMIT ALL` means "no limit" and leaves `limit` unset; `FETCH FIRST [n] ROWS ONLY` becomes
 *   `limit` (n defaults to 1); `OFFSET n ROWS` is `offset`. Clauses may come in any order, once.
 * - A `(` in FROM is a subquery when it holds a query, otherwise a parenthesised join.
 * - Bare table aliases may be any non-reserved word, except that `SECURE` before a join word and
 *   `PRIVATE` before `LOOKUP` start VeilSQL joins (`a SECURE JOIN b`, `a PRIVATE LOOKUP b`); with
 *   `AS` they are ordinary aliases.
 */
import type * as A from './ast.js';
import { CallGrammar } from './grammar-call.js';
import { Comma, Dot, Eq, Identifier, K, LParen, RParen, Star, type LexedToken } from './lexer.js';

type Limits = { limit?: A.Expr; offset?: A.Expr; noLimit?: boolean };

/** Builds the set-operation tree: INTERSECT first, then UNION/EXCEPT, each left-associative. */
function combineSetOperations(operands: A.QueryBody[], ops: { op: A.SetOperation['op']; all: boolean }[]): A.QueryBody {
  const join = (left: A.QueryBody, o: { op: A.SetOperation['op']; all: boolean }, right: A.QueryBody): A.SetOperation => ({
    kind: 'set_operation',
    op: o.op,
    all: o.all,
    left,
    right,
    span: { start: left.span!.start, end: right.span!.end },
  });
  // Fold INTERSECT runs into their neighbours, then the rest left to right.
  const terms: A.QueryBody[] = [operands[0]];
  const outer: { op: A.SetOperation['op']; all: boolean }[] = [];
  ops.forEach((o, i) => {
    if (o.op === 'intersect') terms[terms.length - 1] = join(terms[terms.length - 1], o, operands[i + 1]);
    else {
      outer.push(o);
      terms.push(operands[i + 1]);
    }
  });
  return outer.reduce<A.QueryBody>((left, o, i) => join(left, o, terms[i + 1]), terms[0]);
}

/** Words that start a join after a FROM item. */
const JOIN_WORDS = [K.cross, K.natural, K.inner, K.left, K.right, K.full, K.join];

export abstract class QueryGrammar extends CallGrammar {
  // ───────────────────────────── queries ─────────────────────────────

  query = this.RULE('query', (): A.Query => {
    const start = this.here();
    const q: A.Query = { kind: 'query', body: undefined as unknown as A.QueryBody };
    this.OPTION(() => void (q.with = this.SUBRULE(this.withClause)));
    q.body = this.SUBRULE(this.setExpr);
    this.OPTION2(() => {
      this.CONSUME(K.order);
      this.CONSUME(K.by);
      q.orderBy = this.SUBRULE(this.orderItems);
    });
    const seen: Limits = {};
    this.MANY(() => this.SUBRULE(this.limitClause, { ARGS: [seen] }));
    if (seen.limit !== undefined) q.limit = seen.limit;
    if (seen.offset !== undefined) q.offset = seen.offset;
    this.OPTION3({
      GATE: () => this.isKw(this.LA(2), 'privacy'),
      DEF: () => {
        const withTok = this.LA(1);
        const privacy = this.SUBRULE(this.privacyClause);
        this.ACTION(() => {
          if (q.body.kind !== 'select') this.fail(withTok, 'WITH PRIVACY must follow a single SELECT (not a set operation or VALUES)');
          if (q.body.privacy !== undefined) this.fail(withTok, 'conflicting privacy options: the SELECT already has WITH DIFFERENTIAL_PRIVACY');
          q.body.privacy = privacy;
        });
      },
    });
    q.span = this.spanFrom(start);
    return q;
  });

  /** `LIMIT n|ALL`, `OFFSET n [ROW|ROWS]`, `FETCH {FIRST|NEXT} [n] {ROW|ROWS} ONLY`. */
  limitClause = this.RULE('limitClause', (seen: Limits = {}): void => {
    const first = this.LA(1);
    const setLimit = (e: A.Expr | undefined) =>
      this.ACTION(() => {
        if (seen.limit !== undefined || seen.noLimit) this.fail(first, 'multiple LIMIT clauses not allowed');
        if (e === undefined) seen.noLimit = true;
        else seen.limit = e;
      });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.limit);
          this.OR2([{ ALT: () => (this.CONSUME(K.all), setLimit(undefined)) }, { ALT: () => setLimit(this.SUBRULE(this.expr)) }]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.offset);
          const e = this.SUBRULE2(this.expr);
          this.OPTION(() => this.OR3([{ ALT: () => this.CONSUME(K.row) }, { ALT: () => this.CONSUME(K.rows) }]));
          this.ACTION(() => {
            if (seen.offset !== undefined) this.fail(first, 'multiple OFFSET clauses not allowed');
            seen.offset = e;
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.fetch);
          this.OR4([{ ALT: () => this.CONSUME(K.first) }, { ALT: () => this.CONSUME(K.next) }]);
          const nStart = this.here();
          const n = this.OPTION2({
            MAX_LOOKAHEAD: 1,
            GATE: () => !this.isKw(this.LA(1), 'row') && !this.isKw(this.LA(1), 'rows'),
            DEF: () => this.SUBRULE3(this.expr, { ARGS: [100] }) as A.Expr,
          });
          const defaultOne = (): A.Expr => ({ kind: 'number', text: '1', span: { start: first.startOffset, end: nStart } });
          this.OR5([{ ALT: () => this.CONSUME2(K.row) }, { ALT: () => this.CONSUME2(K.rows) }]);
          this.CONSUME(K.only);
          setLimit(n ?? defaultOne());
        },
      },
    ]);
  });

  withClause = this.RULE('withClause', (): A.WithClause => {
    const start = this.here();
    this.CONSUME(K.with);
    const recursive = this.OPTION(() => this.CONSUME(K.recursive)) !== undefined;
    const ctes = [this.SUBRULE(this.cte)];
    this.MANY(() => {
      this.CONSUME(Comma);
      ctes.push(this.SUBRULE2(this.cte));
    });
    return { recursive, ctes, span: this.spanFrom(start) };
  });

  cte = this.RULE('cte', (): A.CommonTableExpr => {
    const start = this.here();
    const c = { name: this.SUBRULE(this.ident) } as A.CommonTableExpr;
    this.OPTION(() => void (c.columns = this.SUBRULE(this.identList)));
    this.CONSUME(K.as);
    this.OPTION2(() =>
      this.OR([
        { ALT: () => void (this.CONSUME(K.materialized), (c.materialized = true)) },
        { ALT: () => void (this.CONSUME(K.not), this.CONSUME2(K.materialized), (c.materialized = false)) },
      ]),
    );
    c.query = this.SUBRULE(this.subqueryParens);
    c.span = this.spanFrom(start);
    return c;
  });

  /**
   * Set operations. Operands and operators are collected flat and combined afterwards (INTERSECT
   * binds tighter than UNION/EXCEPT, all left-associative): one rule level instead of two per
   * nested subquery keeps deep nesting within the stack.
   */
  setExpr = this.RULE('setExpr', (): A.QueryBody => {
    const operands = [this.SUBRULE(this.setPrimary)];
    const ops: { op: A.SetOperation['op']; all: boolean }[] = [];
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => (this.CONSUME(K.union), 'union' as const) },
        { ALT: () => (this.CONSUME(K.except), 'except' as const) },
        { ALT: () => (this.CONSUME(K.intersect), 'intersect' as const) },
      ]);
      ops.push({ op, all: this.SUBRULE(this.setQuantifier) });
      operands.push(this.SUBRULE2(this.setPrimary));
    });
    return this.act(() => combineSetOperations(operands, ops), operands[0]);
  });

  setQuantifier = this.RULE('setQuantifier', (): boolean =>
    this.OPTION(() =>
      this.OR([{ ALT: () => (this.CONSUME(K.all), true) }, { ALT: () => (this.CONSUME(K.distinct), false) }]),
    ) ?? false,
  );

  setPrimary = this.RULE('setPrimary', (): A.QueryBody => {
    const start = this.here();
    return this.OR([
      { ALT: () => this.SUBRULE(this.selectCore) },
      { ALT: () => this.SUBRULE(this.valuesCore) },
      {
        ALT: () => {
          const query = this.SUBRULE(this.subqueryParens);
          return { kind: 'paren_query', query, span: this.spanFrom(start) } as A.ParenQuery;
        },
      },
    ]);
  });

  valuesCore = this.RULE('valuesCore', (): A.ValuesBody => {
    const start = this.here();
    this.CONSUME(K.values);
    const rows = [this.SUBRULE(this.valuesRow)];
    this.MANY(() => {
      this.CONSUME(Comma);
      rows.push(this.SUBRULE2(this.valuesRow));
    });
    return { kind: 'values', rows, span: this.spanFrom(start) };
  });

  valuesRow = this.RULE('valuesRow', (): A.Expr[] => {
    this.CONSUME(LParen);
    const row = this.SUBRULE(this.exprList);
    this.CONSUME(RParen);
    return row;
  });

  selectCore = this.RULE('selectCore', (): A.Select => {
    const start = this.here();
    this.CONSUME(K.select);
    const s = { kind: 'select' } as A.Select;
    this.OPTION({
      GATE: () => this.isKw(this.LA(2), 'differential_privacy'),
      DEF: () => void (s.privacy = this.SUBRULE(this.privacyClause)),
    });
    this.OPTION2(() =>
      this.OR([
        { ALT: () => void this.CONSUME(K.all) },
        {
          ALT: () => {
            this.CONSUME(K.distinct);
            s.distinct = true;
            this.OPTION3(() => {
              this.CONSUME(K.on);
              this.CONSUME(LParen);
              s.distinct = this.SUBRULE(this.exprList);
              this.CONSUME(RParen);
            });
          },
        },
      ]),
    );
    s.items = [this.SUBRULE(this.selectItem)];
    this.MANY(() => {
      this.CONSUME(Comma);
      s.items.push(this.SUBRULE2(this.selectItem));
    });
    this.OPTION4(() => {
      this.CONSUME(K.from);
      s.from = [this.SUBRULE(this.fromItem)];
      this.MANY2(() => {
        this.CONSUME2(Comma);
        s.from!.push(this.SUBRULE2(this.fromItem));
      });
    });
    this.OPTION5(() => {
      this.CONSUME(K.where);
      s.where = this.SUBRULE(this.expr);
    });
    this.OPTION6(() => void (s.groupBy = this.SUBRULE(this.groupByClause)));
    this.OPTION7(() => {
      this.CONSUME(K.having);
      s.having = this.SUBRULE2(this.expr);
    });
    this.OPTION8(() => {
      this.CONSUME(K.window);
      s.windows = [this.SUBRULE(this.namedWindow)];
      this.MANY3(() => {
        this.CONSUME3(Comma);
        s.windows!.push(this.SUBRULE2(this.namedWindow));
      });
    });
    s.span = this.spanFrom(start);
    return s;
  });

  /** `GROUP BY ALL` (DuckDB: every non-aggregate item) or `GROUP BY [ALL] exprs` (Postgres' set quantifier). */
  groupByClause = this.RULE('groupByClause', (): A.GroupBy => {
    const start = this.here();
    this.CONSUME(K.group);
    this.CONSUME(K.by);
    const g: A.GroupBy = { items: [] };
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.all);
          this.OPTION(() => void (g.items = this.SUBRULE(this.exprList)));
          if (!Array.isArray(g.items) || g.items.length === 0) g.all = true;
        },
      },
      { ALT: () => void (g.items = this.SUBRULE2(this.exprList)) },
    ]);
    return this.spanned(g, start);
  });

  namedWindow = this.RULE('namedWindow', (): A.NamedWindow => {
    const start = this.here();
    const name = this.SUBRULE(this.ident);
    this.CONSUME(K.as);
    const spec = this.SUBRULE(this.windowSpec);
    return { name, spec, span: this.spanFrom(start) };
  });

  selectItem = this.RULE('selectItem', (): A.SelectItem => {
    const start = this.here();
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        { ALT: () => (this.CONSUME(Star), { kind: 'star', span: this.spanFrom(start) }) as A.StarSelectItem },
        {
          GATE: () => this.atQualifiedStar(),
          ALT: () => {
            const qualifier = [this.SUBRULE(this.ident)];
            this.MANY({
              GATE: () => !this.is(this.LA(2), Star),
              DEF: () => {
                this.CONSUME(Dot);
                qualifier.push(this.SUBRULE(this.colLabel));
              },
            });
            this.CONSUME2(Dot);
            this.CONSUME2(Star);
            return { kind: 'star', qualifier, span: this.spanFrom(start) } as A.StarSelectItem;
          },
        },
        {
          GATE: () => this.atParenStar(),
          ALT: () => {
            this.CONSUME(LParen);
            const expr = this.SUBRULE(this.expr);
            this.CONSUME(RParen);
            this.CONSUME3(Dot);
            this.CONSUME3(Star);
            return { kind: 'expr_star', expr, span: this.spanFrom(start) } as A.ExprStarSelectItem;
          },
        },
        {
          ALT: () => {
            const item: A.ExprSelectItem = { kind: 'expr_item', expr: this.SUBRULE2(this.expr) };
            this.OPTION(() =>
              this.OR2([
                { ALT: () => void (this.CONSUME(K.as), (item.alias = this.SUBRULE2(this.colLabel))) },
                { ALT: () => void (item.alias = this.SUBRULE2(this.ident)) },
              ]),
            );
            item.span = this.spanFrom(start);
            return item;
          },
        },
      ],
    });
  });

  private atQualifiedStar(): boolean {
    const j = this.scanQualifiedName(this.idxOf(1));
    return j > 0 && this.is(this.tokAt(j), Dot) && this.is(this.tokAt(j + 1), Star);
  }

  private atParenStar(): boolean {
    const i = this.idxOf(1);
    if (!this.is(this.tokAt(i), LParen)) return false;
    const c = this.closer[i];
    return c > 0 && this.is(this.tokAt(c + 1), Dot) && this.is(this.tokAt(c + 2), Star);
  }

  // ───────────────────────────── FROM ─────────────────────────────

  fromItem = this.RULE('fromItem', (): A.FromItem => {
    const start = this.here();
    let left = this.SUBRULE(this.tableFactor);
    this.MANY({
      GATE: () => this.atJoin(),
      DEF: () => void (left = this.SUBRULE(this.joinClause, { ARGS: [left, start] })),
    });
    return left;
  });

  private atJoin(): boolean {
    const t = this.LA(1);
    if (this.isKw(t, 'secure')) return JOIN_WORDS.includes(this.LA(2).tokenType);
    if (this.isKw(t, 'private')) return this.isKw(this.LA(2), 'lookup');
    return JOIN_WORDS.includes(t.tokenType);
  }

  joinClause = this.RULE('joinClause', (left: A.FromItem, start: number): A.JoinExpr => {
    const j = this.OR([
      {
        ALT: (): A.JoinExpr => {
          this.CONSUME(K.cross);
          this.CONSUME(K.join);
          return { kind: 'join', type: 'cross', mode: 'plain', left, right: this.SUBRULE(this.tableFactor) };
        },
      },
      {
        ALT: (): A.JoinExpr => {
          this.CONSUME(K.natural);
          const type = this.OPTION(() => this.SUBRULE(this.joinType)) ?? 'inner';
          this.CONSUME2(K.join);
          return { kind: 'join', type, mode: 'plain', natural: true, left, right: this.SUBRULE2(this.tableFactor) };
        },
      },
      {
        ALT: (): A.JoinExpr => {
          const type = this.OPTION2(() => this.SUBRULE2(this.joinType)) ?? 'inner';
          this.CONSUME3(K.join);
          const right = this.SUBRULE3(this.tableFactor);
          return { kind: 'join', type, mode: 'plain', left, right, ...this.SUBRULE(this.joinCondition) };
        },
      },
      {
        ALT: (): A.JoinExpr => {
          this.CONSUME(K.secure);
          const type = this.OPTION3(() =>
            this.OR2([
              { ALT: () => (this.CONSUME(K.inner), 'inner' as const) },
              { ALT: () => (this.CONSUME(K.left), this.OPTION4(() => this.CONSUME(K.outer)), 'left' as const) },
            ]),
          );
          this.CONSUME4(K.join);
          const right = this.SUBRULE4(this.tableFactor);
          return { kind: 'join', type: type ?? 'inner', mode: 'secure', left, right, ...this.SUBRULE2(this.joinCondition) };
        },
      },
      {
        ALT: (): A.JoinExpr => {
          this.CONSUME(K.private);
          this.CONSUME(K.lookup);
          const right = this.SUBRULE5(this.tableFactor);
          return { kind: 'join', type: 'left', mode: 'lookup', left, right, ...this.SUBRULE3(this.joinCondition) };
        },
      },
    ]);
    return this.spanned(j, start);
  });

  joinType = this.RULE('joinType', (): A.JoinType =>
    this.OR([
      { ALT: () => (this.CONSUME(K.inner), 'inner' as const) },
      { ALT: () => (this.CONSUME(K.left), this.OPTION(() => this.CONSUME(K.outer)), 'left' as const) },
      { ALT: () => (this.CONSUME(K.right), this.OPTION2(() => this.CONSUME2(K.outer)), 'right' as const) },
      { ALT: () => (this.CONSUME(K.full), this.OPTION3(() => this.CONSUME3(K.outer)), 'full' as const) },
    ]),
  );

  joinCondition = this.RULE('joinCondition', (): { on?: A.Expr; using?: string[] } =>
    this.OR([
      { ALT: () => (this.CONSUME(K.on), { on: this.SUBRULE(this.expr) }) },
      { ALT: () => (this.CONSUME(K.using), { using: this.SUBRULE(this.identList) }) },
    ]),
  );

  tableFactor = this.RULE('tableFactor', (): A.FromItem => {
    const start = this.here();
    const lateralTok = this.OPTION(() => this.CONSUME(K.lateral));
    const item = this.OR({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        {
          GATE: () => this.parenHoldsQuery(this.idxOf(1)),
          ALT: (): A.FromItem => ({ kind: 'subquery', query: this.SUBRULE(this.subqueryParens) }),
        },
        {
          ALT: (): A.FromItem => {
            this.CONSUME(LParen);
            const inner = this.SUBRULE(this.fromItem);
            this.CONSUME(RParen);
            return inner;
          },
        },
        {
          GATE: () => this.atFunctionCall(),
          ALT: (): A.FromItem => {
            const f: A.TableFunctionRef = { kind: 'table_function', call: this.SUBRULE(this.funcCall) };
            this.OPTION2({
              GATE: () => this.isKw(this.LA(2), 'ordinality'),
              DEF: () => {
                this.CONSUME(K.with);
                this.CONSUME(K.ordinality);
                f.withOrdinality = true;
              },
            });
            return f;
          },
        },
        { ALT: (): A.FromItem => ({ kind: 'table', name: this.SUBRULE(this.qualifiedName) }) },
      ],
    });
    const alias = this.OPTION3({ GATE: () => this.atTableAlias(), DEF: () => this.SUBRULE(this.tableAlias) });
    this.ACTION(() => {
      const canAlias = item.kind !== 'join';
      if (alias !== undefined && !canAlias) this.fail(this.LA(0), 'an alias on a parenthesised join is not supported');
      if (lateralTok !== undefined) {
        if (item.kind !== 'subquery' && item.kind !== 'table_function') {
          this.failNear(this.tokAt((lateralTok as LexedToken).idx + 1), ['a subquery', 'a function call']);
        }
        (item as A.SubqueryRef | A.TableFunctionRef).lateral = true;
      }
      if (alias !== undefined && item.kind !== 'join') item.alias = alias;
      if (item.kind !== 'join') item.span = this.spanFrom(start);
    });
    return item;
  });

  private atTableAlias(): boolean {
    const t = this.LA(1);
    if (this.isKw(t, 'as')) return true;
    if (!this.is(t, Identifier)) return false;
    // `a SECURE <any join word>` is a (possibly unsupported) secure join, never an alias.
    if (this.isKw(t, 'secure')) return !JOIN_WORDS.includes(this.LA(2).tokenType);
    if (this.isKw(t, 'private')) return !this.isKw(this.LA(2), 'lookup');
    return true;
  }

  tableAlias = this.RULE('tableAlias', (): A.Alias => {
    const start = this.here();
    this.OPTION(() => this.CONSUME(K.as));
    const a: A.Alias = { name: this.SUBRULE(this.ident) };
    this.OPTION2(() => void (a.columns = this.SUBRULE(this.identList)));
    a.span = this.spanFrom(start);
    return a;
  });

  // ───────────────────────────── privacy ─────────────────────────────

  /** `WITH PRIVACY (…)` (after a query) or `WITH DIFFERENTIAL_PRIVACY OPTIONS (…)` (after SELECT). */
  privacyClause = this.RULE('privacyClause', (): A.PrivacyOptions => {
    const start = this.here();
    this.CONSUME(K.with);
    const syntax = this.OR([
      { ALT: () => (this.CONSUME(K.privacy), 'with_privacy' as const) },
      { ALT: () => (this.CONSUME(K.differential_privacy), this.CONSUME(K.options), 'bigquery' as const) },
    ]);
    this.CONSUME(LParen);
    const options = [this.SUBRULE(this.privacyOption)];
    this.MANY(() => {
      this.CONSUME(Comma);
      options.push(this.SUBRULE2(this.privacyOption));
    });
    this.CONSUME(RParen);
    return { syntax, options, span: this.spanFrom(start) };
  });

  /** `name = value`, `groups = PUBLIC ('a', 'b')` (a word followed by a list). */
  privacyOption = this.RULE('privacyOption', (): A.PrivacyOption => {
    const start = this.here();
    const o = { name: this.SUBRULE(this.colLabel) } as A.PrivacyOption;
    this.CONSUME(Eq);
    this.OR({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        {
          GATE: () => this.is(this.LA(2), LParen),
          ALT: () => {
            const vStart = this.here();
            o.value = { kind: 'column', name: [this.SUBRULE(this.ident)], span: this.spanFrom(vStart) };
            this.CONSUME(LParen);
            o.list = this.SUBRULE(this.exprList);
            this.CONSUME(RParen);
          },
        },
        { ALT: () => void (o.value = this.SUBRULE(this.expr)) },
      ],
    });
    o.span = this.spanFrom(start);
    return o;
  });
}
