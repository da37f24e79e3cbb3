import { AppError } from './errors.js';

/**
 * The booking state machine.
 *
 *   held --confirm--> confirmed --cancel--> cancelled
 *     |  \--cancel--> cancelled
 *     \--(expiresAt passes unconfirmed)--> expired
 *
 * A held row whose expiresAt has passed IS expired, whether or not a sweeper
 * has written that yet: `effectiveStatus` is the only way to read a status.
 */
export type BookingStatus = 'held' | 'confirmed' | 'cancelled' | 'expired';
export const BOOKING_STATUSES: readonly BookingStatus[] = ['held', 'confirmed', 'cancelled', 'expired'];

export function effectiveStatus(stored: BookingStatus, expiresAt: number, now: number): BookingStatus {
  return stored === 'held' && expiresAt <= now ? 'expired' : stored;
}

export function isLive(status: BookingStatus): boolean {
  return status === 'held' || status === 'confirmed';
}

/** 'unchanged' means the call is a harmless repeat and answers with the booking as it is. */
export type Transition = { to: BookingStatus } | 'unchanged';

export function confirmTransition(current: BookingStatus): Transition {
  switch (current) {
    case 'held':
      return { to: 'confirmed' };
    case 'confirmed':
      return 'unchanged';
    case 'expired':
      throw new AppError('hold_expired', 'The hold expired before it was confirmed; hold the slot again.');
    case 'cancelled':
      throw new AppError('state_conflict', 'A cancelled booking cannot be confirmed.');
  }
}

export function cancelTransition(current: BookingStatus): Transition {
  switch (current) {
    case 'held':
    case 'confirmed':
      return { to: 'cancelled' };
    case 'cancelled':
      return 'unchanged';
    case 'expired':
      throw new AppError('state_conflict', 'An expired hold has nothing to cancel.');
  }
}
