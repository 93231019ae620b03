/**
 * Function and aggregate calls (DISTINCT, aggregate ORDER BY, WITHIN GROUP, FILTER, OVER, and the
 * VeilSQL `DP name(x BOUNDED lo AND hi)` form), window specifications and ORDER BY items.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { FormsGrammar } from './grammar-forms.js';
import { Comma, Identifier, K, LParen, RParen, Star } from './lexer.js';
import { Prec } from './precedence.js';

export abstract class CallGrammar extends FormsGrammar {
  funcCall = this.RULE('funcCall', (dp?: IToken): A.FunctionCall => {
    const start = dp !== undefined ? dp.startOffset : this.here();
    const name = this.OR([
      { ALT: () => this.SUBRULE(this.qualifiedName) },
      { ALT: () => (this.CONSUME(K.left), ['left']) },
      { ALT: () => (this.CONSUME(K.right), ['right']) },
    ]);
    const e: A.FunctionCall = { kind: 'function', name, args: [] };
    if (dp !== undefined) e.dp = { span: this.tokSpan(dp) };
    this.CONSUME(LParen);
    this.OPTION(() =>
      this.OR2([
        { ALT: () => void (this.CONSUME(K.distinct), (e.distinct = true)) },
        { ALT: () => void this.CONSUME(K.all) },
      ]),
    );
    this.OPTION2(() =>
      this.OR3([
        { ALT: () => void (e.args = [{ kind: 'star_arg', span: this.tokSpan(this.CONSUME(Star)) }]) },
        {
          ALT: () => {
            e.args = this.SUBRULE(this.exprList);
            this.OPTION3({
              GATE: () => dp !== undefined,
              DEF: () => {
                this.CONSUME(K.bounded);
                const low = this.SUBRULE(this.expr, { ARGS: [Prec.LIKE + 1] });
                this.CONSUME(K.and);
                const high = this.SUBRULE2(this.expr, { ARGS: [Prec.LIKE + 1] });
                if (e.dp !== undefined) e.dp.bounds = { low, high };
              },
            });
            this.OPTION4(() => {
              this.CONSUME(K.order);
              this.CONSUME(K.by);
              e.orderBy = this.SUBRULE(this.orderItems);
            });
          },
        },
      ]),
    );
    const close = this.CONSUME(RParen);
    this.ACTION(() => {
      if (e.distinct && e.args.length === 0) this.failNear(close, ['an expression']);
    });
    this.OPTION5({
      GATE: () => this.isKw(this.LA(2), 'group'),
      DEF: () => {
        this.CONSUME(K.within);
        this.CONSUME(K.group);
        this.CONSUME2(LParen);
        this.CONSUME2(K.order);
        this.CONSUME2(K.by);
        e.withinGroup = this.SUBRULE2(this.orderItems);
        this.CONSUME2(RParen);
      },
    });
    this.OPTION6({
      GATE: () => this.is(this.LA(2), LParen),
      DEF: () => {
        this.CONSUME(K.filter);
        this.CONSUME3(LParen);
        this.CONSUME(K.where);
        e.filter = this.SUBRULE3(this.expr);
        this.CONSUME3(RParen);
      },
    });
    this.OPTION7({
      GATE: () => this.is(this.LA(2), LParen) || this.is(this.LA(2), Identifier),
      DEF: () => {
        this.CONSUME(K.over);
        e.over = this.OR4([{ ALT: () => this.SUBRULE(this.ident) }, { ALT: () => this.SUBRULE(this.windowSpec) }]);
      },
    });
    e.span = this.spanFrom(start);
    return e;
  });

  // ───────────────────────────── windows and ordering ─────────────────────────────

  windowSpec = this.RULE('windowSpec', (): A.WindowSpec => {
    const start = this.here();
    const w: A.WindowSpec = {};
    this.CONSUME(LParen);
    this.OPTION({
      GATE: () => !['partition', 'rows', 'range', 'groups'].includes(this.lower(this.LA(1))),
      DEF: () => void (w.baseWindow = this.SUBRULE(this.ident)),
    });
    this.OPTION2(() => {
      this.CONSUME(K.partition);
      this.CONSUME(K.by);
      w.partitionBy = this.SUBRULE(this.exprList);
    });
    this.OPTION3(() => {
      this.CONSUME(K.order);
      this.CONSUME2(K.by);
      w.orderBy = this.SUBRULE(this.orderItems);
    });
    this.OPTION4(() => void (w.frame = this.SUBRULE(this.windowFrame)));
    this.CONSUME(RParen);
    w.span = this.spanFrom(start);
    return w;
  });

  windowFrame = this.RULE('windowFrame', (): A.WindowFrame => {
    const start = this.here();
    const units = this.OR([
      { ALT: () => (this.CONSUME(K.rows), 'rows' as const) },
      { ALT: () => (this.CONSUME(K.range), 'range' as const) },
      { ALT: () => (this.CONSUME(K.groups), 'groups' as const) },
    ]);
    const f = this.OR2([
      {
        ALT: (): A.WindowFrame => {
          this.CONSUME(K.between);
          const s = this.SUBRULE(this.frameBound);
          this.CONSUME(K.and);
          const e = this.SUBRULE2(this.frameBound);
          return { units, start: s, end: e };
        },
      },
      { ALT: (): A.WindowFrame => ({ units, start: this.SUBRULE3(this.frameBound) }) },
    ]);
    this.OPTION(() => {
      this.CONSUME(K.exclude);
      const exclude = this.OR3([
        { ALT: () => (this.CONSUME(K.current), this.CONSUME(K.row), 'current row' as const) },
        { ALT: () => (this.CONSUME(K.group), 'group' as const) },
        { ALT: () => (this.CONSUME(K.ties), 'ties' as const) },
        { ALT: () => (this.CONSUME(K.no), this.CONSUME(K.others), 'no others' as const) },
      ]);
      this.ACTION(() => void (f.exclude = exclude));
    });
    return this.spanned(f, start);
  });

  frameBound = this.RULE('frameBound', (): A.FrameBound => {
    const start = this.here();
    const b = this.OR({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        {
          GATE: () => this.isKw(this.LA(2), 'preceding') || this.isKw(this.LA(2), 'following'),
          ALT: (): A.FrameBound => {
            this.CONSUME(K.unbounded);
            return this.OR2([
              { ALT: () => (this.CONSUME(K.preceding), { type: 'unbounded_preceding' as const }) },
              { ALT: () => (this.CONSUME(K.following), { type: 'unbounded_following' as const }) },
            ]);
          },
        },
        {
          GATE: () => this.isKw(this.LA(2), 'row'),
          ALT: (): A.FrameBound => (this.CONSUME(K.current), this.CONSUME(K.row), { type: 'current_row' }),
        },
        {
          ALT: (): A.FrameBound => {
            const offset = this.SUBRULE(this.expr, { ARGS: [Prec.AND + 1] });
            const type = this.OR3([
              { ALT: () => (this.CONSUME2(K.preceding), 'preceding' as const) },
              { ALT: () => (this.CONSUME2(K.following), 'following' as const) },
            ]);
            return { type, offset };
          },
        },
      ],
    });
    return this.spanned(b, start);
  });

  orderItems = this.RULE('orderItems', (): A.OrderItem[] => {
    const items = [this.SUBRULE(this.orderItem)];
    this.MANY(() => {
      this.CONSUME(Comma);
      items.push(this.SUBRULE2(this.orderItem));
    });
    return items;
  });

  orderItem = this.RULE('orderItem', (): A.OrderItem => {
    const start = this.here();
    const o: A.OrderItem = { expr: this.SUBRULE(this.expr) };
    this.OPTION(() => {
      o.direction = this.OR([
        { ALT: () => (this.CONSUME(K.asc), 'asc' as const) },
        { ALT: () => (this.CONSUME(K.desc), 'desc' as const) },
      ]);
    });
    this.OPTION2({
      GATE: () => this.isKw(this.LA(2), 'first') || this.isKw(this.LA(2), 'last'),
      DEF: () => {
        this.CONSUME(K.nulls);
        o.nulls = this.OR2([
          { ALT: () => (this.CONSUME(K.first), 'first' as const) },
          { ALT: () => (this.CONSUME(K.last), 'last' as const) },
        ]);
      },
    });
    o.span = this.spanFrom(start);
    return o;
  });
}
