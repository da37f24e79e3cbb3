import type { Database } from '../../db/database.js';
import { AVAILABILITY_TOPIC } from '../../db/users-repo.js';
import type { ChangeFeed } from '../../platform/change-feed/change-feed.js';
import { KnownVersions } from '../../platform/change-feed/known-versions.js';
import { KnownEventTypes } from './known-event-types.js';
import type { DatabaseClock } from '../../platform/database-clock.js';
import { loadProviderVersion, loadProviderVersions } from '../availability/availability-rules.js';
import type { AppContext, Principal } from '../context.js';
import { findEventType, type EventTypeRecord } from '../../db/event-types-repo.js';
import { readableAs, readableEventType } from '../event-types/event-types.js';

/**
 * How far behind the change feed may be while this process still answers
 * from the versions it knows: the feed must have completed a poll that
 * started at most this long ago (EventFeed polls every 250 ms, so a poll
 * taking up to 750 ms still counts as healthy). Every change committed before
 * a poll's start is delivered by it, so an answer served from memory is never
 * staler than this: a change committed at t is reflected by t + FEED_TRUST_MS
 * at the latest (in practice: by its delivery, a NOTIFY or one poll later).
 * Past it, slot requests ask the database as they did without the map.
 */
export const FEED_TRUST_MS = 1_000;

/**
 * Active providers' availability versions known in this process (see
 * KnownVersions), with the database's clock, so that a slot request whose
 * answer is cached makes no database round trip. Only an id the database
 * said is an active provider is ever known; unknown ids, and every id while
 * the feed lags, go to the database (which answers 404 for non-providers).
 */
export interface ProviderVersions {
  known: KnownVersions;
  /** Event types read by slot requests, current while their hosts' versions are (see KnownEventTypes). */
  eventTypes: KnownEventTypes;
  dbClock: DatabaseClock;
  stop(): void;
}

/**
 * Keeps the versions in step with the two ways they change: this process's own
 * transactions (read-your-writes: a provider is read from the database while one
 * of them is open, and forgotten when it settles, before its caller answers),
 * and every other process's, through the change feed.
 */
export function followProviderVersions(db: Database, feed: ChangeFeed, dbClock: DatabaseClock, trustMs = FEED_TRUST_MS): ProviderVersions {
  // Entries are read again after 10 s, the outbox tail's lookback: a change it could miss (a transaction
  // longer than that) would otherwise be served stale until the provider's next change.
  const known = new KnownVersions(() => Date.now() - feed.deliveredThrough() <= trustMs, { maxAgeMs: 10_000 });
  const unwatchTransactions = db.watchTransactions({
    touching: (topic, key) => topic === AVAILABILITY_TOPIC && known.touching(key),
    settled: (topic, key) => topic === AVAILABILITY_TOPIC && known.settled(key),
  });
  const unwatchFeed = feed.watchAll({ change: (change) => known.delivered(change.providerId), reset: () => known.reset() });
  return {
    known,
    eventTypes: new KnownEventTypes(known),
    dbClock,
    stop() {
      unwatchTransactions();
      unwatchFeed();
    },
  };
}

/** A provider's availability version and the database's clock when this process knows them (see providerHead); not counted. */
export function providerHeadInMemory(ctx: AppContext, providerId: string): { version: number; dbNow: number } | undefined {
  const versions = ctx.providerVersions;
  if (!versions) return undefined;
  const version = versions.known.known(providerId);
  const dbNow = versions.dbClock.now();
  return version === undefined || dbNow === null ? undefined : { version, dbNow };
}

/** A provider's availability version and the database's clock: from memory when trusted, else one small query (404 for non-providers). */
export async function providerHead(ctx: AppContext, providerId: string): Promise<{ version: number; dbNow: number }> {
  const versions = ctx.providerVersions;
  if (!versions) return loadProviderVersion(ctx.db, providerId);
  const known = providerHeadInMemory(ctx, providerId);
  if (known) {
    ctx.metrics.versionLookups.labels('memory').inc();
    return known;
  }
  ctx.metrics.versionLookups.labels('database').inc();
  const token = versions.known.startRead();
  const head = await loadProviderVersion(ctx.db, providerId);
  versions.known.learn(providerId, token, head.version);
  return head;
}

/** providersHead when this process knows every version and the database's clock; not counted. */
export function providersHeadInMemory(ctx: AppContext, providerIds: readonly string[]): { versions: string; dbNow: number } | undefined {
  const versions = ctx.providerVersions;
  if (!versions) return undefined;
  const dbNow = versions.dbClock.now();
  if (dbNow === null) return undefined;
  let joined = '';
  for (const id of providerIds) {
    const version = versions.known.known(id);
    if (version === undefined) return undefined;
    joined = joined === '' ? String(version) : `${joined}.${version}`;
  }
  return { versions: joined, dbNow };
}

/** providerHead for several providers: their versions joined with '.' in the order given. */
export async function providersHead(ctx: AppContext, providerIds: readonly string[]): Promise<{ versions: string; dbNow: number }> {
  const versions = ctx.providerVersions;
  if (!versions) return loadProviderVersions(ctx.db, providerIds);
  const known = providersHeadInMemory(ctx, providerIds);
  if (known) {
    ctx.metrics.versionLookups.labels('memory').inc();
    return known;
  }
  ctx.metrics.versionLookups.labels('database').inc();
  const token = versions.known.startRead();
  const head = await loadProviderVersions(ctx.db, providerIds);
  head.versions.split('.').forEach((v, i) => versions.known.learn(providerIds[i]!, token, Number(v)));
  return head;
}

/** slotEventType when the type is kept in memory and current; undefined: ask slotEventType. Throws as it does for a type `caller` may not read. */
export function slotEventTypeInMemory(ctx: AppContext, caller: Principal | null, id: string): EventTypeRecord | undefined {
  const kept = ctx.providerVersions?.eventTypes.findInMemory(id);
  return kept && readableAs(caller, id, kept);
}

/** An event type as `caller` may read it, for a slot request: from memory while its hosts' versions are current there. */
export async function slotEventType(ctx: AppContext, caller: Principal | null, id: string): Promise<EventTypeRecord> {
  const kept = ctx.providerVersions?.eventTypes;
  if (!kept) return readableEventType(ctx.db, caller, id);
  return readableAs(caller, id, await kept.find((x) => findEventType(ctx.db, x), id));
}
