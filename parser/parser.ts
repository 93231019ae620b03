/**
 * The VeilSQL parser: the statement level (queries, EXPLAIN, SHOW, SET, RESET, transaction
 * control, DISCARD, DEALLOCATE) on top of the grammar chain
 *   GrammarBase → ExprGrammar → FormsGrammar → CallGrammar → QueryGrammar → VeilSqlParser.
 *
 * One instance is built (and self-analysed, which is the expensive part) once per process and
 * reused for every statement; `driver.ts` turns text into tokens, statements and errors.
 */
import type { IToken, TokenType } from 'chevrotain';
import type * as A from './ast.js';
import { QueryGrammar } from './grammar-query.js';
import { Comma, Eq, Identifier, K, LParen, Minus, NumberLit, Plus, RParen, StringLit, stringValue } from './lexer.js';

/** One transaction mode as written (lower-cased) and where it was. */
interface TxnMode {
  mode: string;
  span: A.Span;
}

export class VeilSqlParser extends QueryGrammar {
  constructor() {
    super();
    this.performSelfAnalysis();
  }

  // ───────────────────────────── statements ─────────────────────────────

  statement = this.RULE('statement', (): A.Statement =>
    this.OR([
      { ALT: () => this.SUBRULE(this.query) },
      { ALT: () => this.SUBRULE(this.explainStmt) },
      { ALT: () => this.SUBRULE(this.showStmt) },
      { ALT: () => this.SUBRULE(this.setStmt) },
      { ALT: () => this.SUBRULE(this.resetStmt) },
      { ALT: () => this.SUBRULE(this.transactionStmt) },
      { ALT: () => this.SUBRULE(this.discardStmt) },
      { ALT: () => this.SUBRULE(this.deallocateStmt) },
    ]),
  );

  /** Entry point of `parseExpression`. */
  standaloneExpr = this.RULE('standaloneExpr', (): A.Expr => this.SUBRULE(this.expr));

  // ───────────────────────────── EXPLAIN / SHOW / SET … ─────────────────────────────

  explainStmt = this.RULE('explainStmt', (): A.ExplainStatement => {
    const start = this.here();
    this.CONSUME(K.explain);
    const e = { kind: 'explain', mode: 'plan' } as A.ExplainStatement;
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => !this.parenHoldsQuery(this.idxOf(1)),
          ALT: () => {
            this.CONSUME(LParen);
            this.SUBRULE(this.explainOption, { ARGS: [e] });
            this.MANY(() => {
              this.CONSUME(Comma);
              this.SUBRULE2(this.explainOption, { ARGS: [e] });
            });
            this.CONSUME(RParen);
          },
        },
        { ALT: () => void (this.CONSUME(K.dp), (e.mode = 'dp')) },
        {
          ALT: () => {
            this.OPTION(() => void (this.CONSUME(K.analyze), (e.mode = 'analyze')));
            this.OPTION2(() => void (this.CONSUME(K.verbose), (e.verbose = true)));
          },
        },
      ],
    });
    e.statement = this.SUBRULE(this.query);
    e.span = this.spanFrom(start);
    return e;
  });

  /** One option of `EXPLAIN (…)`: ANALYZE, VERBOSE, DP act; Postgres' display options are accepted and ignored. */
  explainOption = this.RULE('explainOption', (e = {} as A.ExplainStatement): void => {
    const nameTok = this.CONSUME(Identifier);
    const valueTok = this.OPTION(() =>
      this.OR([{ ALT: () => this.CONSUME(StringLit) }, { ALT: () => this.CONSUME(NumberLit) }, { ALT: () => this.CONSUME2(K.on) }, { ALT: () => this.CONSUME2(K.true) }, { ALT: () => this.CONSUME2(K.false) }, { ALT: () => this.CONSUME2(Identifier) }]),
    );
    this.ACTION(() => {
      const name = this.lower(nameTok);
      const v = valueTok === undefined ? 'true' : this.lower(valueTok).replace(/^'|'$/g, '');
      const on = !['false', 'off', '0', 'no'].includes(v);
      if (name === 'analyze' && on && e.mode !== 'dp') e.mode = 'analyze';
      else if (name === 'dp' && on) e.mode = 'dp';
      else if (name === 'verbose') {
        if (on) e.verbose = true;
        else delete e.verbose;
      } else if (!['analyze', 'dp', 'costs', 'buffers', 'timing', 'summary', 'settings', 'wal', 'format', 'generic_plan'].includes(name)) {
        this.fail(nameTok, `unrecognized EXPLAIN option "${name}"`);
      }
    });
  });

  showStmt = this.RULE('showStmt', (): A.ShowStatement => {
    const start = this.here();
    this.CONSUME(K.show);
    const target = this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: (): A.ShowTarget => (this.CONSUME(K.parties), { what: 'parties' }) },
        {
          ALT: (): A.ShowTarget => {
            this.CONSUME(K.tables);
            const t: A.ShowTarget = { what: 'tables' };
            this.OPTION(() => void (this.CONSUME(K.from), (t.from = this.SUBRULE(this.ident))));
            return t;
          },
        },
        {
          ALT: (): A.ShowTarget => {
            this.CONSUME(K.policies);
            const t: A.ShowTarget = { what: 'policies' };
            this.OPTION2(() => void (this.CONSUME2(K.from), (t.from = this.SUBRULE(this.qualifiedName))));
            return t;
          },
        },
        { ALT: (): A.ShowTarget => (this.CONSUME(K.privacy), this.CONSUME(K.budget), { what: 'privacy_budget' }) },
        { ALT: (): A.ShowTarget => (this.CONSUME(K.all), { what: 'all' }) },
        { ALT: (): A.ShowTarget => ({ what: 'setting', name: this.SUBRULE(this.settingName) }) },
      ],
    });
    return { kind: 'show', target, span: this.spanFrom(start) };
  });

  /** A setting name; multi-word Postgres spellings are normalised to their GUC names. */
  settingName = this.RULE('settingName', (): string =>
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          ALT: () => (this.CONSUME(K.transaction), this.CONSUME(K.isolation), this.CONSUME(K.level), 'transaction_isolation'),
        },
        { ALT: () => (this.CONSUME(K.time), this.CONSUME(K.zone), 'timezone') },
        { ALT: () => (this.CONSUME(K.session), this.CONSUME(K.authorization), 'session_authorization') },
        {
          ALT: () => {
            const parts = this.SUBRULE(this.qualifiedName);
            return this.act(() => parts.join('.'), '');
          },
        },
      ],
    }),
  );

  setStmt = this.RULE('setStmt', (): A.SetStatement => {
    const start = this.here();
    this.CONSUME(K.set);
    const s = { kind: 'set' } as A.SetStatement;
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => this.isKw(this.LA(2), 'characteristics'),
          ALT: () => {
            this.CONSUME(K.session);
            this.CONSUME(K.characteristics);
            this.CONSUME(K.as);
            this.CONSUME(K.transaction);
            s.name = 'session_characteristics';
            s.values = this.modeValues(this.SUBRULE(this.transactionModes));
          },
        },
        {
          ALT: () => {
            this.OPTION({
              GATE: () => !this.isKw(this.LA(2), 'to') && !this.is(this.LA(2), Eq),
              DEF: () =>
                this.OR2([
                  { ALT: () => void (this.CONSUME2(K.session), (s.scope = 'session')) },
                  { ALT: () => void (this.CONSUME(K.local), (s.scope = 'local')) },
                ]),
            });
            this.SUBRULE(this.setBody, { ARGS: [s] });
          },
        },
      ],
    });
    s.span = this.spanFrom(start);
    return s;
  });

  setBody = this.RULE('setBody', (s: A.SetStatement = {} as A.SetStatement): void => {
    const notAssign = () => !this.isKw(this.LA(2), 'to') && !this.is(this.LA(2), Eq);
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => this.isKw(this.LA(2), 'zone'),
          ALT: () => {
            this.CONSUME(K.time);
            this.CONSUME(K.zone);
            s.name = 'timezone';
            this.OR2({
              IGNORE_AMBIGUITIES: true,
              DEF: [
                { ALT: () => void (this.CONSUME(K.local), (s.values = 'default')) },
                { ALT: () => void (this.CONSUME(K.default), (s.values = 'default')) },
                { ALT: () => void (s.values = [this.SUBRULE(this.setValue)]) },
              ],
            });
          },
        },
        {
          GATE: notAssign,
          ALT: () => {
            this.CONSUME(K.names);
            s.name = 'client_encoding';
            this.OR3({
              IGNORE_AMBIGUITIES: true,
              DEF: [
                { ALT: () => void (this.CONSUME2(K.default), (s.values = 'default')) },
                { ALT: () => void (s.values = [this.SUBRULE2(this.setValue)]) },
              ],
            });
          },
        },
        {
          GATE: notAssign,
          ALT: () => {
            this.CONSUME(K.transaction);
            s.name = 'transaction';
            s.values = this.modeValues(this.SUBRULE(this.transactionModes));
          },
        },
        {
          ALT: () => {
            const parts = this.SUBRULE(this.qualifiedName);
            s.name = this.act(() => parts.join('.'), '');
            this.OR4([{ ALT: () => this.CONSUME(Eq) }, { ALT: () => this.CONSUME(K.to) }]);
            this.OR5({
              IGNORE_AMBIGUITIES: true,
              DEF: [
              { ALT: () => void (this.CONSUME3(K.default), (s.values = 'default')) },
              {
                ALT: () => {
                  const values = [this.SUBRULE3(this.setValue)];
                  this.MANY(() => {
                    this.CONSUME(Comma);
                    values.push(this.SUBRULE4(this.setValue));
                  });
                  s.values = values;
                },
              },
              ],
            });
          },
        },
      ],
    });
  });

  /** A SET value: a literal, a signed number, or a bare word (kept as a ColumnRef, e.g. `on`). */
  setValue = this.RULE('setValue', (): A.Expr => {
    const start = this.here();
    const sp = () => this.spanFrom(start);
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: () => ({ kind: 'string', value: stringValue(this.CONSUME(StringLit)), span: sp() }) as A.Expr },
        { ALT: () => ({ kind: 'number', text: this.CONSUME(NumberLit).image, span: sp() }) as A.Expr },
        { ALT: () => (this.CONSUME(Minus), { kind: 'number', text: '-' + this.CONSUME2(NumberLit).image, span: sp() }) as A.Expr },
        { ALT: () => (this.CONSUME(Plus), { kind: 'number', text: this.CONSUME3(NumberLit).image, span: sp() }) as A.Expr },
        { ALT: () => (this.CONSUME(K.true), { kind: 'boolean', value: true, span: sp() }) as A.Expr },
        { ALT: () => (this.CONSUME(K.false), { kind: 'boolean', value: false, span: sp() }) as A.Expr },
        { ALT: () => ({ kind: 'column', name: [this.SUBRULE(this.colLabel)], span: sp() }) as A.Expr },
      ],
    });
  });

  resetStmt = this.RULE('resetStmt', (): A.ResetStatement => {
    const start = this.here();
    this.CONSUME(K.reset);
    const name = this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [{ ALT: () => (this.CONSUME(K.all), 'all') }, { ALT: () => this.SUBRULE(this.settingName) }],
    });
    return { kind: 'reset', name, span: this.spanFrom(start) };
  });

  transactionStmt = this.RULE('transactionStmt', (): A.TransactionStatement => {
    const start = this.here();
    const t = this.OR([
      {
        ALT: (): A.TransactionStatement => {
          this.CONSUME(K.begin);
          this.SUBRULE(this.workOrTransaction);
          return this.withModes('begin', this.OPTION(() => this.SUBRULE(this.transactionModes)));
        },
      },
      {
        ALT: (): A.TransactionStatement => {
          this.CONSUME(K.start);
          this.CONSUME(K.transaction);
          return this.withModes('start', this.OPTION2(() => this.SUBRULE2(this.transactionModes)));
        },
      },
      { ALT: () => this.endish(K.commit, 'commit', 2) },
      { ALT: () => this.endish(K.end, 'end', 3) },
      { ALT: () => this.endish(K.rollback, 'rollback', 4) },
      { ALT: () => this.endish(K.abort, 'abort', 5) },
    ]);
    return this.spanned(t, start);
  });

  private withModes(action: A.TransactionStatement['action'], modes: TxnMode[] | undefined): A.TransactionStatement {
    const t: A.TransactionStatement = { kind: 'transaction', action };
    if (modes !== undefined) t.modes = this.act(() => modes.map((m) => m.mode), []);
    return t;
  }

  /** COMMIT / END / ROLLBACK / ABORT [WORK | TRANSACTION] (`idx` keeps chevrotain's occurrence indices unique). */
  private endish(tok: TokenType, action: A.TransactionStatement['action'], idx: number): A.TransactionStatement {
    this.consume(idx, tok);
    this.subrule(idx, this.workOrTransaction);
    return { kind: 'transaction', action };
  }

  workOrTransaction = this.RULE('workOrTransaction', (): void => {
    this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(K.work) }, { ALT: () => this.CONSUME(K.transaction) }]));
  });

  /** Transaction modes, lower-cased as written: `isolation level read committed`, `read only`, `not deferrable`. */
  transactionModes = this.RULE('transactionModes', (): TxnMode[] => {
    const modes = [this.SUBRULE(this.transactionMode)];
    this.MANY(() => {
      this.OPTION(() => this.CONSUME(Comma));
      modes.push(this.SUBRULE2(this.transactionMode));
    });
    return modes;
  });

  transactionMode = this.RULE('transactionMode', (): TxnMode => {
    const start = this.here();
    const words: IToken[] = [];
    const w = (t: IToken) => void words.push(t);
    this.OR([
      {
        ALT: () => {
          w(this.CONSUME(K.isolation));
          w(this.CONSUME(K.level));
          this.OR2([
            { ALT: () => w(this.CONSUME(K.serializable)) },
            { ALT: () => (w(this.CONSUME(K.repeatable)), w(this.CONSUME(K.read))) },
            {
              ALT: () => {
                w(this.CONSUME2(K.read));
                this.OR3([{ ALT: () => w(this.CONSUME(K.committed)) }, { ALT: () => w(this.CONSUME(K.uncommitted)) }]);
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          w(this.CONSUME3(K.read));
          this.OR4([{ ALT: () => w(this.CONSUME(K.write)) }, { ALT: () => w(this.CONSUME(K.only)) }]);
        },
      },
      { ALT: () => (w(this.CONSUME(K.not)), w(this.CONSUME(K.deferrable))) },
      { ALT: () => w(this.CONSUME2(K.deferrable)) },
    ]);
    return { mode: words.map((t) => this.lower(t)).join(' '), span: this.spanFrom(start) };
  });

  /** Modes as the string values of `SET SESSION CHARACTERISTICS …` / `SET TRANSACTION …`. */
  private modeValues(modes: TxnMode[]): A.Expr[] {
    return this.act(() => modes.map((m) => ({ kind: 'string', value: m.mode, span: m.span }) as A.Expr), []);
  }

  discardStmt = this.RULE('discardStmt', (): A.DiscardStatement => {
    const start = this.here();
    this.CONSUME(K.discard);
    const target = this.OR([
      { ALT: () => (this.CONSUME(K.all), 'all' as const) },
      { ALT: () => (this.CONSUME(K.plans), 'plans' as const) },
      { ALT: () => (this.CONSUME(K.sequences), 'sequences' as const) },
      { ALT: () => (this.CONSUME(K.temp), 'temp' as const) },
      { ALT: () => (this.CONSUME(K.temporary), 'temp' as const) },
    ]);
    return { kind: 'discard', target, span: this.spanFrom(start) };
  });

  deallocateStmt = this.RULE('deallocateStmt', (): A.DeallocateStatement => {
    const start = this.here();
    this.CONSUME(K.deallocate);
    this.OPTION({
      GATE: () => this.is(this.LA(2), Identifier) || this.isKw(this.LA(2), 'all'),
      DEF: () => this.CONSUME(K.prepare),
    });
    const d = this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: (): A.DeallocateStatement => (this.CONSUME(K.all), { kind: 'deallocate', all: true }) },
        { ALT: (): A.DeallocateStatement => ({ kind: 'deallocate', name: this.SUBRULE(this.ident) }) },
      ],
    });
    return this.spanned(d, start);
  });
}
