import type { Queryable } from './database.js';
import type { Interval } from '../domain/intervals.js';

/**
 * The client's side of "no two live bookings overlap" (migrations/012): the
 * rows are kept by a trigger on bookings; these are the two reads and writes
 * the app needs around the exclusion constraint.
 */
export const CLIENT_OVERLAP_CONSTRAINT = 'client_blocks_no_overlap';

/** Whose time a booking takes: a signed-in client, or a guest by email (case-insensitive), as the trigger writes it. */
export function clientKeyOf(who: { clientId: string | null; guestEmail?: string | null }): string | null {
  if (who.clientId !== null) return `client:${who.clientId}`;
  return who.guestEmail ? `guest:${who.guestEmail.toLowerCase()}` : null;
}

/**
 * Frees the client's time held by its lapsed holds (and by requests for
 * approval whose start has passed) that overlap `range`: they read as expired
 * everywhere, but the constraint sees stored statuses only. The bookings
 * themselves are left to the sweeper, which records their expiry and tells
 * their providers' caches; a lapsed booking never becomes live again.
 */
export async function releaseLapsedClientBlocks(q: Queryable, clientKey: string, range: Interval): Promise<void> {
  // The SQL is migration 017's, which a client's hold also runs inside its insert's statement (bookings-repo insertHoldWithEvent).
  await q.query('SELECT release_lapsed_client_blocks($1, $2, $3)', [clientKey, new Date(range.start), new Date(range.end)]);
}

/** The client's earliest live booking overlapping `range` (other than `exceptId`), to name it in a 409. */
export async function overlappingClientBooking(
  q: Queryable,
  clientKey: string,
  range: Interval,
  exceptId: string | null,
): Promise<Interval | null> {
  const { rows } = await q.query<{ start_at: Date; end_at: Date }>(
    `SELECT start_at, end_at FROM client_blocks
      WHERE client_key = $1 AND status IN ('held', 'pending', 'confirmed')
        AND tstzrange(start_at, end_at, '[)') && tstzrange($2, $3, '[)')
        AND ($4::text IS NULL OR booking_id <> $4)
      ORDER BY start_at LIMIT 1`,
    [clientKey, new Date(range.start), new Date(range.end), exceptId],
  );
  return rows[0] ? { start: rows[0].start_at.getTime(), end: rows[0].end_at.getTime() } : null;
}
