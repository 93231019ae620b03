/**
 * BackendKeyData and CancelRequest. Each session gets a random process id (unique among live
 * sessions) and a random 32-bit secret, both from node:crypto. A CancelRequest arrives on a new
 * socket; it cancels only when both match, compared in constant time, and the requester never
 * learns whether it did (Postgres sends nothing back either).
 *
 * With several gateway worker processes the CancelRequest may land on another process than the
 * session it names, so the top bits of every process id are the index of the process that owns
 * the session (`owner`), and a request for another process is handed to `forward`, which routes
 * it there; the secret is checked only by the owner.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { MAX_GATEWAY_PROCESSES } from '../../connectors/config-types.js';

export interface Cancellable {
  /** Interrupts the query the session is running, if any. */
  cancelRunningQuery(): void;
}

interface Entry {
  secret: Buffer;
  target: Cancellable;
}

/** Bits of a process id that are random; the bits above (up to int32's sign) hold the owning process' index. */
const RANDOM_BITS = 31 - Math.log2(MAX_GATEWAY_PROCESSES);

export class CancelRegistry {
  private readonly sessions = new Map<number, Entry>();

  /**
   * @param owner index of this process among the gateway's processes (0 = the node itself)
   * @param forward delivers a CancelRequest for a session of another process
   */
  constructor(
    private readonly owner = 0,
    private readonly forward?: (owner: number, pid: number, secret: number) => void,
  ) {
    if (!Number.isInteger(owner) || owner < 0 || owner >= MAX_GATEWAY_PROCESSES) throw new RangeError(`gateway process index ${owner} out of range`);
  }

  register(target: Cancellable): { pid: number; secret: number } {
    let pid: number;
    do pid = (this.owner << RANDOM_BITS) | randomInt(1, 1 << RANDOM_BITS);
    while (this.sessions.has(pid));
    const secret = randomBytes(4);
    this.sessions.set(pid, { secret, target });
    return { pid, secret: secret.readInt32BE(0) };
  }

  unregister(pid: number): void {
    this.sessions.delete(pid);
  }

  /** Returns true when a session of this process matched (for logging only). */
  cancel(pid: number, secret: number): boolean {
    const owner = pid >>> RANDOM_BITS;
    if (pid > 0 && owner !== this.owner) {
      this.forward?.(owner, pid, secret);
      return false;
    }
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
