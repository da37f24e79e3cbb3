/**
 * Versions of keys that this process knows without asking the database,
 * trusted only while the change feed that tells it of every change is healthy.
 *
 * Three sources write it, and the order they arrive in must never leave a
 * version older than the truth in place:
 *   - a database read (startRead() before it, learn() after): kept only if no
 *     event about that key (or reset) happened while it was in flight, so a late
 *     read can never overwrite what a delivery or a local commit made newer;
 *   - a delivery from the change feed (delivered()): forgets the key (the next
 *     reader asks the database, which also tells whether the key is still
 *     valid at all, e.g. a deactivated provider);
 *   - a local transaction touching the key (touching() ... settled()): the key
 *     is forgotten and no read may store it until every such transaction has
 *     settled, so a write in this process is seen by the very next read here.
 *
 *   const token = known.startRead();            // event counter 7
 *   const v = await readVersionFromDb();        // a delivery for 'a' arrives meanwhile (counter 8)
 *   known.learn('a', token, v);                 // ignored: 'a' changed after 7
 *
 * What is not in the map is unknown: the caller asks the database.
 *
 * An entry also expires maxAgeMs after its read: the feed's outbox tail can
 * miss a change whose transaction ran longer than its lookback window (see
 * EventFeed), and without an expiry such a miss would leave a version wrong
 * until the key's next change; with it, for at most maxAgeMs.
 */
export class KnownVersions {
  private readonly versions = new Map<string, { version: number; readAt: number }>();
  /** The event counter at each key's latest event (delivery, touch, settle). */
  private readonly changedAt = new Map<string, number>();
  /** Open local transactions per key. */
  private readonly pending = new Map<string, number>();
  private counter = 0;
  private resetAt = 0;

  /**
   * @param trusted whether the feed has delivered every change committed up to
   *   a bounded time ago (see ChangeFeed.deliveredThrough); while false, known() says nothing.
   * @param maxKeys entries kept; beyond, the map starts over (everything is read again).
   */
  constructor(
    private readonly trusted: () => boolean,
    private readonly options: { maxKeys?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {}

  /** The key's version if it is known and may be trusted now; undefined: ask the database. */
  known(key: string): number | undefined {
    if (this.pending.has(key) || !this.trusted()) return undefined;
    const entry = this.versions.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.readAt > (this.options.maxAgeMs ?? 10_000)) {
      this.versions.delete(key);
      return undefined;
    }
    return entry.version;
  }

  /** Call before reading a version from the database; pass the token to learn(). */
  startRead(): number {
    return this.counter;
  }

  /** Keeps a version read from the database, unless the key changed (or everything was reset) since the read started. */
  learn(key: string, token: number, version: number): void {
    if (!this.unchangedSince(key, token)) return;
    if (!this.versions.has(key) && this.versions.size >= this.maxKeys) this.reset();
    // Aged from the read's end, a little after its snapshot: reads take milliseconds, the age is seconds.
    this.versions.set(key, { version, readAt: this.now() });
  }

  /**
   * Whether nothing happened to the key (delivery, local change, reset) since startRead() gave `token`:
   * what was read from the database meanwhile about something the key's changes announce is as fresh as the key's version.
   */
  unchangedSince(key: string, token: number): boolean {
    return !this.pending.has(key) && (this.changedAt.get(key) ?? -1) <= token && this.resetAt <= token;
  }

  /** The feed delivered a change of the key. */
  delivered(key: string): void {
    this.changed(key);
  }

  /** A local transaction is changing the key: from now until it settles, the key is read from the database. */
  touching(key: string): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.changed(key);
  }

  /** That transaction committed or rolled back. */
  settled(key: string): void {
    const open = (this.pending.get(key) ?? 1) - 1;
    if (open > 0) this.pending.set(key, open);
    else this.pending.delete(key);
    this.changed(key);
  }

  /** Forget everything (the feed may have lost changes): reads in flight are not kept either. */
  reset(): void {
    this.versions.clear();
    this.changedAt.clear();
    this.resetAt = ++this.counter;
  }

  get size(): number {
    return this.versions.size;
  }

  private changed(key: string): void {
    this.versions.delete(key);
    this.changedAt.set(key, ++this.counter);
    if (this.changedAt.size > this.maxKeys) this.reset();
  }

  private get maxKeys(): number {
    return this.options.maxKeys ?? 100_000;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
