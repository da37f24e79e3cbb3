import type { EventTypeRecord } from '../../db/event-types-repo.js';
import type { KnownVersions } from '../../platform/change-feed/known-versions.js';

interface Entry {
  type: EventTypeRecord;
  /** Its hosts' availability versions when it was read, joined with '.'. */
  versions: string;
}

/**
 * Event types as slot requests read them, kept in memory so that a cached
 * answer makes no database round trip. Every write of a type bumps the
 * availability version of each of its hosts, before and after the change
 * (announce() in event-types.ts), so a kept type is current exactly while its
 * hosts' versions are the ones it was kept with; those versions come from
 * KnownVersions, trusted only while the change feed keeps up, so a kept type
 * is never staler than a provider's version (FEED_TRUST_MS).
 *
 * A type read from the database is kept only if none of its hosts changed
 * while the read was in flight (a change that committed after the read's
 * snapshot is then either seen here and the type not kept, or seen later and
 * the kept versions no longer match).
 */
export class KnownEventTypes {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly versions: KnownVersions, private readonly maxEntries = 10_000) {}

  /** The type kept in memory while its hosts' versions still match; undefined: find() reads it. */
  findInMemory(id: string): EventTypeRecord | undefined {
    const kept = this.entries.get(id);
    return kept && this.versionsOf(kept.type) === kept.versions ? kept.type : undefined;
  }

  /** The type from memory when its hosts' versions still match, else from the database (null: no such type). */
  async find(read: (id: string) => Promise<EventTypeRecord | null>, id: string): Promise<EventTypeRecord | null> {
    const kept = this.findInMemory(id);
    if (kept) return kept;
    const token = this.versions.startRead();
    const type = await read(id);
    if (!type) {
      this.entries.delete(id);
      return null;
    }
    const versions = this.versionsOf(type);
    if (versions !== null && type.hosts.every((h) => this.versions.unchangedSince(h.providerId, token))) this.keep(id, { type, versions });
    else this.entries.delete(id);
    return type;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The hosts' known versions, or null when one is not known now (or the type has no host to tell its changes). */
  private versionsOf(type: EventTypeRecord): string | null {
    if (type.hosts.length === 0) return null;
    const each: number[] = [];
    for (const host of type.hosts) {
      const version = this.versions.known(host.providerId);
      if (version === undefined) return null;
      each.push(version);
    }
    return each.join('.');
  }

  private keep(id: string, entry: Entry): void {
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, entry);
  }
}
