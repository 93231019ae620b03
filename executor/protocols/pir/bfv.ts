/**
 * The BFV side of PRIVATE LOOKUP on node-seal 6.0.3 (SEAL 4.1 in WASM, single-threaded: one
 * instance per worker thread). Two roles:
 *
 * - `QueryKeys` (requester): a fresh secret key per session (no public, relinearisation or
 *   Galois keys ever leave it), encrypts the powers q^0 … q^(K−1) of its query slots as seeded symmetric ciphertexts
 *   (12.5 KB each on the wire, ct-wire.ts) and decrypts result ciphertexts.
 * - `BundleEvaluator` (owner): interpolates each cell (one block of one bundle, see
 *   cell-polynomials.ts), holds its coefficient vectors as NTT plaintexts and evaluates
 *   Σ_d Enc(q^d) ⊙ c_{ℓ,d} for every label polynomial ℓ (each query power transformed to NTT
 *   once, products in the NTT domain, one inverse NTT per result), returning one 24.7 KB
 *   ciphertext per (cell, ℓ).
 *
 * Reveals: the owner sees only ciphertexts under a key it never gets (IND-CPA BFV, 128-bit
 * security for n = 2048, log q = 48); the requester decrypts, per bundle, the label
 * polynomials evaluated at its query — its own entries' labels where present, pseudorandom
 * combinations of encrypted labels elsewhere (no circuit-privacy noise flooding: semi-honest
 * owner-privacy as in APSI). Cost (dev box, quiet): requester ~0.5 ms per power encrypted,
 * ~0.4 ms per result decrypted; owner ~0.3 ms per query power loaded and transformed, ~50 µs
 * per (bundle, ℓ, degree) product plus ~8 µs to accumulate it, ~0.2 ms per result
 * (inverse NTT and serialization, no compression).
 * Every SEAL object is `.delete()`d on every path (RSS stays flat over 10K lookups).
 *
 * I/O-free; imports no other layer of the project (node-seal through ../seal/node-seal.ts).
 */
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { BatchEncoder } from 'node-seal/implementation/batch-encoder.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type.js';
import { describeSealError, loadSeal, loadSealInstance } from '../seal/node-seal.js';
import { SealSessionKeys } from '../seal/session-keys.js';
import { cellCoefficients, type CellData } from './cell-polynomials.js';
import { MAX_UNPACKED_BYTES, packCiphertext, unpackCiphertext } from './ct-wire.js';
import { COEFF_MODULUS_BITS, PLAIN_MODULUS, POLY_MODULUS_DEGREE } from './params.js';

/** The shared SEAL objects for one thread: context, batch encoder, evaluator. */
export class BfvContext {
  /** Reused for every ciphertext loaded (SEAL copies it into WASM memory). */
  private readonly unpacked = new Uint8Array(MAX_UNPACKED_BYTES);

  private constructor(
    readonly seal: SEALLibrary,
    readonly context: Context,
    readonly encoder: BatchEncoder,
    readonly evaluator: Evaluator,
    readonly parmsId: ParmsIdType,
  ) {}

  /** On the thread's shared SEAL instance, or on a SEAL instance of its own (`ownInstance`: its WASM heap is freed with it). */
  static async create(options: { ownInstance?: boolean } = {}): Promise<BfvContext> {
    const seal = options.ownInstance ? await loadSealInstance() : await loadSeal();
    const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
    const coeff = seal.CoeffModulus.Create(POLY_MODULUS_DEGREE, Int32Array.from(COEFF_MODULUS_BITS));
    const plain = seal.Modulus(BigInt(PLAIN_MODULUS));
    try {
      parms.setPolyModulusDegree(POLY_MODULUS_DEGREE);
      parms.setCoeffModulus(coeff);
      parms.setPlainModulus(plain);
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) {
        context.delete();
        throw new Error('SEAL rejected the PRIVATE LOOKUP parameters');
      }
      return new BfvContext(seal, context, seal.BatchEncoder(context), seal.Evaluator(context), context.firstParmsId);
    } finally {
      coeff.delete();
      plain.delete();
      parms.delete();
    }
  }

  /** Encodes slot values (each < t) as a plaintext; the caller deletes it. */
  encode(values: Uint32Array): PlainText {
    const pt = this.seal.PlainText();
    this.encoder.encode(values, pt);
    return pt;
  }

  /** Loads a ciphertext sent by the peer (wire form, ct-wire.ts), refusing anything but a fresh 2-component BFV ciphertext of these parameters. */
  loadCiphertext(bytes: Uint8Array): CipherText {
    const ct = this.seal.CipherText();
    try {
      ct.loadArray(this.context, unpackCiphertext(bytes, this.unpacked));
      if (ct.size !== 2 || ct.isNttForm || ct.polyModulusDegree !== POLY_MODULUS_DEGREE || ct.coeffModulusSize !== COEFF_MODULUS_BITS.length) {
        throw new Error('not a fresh ciphertext of the lookup parameters');
      }
      return ct;
    } catch (e) {
      ct.delete();
      throw new RangeError(`malformed BFV ciphertext: ${describeSealError(e)}`);
    }
  }

  delete(): void {
    this.parmsId.delete();
    this.evaluator.delete();
    this.encoder.delete();
    this.context.delete();
  }
}

/** The requester's keys for one session. */
export class QueryKeys {
  private readonly keys: SealSessionKeys;

  constructor(private readonly bfv: BfvContext) {
    this.keys = new SealSessionKeys(bfv.seal, bfv.context);
  }

  /** Seeded symmetric encryption of one slot vector (values < t), in wire form (ct-wire.ts). */
  encrypt(values: Uint32Array): Uint8Array {
    const pt = this.bfv.encode(values);
    try {
      const serializable = this.keys.encryptor.encryptSymmetricSerializable(pt);
      try {
        return packCiphertext(serializable.saveArray(this.bfv.seal.ComprModeType.none));
      } finally {
        serializable.delete();
      }
    } finally {
      pt.delete();
    }
  }

  /** Decrypts a result ciphertext (wire form) into its slot values. */
  decrypt(bytes: Uint8Array): Uint32Array {
    const ct = this.bfv.loadCiphertext(bytes);
    const pt = this.bfv.seal.PlainText();
    try {
      this.keys.decryptor.decrypt(ct, pt);
      return this.bfv.encoder.decode(pt, false) as Uint32Array;
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /** Remaining noise budget in bits (tests: results must stay decryptable). */
  noiseBudget(bytes: Uint8Array): number {
    const ct = this.bfv.loadCiphertext(bytes);
    try {
      return this.keys.decryptor.invariantNoiseBudget(ct);
    } finally {
      ct.delete();
    }
  }

  delete(): void {
    this.keys.delete();
  }
}

interface LoadedBundle {
  /** plaintexts[ℓ][d], NTT form; `null` where the coefficient vector is all zero. */
  plaintexts: (PlainText | null)[][];
}

/** The owner's evaluator: bundles' NTT plaintexts and the evaluation of one query. */
export class BundleEvaluator {
  private readonly bundles = new Map<string, LoadedBundle>();

  constructor(private readonly bfv: BfvContext) {}

  /** (Re)loads one cell from its entries: interpolation, then encoding in NTT form. */
  loadCell(key: string, cell: CellData): void {
    this.load(key, cellCoefficients(cell), cell.itemsPerBin, cell.labelPolys);
  }

  /** (Re)loads one cell from its coefficient vectors (`vectors[ℓ·K + d]`). */
  load(key: string, vectors: Uint32Array[], itemsPerBin: number, labelPolys: number): void {
    if (vectors.length !== itemsPerBin * labelPolys) throw new RangeError(`expected ${itemsPerBin * labelPolys} coefficient vectors, got ${vectors.length}`);
    const plaintexts: (PlainText | null)[][] = [];
    try {
      for (let l = 0; l < labelPolys; l++) {
        const row: (PlainText | null)[] = [];
        plaintexts.push(row);
        for (let d = 0; d < itemsPerBin; d++) {
          const v = vectors[l * itemsPerBin + d];
          if (isZero(v)) {
            row.push(null);
            continue;
          }
          const pt = this.bfv.encode(v);
          row.push(pt);
          this.bfv.evaluator.plainTransformToNtt(pt, this.bfv.parmsId, pt);
        }
      }
    } catch (e) {
      for (const row of plaintexts) for (const pt of row) pt?.delete();
      throw e;
    }
    this.drop(key);
    this.bundles.set(key, { plaintexts });
  }

  drop(key: string): void {
    const b = this.bundles.get(key);
    if (!b) return;
    for (const row of b.plaintexts) for (const pt of row) pt?.delete();
    this.bundles.delete(key);
  }

  has(key: string): boolean {
    return this.bundles.has(key);
  }

  /** Plaintexts held (diagnostics: memory is ~20 KB each). */
  get plaintextCount(): number {
    let n = 0;
    for (const b of this.bundles.values()) for (const row of b.plaintexts) for (const pt of row) if (pt) n++;
    return n;
  }

  /** Drops every bundle whose key starts with `prefix` (one table's bundles). */
  dropPrefix(prefix: string): void {
    for (const key of [...this.bundles.keys()]) if (key.startsWith(prefix)) this.drop(key);
  }

  /**
   * Evaluates the query (serialized Enc(q^0) … Enc(q^(K−1))) against `keys`' bundles; returns,
   * per bundle and label polynomial, a serialized result ciphertext — or an empty array when
   * that polynomial is zero in every bin (an empty bundle).
   */
  evaluate(query: Uint8Array[], keys: string[]): Uint8Array[][] {
    const { evaluator, seal } = this.bfv;
    const powers: CipherText[] = [];
    const product = seal.CipherText();
    try {
      for (const bytes of query) {
        const ct = this.bfv.loadCiphertext(bytes);
        powers.push(ct);
        evaluator.cipherTransformToNtt(ct, ct);
      }
      return keys.map((key) => {
        const bundle = this.bundles.get(key);
        if (!bundle) throw new Error(`bundle ${key} is not loaded`);
        const rows = bundle.plaintexts;
        const degrees = Math.max(0, ...rows.map((row) => row.length));
        if (degrees > powers.length) throw new RangeError(`the query has ${powers.length} powers, the table needs ${degrees}`);
        // Power-major: each query power is read once per bundle and multiplied into every label
        // polynomial's accumulator while it is in cache (the L accumulators stay there too).
        const accs: (CipherText | undefined)[] = rows.map(() => undefined);
        try {
          for (let d = 0; d < degrees; d++) {
            for (let l = 0; l < rows.length; l++) {
              const pt = rows[l][d];
              if (!pt) continue;
              const acc = accs[l];
              if (!acc) {
                const fresh = seal.CipherText();
                accs[l] = fresh;
                evaluator.multiplyPlain(powers[d], pt, fresh);
              } else {
                evaluator.multiplyPlain(powers[d], pt, product);
                evaluator.add(acc, product, acc);
              }
            }
          }
          return accs.map((acc) => {
            if (!acc) return new Uint8Array(0);
            evaluator.cipherTransformFromNtt(acc, acc);
            return packCiphertext(acc.saveArray(seal.ComprModeType.none));
          });
        } finally {
          for (const acc of accs) acc?.delete();
        }
      });
    } finally {
      product.delete();
      for (const ct of powers) ct.delete();
    }
  }

  /** Frees every bundle. */
  delete(): void {
    for (const key of [...this.bundles.keys()]) this.drop(key);
  }
}

function isZero(v: Uint32Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return false;
  return true;
}
