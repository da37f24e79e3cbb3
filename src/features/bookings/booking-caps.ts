import type { ClientHoldCounts } from '../../db/hold-locks-repo.js';
import { beyondHorizon } from '../../domain/booking-horizon.js';
import { AppError } from '../../domain/errors.js';
import type { AppContext, Principal } from '../context.js';

/**
 * The limits that keep one client from booking out a provider, checked in the
 * hold's transaction on counts read under the client's lock (lockClientAndCount,
 * see insertHoldUnderLocks), so concurrent holds of one client are counted one at a time:
 * - the start lies within the booking horizon (BOOKING_HORIZON_DAYS, or
 *   `horizonDays` from an event type), else 422 not_bookable;
 * - the client has fewer than MAX_BOOKINGS_PER_CLIENT_PER_PROVIDER upcoming
 *   bookings (held and unexpired, or confirmed; starting after now) with this
 *   provider and fewer than MAX_BOOKINGS_PER_CLIENT in all, else 409
 *   too_many_bookings. The hold cap (MAX_HOLDS_PER_CLIENT) stops holds; this
 *   stops hold -> confirm loops.
 */
export function enforceBookingCaps(
  ctx: AppContext,
  caller: Principal,
  booking: { clientId: string; providerId: string; start: number; horizonDays?: number },
  counts: Pick<ClientHoldCounts, 'upcoming' | 'upcomingByProvider'>,
): void {
  const horizonDays = booking.horizonDays ?? ctx.config.bookingHorizonDays;
  if (beyondHorizon(booking.start, ctx.clock.now(), horizonDays)) {
    ctx.metrics.countBooking('not_bookable');
    throw new AppError('not_bookable', `The start is more than ${horizonDays} days ahead; bookings open ${horizonDays} days in advance.`);
  }
  const withProvider = counts.upcomingByProvider[booking.providerId] ?? 0;
  const overall = counts.upcoming;
  const who = caller.userId === booking.clientId ? 'You have' : `Client ${booking.clientId} has`;
  const refuse = (detail: string) => {
    ctx.metrics.countBooking('too_many_bookings');
    return new AppError('too_many_bookings', `${who} ${detail}; cancel one, or book again after one has taken place.`);
  };
  if (withProvider >= ctx.config.maxBookingsPerClientPerProvider) {
    throw refuse(`${withProvider} upcoming bookings with this provider, the most allowed`);
  }
  if (overall >= ctx.config.maxBookingsPerClient) throw refuse(`${overall} upcoming bookings, the most allowed`);
}
