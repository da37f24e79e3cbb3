import { describe, expect, it } from 'vitest';
import { cancelTransition, confirmTransition, effectiveStatus } from '../../src/domain/booking-state.js';
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

describe('booking state machine', () => {
  it('reads a held booking past expiresAt as expired, at the exact instant too', () => {
    expect(effectiveStatus('held', now + 1, now)).toBe('held');
    expect(effectiveStatus('held', now, now)).toBe('expired');
    expect(effectiveStatus('confirmed', now - 1, now)).toBe('confirmed');
  });

  it('confirms holds, repeats harmlessly, refuses expired (410) and cancelled (409)', () => {
    expect(confirmTransition('held')).toEqual({ to: 'confirmed' });
    expect(confirmTransition('confirmed')).toBe('unchanged');
    expect(codeOf(() => confirmTransition('expired'))).toBe('hold_expired');
    expect(codeOf(() => confirmTransition('cancelled'))).toBe('state_conflict');
  });

  it('cancels live bookings, repeats harmlessly, refuses expired holds', () => {
    expect(cancelTransition('held')).toEqual({ to: 'cancelled' });
    expect(cancelTransition('confirmed')).toEqual({ to: 'cancelled' });
    expect(cancelTransition('cancelled')).toBe('unchanged');
    expect(codeOf(() => cancelTransition('expired'))).toBe('state_conflict');
  });
});
