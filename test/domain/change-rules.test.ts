import { describe, expect, it } from 'vitest';
import { ensureChangeAllowed, windowBounds } from '../../src/domain/change-rules.js';
import type { Actor } from '../../src/domain/change-rules.js';
import { AppError } from '../../src/domain/errors.js';
import { HOUR, MINUTE, at } from './tz-reference.js';

const NOW = at('2027-06-07T09:00:00-04:00');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

describe('ensureChangeAllowed', () => {
  const tooLate = 'too_late_to_change';
  const check = (change: 'cancel' | 'reschedule', actor: Actor, start: number, notice: number) =>
    codeOf(() => ensureChangeAllowed(change, actor, NOW, start, notice));

  it('binds clients to the notice, to the minute, for cancel and reschedule', () => {
    const dayAhead = at('2027-06-08T09:00:00-04:00');
    for (const change of ['cancel', 'reschedule'] as const) {
      expect(check(change, 'client', dayAhead, 1440)).toBeUndefined();
      expect(check(change, 'client', dayAhead - MINUTE, 1440)).toBe(tooLate);
      expect(check(change, 'client', dayAhead - 1, 1440)).toBe(tooLate);
    }
  });
  it('does not bind hosts and admins to the notice', () => {
    const soon = NOW + 10 * MINUTE;
    for (const actor of ['host', 'admin'] as const) {
      expect(check('cancel', actor, soon, 1440)).toBeUndefined();
      expect(check('reschedule', actor, soon, 1440)).toBeUndefined();
    }
  });
  it('lets nobody reschedule a booking that has started; a notice of 0 lets a client cancel any time', () => {
    for (const actor of ['client', 'host', 'admin'] as const) {
      expect(check('reschedule', actor, NOW, 0)).toBe(tooLate);
      expect(check('reschedule', actor, NOW - HOUR, 0)).toBe(tooLate);
      expect(check('reschedule', actor, NOW + 1, 0)).toBeUndefined();
      expect(check('cancel', actor, NOW - HOUR, 0)).toBeUndefined();
    }
    expect(check('cancel', 'client', NOW - HOUR, 60)).toBe(tooLate);
  });
});

describe('windowBounds', () => {
  it('has no bounds without a window', () => {
    expect(windowBounds(undefined, 'America/New_York', NOW)).toEqual({ earliest: -Infinity, latestExclusive: Infinity });
  });
  it('counts a rolling window in elapsed 24-hour days from now', () => {
    expect(windowBounds({ type: 'rolling', days: 7 }, 'America/New_York', NOW))
      .toEqual({ earliest: -Infinity, latestExclusive: at('2027-06-14T09:00:00-04:00') });
    // Across the fall-back night 7 x 24 h ends at 08:00 local, not 09:00.
    expect(windowBounds({ type: 'rolling', days: 7 }, 'America/New_York', at('2027-11-03T09:00:00-04:00')).latestExclusive)
      .toBe(at('2027-11-10T08:00:00-05:00'));
  });
  it('makes a date range inclusive, from local midnight to the local midnight after its end', () => {
    expect(windowBounds({ type: 'range', start: '2027-03-01', end: '2027-03-14' }, 'America/New_York', NOW)).toEqual({
      earliest: at('2027-03-01T00:00:00-05:00'), latestExclusive: at('2027-03-15T00:00:00-04:00'),
    });
    expect(windowBounds({ type: 'range', start: '2027-12-31', end: '2027-12-31' }, 'Asia/Kathmandu', NOW)).toEqual({
      earliest: at('2027-12-31T00:00:00+05:45'), latestExclusive: at('2028-01-01T00:00:00+05:45'),
    });
  });
});
