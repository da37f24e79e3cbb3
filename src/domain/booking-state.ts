import { AppError } from './errors.js';

/**
 * The booking state machine.
 *
 *   held --confirm--> confirmed --cancel--> cancelled
 *     |                  ^
 *     |--confirm (type requires confirmation)--> pending --accept--/
 *     |                                            |  \--decline--> declined
 *     |                                            |--cancel--> cancelled
 *     |                                            \--(start passes unanswered)--> expired
 *     |--cancel--> cancelled
 *     \--(expiresAt passes unconfirmed)--> expired
 *
 * A held row whose expiresAt has passed IS expired, and so is a pending row whose start has
 * passed, whether or not a sweeper has written that yet: `effectiveStatus` is the only way to
 * read a status. Live (blocking time, counting towards limits): held, pending, confirmed.
 */
export type BookingStatus = 'held' | 'pending' | 'confirmed' | 'declined' | 'cancelled' | 'expired';
export const BOOKING_STATUSES: readonly BookingStatus[] = ['held', 'pending', 'confirmed', 'declined', 'cancelled', 'expired'];

/** `start` is needed only for pending bookings; without it a pending one reads pending. */
export function effectiveStatus(stored: BookingStatus, expiresAt: number, now: number, start?: number): BookingStatus {
  if (stored === 'held' && expiresAt <= now) return 'expired';
  if (stored === 'pending' && start !== undefined && start <= now) return 'expired';
  return stored;
}

export function isLive(status: BookingStatus): boolean {
  return status === 'held' || status === 'pending' || status === 'confirmed';
}

/** 'unchanged' means the call is a harmless repeat and answers with the booking as it is. */
export type Transition = { to: BookingStatus } | 'unchanged';

const conflict = (detail: string) => new AppError('state_conflict', detail);

/** The client's confirmation; on a type that requires confirmation it asks the host instead. */
export function confirmTransition(current: BookingStatus, requiresConfirmation = false): Transition {
  switch (current) {
    case 'held':
      return { to: requiresConfirmation ? 'pending' : 'confirmed' };
    case 'pending':
    case 'confirmed':
      return 'unchanged';
    case 'expired':
      throw new AppError('hold_expired', 'The hold expired before it was confirmed; hold the slot again.');
    case 'cancelled':
      throw conflict('A cancelled booking cannot be confirmed.');
    case 'declined':
      throw conflict('A declined booking cannot be confirmed.');
  }
}

/** The host's yes to a pending booking. */
export function acceptTransition(current: BookingStatus): Transition {
  switch (current) {
    case 'pending':
      return { to: 'confirmed' };
    case 'confirmed':
      return 'unchanged';
    case 'held':
      throw conflict('The booking is not yet requested: the client has not confirmed it.');
    case 'declined':
    case 'cancelled':
    case 'expired':
      throw conflict(`A ${current} booking cannot be accepted.`);
  }
}

/** The host's no to a pending booking; its time is free at once. */
export function declineTransition(current: BookingStatus): Transition {
  switch (current) {
    case 'pending':
      return { to: 'declined' };
    case 'declined':
      return 'unchanged';
    case 'held':
      throw conflict('The booking is not yet requested: the client has not confirmed it.');
    case 'confirmed':
    case 'cancelled':
    case 'expired':
      throw conflict(`A ${current} booking cannot be declined.`);
  }
}

export function cancelTransition(current: BookingStatus): Transition {
  switch (current) {
    case 'held':
    case 'pending':
    case 'confirmed':
      return { to: 'cancelled' };
    case 'cancelled':
      return 'unchanged';
    case 'expired':
      throw conflict('An expired booking has nothing to cancel.');
    case 'declined':
      throw conflict('A declined booking has nothing to cancel.');
  }
}

/** Only live bookings move; the status itself is kept (the caller decides on pending). */
export function rescheduleAllowed(current: BookingStatus): void {
  if (!isLive(current)) throw conflict(`A ${current} booking cannot be rescheduled.`);
}
