/**
 * BackendKeyData and CancelRequest. Each session gets a random process id (unique among live
 * sessions) and a random 32-bit secret, both from node:crypto. A CancelRequest arrives on a new
 * socket; it cancels only when both match, compared in constant time, and the requester never
 * learns whether it did (Postgres sends nothing back either).
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export interface Cancellable {
  /** Interrupts the query the session is running, if any. */
  cancelRunningQuery(): void;
}

interface Entry {
  secret: Buffer;
  target: Cancellable;
}

export class CancelRegistry {
  private readonly sessions = new Map<number, Entry>();

  register(target: Cancellable): { pid: number; secret: number } {
    let pid: number;
    do pid = randomInt(1, 0x7fffffff);
    while (this.sessions.has(pid));
    const secret = randomBytes(4);
    this.sessions.set(pid, { secret, target });
    return { pid, secret: secret.readInt32BE(0) };
  }

  unregister(pid: number): void {
    this.sessions.delete(pid);
  }

  /** Returns true when a session matched (for logging only). */
  cancel(pid: number, secret: number): boolean {
    const entry = this.sessions.get(pid);
    const given = Buffer.alloc(4);
    given.writeInt32BE(secret | 0, 0);
    if (entry === undefined) return false;
    if (!timingSafeEqual(given, entry.secret)) return false;
    entry.target.cancelRunningQuery();
    return true;
  }

  get size(): number {
    return this.sessions.size;
  }
}
