/**
 * Runs a physical plan: sends every fragment to its party (all at once), loads each result into
 * a temp table of a per-query gateway DuckDB connection, runs the gateway SQL over them and
 * streams the result. A single-party plan streams its fragment straight through. Every failure
 * (dead party, timeout, cancel) aborts all other fragments and drops the per-query connection,
 * so nothing is left behind at the gateway.
 */
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Field, makeData, RecordBatch, Schema, Struct, type Data } from 'apache-arrow';
import { loadArrowIntoDuckDB } from '../connectors/arrow/arrow-to-duckdb.js';
import { queryToArrow } from '../connectors/arrow/duckdb-to-arrow.js';
import type { FragmentStream, PartyConnector } from '../connectors/connector.js';
import { DUCKDB_TYPE_METADATA_KEY } from '../connectors/connector.js';
import { DuckDBConnectionPool } from '../connectors/duckdb-connection-pool.js';
import { connectWithPostgresSemantics, quoteIdent } from '../connectors/duckdb-session.js';
import { SqlError, SqlState } from '../parser/errors.js';
import type { Fragment, PhysicalPlan, PrivateStage } from '../planner/physical-plan.js';
// Loading the operators registers their planner, executor and party halves.
import './operators/index.js';
import { operatorRunner } from './operators/registry.js';
import type { Notice, ResultColumn } from './session-types.js';
import { SharedUnionTables } from './shared-union-tables.js';

export interface RunContext {
  gateway: DuckDBInstance;
  /** The requester's party name (who is asking). */
  requester: string;
  /** Progress and privacy-cost notices for the analyst. */
  notice?: (n: Notice) => void;
  connectors: Map<string, PartyConnector>;
  fragmentTimeoutMs: number;
  signal: AbortSignal;
  /** Called per fragment when its rows are all in (EXPLAIN ANALYZE). */
  onFragmentDone?: (id: number, stats: { rows: number; bytes: number; ms: number }) => void;
}

export interface RunResult {
  columns: ResultColumn[];
  batches: AsyncIterable<RecordBatch>;
}

export async function runPlan(plan: PhysicalPlan, run: RunContext): Promise<RunResult> {
  const queryId = randomUUID();
  const controller = new AbortController();
  const onAbort = () => controller.abort(run.signal.reason);
  if (run.signal.aborted) throw cancelled(run.signal);
  run.signal.addEventListener('abort', onAbort, { once: true });
  const release = () => run.signal.removeEventListener('abort', onAbort);
  const labels = plan.columns.map((c) => c.label);

  if (plan.root.kind === 'fragment') {
    try {
      const stream = await startFragment(plan.root.fragment, queryId, run, controller);
      const relabeled = relabel(stream.schema, labels);
      return {
        columns: columnsOf(relabeled),
        batches: guarded(stream, relabeled, run, controller, release),
      };
    } catch (e) {
      release();
      controller.abort();
      throw translate(e, run.signal, controller);
    }
  }

  // A plan without stages creates no temp tables, so it may reuse an idle connection; a plan
  // with stages gets its own, whose closing drops every temp table it made.
  const pooled = plan.stages.length === 0;
  const connection = pooled ? await DuckDBConnectionPool.of(run.gateway).acquire() : await connectWithPostgresSemantics(run.gateway);
  const unions = new SharedUnionTables(connection);
  const done: Promise<void>[] = [];
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    release();
    controller.abort();
    unions.abandon();
    if (pooled) DuckDBConnectionPool.of(run.gateway).release(connection, !run.signal.aborted);
    else connection.closeSync();
  };
  try {
    // Fragments depend on nothing: all of them start at once. Gateway and private stages run
    // in plan order once every earlier stage is in (their inputs are among those). A DuckDB
    // connection runs one statement at a time (a second one closes the first's pending result),
    // so every stage's work on the query's connection takes `exclusive` — the parties still
    // compute and send concurrently; only loading into the gateway is one at a time.
    const exclusive = serialized();
    for (const stage of plan.stages) {
      if (stage.kind === 'fragment') {
        done.push(loadFragment(stage, queryId, run, controller, connection, exclusive, unions));
        continue;
      }
      const before = [...done];
      done.push(
        (async () => {
          await Promise.all(before);
          await exclusive(async () => {
            if (stage.kind === 'gateway') {
              await connection.run(`CREATE TEMP TABLE ${quoteIdent(stage.table)} AS ${stage.sql}`);
            } else {
              await runPrivateStage(stage, queryId, run, controller, connection);
            }
          });
        })(),
      );
    }
    // Fail fast: the first failing stage aborts all the others.
    await Promise.all(done.map((p) => p.catch((e) => {
      const error = translate(e, run.signal, controller);
      controller.abort(error);
      throw error;
    })));
    const stream = await queryToArrow(connection, plan.root.sql, { signal: controller.signal });
    const relabeled = relabel(stream.schema, labels);
    return { columns: columnsOf(relabeled), batches: guarded(stream, relabeled, run, controller, dispose) };
  } catch (e) {
    const error = translate(e, run.signal, controller);
    controller.abort(error);
    // Stages still at work on the connection stop on the abort: let them finish before it is
    // closed (closing a DuckDB connection under a running statement or open appender is unsafe).
    await Promise.race([Promise.allSettled(done), new Promise((r) => setTimeout(r, WATCHDOG_GRACE_MS).unref())]);
    dispose();
    throw error;
  }
}

async function loadFragment(
  fragment: Fragment,
  queryId: string,
  run: RunContext,
  controller: AbortController,
  connection: DuckDBConnection,
  exclusive: Serialized,
  unions: SharedUnionTables,
): Promise<void> {
  const started = performance.now();
  const stream = await startFragment(fragment, queryId, run, controller);
  if (fragment.shared) unions.announce(fragment.shared, fragment.id, stream.schema);
  let bytes = 0;
  let rows = 0;
  const counted = (async function* () {
    for await (const b of stream) {
      rows += b.numRows;
      bytes += b.data.byteLength;
      yield b;
    }
  })();
  await exclusive<unknown>(() =>
    fragment.shared
      ? unions.append(fragment.shared, fragment.id, stream.schema, counted, controller.signal)
      : loadArrowIntoDuckDB(connection, fragment.table, stream.schema, counted, { signal: controller.signal }),
  ).catch((e) => {
    throw e instanceof SqlError && e.sqlstate !== SqlState.internalError ? e : translateFragmentError(e, fragment.party);
  });
  run.onFragmentDone?.(fragment.id, { rows, bytes, ms: performance.now() - started });
}

async function runPrivateStage(
  stage: PrivateStage,
  queryId: string,
  run: RunContext,
  controller: AbortController,
  connection: DuckDBConnection,
): Promise<void> {
  const runner = operatorRunner(stage.operator);
  if (!runner) throw new SqlError(SqlState.featureNotSupported, `no executor for private operator "${stage.operator}"`);
  const started = performance.now();
  await runner.run(stage, {
    queryId,
    requester: run.requester,
    connectors: run.connectors,
    connection,
    signal: controller.signal,
    timeoutMs: run.fragmentTimeoutMs,
    notice: run.notice ?? (() => undefined),
  });
  run.onFragmentDone?.(stage.id, { rows: 0, bytes: 0, ms: performance.now() - started });
}

/** Runs the functions it is given one at a time, in call order. */
type Serialized = <T>(work: () => Promise<T>) => Promise<T>;

function serialized(): Serialized {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** Extra time the gateway grants a party beyond the fragment timeout the party enforces itself. */
const WATCHDOG_GRACE_MS = 2_000;

async function startFragment(
  fragment: Fragment,
  queryId: string,
  run: RunContext,
  controller: AbortController,
): Promise<FragmentStream> {
  const connector = run.connectors.get(fragment.party);
  if (!connector) throw new SqlError(SqlState.connectionFailure, `party "${fragment.party}" is not part of this federation`);
  // A party that hangs (alive but silent) is declared dead after the timeout plus a grace period.
  const limit = run.fragmentTimeoutMs + WATCHDOG_GRACE_MS;
  const watchdog = setTimeout(
    () => controller.abort(new SqlError(SqlState.connectionFailure, `party "${fragment.party}" did not answer within ${limit} ms`)),
    limit,
  );
  const stop = () => clearTimeout(watchdog);
  controller.signal.addEventListener('abort', stop, { once: true });
  try {
    const stream = await connector.execute({ queryId, sql: fragment.sql, timeoutMs: run.fragmentTimeoutMs }, controller.signal);
    return {
      schema: stream.schema,
      async *[Symbol.asyncIterator]() {
        try {
          yield* stream;
        } finally {
          stop();
        }
      },
    };
  } catch (e) {
    stop();
    throw controller.signal.reason instanceof SqlError ? controller.signal.reason : translateFragmentError(e, fragment.party);
  }
}

function translateFragmentError(e: unknown, party: string): SqlError {
  if (e instanceof SqlError) return e;
  return new SqlError(SqlState.connectionFailure, `party "${party}" failed: ${e instanceof Error ? e.message : String(e)}`);
}

function cancelled(signal: AbortSignal): SqlError {
  return signal.reason instanceof SqlError ? signal.reason : new SqlError(SqlState.queryCanceled, 'canceling statement due to user request');
}

/**
 * Client cancellation wins over whatever error the aborted fragments reported; then a
 * watchdog's "party did not answer" wins over the abort errors it caused elsewhere.
 */
function translate(e: unknown, signal: AbortSignal, controller?: AbortController): unknown {
  if (signal.aborted) return cancelled(signal);
  if (controller?.signal.aborted && controller.signal.reason instanceof SqlError) return controller.signal.reason;
  return e;
}

/** Iterates `stream` with the result's labels; always runs `done` exactly once at the end. */
function guarded(
  stream: FragmentStream,
  schema: Schema,
  run: RunContext,
  controller: AbortController,
  done: () => void,
): AsyncIterable<RecordBatch> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const batch of stream) {
          if (run.signal.aborted) throw cancelled(run.signal);
          yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children: (batch.data as Data<Struct>).children }));
        }
      } catch (e) {
        const error = translate(e, run.signal, controller);
        controller.abort();
        throw error;
      } finally {
        done();
      }
    },
  };
}

/** The same columns under the user-visible names (fragments name them by plan column). */
function relabel(schema: Schema, labels: string[]): Schema {
  return new Schema(schema.fields.map((f, i) => new Field(labels[i] ?? f.name, f.type, f.nullable, f.metadata)), schema.metadata);
}

function columnsOf(schema: Schema): ResultColumn[] {
  return schema.fields.map((f) => ({ name: f.name, type: f.metadata.get(DUCKDB_TYPE_METADATA_KEY) ?? 'VARCHAR' }));
}
