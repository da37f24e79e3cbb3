import type { Interval } from '../domain/intervals.js';
import { COLUMNS, toRecord, type BookingRecord, type BookingRow } from './bookings-repo.js';
import type { Queryable } from './database.js';

/*
 * A hold's locks and the reads they protect, one round trip each: the
 * functions of migrations/016 and 017 (why a function: see 016's header).
 */

/**
 * Takes each provider's lock in the order given (sorted by the caller), then
 * marks expired their lapsed holds (and requests for approval whose start has
 * passed) whose blocked ranges overlap `range` (a blocked range), in the
 * inserting transaction, so the exclusion constraint (which only sees stored
 * statuses) lets the new hold take their place. One round trip: the function
 * of migrations/016 reads after the locks, with a snapshot that sees what
 * their previous holders committed. `refuseTakenFor`: the new booking's
 * occurrence; a time a live booking of another occurrence takes is then refused
 * before the locks, with the exclusion constraint's error (null: not checked).
 * Last, it waits for changes to live blocks overlapping `range` to settle and
 * share-locks those blocks (migrations/017: so the insert's statement may lock
 * the provider's users row without a deadlock).
 */
export async function lockProvidersAndReleaseLapsed(
  q: Queryable,
  providerIds: readonly string[],
  range: Interval,
  refuseTakenFor: string | null,
): Promise<BookingRecord[]> {
  const { rows } = await q.query<BookingRow>(
    `SELECT ${COLUMNS} FROM hold_lock_providers_settled($1::text[], $2, $3, $4)`,
    [providerIds, new Date(range.start), new Date(range.end), refuseTakenFor],
  );
  return rows.map(toRecord);
}

/** What a client's hold caps count, read under the client's lock; `dbNow` is the transaction's clock. */
export interface ClientHoldCounts {
  /** Live holds (held and unexpired, by the database clock) and the whole seconds until the first lapses (null: none). */
  liveHolds: number;
  secondsToFirstExpiry: number | null;
  /** Upcoming bookings (held and unexpired, pending, or confirmed; starting after now): in all, and by provider. */
  upcoming: number;
  upcomingByProvider: Record<string, number>;
  dbNow: number;
}

type CountsRow = {
  live_holds: number; first_expiry_seconds: number | null; upcoming: number; upcoming_by_provider: Record<string, number>; db_now: Date;
};
const toCounts = (r: CountsRow): ClientHoldCounts => ({
  liveHolds: r.live_holds,
  secondsToFirstExpiry: r.first_expiry_seconds,
  upcoming: r.upcoming,
  upcomingByProvider: r.upcoming_by_provider,
  dbNow: r.db_now.getTime(),
});

/** Takes the client's lock (CLIENT_LOCK) and reads its counts after it, in one round trip (migrations/016). */
export async function lockClientAndCount(q: Queryable, clientId: string): Promise<ClientHoldCounts> {
  const { rows } = await q.query<CountsRow>('SELECT * FROM hold_lock_client($1)', [clientId]);
  return toCounts(rows[0]!);
}

/**
 * The same counts without the lock (migrations/018): only to choose which refusal a hold
 * refused before its transaction gets, never to let one through.
 */
export async function readClientCounts(q: Queryable, clientId: string): Promise<ClientHoldCounts> {
  const { rows } = await q.query<CountsRow>('SELECT * FROM client_hold_counts($1)', [clientId]);
  return toCounts(rows[0]!);
}
