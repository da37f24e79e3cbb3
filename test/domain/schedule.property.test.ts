import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { effectiveAvailability } from '../../src/domain/schedule.js';
import type { AvailabilityRules, ClockWindow } from '../../src/domain/schedule.js';
import { WEEKDAYS } from '../../src/domain/zoned-time.js';
import {
  DAY, QUARTER, at, findTransitions, readLocal, referenceAvailability, refWeekday, shiftDate,
} from './tz-reference.js';
import type { RefRules, RefWindow } from './tz-reference.js';

// Ranges are placed around real offset changes (found with Intl), so gaps, folds, 30-minute
// shifts (Lord Howe), midnight transitions (Sao Paulo until 2019) and the +13/+14 flips of
// Apia (until 2021) are all exercised. Zones without changes get a random instant.
const ZONES = ['Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'Pacific/Apia', 'America/New_York',
  'Europe/Berlin', 'America/Sao_Paulo', 'UTC'];
const FROM = at('2017-01-01T00:00:00Z');
const TO = at('2030-01-01T00:00:00Z');
const anchors = ZONES.flatMap((zone) => {
  const changes = findTransitions(zone, FROM, TO).map((t) => t.at);
  return (changes.length > 0 ? changes : [at('2027-06-01T00:00:00Z')]).map((anchor) => {
    // The wall time at which the clocks change, as read just before: NY 2027-03-14 -> 02:00
    // on a Sunday. Windows are drawn near it half of the time, so their ends land in gaps
    // and folds instead of mostly missing them.
    const before = readLocal(zone, anchor - QUARTER);
    return { zone, anchor, hotQuarter: before.minutes / 15 + 1, hotDay: refWeekday(before.date) };
  });
});
type Anchor = (typeof anchors)[number];

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const toClock = (w: RefWindow): ClockWindow => ({ start: hhmm(w.start), end: hhmm(w.end) });

// Quarter-hour windows: day windows, overnight ones (end < start) and 24:00 ends.
const arbQuarter = (hot: number, max: number) => fc.oneof(
  fc.integer({ min: 0, max }),
  fc.integer({ min: -4, max: 4 }).map((d) => Math.min(max, Math.max(0, hot + d))),
);
const arbWindow = (a: Anchor): fc.Arbitrary<RefWindow> =>
  fc.record({ start: arbQuarter(a.hotQuarter, 95), end: arbQuarter(a.hotQuarter, 96) })
    .filter(({ start, end }) => start !== end)
    .map(({ start, end }) => ({ start: start * 15, end: end * 15 }));
const arbDay = (a: Anchor) => fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(a.hotDay));

const arbCase = fc.constantFrom(...anchors).chain((place) => fc.record({
  place: fc.constant(place),
  startShift: fc.integer({ min: -2 * 96, max: 96 }), // quarters relative to the anchor
  length: fc.integer({ min: 1, max: 3 * 96 }), // quarters
  weekly: fc.array(fc.record({ day: arbDay(place), window: arbWindow(place) }), { maxLength: 10 }),
  overrides: fc.array(fc.record({
    dayShift: fc.integer({ min: -3, max: 5 }),
    otherZone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
    windows: fc.array(arbWindow(place), { maxLength: 2 }),
  }), { maxLength: 2 }),
  oneOff: fc.array(fc.record({ from: fc.integer({ min: -96, max: 4 * 96 }), quarters: fc.integer({ min: 1, max: 16 }) }), { maxLength: 2 }),
  timeOff: fc.array(fc.record({ from: fc.integer({ min: -96, max: 4 * 96 }), quarters: fc.integer({ min: 1, max: 40 }) }), { maxLength: 2 }),
}));

describe('effectiveAvailability vs brute-force reference', () => {
  it('agrees on every quarter hour of random ranges across offset changes', () => {
    fc.assert(fc.property(arbCase, (c) => {
      const { zone, anchor } = c.place;
      const range = { start: anchor + c.startShift * QUARTER, end: anchor + (c.startShift + c.length) * QUARTER };
      const firstDate = readLocal(zone, range.start).date;
      const quarterSpan = (o: { from: number; quarters: number }) =>
        ({ start: range.start + o.from * QUARTER, end: range.start + (o.from + o.quarters) * QUARTER });
      // One override per date keeps failing cases readable.
      const seen = new Set<string>();
      const overrides = c.overrides
        .map((o) => ({ date: shiftDate(firstDate, o.dayShift), zone: o.otherZone ?? zone, windows: o.windows }))
        .filter((o) => {
          if (seen.has(o.date)) return false;
          seen.add(o.date);
          return true;
        });
      const ref: RefRules = {
        zone, weekly: c.weekly, overrides, oneOff: c.oneOff.map(quarterSpan), timeOff: c.timeOff.map(quarterSpan),
      };
      const rules: AvailabilityRules = {
        timeZone: zone,
        weekly: c.weekly.map(({ day, window }) => ({ day: WEEKDAYS[day]!, ...toClock(window) })),
        overrides: overrides.map((o) => ({ date: o.date, timeZone: o.zone, windows: o.windows.map(toClock) })),
        oneOff: ref.oneOff,
        timeOff: ref.timeOff,
      };

      const result = effectiveAvailability(rules, range);
      result.forEach((piece, i) => {
        expect(piece.start).toBeLessThan(piece.end);
        expect(piece.start).toBeGreaterThanOrEqual(range.start);
        expect(piece.end).toBeLessThanOrEqual(range.end);
        expect(piece.start % QUARTER).toBe(0); // so sampling quarter hours is exact
        expect(piece.end % QUARTER).toBe(0);
        if (i > 0) expect(piece.start).toBeGreaterThan(result[i - 1]!.end);
      });
      const actual: boolean[] = [];
      for (let q = range.start; q < range.end; q += QUARTER) actual.push(result.some((p) => p.start <= q && q < p.end));
      expect(actual).toEqual(referenceAvailability(ref, range));
    }), { numRuns: 100 });
  });

  it('the anchors really cover offset changes in the zones that have them', () => {
    expect(anchors.filter((a) => a.zone === 'America/Sao_Paulo').length).toBeGreaterThan(3);
    expect(anchors.filter((a) => a.zone === 'Pacific/Apia').length).toBeGreaterThan(3);
    expect(anchors.filter((a) => a.zone === 'Australia/Lord_Howe').length).toBeGreaterThan(20);
    expect(anchors.every((a) => a.anchor > FROM - DAY)).toBe(true);
  });
});
