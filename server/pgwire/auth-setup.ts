/**
 * The authentication set-up of one gateway, derived once at start: SCRAM verifiers for the
 * configured users and the secret behind unknown users' mock salts. Every process of a
 * multi-process gateway gets the same set-up (see `PgAuthSetup`).
 */
import { makeVerifier, parseVerifier, type ScramVerifier } from './scram.js';

export interface PgUserConfig {
  /** Plain password; a SCRAM verifier is derived from it at start. */
  password?: string;
  /** Or a Postgres-style verifier `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
  scramVerifier?: string;
}

/**
 * What every process of one gateway must share so that clients cannot tell which process they
 * reached: the same SCRAM salts for known users and the same mock salts for unknown ones
 * (otherwise varying salts would reveal which user names exist). Plain data, so it can be sent
 * to worker processes.
 */
export interface PgAuthSetup {
  method: 'trust' | 'scram-sha-256';
  verifiers: Map<string, ScramVerifier | null>;
  /** Per-gateway secret for unknown-user SCRAM salts. */
  mockKey: Buffer;
}

/** Derives SCRAM verifiers for configured plain passwords (random salt, 4096 iterations) once. */
export function buildAuthSetup(method: PgAuthSetup['method'], users: Map<string, PgUserConfig>, mockKey: Buffer): PgAuthSetup {
  const verifiers = new Map<string, ScramVerifier | null>();
  for (const [user, cfg] of users) {
    if (cfg.scramVerifier !== undefined) verifiers.set(user, parseVerifier(cfg.scramVerifier));
    else if (cfg.password !== undefined) verifiers.set(user, makeVerifier(cfg.password));
    else if (method === 'scram-sha-256') throw new Error(`user "${user}" has neither a password nor a SCRAM verifier`);
    else verifiers.set(user, null);
  }
  return { method, verifiers, mockKey };
}

