import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exceededLimit, filterByLimits, periodOf } from '../../src/domain/limits.js';
import type { BookingLimits, LimitPeriod } from '../../src/domain/limits.js';
import type { Interval } from '../../src/domain/intervals.js';
import { HOUR, MINUTE, at } from './tz-reference.js';

const NY = 'America/New_York';
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
const hours = (i: Interval) => (i.end - i.start) / HOUR;

describe('periodOf', () => {
  const cases: [string, LimitPeriod, string, string, string, number][] = [
    // zone, period, instant, expected start, expected end, elapsed hours
    [NY, 'day', '2027-03-14T12:00:00-04:00', '2027-03-14T00:00:00-05:00', '2027-03-15T00:00:00-04:00', 23],
    [NY, 'day', '2027-03-14T00:00:00-05:00', '2027-03-14T00:00:00-05:00', '2027-03-15T00:00:00-04:00', 23],
    [NY, 'day', '2027-03-13T23:59:59-05:00', '2027-03-13T00:00:00-05:00', '2027-03-14T00:00:00-05:00', 24],
    [NY, 'day', '2027-11-07T01:30:00-05:00', '2027-11-07T00:00:00-04:00', '2027-11-08T00:00:00-05:00', 25],
    // Santiago skips 2027-09-05 00:00-00:59: that day starts at 01:00.
    ['America/Santiago', 'day', '2027-09-05T12:00:00-03:00', '2027-09-05T01:00:00-03:00', '2027-09-06T00:00:00-03:00', 23],
    ['Asia/Kathmandu', 'day', '2027-06-01T18:14:00Z', '2027-06-01T00:00:00+05:45', '2027-06-02T00:00:00+05:45', 24],
    // ISO weeks run Monday 00:00 to Monday 00:00, across months, years and DST.
    [NY, 'week', '2027-12-31T12:00:00-05:00', '2027-12-27T00:00:00-05:00', '2028-01-03T00:00:00-05:00', 168],
    [NY, 'week', '2028-01-02T23:59:00-05:00', '2027-12-27T00:00:00-05:00', '2028-01-03T00:00:00-05:00', 168],
    [NY, 'week', '2027-03-31T09:00:00-04:00', '2027-03-29T00:00:00-04:00', '2027-04-05T00:00:00-04:00', 168],
    [NY, 'week', '2027-03-14T23:30:00-04:00', '2027-03-08T00:00:00-05:00', '2027-03-15T00:00:00-04:00', 167],
    [NY, 'week', '2027-03-15T00:00:00-04:00', '2027-03-15T00:00:00-04:00', '2027-03-22T00:00:00-04:00', 168],
    [NY, 'month', '2027-03-31T23:59:00-04:00', '2027-03-01T00:00:00-05:00', '2027-04-01T00:00:00-04:00', 31 * 24 - 1],
    [NY, 'month', '2027-12-15T12:00:00-05:00', '2027-12-01T00:00:00-05:00', '2028-01-01T00:00:00-05:00', 31 * 24],
    ['Asia/Kathmandu', 'month', '2028-02-29T23:00:00+05:45', '2028-02-01T00:00:00+05:45', '2028-03-01T00:00:00+05:45', 29 * 24],
  ];
  it.each(cases)('%s %s of %s', (zone, period, t, start, end, elapsed) => {
    const p = periodOf(zone, period, at(t));
    expect(p).toEqual(span(start, end));
    expect(hours(p)).toBe(elapsed);
  });
});

describe('exceededLimit', () => {
  it('counts bookings by where they start, in the local day (23 hours long here)', () => {
    // The second one starts the evening before and runs past midnight: it counts for 03-13.
    const existing = [at('2027-03-14T00:30:00-05:00'), at('2027-03-13T23:45:00-05:00')];
    expect(exceededLimit(NY, { perDay: 2 }, existing, at('2027-03-14T22:00:00-04:00'))).toBeNull();
    expect(exceededLimit(NY, { perDay: 1 }, existing, at('2027-03-14T22:00:00-04:00'))).toBe('day');
    expect(exceededLimit(NY, { perDay: 1 }, existing, at('2027-03-14T23:59:00-04:00'))).toBe('day');
    expect(exceededLimit(NY, { perDay: 1 }, existing, at('2027-03-15T00:00:00-04:00'))).toBeNull();
  });
  it('names the narrowest limit reached, and none without limits', () => {
    const existing = [at('2027-03-08T09:00:00-05:00'), at('2027-03-09T09:00:00-05:00')];
    const monday = at('2027-03-08T15:00:00-05:00');
    expect(exceededLimit(NY, { perDay: 1, perWeek: 2, perMonth: 2 }, existing, monday)).toBe('day');
    expect(exceededLimit(NY, { perDay: 5, perWeek: 2, perMonth: 2 }, existing, monday)).toBe('week');
    expect(exceededLimit(NY, { perWeek: 3, perMonth: 2 }, existing, at('2027-03-31T15:00:00-04:00'))).toBe('month');
    expect(exceededLimit(NY, { perMonth: 2 }, existing, at('2027-04-01T00:00:00-04:00'))).toBeNull();
    expect(exceededLimit(NY, {}, existing, monday)).toBeNull();
  });
});

describe('filterByLimits', () => {
  const slotAt = (iso: string): Interval => ({ start: at(iso), end: at(iso) + 30 * MINUTE });
  it('drops the slots of full periods only', () => {
    const slots = ['2027-11-06T23:30:00-04:00', '2027-11-07T01:30:00-04:00', '2027-11-07T01:30:00-05:00',
      '2027-11-07T23:30:00-05:00', '2027-11-08T00:00:00-05:00'].map(slotAt);
    const existing = [at('2027-11-07T12:00:00-05:00')];
    expect(filterByLimits(NY, { perDay: 1 }, existing, slots)).toEqual([slots[0], slots[4]]);
    expect(filterByLimits(NY, { perDay: 2 }, existing, slots)).toEqual(slots);
    expect(filterByLimits(NY, { perWeek: 1 }, existing, slots)).toEqual([slots[4]]); // 11-08 is a Monday
    expect(filterByLimits(NY, {}, existing, [])).toEqual([]);
  });

  it('agrees with exceededLimit slot by slot (property)', () => {
    const ZONES = [NY, 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Europe/Berlin', 'America/Santiago', 'UTC'];
    const BASES = ['2027-02-20T00:00:00Z', '2027-08-20T00:00:00Z', '2027-10-15T00:00:00Z', '2027-12-10T00:00:00Z'].map(at);
    const SPAN_MINUTES = 60 * 24 * 60; // 60 days
    const limit = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined });
    const arb = fc.record({
      zone: fc.constantFrom(...ZONES), base: fc.constantFrom(...BASES),
      limits: fc.record({ perDay: limit, perWeek: limit, perMonth: limit }),
      existing: fc.array(fc.integer({ min: 0, max: SPAN_MINUTES }), { maxLength: 30 }),
      slots: fc.array(fc.integer({ min: 0, max: SPAN_MINUTES / 15 }), { maxLength: 60 }),
    });
    fc.assert(fc.property(arb, (c) => {
      const limits: BookingLimits = c.limits;
      const existing = c.existing.map((m) => c.base + m * MINUTE);
      const slots = [...new Set(c.slots)].sort((a, b) => a - b).map((q) => ({ start: c.base + q * 15 * MINUTE, end: c.base + (q + 2) * 15 * MINUTE }));
      const expectedKept = slots.filter((s) => exceededLimit(c.zone, limits, existing, s.start) === null);
      expect(filterByLimits(c.zone, limits, existing, slots)).toEqual(expectedKept);
    }), { numRuns: 200 });
  });
});
