/** Messages between the PRIVATE LOOKUP worker pool and its worker threads. */
import type { CellData } from '../../protocols/pir/cell-polynomials.js';

export type WorkerRequest =
  | { id: number; op: 'oprf'; key: Uint8Array; inputs: Uint8Array[] }
  /** Interpolates one cell (one block of one bundle) in the worker and keeps its NTT plaintexts. */
  | { id: number; op: 'loadCell'; key: string; cell: CellData }
  | { id: number; op: 'drop'; prefix: string }
  | { id: number; op: 'eval'; query: Uint8Array[]; keys: string[] }
  | { id: number; op: 'memory' };

export type WorkerReply =
  | { id: number; ok: true; outputs?: Uint8Array[]; results?: Uint8Array[][]; memory?: WorkerMemory }
  | { id: number; ok: false; error: string };

/** A worker's own isolate: JavaScript heap in use, and memory outside it (its SEAL WASM heap, buffers). */
export interface WorkerMemory {
  heapUsed: number;
  external: number;
}
