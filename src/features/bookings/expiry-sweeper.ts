import { expireLapsedHolds } from '../../db/bookings-repo.js';
import { deleteSettledEventsOlderThan } from '../../db/events-repo.js';
import { deleteIdempotencyKeysOlderThan } from '../../db/idempotency-repo.js';
import { deleteLoginAttemptsOlderThan } from '../../db/login-attempts-repo.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import type { Database } from '../../db/database.js';
import type { Job } from '../../platform/jobs/jobs.js';
import { recordBookingEvent } from './events.js';

const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;
const LOGIN_ATTEMPT_RETENTION_SECONDS = 7 * 24 * 3600;
/** Change events (and their webhook deliveries) are kept a week once nothing is pending. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Reads already treat lapsed holds as expired; this writes it down (so
 * `status = 'expired'` is true in SQL too), bumps the providers' versions so
 * caches and listeners hear of the freed time, and drops day-old idempotency
 * records and week-old settled events. Safe to run on every process at once: each UPDATE takes its rows once.
 */
export async function sweepOnce(
  db: Database,
): Promise<{ expiredHolds: number; expiredProviders: number; idempotencyKeysDeleted: number; eventsDeleted: number }> {
  const expired = await db.transaction(async (tx) => {
    const changed = await expireLapsedHolds(tx);
    for (const booking of changed.expired) await recordBookingEvent(tx, 'booking.expired', booking);
    for (const providerId of changed.providerIds.sort()) await bumpAvailabilityVersion(tx, providerId);
    return changed;
  });
  const deleted = await deleteIdempotencyKeysOlderThan(db, IDEMPOTENCY_RETENTION_SECONDS);
  const eventsDeleted = await deleteSettledEventsOlderThan(db, EVENT_RETENTION_SECONDS);
  // Older than the longest LOGIN_FAILURE_WINDOW_SECONDS allowed: they no longer count.
  await deleteLoginAttemptsOlderThan(db, LOGIN_ATTEMPT_RETENTION_SECONDS);
  return { expiredHolds: expired.holds, expiredProviders: expired.providerIds.length, idempotencyKeysDeleted: deleted, eventsDeleted };
}

/** Runs sweepOnce every EXPIRY_SWEEP_SECONDS (src/platform/jobs runs it). */
export function expirySweepJob(db: Database, everySeconds: number, onExpired: (holds: number) => void = () => {}): Job {
  return {
    name: 'expiry-sweep',
    everyMs: everySeconds * 1000,
    run: async () => { onExpired((await sweepOnce(db)).expiredHolds); },
  };
}
