import { describe, expect, it } from 'vitest';
import {
  BOOKING_STATUSES, acceptTransition, cancelTransition, confirmTransition, declineTransition, effectiveStatus,
  isLive, rescheduleAllowed,
} from '../../src/domain/booking-state.js';
import type { BookingStatus, Transition } from '../../src/domain/booking-state.js';
import { AppError } from '../../src/domain/errors.js';

const now = Date.parse('2027-03-01T10:00:00Z');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

/** Every status's outcome: a target, 'unchanged', or the error code thrown. */
const outcomes = (fn: (s: BookingStatus) => Transition | void) =>
  Object.fromEntries(BOOKING_STATUSES.map((s) => {
    const code = codeOf(() => fn(s));
    if (code !== undefined) return [s, code];
    const t = fn(s);
    return [s, t === undefined ? 'ok' : t === 'unchanged' ? t : t.to];
  }));

describe('booking state machine', () => {
  it('lists six statuses; held, pending and confirmed are live', () => {
    expect(BOOKING_STATUSES).toEqual(['held', 'pending', 'confirmed', 'declined', 'cancelled', 'expired']);
    expect(BOOKING_STATUSES.filter(isLive)).toEqual(['held', 'pending', 'confirmed']);
  });

  it('reads a held booking past expiresAt as expired, at the exact instant too', () => {
    expect(effectiveStatus('held', now + 1, now)).toBe('held');
    expect(effectiveStatus('held', now, now)).toBe('expired');
    expect(effectiveStatus('confirmed', now - 1, now)).toBe('confirmed');
  });

  it('reads a pending booking whose start has come unanswered as expired; a pending one never expires as a hold', () => {
    expect(effectiveStatus('pending', now - 1, now, now + 1)).toBe('pending');
    expect(effectiveStatus('pending', now - 1, now, now)).toBe('expired');
    expect(effectiveStatus('pending', now - 1, now)).toBe('pending'); // no start given
    expect(effectiveStatus('declined', now - 1, now, now - 1)).toBe('declined');
    expect(effectiveStatus('confirmed', now - 1, now, now - 1)).toBe('confirmed');
  });

  it('confirms holds (to pending when the type requires confirmation), repeats harmlessly, refuses the rest', () => {
    expect(outcomes((s) => confirmTransition(s))).toEqual({
      held: 'confirmed', pending: 'unchanged', confirmed: 'unchanged',
      declined: 'state_conflict', cancelled: 'state_conflict', expired: 'hold_expired',
    });
    expect(confirmTransition('held', true)).toEqual({ to: 'pending' });
    expect(confirmTransition('pending', true)).toBe('unchanged');
    expect(confirmTransition('confirmed', true)).toBe('unchanged');
  });

  it('accepts only pending bookings', () => {
    expect(outcomes(acceptTransition)).toEqual({
      held: 'state_conflict', pending: 'confirmed', confirmed: 'unchanged',
      declined: 'state_conflict', cancelled: 'state_conflict', expired: 'state_conflict',
    });
  });

  it('declines only pending bookings', () => {
    expect(outcomes(declineTransition)).toEqual({
      held: 'state_conflict', pending: 'declined', confirmed: 'state_conflict',
      declined: 'unchanged', cancelled: 'state_conflict', expired: 'state_conflict',
    });
  });

  it('cancels live bookings, repeats harmlessly, refuses expired and declined ones', () => {
    expect(outcomes(cancelTransition)).toEqual({
      held: 'cancelled', pending: 'cancelled', confirmed: 'cancelled',
      declined: 'state_conflict', cancelled: 'unchanged', expired: 'state_conflict',
    });
  });

  it('reschedules live bookings only', () => {
    expect(outcomes(rescheduleAllowed)).toEqual({
      held: 'ok', pending: 'ok', confirmed: 'ok',
      declined: 'state_conflict', cancelled: 'state_conflict', expired: 'state_conflict',
    });
  });
});
