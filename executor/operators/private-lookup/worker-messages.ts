/** Messages between the PRIVATE LOOKUP worker pool and its worker threads. */
export type WorkerRequest =
  | { id: number; op: 'oprf'; key: Uint8Array; inputs: Uint8Array[] }
  | { id: number; op: 'load'; key: string; vectors: Uint32Array[]; itemsPerBin: number; labelPolys: number }
  | { id: number; op: 'drop'; prefix: string }
  | { id: number; op: 'eval'; query: Uint8Array[]; keys: string[] }
  | { id: number; op: 'memory' };

export type WorkerReply =
  | { id: number; ok: true; outputs?: Uint8Array[]; results?: Uint8Array[][]; rss?: number }
  | { id: number; ok: false; error: string };
