/**
 * The requester's side of one PRIVATE LOOKUP session, as an I/O-free state machine:
 *   OPRF out → HELLO in → EVAL in → QUERY out (one per unit) → RESULT in (per unit)
 * and, at the end, every label found for each of its keys.
 *
 * The batch is padded to its bucket and the geometry and unit count follow from the padded size
 * alone (query-plan.ts), so they are fixed before any key is hashed.
 * Reveals to the owner: the padded batch size (blinded elements, 32 B each, uniformly random),
 * the geometry and unit count (functions of the padded size; one more unit with probability
 * ≤ 2^−30 when the keys overflow the plan); ciphertexts under a fresh per-session BFV key.
 * Learns: for each of its keys, the labels of every owner entry with that key (none when
 * absent), with false-positive probability ≤ bundles·2^(−8·checkBytes) per key (params.ts);
 * nothing about entries whose key it did not ask for (their labels are encrypted under label
 * keys only the OPRF key holder can derive).
 * Cost per key: one OPRF evaluation (2 scalar mults + hash-to-group); per unit: K encryptions
 * (~0.5 ms each, 12.5 KB each up) and bundles × L decryptions (~0.4 ms each, 24.7 KB each
 * down).
 *
 * Imports no other layer of the project.
 */
import { randomBytes } from 'node:crypto';
import type { BfvContext } from './bfv.js';
import { QueryKeys } from './bfv.js';
import { hashValue, itemFromOprfOutput, MAX_HASH_FUNCTIONS, type LookupItem } from './items.js';
import { decryptLabel } from './label-cipher.js';
import {
  decodeHello, decodeOprfResponse, decodeResult, encodeOprfRequest, encodeQuery, type Hello,
} from './messages.js';
import { ELEMENT_BYTES, hashToGroup, OprfBlinding, type RandomBytes, type Sodium } from './oprf.js';
import { FELTS_PER_ITEM, MAX_BUNDLES, MAX_ITEMS_PER_BIN, POLY_MODULUS_DEGREE, type Geometry } from './params.js';
import { chooseGeometry, labelFeltsAt, paddedBatchSize, planUnits, queryPowerVectors, unitsFor, type QueryUnit } from './query-plan.js';

export class LookupReceiver {
  private hello: Hello | undefined;
  private blinding: OprfBlinding | undefined;
  private items: LookupItem[] = [];
  private felts = new Uint16Array(0);
  private plan: QueryUnit[] = [];
  /** Per unit: which bundles have been answered. */
  private answered: Uint8Array[] = [];
  private readonly unitDone: boolean[] = [];
  private readonly found: Uint8Array[][];
  /** The session's fresh BFV key, created with the first query. */
  private keys: QueryKeys | undefined;
  readonly paddedSize: number;
  readonly geometry: Geometry;
  /** Units announced in the OPRF frame (the plan may add overflow units). */
  readonly announcedUnits: number;

  constructor(
    private readonly sodium: Sodium,
    private readonly bfv: BfvContext,
    /** Distinct canonical keys. */
    private readonly inputs: readonly Uint8Array[],
    private readonly random: RandomBytes = (n) => new Uint8Array(randomBytes(n)),
  ) {
    this.paddedSize = paddedBatchSize(inputs.length);
    this.geometry = chooseGeometry(this.paddedSize);
    this.announcedUnits = unitsFor(this.paddedSize, this.geometry);
    this.found = inputs.map(() => []);
  }

  /** The OPRF frame: real keys blinded, padded with random group elements to the bucket size. */
  oprfRequest(): Uint8Array {
    this.blinding = new OprfBlinding(this.sodium, this.inputs, this.random);
    const padded = new Uint8Array(this.paddedSize * ELEMENT_BYTES);
    padded.set(this.blinding.blinded, 0);
    for (let i = this.inputs.length; i < this.paddedSize; i++) padded.set(hashToGroup(this.sodium, this.random(32)), i * ELEMENT_BYTES);
    return encodeOprfRequest({ geometry: this.geometry, units: this.announcedUnits, blinded: padded });
  }

  acceptHello(frame: Uint8Array): Hello {
    const hello = decodeHello(frame);
    const { itemsPerBin, labelPolys, checkBytes } = hello.shape;
    if (hello.geometry !== this.geometry) throw new RangeError(`the owner described the ${hello.geometry} geometry, not ${this.geometry}`);
    if (itemsPerBin < 1 || itemsPerBin > MAX_ITEMS_PER_BIN || labelPolys < 1 || labelPolys > 32 || checkBytes < 1 || checkBytes > 16 || hello.bundles > MAX_BUNDLES) {
      throw new RangeError('the owner announced an invalid table shape');
    }
    this.hello = hello;
    return hello;
  }

  /** Takes the owner's evaluations; returns how many query units will be sent. */
  acceptOprfResponse(frame: Uint8Array): number {
    if (!this.blinding) throw new Error('OPRF response before the request');
    const evaluated = decodeOprfResponse(frame);
    if (evaluated.length !== this.paddedSize * ELEMENT_BYTES) throw new RangeError('the owner evaluated a different number of elements');
    const outputs = this.blinding.finalize(evaluated.subarray(0, this.inputs.length * ELEMENT_BYTES));
    this.items = outputs.map(itemFromOprfOutput);
    this.felts = new Uint16Array(this.items.length * FELTS_PER_ITEM);
    const hashes = new Uint32Array(this.items.length * MAX_HASH_FUNCTIONS);
    this.items.forEach((item, i) => {
      this.felts.set(item.felts, i * FELTS_PER_ITEM);
      for (let f = 0; f < MAX_HASH_FUNCTIONS; f++) hashes[i * MAX_HASH_FUNCTIONS + f] = hashValue(item.output, f);
    });
    this.plan = planUnits(this.geometry, hashes, this.items.length, this.announcedUnits, this.random);
    return this.plan.length;
  }

  get unitCount(): number {
    return this.plan.length;
  }

  /** The QUERY frame of unit `u`. */
  query(u: number): Uint8Array {
    if (!this.hello) throw new Error('query before HELLO');
    const unit = this.plan[u];
    if (!unit) throw new RangeError(`no query unit ${u}`);
    const vectors = queryPowerVectors(unit.keys, this.felts, this.hello.shape.itemsPerBin);
    this.keys ??= new QueryKeys(this.bfv);
    const keys = this.keys;
    return encodeQuery({ unit: u, block: unit.block, powers: vectors.map((v) => keys.encrypt(v)) });
  }

  /** Decrypts one RESULT frame (a slice of one unit's bundles) and records the labels it carries; returns the unit. */
  acceptResult(frame: Uint8Array): number {
    const hello = this.hello;
    const sessionKeys = this.keys;
    if (!hello || !sessionKeys) throw new Error('result before query');
    const { unit, firstBundle, results } = decodeResult(frame);
    if (unit >= this.plan.length || this.unitDone[unit]) throw new RangeError(`unexpected result for unit ${unit}`);
    if (firstBundle + results.length > hello.bundles || results.some((r) => r.length !== hello.shape.labelPolys)) {
      throw new RangeError('result does not match the announced table shape');
    }
    const answered = (this.answered[unit] ??= new Uint8Array(hello.bundles));
    for (let i = 0; i < results.length; i++) {
      if (answered[firstBundle + i]) throw new RangeError(`bundle ${firstBundle + i} of unit ${unit} answered twice`);
      answered[firstBundle + i] = 1;
    }
    const keys = this.plan[unit].keys;
    for (const perBundle of results) {
      const slots = perBundle.map((ct) => (ct.length === 0 ? new Uint32Array(POLY_MODULUS_DEGREE) : sessionKeys.decrypt(ct)));
      for (let bin = 0; bin < keys.length; bin++) {
        const key = keys[bin];
        if (key < 0) continue;
        const label = decryptLabel(labelFeltsAt(slots, bin), this.items[key].labelKey, hello.shape.checkBytes);
        if (label) this.found[key].push(label);
      }
    }
    this.unitDone[unit] = answered.every((a) => a === 1);
    return unit;
  }

  /** True once every bundle of unit `u` has been answered. */
  unitComplete(u: number): boolean {
    return this.unitDone[u] === true;
  }

  get complete(): boolean {
    return this.plan.length > 0 && this.plan.every((_, u) => this.unitDone[u]);
  }

  /** Labels found per input key (in input order), once every unit is answered. */
  labels(): Uint8Array[][] {
    if (!this.complete) throw new Error('not every query unit has been answered');
    return this.found;
  }

  /** Frees the session key (call on every path). */
  delete(): void {
    this.keys?.delete();
    this.keys = undefined;
  }
}
