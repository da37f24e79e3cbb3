import { describe, expect, it } from 'vitest';
import {
  blockedRange, checkEventSlot, computeEventSlots, isOnLocalGrid,
} from '../../src/domain/event-slots.js';
import type { EventSlotQuery } from '../../src/domain/event-slots.js';
import type { Interval } from '../../src/domain/intervals.js';
import { at } from './tz-reference.js';

const NY = 'America/New_York';
const KTM = 'Asia/Kathmandu';
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
// Compared as UTC ISO strings: readable on failure, and computed without the code under test.
const utc = (ms: number) => new Date(ms).toISOString();
const startsOf = (slots: readonly Interval[]) => slots.map((s) => utc(s.start));
const expected = (isos: readonly string[]) => isos.map((iso) => utc(at(iso)));

const query = (extra: Partial<EventSlotQuery>): EventSlotQuery => ({
  available: [], bookingsBlocked: [], calendarBusy: [], durationMinutes: 30, intervalMinutes: 15,
  bufferBeforeMinutes: 0, bufferAfterMinutes: 0, earliestStart: 0, latestStartExclusive: Infinity,
  range: span('2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z'), timeZone: NY, ...extra,
});

describe('computeEventSlots across New York DST nights (availability 00:00-06:00 local)', () => {
  const spring = span('2027-03-14T00:00:00-05:00', '2027-03-14T06:00:00-04:00'); // 5 real hours
  const fall = span('2027-11-07T00:00:00-04:00', '2027-11-07T06:00:00-05:00'); // 7 real hours
  const run = (available: Interval, interval: number) =>
    startsOf(computeEventSlots(query({ available: [available], intervalMinutes: interval, durationMinutes: interval })));

  it('20-minute grid, spring forward: 02:00-02:59 never happens', () => {
    expect(run(spring, 20)).toEqual(expected([
      '2027-03-14T00:00:00-05:00', '2027-03-14T00:20:00-05:00', '2027-03-14T00:40:00-05:00',
      '2027-03-14T01:00:00-05:00', '2027-03-14T01:20:00-05:00', '2027-03-14T01:40:00-05:00',
      '2027-03-14T03:00:00-04:00', '2027-03-14T03:20:00-04:00', '2027-03-14T03:40:00-04:00',
      '2027-03-14T04:00:00-04:00', '2027-03-14T04:20:00-04:00', '2027-03-14T04:40:00-04:00',
      '2027-03-14T05:00:00-04:00', '2027-03-14T05:20:00-04:00', '2027-03-14T05:40:00-04:00',
    ]));
  });
  it('45-minute grid, spring forward: re-aligned after the shift (03:00, not 03:15)', () => {
    // Local grid 00:00 00:45 01:30 [02:15 does not exist] 03:00 03:45 04:30 05:15.
    expect(run(spring, 45)).toEqual(expected([
      '2027-03-14T00:00:00-05:00', '2027-03-14T00:45:00-05:00', '2027-03-14T01:30:00-05:00',
      '2027-03-14T03:00:00-04:00', '2027-03-14T03:45:00-04:00', '2027-03-14T04:30:00-04:00',
      '2027-03-14T05:15:00-04:00',
    ]));
  });
  it('20-minute grid, fall back: both 01:xx hours count', () => {
    expect(run(fall, 20)).toEqual(expected([
      '2027-11-07T00:00:00-04:00', '2027-11-07T00:20:00-04:00', '2027-11-07T00:40:00-04:00',
      '2027-11-07T01:00:00-04:00', '2027-11-07T01:20:00-04:00', '2027-11-07T01:40:00-04:00',
      '2027-11-07T01:00:00-05:00', '2027-11-07T01:20:00-05:00', '2027-11-07T01:40:00-05:00',
      '2027-11-07T02:00:00-05:00', '2027-11-07T02:20:00-05:00', '2027-11-07T02:40:00-05:00',
      '2027-11-07T03:00:00-05:00', '2027-11-07T03:20:00-05:00', '2027-11-07T03:40:00-05:00',
      '2027-11-07T04:00:00-05:00', '2027-11-07T04:20:00-05:00', '2027-11-07T04:40:00-05:00',
      '2027-11-07T05:00:00-05:00', '2027-11-07T05:20:00-05:00', '2027-11-07T05:40:00-05:00',
    ]));
  });
  it('45-minute grid, fall back: 01:30 twice, then 02:15, not 01:15', () => {
    expect(run(fall, 45)).toEqual(expected([
      '2027-11-07T00:00:00-04:00', '2027-11-07T00:45:00-04:00', '2027-11-07T01:30:00-04:00',
      '2027-11-07T01:30:00-05:00', '2027-11-07T02:15:00-05:00', '2027-11-07T03:00:00-05:00',
      '2027-11-07T03:45:00-05:00', '2027-11-07T04:30:00-05:00', '2027-11-07T05:15:00-05:00',
    ]));
  });
  it('a piece spanning the whole spring and fall shifts stays aligned (45 minutes)', () => {
    const year = span('2027-03-01T00:00:00-05:00', '2027-12-01T00:00:00-05:00');
    const slots = computeEventSlots(query({ available: [year], intervalMinutes: 45, durationMinutes: 45 }));
    expect(slots.length).toBeGreaterThan(8000);
    expect(slots.every((s) => isOnLocalGrid(NY, 45, s.start))).toBe(true);
    expect(startsOf(slots.slice(-2))).toEqual(expected(['2027-11-30T22:30:00-05:00', '2027-11-30T23:15:00-05:00']));
  });
});

describe('computeEventSlots (examples)', () => {
  it('uses the Kathmandu (+05:45) local grid even when working time starts off it', () => {
    const q = query({
      timeZone: KTM, intervalMinutes: 45, durationMinutes: 30,
      available: [span('2027-03-15T08:50:00+05:45', '2027-03-15T11:00:00+05:45')],
    });
    expect(startsOf(computeEventSlots(q))).toEqual(expected([
      '2027-03-15T09:00:00+05:45', '2027-03-15T09:45:00+05:45', '2027-03-15T10:30:00+05:45',
    ]));
    const later = { ...q, earliestStart: at('2027-03-15T09:01:00+05:45') };
    expect(startsOf(computeEventSlots(later))).toEqual(expected(['2027-03-15T09:45:00+05:45', '2027-03-15T10:30:00+05:45']));
  });

  it('with buffers 10 and 5 a 09:00-09:30 booking blocks 08:50-09:35', () => {
    const booking = span('2027-06-07T09:00:00-04:00', '2027-06-07T09:30:00-04:00');
    expect(blockedRange(booking, 10, 5)).toEqual(span('2027-06-07T08:50:00-04:00', '2027-06-07T09:35:00-04:00'));
    // A 30-minute slot s with the same buffers is blocked [s-10, s+35): free iff it only touches 08:50-09:35.
    const q = query({
      available: [span('2027-06-07T08:00:00-04:00', '2027-06-07T11:00:00-04:00')],
      bookingsBlocked: [blockedRange(booking, 10, 5)], bufferBeforeMinutes: 10, bufferAfterMinutes: 5,
    });
    expect(startsOf(computeEventSlots(q))).toEqual(expected([
      '2027-06-07T08:00:00-04:00', '2027-06-07T08:15:00-04:00', '2027-06-07T09:45:00-04:00',
      '2027-06-07T10:00:00-04:00', '2027-06-07T10:15:00-04:00', '2027-06-07T10:30:00-04:00',
    ]));
  });

  it('lets buffers reach into time off, never the slot itself; calendar busy time blocks like bookings', () => {
    const q = query({
      available: [span('2027-06-07T09:00:00-04:00', '2027-06-07T10:00:00-04:00')],
      intervalMinutes: 30, bufferBeforeMinutes: 15, bufferAfterMinutes: 15,
    });
    const both = expected(['2027-06-07T09:00:00-04:00', '2027-06-07T09:30:00-04:00']);
    expect(startsOf(computeEventSlots(q))).toEqual(both);
    const touching = { ...q, calendarBusy: [span('2027-06-07T08:00:00-04:00', '2027-06-07T08:45:00-04:00')] };
    expect(startsOf(computeEventSlots(touching))).toEqual(both);
    const into = { ...q, calendarBusy: [span('2027-06-07T08:00:00-04:00', '2027-06-07T08:50:00-04:00')] };
    expect(startsOf(computeEventSlots(into))).toEqual(both.slice(1));
    expect(checkEventSlot(into, span('2027-06-07T09:00:00-04:00', '2027-06-07T09:30:00-04:00'))).toBe('busy');
    expect(checkEventSlot(q, span('2027-06-07T10:00:00-04:00', '2027-06-07T10:30:00-04:00'))).toBe('outside_availability');
  });

  it('ignores empty busy ranges even when buffers would widen them', () => {
    const at930 = at('2027-06-07T09:30:00-04:00');
    const q = query({
      available: [span('2027-06-07T09:00:00-04:00', '2027-06-07T10:00:00-04:00')], intervalMinutes: 30,
      bufferBeforeMinutes: 15, bufferAfterMinutes: 15, calendarBusy: [{ start: at930, end: at930 }],
    });
    expect(computeEventSlots(q)).toHaveLength(2);
  });

  it('offers only starts before latestStartExclusive', () => {
    const q = query({ available: [span('2027-06-07T09:00:00-04:00', '2027-06-07T11:00:00-04:00')], intervalMinutes: 30 });
    const cut = { ...q, latestStartExclusive: at('2027-06-07T10:00:00-04:00') };
    expect(startsOf(computeEventSlots(cut))).toEqual(expected(['2027-06-07T09:00:00-04:00', '2027-06-07T09:30:00-04:00']));
    const slot = span('2027-06-07T10:00:00-04:00', '2027-06-07T10:30:00-04:00');
    expect(checkEventSlot(cut, slot)).toBe('outside_window');
    expect(checkEventSlot({ ...cut, latestStartExclusive: slot.start + 1 }, slot)).toBe('ok');
  });

  it('returns nothing for a zero duration, an empty range or no candidate', () => {
    const q = query({ available: [span('2027-06-07T09:00:00-04:00', '2027-06-07T11:00:00-04:00')] });
    expect(computeEventSlots({ ...q, durationMinutes: 0 })).toEqual([]);
    expect(computeEventSlots({ ...q, range: { start: 5, end: 5 } })).toEqual([]);
    expect(computeEventSlots({ ...q, latestStartExclusive: -Infinity })).toEqual([]);
  });
});

describe('checkEventSlot and isOnLocalGrid', () => {
  const q = query({
    available: [span('2027-06-07T09:00:00-04:00', '2027-06-07T12:00:00-04:00')], intervalMinutes: 20,
    earliestStart: at('2027-06-07T09:30:00-04:00'), latestStartExclusive: at('2027-06-07T11:00:00-04:00'),
    bookingsBlocked: [span('2027-06-07T10:40:00-04:00', '2027-06-07T11:00:00-04:00')],
  });
  const check = (start: string, minutes = 30) => checkEventSlot(q, { start: at(start), end: at(start) + minutes * 60_000 });
  it('names the first rule broken, in the documented order', () => {
    expect(check('2027-06-07T09:40:00-04:00')).toBe('ok');
    expect(check('2027-06-07T09:45:00-04:00')).toBe('off_grid');
    expect(check('2027-06-07T09:40:00-04:00', 20)).toBe('off_grid'); // wrong length
    expect(check('2027-06-07T08:40:00-04:00')).toBe('too_soon'); // also outside availability
    expect(check('2027-06-07T11:40:00-04:00')).toBe('outside_window'); // also outside availability
    expect(check('2027-06-07T10:20:00-04:00')).toBe('busy');
  });
  it('reads the grid on the local clock, seconds included', () => {
    expect(isOnLocalGrid(KTM, 45, at('2027-03-15T09:00:00+05:45'))).toBe(true);
    expect(isOnLocalGrid(KTM, 45, at('2027-03-15T09:15:00+05:45'))).toBe(false);
    expect(isOnLocalGrid(KTM, 15, at('2027-03-15T09:15:00+05:45'))).toBe(true);
    expect(isOnLocalGrid(KTM, 15, at('2027-03-15T09:15:00.500+05:45'))).toBe(false);
    expect(isOnLocalGrid(NY, 45, at('2027-03-14T03:00:00-04:00'))).toBe(true);
    expect(isOnLocalGrid(NY, 45, at('2027-03-14T03:15:00-04:00'))).toBe(false);
    expect(isOnLocalGrid(NY, 1440, at('2027-11-07T00:00:00-04:00'))).toBe(true);
  });
});
