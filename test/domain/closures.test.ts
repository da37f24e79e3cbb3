import { describe, expect, it } from 'vitest';
import { isClosedOn } from '../../src/domain/closures.js';
import type { Closure } from '../../src/domain/closures.js';
import { effectiveAvailability } from '../../src/domain/schedule.js';
import type { AvailabilityRules } from '../../src/domain/schedule.js';
import type { Interval } from '../../src/domain/intervals.js';
import { at } from './tz-reference.js';

const NY = 'America/New_York';
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });

describe('isClosedOn', () => {
  const fixed: Closure = { date: '2027-12-24', recurrence: 'none' };
  const christmas: Closure = { date: '2027-12-25', recurrence: 'yearly' };
  const leapDay: Closure = { date: '2028-02-29', recurrence: 'yearly' };
  it('closes a fixed date only', () => {
    expect(isClosedOn([fixed], '2027-12-24')).toBe(true);
    expect(isClosedOn([fixed], '2028-12-24')).toBe(false);
    expect(isClosedOn([fixed], '2027-12-25')).toBe(false);
    expect(isClosedOn([], '2027-12-24')).toBe(false);
  });
  it('repeats a yearly closure on the same month and day, in every year', () => {
    for (const date of ['2026-12-25', '2027-12-25', '2031-12-25']) expect(isClosedOn([fixed, christmas], date)).toBe(true);
    expect(isClosedOn([christmas], '2027-12-26')).toBe(false);
  });
  it('moves a yearly 29 February to 28 February in common years only', () => {
    expect(isClosedOn([leapDay], '2028-02-29')).toBe(true);
    expect(isClosedOn([leapDay], '2028-02-28')).toBe(false);
    expect(isClosedOn([leapDay], '2027-02-28')).toBe(true);
    expect(isClosedOn([leapDay], '2100-02-28')).toBe(true); // 2100 is not a leap year
    expect(isClosedOn([leapDay], '2000-02-28')).toBe(false); // 2000 is
    expect(isClosedOn([leapDay], '2027-03-01')).toBe(false);
    expect(isClosedOn([{ date: '2028-02-29', recurrence: 'none' }], '2027-02-28')).toBe(false);
    expect(isClosedOn([{ date: '2027-02-28', recurrence: 'yearly' }], '2028-02-28')).toBe(true);
    expect(isClosedOn([{ date: '2027-02-28', recurrence: 'yearly' }], '2028-02-29')).toBe(false);
  });
});

describe('effectiveAvailability with closures', () => {
  // Monday 2027-12-20 .. Sunday 2027-12-26, New York (EST, -05:00 all week).
  const week = span('2027-12-20T00:00:00-05:00', '2027-12-27T00:00:00-05:00');
  const nineToFive = (['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const).map((day) => ({ day, start: '09:00', end: '17:00' }));
  const rules = (extra: Partial<AvailabilityRules>): AvailabilityRules =>
    ({ timeZone: NY, weekly: nineToFive, overrides: [], oneOff: [], timeOff: [], ...extra });
  const day = (date: string, from: string, to: string) => span(`${date}T${from}:00-05:00`, `${date}T${to}:00-05:00`);

  it('turns the weekly hours of a closed date into a day off', () => {
    const result = effectiveAvailability(rules({ closures: [{ date: '2026-12-24', recurrence: 'yearly' }] }), week);
    // Friday 2027-12-24 is closed (the yearly closure was made in 2026); the weekend has no hours.
    expect(result).toEqual(['2027-12-20', '2027-12-21', '2027-12-22', '2027-12-23'].map((d) => day(d, '09:00', '17:00')));
  });
  it('keeps an override on a closed date (override beats closure) and one-off windows', () => {
    const result = effectiveAvailability(rules({
      closures: [{ date: '2027-12-24', recurrence: 'none' }, { date: '2027-12-23', recurrence: 'none' }],
      overrides: [{ date: '2027-12-24', timeZone: NY, windows: [{ start: '10:00', end: '12:00' }] }],
      oneOff: [day('2027-12-23', '13:00', '14:00')],
    }), week);
    expect(result).toEqual([
      day('2027-12-20', '09:00', '17:00'), day('2027-12-21', '09:00', '17:00'), day('2027-12-22', '09:00', '17:00'),
      day('2027-12-23', '13:00', '14:00'), day('2027-12-24', '10:00', '12:00'),
    ]);
  });
  it('keeps an overnight window of the open evening before; drops the closed evening\'s', () => {
    const overnight = rules({
      weekly: [{ day: 'wednesday', start: '22:00', end: '06:00' }, { day: 'thursday', start: '22:00', end: '06:00' }],
      closures: [{ date: '2027-12-23', recurrence: 'none' }], // Thursday
    });
    expect(effectiveAvailability(overnight, week)).toEqual([span('2027-12-22T22:00:00-05:00', '2027-12-23T06:00:00-05:00')]);
  });
});
