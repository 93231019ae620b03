/**
 * Arrow IPC stream framing for fragment results on the wire (`application/vnd.apache.arrow.stream`):
 * a schema message, one message per record batch, and the end-of-stream marker.
 *
 * The encoder hands out the buffers of one batch at a time, so the party endpoint can apply
 * backpressure per batch (write, and wait for 'drain' when the transport is full) and never
 * holds more than the batch it is sending. apache-arrow's writer otherwise queues everything
 * written to it until someone reads, which is the opposite of bounded memory.
 */
import { AsyncByteQueue, RecordBatchReader, RecordBatchStreamWriter, util, type RecordBatch, type Schema } from 'apache-arrow';
import type { FragmentStream } from '../connector.js';
import { SqlError, SqlState } from '../../parser/errors.js';

export const ARROW_STREAM_CONTENT_TYPE = 'application/vnd.apache.arrow.stream';
/** Continuation marker + zero length: the IPC end-of-stream message. */
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
/** Buffers at least this large are written as they are instead of being joined. */
const PASS_THROUGH_BYTES = 64 * 1024;

/** Collects what the arrow writer emits instead of queueing it for an async reader. */
class CollectingSink extends AsyncByteQueue {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  override write(value: Uint8Array): void {
    if (value.byteLength === 0) return;
    this.parts.push(value);
    this.bytes += value.byteLength;
  }

  /**
   * Everything written since the last take. Large body buffers pass through as views (copying
   * them would cost more than the network); runs of small pieces (prefixes, flatbuffer headers,
   * padding) are joined so the transport does not see dozens of tiny writes.
   */
  take(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const flushRun = () => {
      if (run.length === 1) out.push(run[0]);
      else if (run.length > 1) {
        const joined = new Uint8Array(runBytes);
        let at = 0;
        for (const p of run) {
          joined.set(p, at);
          at += p.byteLength;
        }
        out.push(joined);
      }
      run = [];
      runBytes = 0;
    };
    for (const p of this.parts) {
      if (p.byteLength >= PASS_THROUGH_BYTES) {
        flushRun();
        out.push(p);
      } else {
        run.push(p);
        runBytes += p.byteLength;
      }
    }
    flushRun();
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

export class IpcStreamEncoder {
  private readonly sink = new CollectingSink();
  private readonly writer = new RecordBatchStreamWriter({ autoDestroy: false });
  private started = false;

  constructor(readonly schema: Schema) {}

  /** The schema message: the first bytes of the stream. */
  start(): Uint8Array[] {
    if (this.started) throw new Error('IPC stream already started');
    this.started = true;
    this.writer.reset(this.sink, this.schema);
    return this.sink.take();
  }

  /** One record batch message (header and body), as a few buffers to write in order. */
  encode(batch: RecordBatch): Uint8Array[] {
    if (!this.started) throw new Error('IPC stream not started');
    if (batch.schema !== this.schema && !util.compareSchemas(batch.schema, this.schema)) {
      // The arrow writer would silently end the stream on a schema change; refuse instead.
      throw new SqlError(SqlState.internalError, 'a record batch does not match the schema announced for its stream');
    }
    this.writer.write(batch);
    return this.sink.take();
  }

  end(): Uint8Array[] {
    return [END_OF_STREAM.slice()];
  }
}

/** Serialises a fragment stream as IPC bytes (schema first, then each batch, then EOS). */
export async function* arrowToIpcStream(stream: FragmentStream): AsyncGenerator<Uint8Array> {
  const encoder = new IpcStreamEncoder(stream.schema);
  yield* encoder.start();
  for await (const batch of stream) yield* encoder.encode(batch);
  yield* encoder.end();
}

/**
 * Reads an IPC stream into a FragmentStream: resolves once the schema arrived, then pulls one
 * message at a time from `source` as batches are requested. Errors thrown by `source` (e.g. the
 * party's error from an HTTP/2 trailer) surface from the iteration unchanged.
 */
export async function ipcStreamToArrow(source: AsyncIterable<Uint8Array>): Promise<FragmentStream> {
  let reader: Awaited<ReturnType<typeof RecordBatchReader.from>>;
  try {
    reader = await RecordBatchReader.from(source as AsyncIterable<Uint8Array>);
    await reader.open();
  } catch (e) {
    if (e instanceof SqlError) throw e;
    throw new SqlError(SqlState.protocolViolation, `malformed Arrow IPC stream: ${(e as Error).message}`, { cause: e });
  }
  if (!reader.schema) {
    throw new SqlError(SqlState.protocolViolation, 'Arrow IPC stream ended before its schema');
  }
  const schema = reader.schema;
  let iterated = false;
  return {
    schema,
    async *[Symbol.asyncIterator]() {
      if (iterated) throw new Error('a fragment stream can only be iterated once');
      iterated = true;
      try {
        for await (const batch of reader as AsyncIterable<RecordBatch>) {
          // The reader invents an empty batch for a schema-only stream; it carries nothing.
          if (batch.numRows > 0) yield batch;
        }
      } catch (e) {
        if (e instanceof SqlError) throw e;
        throw new SqlError(SqlState.protocolViolation, `malformed Arrow IPC stream: ${(e as Error).message}`, { cause: e });
      } finally {
        await reader.cancel?.();
      }
    },
  };
}
