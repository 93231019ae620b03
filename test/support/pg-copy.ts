/**
 * `COPY … FROM STDIN` for node-postgres without `pg-copy-streams`: a minimal "submittable" (the
 * object protocol `pg.Client.query` accepts besides SQL text) that sends the COPY statement,
 * answers the server's CopyInResponse with the given bytes in 64 KiB CopyData messages followed by
 * CopyDone, and resolves with the row count from the CommandComplete tag (`COPY n`).
 * The data is held in memory; the demo's largest file is a few MB.
 */
import type pg from 'pg';

interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

class CopyIn {
  private rows = 0;
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly resolve: (rows: number) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: Connection): void {
    const CHUNK = 64 * 1024;
    for (let off = 0; off < this.data.length; off += CHUNK) {
      connection.sendCopyFromChunk(this.data.subarray(off, Math.min(this.data.length, off + CHUNK)));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rows = Number(m[1]);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(this.rows);
  }

  handleError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Runs `copySql` (a `COPY … FROM STDIN …` statement) feeding it `data`; resolves with the row count. */
export function copyFromBuffer(client: pg.Client, copySql: string, data: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const submittable = new CopyIn(copySql, data, resolve, reject);
    (client as unknown as { query(q: CopyIn): unknown }).query(submittable);
  });
}
