/**
 * The requester's side of one PRIVATE LOOKUP session, as an I/O-free state machine:
 *   HELLO in → OPRF out → EVAL in → QUERY out (one per round) → RESULT in (one per round)
 * and, at the end, every label found for each of its keys.
 *
 * Reveals to the owner: the padded batch size (blinded elements, 32 B each, uniformly random)
 * and the round count (a function of the padded size); ciphertexts under a fresh per-session
 * BFV key. Learns: for each of its keys, the labels of every owner entry with that key (none
 * when absent), with false-positive probability ≤ bundles·2^(−8·checkBytes) per key (params.ts);
 * nothing about entries whose key it did not ask for (their labels are encrypted under label
 * keys only the OPRF key holder can derive).
 * Cost per key: one OPRF round (2 scalar mults); per round: K encryptions (~0.7 ms each,
 * ~14 KB each up) and bundles × L decryptions (~0.3 ms each, ~28 KB each down).
 *
 * Imports no other layer of the project.
 */
import type { BfvContext } from './bfv.js';
import { QueryKeys } from './bfv.js';
import { binOf, itemFromOprfOutput, type LookupItem } from './items.js';
import { decryptLabel } from './label-cipher.js';
import {
  decodeHello, decodeOprfResponse, decodeResult, encodeOprfRequest, encodeQuery, type Hello,
} from './messages.js';
import { ELEMENT_BYTES, hashToGroup, OprfBlinding, type RandomBytes, type Sodium } from './oprf.js';
import { assignRounds, labelFeltsAt, paddedBatchSize, queryPowerVectors, roundsFor } from './query-rounds.js';
import { MAX_BUNDLES, MAX_ITEMS_PER_BIN } from './params.js';
import { randomBytes } from 'node:crypto';

export class LookupReceiver {
  private hello: Hello | undefined;
  private blinding: OprfBlinding | undefined;
  private items: LookupItem[] = [];
  private rounds: Int32Array[] = [];
  private readonly found: Uint8Array[][];
  private readonly answered = new Set<number>();
  private keys: QueryKeys | undefined;
  readonly paddedSize: number;

  constructor(
    private readonly sodium: Sodium,
    private readonly bfv: BfvContext,
    /** Distinct canonical keys. */
    private readonly inputs: readonly Uint8Array[],
    private readonly random: RandomBytes = (n) => new Uint8Array(randomBytes(n)),
  ) {
    this.paddedSize = paddedBatchSize(inputs.length);
    this.found = inputs.map(() => []);
  }

  acceptHello(frame: Uint8Array): Hello {
    const hello = decodeHello(frame);
    const { itemsPerBin, labelPolys, checkBytes } = hello.shape;
    if (itemsPerBin < 1 || itemsPerBin > MAX_ITEMS_PER_BIN || labelPolys < 1 || labelPolys > 32 || checkBytes < 1 || checkBytes > 16 || hello.bundles > MAX_BUNDLES) {
      throw new RangeError('the owner announced an invalid table shape');
    }
    this.hello = hello;
    return hello;
  }

  /** The OPRF frame: real keys blinded, padded with random group elements to the bucket size. */
  oprfRequest(): Uint8Array {
    this.blinding = new OprfBlinding(this.sodium, this.inputs, this.random);
    const padded = new Uint8Array(this.paddedSize * ELEMENT_BYTES);
    padded.set(this.blinding.blinded, 0);
    for (let i = this.inputs.length; i < this.paddedSize; i++) padded.set(hashToGroup(this.sodium, this.random(32)), i * ELEMENT_BYTES);
    return encodeOprfRequest(roundsFor(this.paddedSize), padded);
  }

  /** Takes the owner's evaluations; returns how many rounds will be sent. */
  acceptOprfResponse(frame: Uint8Array): number {
    if (!this.blinding) throw new Error('OPRF response before the request');
    const evaluated = decodeOprfResponse(frame);
    if (evaluated.length !== this.paddedSize * ELEMENT_BYTES) throw new RangeError('the owner evaluated a different number of elements');
    const outputs = this.blinding.finalize(evaluated.subarray(0, this.inputs.length * ELEMENT_BYTES));
    this.items = outputs.map(itemFromOprfOutput);
    this.rounds = assignRounds(this.items.map((i) => binOf(i.output)), roundsFor(this.paddedSize));
    return this.rounds.length;
  }

  get roundCount(): number {
    return this.rounds.length;
  }

  /** The QUERY frame of round `r`. */
  query(r: number): Uint8Array {
    if (!this.hello) throw new Error('query before HELLO');
    this.keys ??= new QueryKeys(this.bfv);
    const vectors = queryPowerVectors(this.rounds[r], this.items.map((i) => i.felts), this.hello.shape.itemsPerBin);
    return encodeQuery(r, vectors.map((v) => this.keys!.encrypt(v)));
  }

  /** Decrypts one RESULT frame and records the labels it carries for that round's keys. */
  acceptResult(frame: Uint8Array): number {
    if (!this.hello || !this.keys) throw new Error('result before query');
    const { round, results } = decodeResult(frame);
    if (round >= this.rounds.length || this.answered.has(round)) throw new RangeError(`unexpected result for round ${round}`);
    if (results.length !== this.hello.bundles || results.some((r) => r.length !== this.hello!.shape.labelPolys)) {
      throw new RangeError('result does not match the announced table shape');
    }
    this.answered.add(round);
    const assigned = this.rounds[round];
    for (const perBundle of results) {
      const slots = perBundle.map((ct) => (ct.length === 0 ? new Uint32Array(2048) : this.keys!.decrypt(ct)));
      for (let bin = 0; bin < assigned.length; bin++) {
        const key = assigned[bin];
        if (key < 0) continue;
        const label = decryptLabel(labelFeltsAt(slots, bin), this.items[key].labelKey, this.hello.shape.checkBytes);
        if (label) this.found[key].push(label);
      }
    }
    return round;
  }

  get complete(): boolean {
    return this.answered.size === this.rounds.length;
  }

  /** Labels found per input key (in input order), once every round is answered. */
  labels(): Uint8Array[][] {
    if (!this.complete) throw new Error('not every round has been answered');
    return this.found;
  }

  delete(): void {
    this.keys?.delete();
    this.keys = undefined;
  }
}
