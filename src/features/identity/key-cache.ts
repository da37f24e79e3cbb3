import type { KeyPrincipalRow } from '../../db/api-keys-repo.js';

/**
 * Owners of working API keys, remembered for a short while so that a read
 * does not look its key up in the database every time (a slot read made two
 * round trips: the key and the provider's version).
 *
 * The bound: a key revoked (or expired) in another process, or in another
 * server on the same database, is refused by this process at most `ttlMs`
 * after the revoking transaction committed (KEY_CACHE_TTL_MS, 500 ms), because
 * an entry is never served older than that. In the process that revokes, the
 * revoking code calls forgetAll() after its commit, so there the very next
 * request is refused. Unknown keys are never remembered: a new key works at once.
 *
 *   const cache = new KeyCache();
 *   const ticket = cache.ticket();
 *   const owner = cache.get(hash, Date.now()) ?? await findActiveKeyOwner(db, hash);
 *   if (owner) cache.set(ticket, hash, owner, Date.now(), owner.expiresAt);
 */
export const KEY_CACHE_TTL_MS = 500;

interface Entry { owner: KeyPrincipalRow; until: number }

export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by forgetAll(): a lookup that began before a revocation committed must not store its answer after it. */
  private generation = 0;

  constructor(private readonly ttlMs = KEY_CACHE_TTL_MS, private readonly maxEntries = 10_000) {}

  get(keyHash: string, now: number): KeyPrincipalRow | null {
    const entry = this.entries.get(keyHash);
    if (!entry) return null;
    if (now < entry.until) return entry.owner;
    this.entries.delete(keyHash);
    return null;
  }

  /** Taken before the database lookup whose answer is then passed to set(). */
  ticket(): number {
    return this.generation;
  }

  /** `expiresAt`: the key's own expiry, which an entry never outlives either. */
  set(ticket: number, keyHash: string, owner: KeyPrincipalRow, now: number, expiresAt: Date | null = null): void {
    if (ticket !== this.generation) return;
    const until = Math.min(now + this.ttlMs, expiresAt ? expiresAt.getTime() : Infinity);
    this.entries.delete(keyHash);
    this.entries.set(keyHash, { owner, until });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** After a revocation has committed: every key is looked up again. Revocations are rare; precision is not worth a reverse index. */
  forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }
}
