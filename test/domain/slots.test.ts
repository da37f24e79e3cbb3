import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SLOT_GRID_MINUTES, computeSlots, isBookableSlot } from '../../src/domain/slots.js';
import type { SlotQuery } from '../../src/domain/slots.js';
import { normalizeIntervals } from '../../src/domain/intervals.js';
import type { Interval } from '../../src/domain/intervals.js';
import { formatInstant } from '../../src/domain/zoned-time.js';
import { MINUTE, QUARTER, at, readLocal } from './tz-reference.js';

const BERLIN = 'Europe/Berlin';
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
const starts = (slots: readonly Interval[], zone: string) => slots.map((s) => formatInstant(s.start, zone).slice(11));

// Pinned "now": Monday 2027-03-15 08:40 in Berlin, with no minimum notice.
const NOW = at('2027-03-15T08:40:00+01:00');
const morning = (extra: Partial<SlotQuery> = {}): SlotQuery => ({
  available: [span('2027-03-15T09:00:00+01:00', '2027-03-15T12:00:00+01:00')],
  busy: [],
  durationMinutes: 60,
  earliestStart: NOW,
  range: span('2027-03-15T00:00:00+01:00', '2027-03-16T00:00:00+01:00'),
  timeZone: BERLIN,
  ...extra,
});

describe('computeSlots (examples)', () => {
  it('steps every 15 minutes; slots may overlap each other', () => {
    expect(SLOT_GRID_MINUTES).toBe(15);
    expect(starts(computeSlots(morning()), BERLIN)).toEqual([
      '09:00:00+01:00', '09:15:00+01:00', '09:30:00+01:00', '09:45:00+01:00', '10:00:00+01:00',
      '10:15:00+01:00', '10:30:00+01:00', '10:45:00+01:00', '11:00:00+01:00',
    ]);
  });
  it('works around busy time; touching a booking is fine', () => {
    const busy = [span('2027-03-15T10:00:00+01:00', '2027-03-15T10:30:00+01:00')];
    const slots = computeSlots(morning({ busy }));
    expect(starts(slots, BERLIN)).toEqual(['09:00:00+01:00', '10:30:00+01:00', '10:45:00+01:00', '11:00:00+01:00']);
    expect(slots[0]).toEqual(span('2027-03-15T09:00:00+01:00', '2027-03-15T10:00:00+01:00'));
  });
  it('starts at the first grid point at or after earliestStart, and stays inside the range', () => {
    const q = morning({
      durationMinutes: 30,
      earliestStart: at('2027-03-15T09:05:00+01:00'),
      range: span('2027-03-15T00:00:00+01:00', '2027-03-15T10:20:00+01:00'),
    });
    expect(starts(computeSlots(q), BERLIN)).toEqual(['09:15:00+01:00', '09:30:00+01:00', '09:45:00+01:00']);
  });
  it('uses the local grid in Kathmandu (+05:45) even when availability starts off the grid', () => {
    const q = morning({
      timeZone: 'Asia/Kathmandu', durationMinutes: 15,
      available: [span('2027-03-15T09:05:00+05:45', '2027-03-15T10:00:00+05:45')],
      range: span('2027-03-15T00:00:00+05:45', '2027-03-16T00:00:00+05:45'), earliestStart: 0,
    });
    expect(starts(computeSlots(q), 'Asia/Kathmandu')).toEqual(['09:15:00+05:45', '09:30:00+05:45', '09:45:00+05:45']);
  });
  it('counts real time across the New York spring gap', () => {
    const q = morning({
      timeZone: 'America/New_York', earliestStart: 0,
      available: [span('2027-03-14T01:00:00-05:00', '2027-03-14T05:00:00-04:00')], // 3 hours
      range: span('2027-03-14T00:00:00-05:00', '2027-03-15T00:00:00-04:00'),
    });
    expect(starts(computeSlots(q), 'America/New_York')).toEqual([
      '01:00:00-05:00', '01:15:00-05:00', '01:30:00-05:00', '01:45:00-05:00', '03:00:00-04:00',
      '03:15:00-04:00', '03:30:00-04:00', '03:45:00-04:00', '04:00:00-04:00',
    ]);
  });
  it('returns nothing for an empty range, a zero duration, or a start after everything', () => {
    expect(computeSlots(morning({ range: { start: NOW, end: NOW } }))).toEqual([]);
    expect(computeSlots(morning({ durationMinutes: 0 }))).toEqual([]);
    expect(computeSlots(morning({ earliestStart: at('2027-03-15T11:01:00+01:00') }))).toEqual([]);
  });
});

describe('isBookableSlot', () => {
  const q = morning({ busy: [span('2027-03-15T10:00:00+01:00', '2027-03-15T10:30:00+01:00')] });
  const check = (start: string, end: string, query: Omit<SlotQuery, 'range'> = q) => isBookableSlot(query, span(start, end));
  it('accepts a free grid slot, also one touching a booking', () => {
    expect(check('2027-03-15T09:00:00+01:00', '2027-03-15T10:00:00+01:00')).toBe('ok');
    expect(check('2027-03-15T10:30:00+01:00', '2027-03-15T11:30:00+01:00')).toBe('ok');
  });
  it('names the first rule broken: off_grid, too_soon, outside_availability, busy', () => {
    expect(check('2027-03-15T09:05:00+01:00', '2027-03-15T10:05:00+01:00')).toBe('off_grid');
    expect(check('2027-03-15T09:00:00+01:00', '2027-03-15T09:30:00+01:00')).toBe('off_grid'); // wrong length
    expect(check('2027-03-15T08:35:00+01:00', '2027-03-15T09:35:00+01:00')).toBe('off_grid'); // also too soon
    expect(check('2027-03-15T08:30:00+01:00', '2027-03-15T09:30:00+01:00')).toBe('too_soon'); // also outside
    expect(check('2027-03-15T11:30:00+01:00', '2027-03-15T12:30:00+01:00')).toBe('outside_availability');
    expect(check('2027-03-15T09:45:00+01:00', '2027-03-15T10:45:00+01:00')).toBe('busy');
    const later = { ...q, earliestStart: at('2027-03-15T10:00:00+01:00') };
    expect(check('2027-03-15T09:45:00+01:00', '2027-03-15T10:45:00+01:00', later)).toBe('too_soon'); // also busy
  });
  it('judges the grid by the local clock (Kathmandu 09:00 = 03:15Z)', () => {
    const kathmandu = { ...q, timeZone: 'Asia/Kathmandu', earliestStart: 0, durationMinutes: 15,
      available: [span('2027-03-15T00:00:00Z', '2027-03-16T00:00:00Z')] };
    expect(check('2027-03-15T03:15:00Z', '2027-03-15T03:30:00Z', kathmandu)).toBe('ok');
    expect(check('2027-03-15T03:20:00Z', '2027-03-15T03:35:00Z', kathmandu)).toBe('off_grid');
    expect(check('2027-03-15T03:15:00.500Z', '2027-03-15T03:30:00.500Z', kathmandu)).toBe('off_grid');
  });
});

describe('computeSlots (properties)', () => {
  const ZONES = ['UTC', 'Asia/Kathmandu', 'Pacific/Chatham', 'Australia/Lord_Howe', 'America/New_York', 'Europe/Berlin'];
  const BASES = ['2027-03-13T12:00:00Z', '2027-10-01T12:00:00Z', '2027-11-06T12:00:00Z', '2027-04-02T12:00:00Z'].map(at);
  const WINDOW = 3 * 24 * 60; // minutes covered by a case
  const arbSpan = (maxLength: number) => fc.record({ from: fc.integer({ min: 0, max: WINDOW }), minutes: fc.integer({ min: 1, max: maxLength }) });
  const arbQuery = fc.record({
    zone: fc.constantFrom(...ZONES), base: fc.constantFrom(...BASES),
    available: fc.array(arbSpan(600), { maxLength: 8 }), busy: fc.array(arbSpan(180), { maxLength: 12 }),
    quarters: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constant(96)),
    earliest: fc.integer({ min: -60, max: WINDOW }), range: arbSpan(WINDOW),
  });

  it('slots are on the grid, late enough, inside availability and range, clear of busy, and complete', () => {
    fc.assert(fc.property(arbQuery, (c) => {
      const toInterval = (s: { from: number; minutes: number }) => ({ start: c.base + s.from * MINUTE, end: c.base + (s.from + s.minutes) * MINUTE });
      const available = normalizeIntervals(c.available.map(toInterval));
      const busy = c.busy.map(toInterval);
      const q: SlotQuery = { available, busy, durationMinutes: c.quarters * 15, earliestStart: c.base + c.earliest * MINUTE,
        range: toInterval(c.range), timeZone: c.zone };
      const duration = q.durationMinutes * MINUTE;
      const slots = computeSlots(q);

      const bruteOk = (start: number) => start >= q.earliestStart &&
        available.some((a) => a.start <= start && start + duration <= a.end) &&
        busy.every((b) => b.end <= start || start + duration <= b.start);
      slots.forEach((s, i) => {
        if (i > 0) expect(s.start).toBeGreaterThan(slots[i - 1]!.start);
        expect(s.end - s.start).toBe(duration);
        expect(s.start % MINUTE).toBe(0);
        expect(readLocal(c.zone, s.start).minutes % 15).toBe(0);
        expect(s.start).toBeGreaterThanOrEqual(q.range.start);
        expect(s.end).toBeLessThanOrEqual(q.range.end);
        expect(bruteOk(s.start)).toBe(true);
        expect(isBookableSlot(q, s)).toBe('ok');
      });
      // Every offset in these zones is a multiple of 15 minutes: the local grid is the epoch grid.
      const found = new Set(slots.map((s) => s.start));
      for (let t = Math.ceil(q.range.start / QUARTER) * QUARTER; t + duration <= q.range.end; t += QUARTER) {
        expect(found.has(t)).toBe(bruteOk(t));
        expect(isBookableSlot(q, { start: t, end: t + duration }) === 'ok').toBe(bruteOk(t));
      }
    }), { numRuns: 150 });
  });
});
