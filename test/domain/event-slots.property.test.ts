import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkEventSlot, computeEventSlots } from '../../src/domain/event-slots.js';
import type { EventSlotQuery } from '../../src/domain/event-slots.js';
import { normalizeIntervals } from '../../src/domain/intervals.js';
import type { Interval } from '../../src/domain/intervals.js';
import { computeSlots } from '../../src/domain/slots.js';
import { MINUTE, at, findTransitions, offsetOf } from './tz-reference.js';

const ZONES = ['UTC', 'Asia/Kathmandu', 'Pacific/Chatham', 'Australia/Lord_Howe', 'America/New_York', 'Europe/Berlin'];
// Each base is a day or so before a DST change in some of the zones.
const BASES = ['2027-03-13T12:00:00Z', '2027-10-01T12:00:00Z', '2027-11-06T12:00:00Z', '2027-04-02T12:00:00Z'].map(at);
const WINDOW = 3 * 24 * 60; // minutes covered by a case
const INTERVALS = [5, 9, 10, 15, 20, 30, 45, 60, 90, 160, 1440]; // divisors of 1440

const arbSpan = (maxLength: number) => fc.record({ from: fc.integer({ min: 0, max: WINDOW }), minutes: fc.integer({ min: 1, max: maxLength }) });
type Span = { from: number; minutes: number };
const arbCase = fc.record({
  zone: fc.constantFrom(...ZONES), base: fc.constantFrom(...BASES),
  available: fc.array(arbSpan(600), { maxLength: 8 }), blocked: fc.array(arbSpan(180), { maxLength: 6 }),
  busy: fc.array(arbSpan(180), { maxLength: 6 }), earliest: fc.integer({ min: -60, max: WINDOW }), range: arbSpan(WINDOW),
});

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

function toQuery(c: Case, extra: Partial<EventSlotQuery>): EventSlotQuery {
  const toInterval = (s: Span) => ({ start: c.base + s.from * MINUTE, end: c.base + (s.from + s.minutes) * MINUTE });
  return {
    available: normalizeIntervals(c.available.map(toInterval)), bookingsBlocked: c.blocked.map(toInterval),
    calendarBusy: c.busy.map(toInterval), durationMinutes: 30, intervalMinutes: 15, bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0, earliestStart: c.base + c.earliest * MINUTE, latestStartExclusive: Infinity,
    range: toInterval(c.range), timeZone: c.zone, ...extra,
  };
}

/** Grid starts in [from, to) from the test's own offset reading (Intl.formatToParts, bisected). */
function referenceGrid(zone: string, intervalMinutes: number, from: number, to: number): number[] {
  const changes = findTransitions(zone, from - MINUTE, to + MINUTE);
  let offset = offsetOf(zone, from);
  let next = 0;
  const out: number[] = [];
  for (let t = Math.ceil(from / MINUTE) * MINUTE; t < to; t += MINUTE) {
    while (next < changes.length && changes[next]!.at <= t) offset = changes[next++]!.after;
    const localMinutes = t / MINUTE + offset;
    if (((localMinutes % intervalMinutes) + intervalMinutes) % intervalMinutes === 0) out.push(t);
  }
  return out;
}

describe('computeEventSlots (properties)', () => {
  it('with interval 15, no buffers and no window it is v1 computeSlots', () => {
    fc.assert(fc.property(arbCase, fc.integer({ min: 1, max: 16 }), (c, quarters) => {
      const q = toQuery(c, { durationMinutes: quarters * 15 });
      const v1 = computeSlots({
        available: q.available, busy: [...q.bookingsBlocked, ...q.calendarBusy], durationMinutes: q.durationMinutes,
        earliestStart: q.earliestStart, range: q.range, timeZone: q.timeZone,
      });
      expect(computeEventSlots(q)).toEqual(v1);
    }), { numRuns: 200 });
  });

  it('lists exactly the grid starts that pass every rule, and checkEventSlot agrees', () => {
    const arbExtra = fc.record({
      interval: fc.constantFrom(...INTERVALS), fives: fc.integer({ min: 1, max: 48 }),
      before: fc.integer({ min: 0, max: 12 }), after: fc.integer({ min: 0, max: 12 }),
      latest: fc.option(fc.integer({ min: 0, max: WINDOW }), { nil: undefined }),
    });
    fc.assert(fc.property(arbCase, arbExtra, (c, x) => {
      const q = toQuery(c, {
        intervalMinutes: x.interval, durationMinutes: x.fives * 5, bufferBeforeMinutes: x.before * 5,
        bufferAfterMinutes: x.after * 5, latestStartExclusive: x.latest === undefined ? Infinity : c.base + x.latest * MINUTE,
      });
      const d = q.durationMinutes * MINUTE;
      const [bb, ba] = [q.bufferBeforeMinutes * MINUTE, q.bufferAfterMinutes * MINUTE];
      const busy = [...q.bookingsBlocked, ...q.calendarBusy];
      const bruteOk = (t: number) => t >= q.earliestStart && t < q.latestStartExclusive &&
        q.available.some((a) => a.start <= t && t + d <= a.end) &&
        busy.every((b) => !(b.start < b.end && t - bb < b.end && b.start < t + d + ba));

      const slots = computeEventSlots(q);
      slots.forEach((s, i) => {
        if (i > 0) expect(s.start).toBeGreaterThan(slots[i - 1]!.start);
        expect(s.end - s.start).toBe(d);
        expect(s.start >= q.range.start && s.end <= q.range.end).toBe(true);
        expect(checkEventSlot(q, s)).toBe('ok');
      });
      const listed = slots.map((s) => s.start);
      const grid = referenceGrid(q.timeZone, q.intervalMinutes, q.range.start, q.range.end - d + 1);
      expect(listed).toEqual(grid.filter(bruteOk));
      const listedSet = new Set(listed);
      for (const t of grid) if (!listedSet.has(t)) expect(checkEventSlot(q, { start: t, end: t + d })).not.toBe('ok');
    }), { numRuns: 150 });
  });
});

describe('computeEventSlots (scale)', () => {
  it('lists 90 days of round-the-clock 15-minute slots across a DST change', () => {
    const from = at('2027-02-01T00:00:00-05:00');
    const range: Interval = { start: from, end: from + 90 * 86_400_000 };
    const slots = computeEventSlots({
      available: [range], bookingsBlocked: [], calendarBusy: [], durationMinutes: 15, intervalMinutes: 15,
      bufferBeforeMinutes: 0, bufferAfterMinutes: 0, earliestStart: 0, latestStartExclusive: Infinity, range, timeZone: 'America/New_York',
    });
    expect(slots).toHaveLength(90 * 96);
  });
});
