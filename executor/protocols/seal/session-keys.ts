/**
 * A fresh BFV key set for one session of a key-owning party (PRIVATE LOOKUP's requester,
 * PSI-sum's value owner): secret key, the public key node-seal 6 needs to build an Encryptor,
 * encryptor and decryptor. The secret key never leaves this object; every SEAL object it holds
 * is freed by `delete()`, and a failure half-way through construction frees what was built.
 */
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { KeyGenerator } from 'node-seal/implementation/key-generator.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import { ownedSecretKey } from './node-seal.js';

export class SealSessionKeys {
  readonly publicKey: PublicKey;
  readonly encryptor: Encryptor;
  readonly decryptor: Decryptor;
  private readonly keygen: KeyGenerator;
  private readonly secret: SecretKey;

  constructor(seal: SEALLibrary, context: Context) {
    const built: { delete(): void }[] = [];
    const keep = <T extends { delete(): void }>(o: T): T => {
      built.push(o);
      return o;
    };
    try {
      this.keygen = keep(seal.KeyGenerator(context));
      this.secret = keep(ownedSecretKey(seal, this.keygen));
      this.publicKey = keep(this.keygen.createPublicKey());
      this.encryptor = keep(seal.Encryptor(context, this.publicKey, this.secret));
      this.decryptor = keep(seal.Decryptor(context, this.secret));
    } catch (e) {
      for (const o of built.reverse()) o.delete();
      throw e;
    }
  }

  delete(): void {
    this.decryptor.delete();
    this.encryptor.delete();
    this.publicKey.delete();
    this.secret.delete();
    this.keygen.delete();
  }
}
