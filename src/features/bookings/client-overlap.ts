import { clientKeyOf, CLIENT_OVERLAP_CONSTRAINT, overlappingClientBooking, releaseLapsedClientBlocks } from '../../db/client-blocks-repo.js';
import { SQLSTATE, sqlState, type Queryable } from '../../db/database.js';
import { AppError } from '../../domain/errors.js';
import type { Interval } from '../../domain/intervals.js';
import { formatInstant } from '../../domain/zoned-time.js';

/**
 * One client, one place at a time: a client (or a guest, by email) cannot hold
 * two live bookings that overlap, unless the booking's event type says
 * clientMayOverlap. The database decides (client_blocks in migrations/012,
 * an exclusion constraint kept by a trigger), so two holds racing on two
 * providers cannot both pass; this module only prepares and explains.
 *
 *   client has 09:00-09:30 with provider A; a hold 09:15-09:45 with provider B
 *   -> 409 client_overlap "... already has a booking from 2027-03-01T09:00:00Z to 2027-03-01T09:30:00Z ..."
 */
export interface ClientTime {
  clientId: string | null;
  guestEmail?: string | null;
  /** The booking itself (its buffers are the host's time, not the client's). */
  range: Interval;
  /** A booking being moved: its own current time does not count. */
  bookingId: string | null;
}

/** Before the insert or move: the client's lapsed holds in the way stop counting (see releaseLapsedClientBlocks). */
export async function clearClientTime(tx: Queryable, who: ClientTime): Promise<void> {
  const key = clientKeyOf(who);
  if (key !== null) await releaseLapsedClientBlocks(tx, key, who.range);
}

/** A violation of the client's constraint becomes 409 client_overlap naming the other booking's time; anything else passes. */
export async function explainClientOverlap(db: Queryable, error: unknown, who: ClientTime): Promise<unknown> {
  if (sqlState(error) !== SQLSTATE.exclusionViolation) return error;
  if ((error as { constraint?: unknown }).constraint !== CLIENT_OVERLAP_CONSTRAINT) return error;
  const key = clientKeyOf(who);
  // The other booking committed before the constraint could refuse this one, so it is visible now (unless cancelled since).
  const other = key === null ? null : await overlappingClientBooking(db, key, who.range, who.bookingId);
  const whose = who.clientId === null ? 'This email' : 'The client';
  const when = other ? ` from ${formatInstant(other.start)} to ${formatInstant(other.end)}` : '';
  return new AppError(
    'client_overlap',
    `${whose} already has a booking${when} that overlaps this time; ` +
      'a client cannot be in two places at once (unless the event type sets clientMayOverlap).',
  );
}
