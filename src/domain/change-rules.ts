// Who may still change a booking, and when; and the bounds a booking window puts on starts.
import { AppError } from './errors.js';
import { addDays, localToInstant } from './zoned-time.js';
import type { LocalDate } from './zoned-time.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

export type Actor = 'client' | 'host' | 'admin';

/**
 * Throws too_late_to_change when a client cancels or reschedules less than
 * cancellationNoticeMinutes before the start, and for any actor when a booking that has
 * started (start <= now) would be rescheduled. Hosts and admins are not bound by the notice.
 * A notice of 0 (the default) means no notice: a client may then cancel as in v1, even
 * after the start. Example with notice 1440: a client cancelling at 09:00 a booking of
 * tomorrow 08:59 is refused; one of tomorrow 09:00 is allowed.
 */
export function ensureChangeAllowed(
  change: 'cancel' | 'reschedule', actor: Actor, now: number, start: number, cancellationNoticeMinutes: number,
): void {
  if (change === 'reschedule' && start <= now) {
    throw new AppError('too_late_to_change', 'The booking has started; it can no longer be rescheduled.');
  }
  if (actor !== 'client' || !(cancellationNoticeMinutes > 0)) return;
  if (start - now < cancellationNoticeMinutes * MINUTE) {
    throw new AppError(
      'too_late_to_change',
      `A booking can be ${change === 'cancel' ? 'cancelled' : 'rescheduled'} by its client only up to ${cancellationNoticeMinutes} minutes before it starts.`,
    );
  }
}

export type BookingWindow = { type: 'rolling'; days: number } | { type: 'range'; start: LocalDate; end: LocalDate };

/**
 * The starts a booking window allows: earliest <= start < latestExclusive.
 *   rolling 30 days           -> (-Infinity, now + 30 * 24 h): elapsed time, not local days
 *   range 2027-06-01..06-30   -> [local midnight of 06-01, local midnight of 07-01) in `zone`
 *   none                      -> (-Infinity, Infinity)
 */
export function windowBounds(window: BookingWindow | undefined, zone: string, now: number): { earliest: number; latestExclusive: number } {
  if (window === undefined) return { earliest: -Infinity, latestExclusive: Infinity };
  if (window.type === 'rolling') return { earliest: -Infinity, latestExclusive: now + window.days * DAY };
  return {
    earliest: localToInstant(zone, window.start, 0),
    latestExclusive: localToInstant(zone, addDays(window.end, 1), 0),
  };
}
