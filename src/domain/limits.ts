// Booking limits per host: at most N bookings of a type per local day, ISO week or calendar
// month of the host's schedule zone. A booking counts in the period where it STARTS.
import { normalizeIntervals } from './intervals.js';
import type { Interval } from './intervals.js';
import { addDays, instantToLocalDate, localToInstant, weekdayOf, WEEKDAYS } from './zoned-time.js';
import type { LocalDate } from './zoned-time.js';

export interface BookingLimits {
  perDay?: number;
  perWeek?: number;
  perMonth?: number;
}

export type LimitPeriod = 'day' | 'week' | 'month';

// Smallest first: a booking over two limits names the narrowest one.
const PERIODS: readonly [LimitPeriod, keyof BookingLimits][] = [['day', 'perDay'], ['week', 'perWeek'], ['month', 'perMonth']];

/** The first local date of the period containing `date`: itself, its Monday, the 1st. */
function firstDateOf(period: LimitPeriod, date: LocalDate): LocalDate {
  if (period === 'day') return date;
  if (period === 'week') return addDays(date, -WEEKDAYS.indexOf(weekdayOf(date)));
  return `${date.slice(0, 8)}01`;
}

/** The first local date of the next period, from a period's first date. */
function nextFirstDate(period: LimitPeriod, first: LocalDate): LocalDate {
  if (period === 'day') return addDays(first, 1);
  if (period === 'week') return addDays(first, 7);
  return addDays(first, 31).slice(0, 8) + '01'; // the 1st plus 31 days is always in the next month
}

/**
 * Periods run from local midnight to local midnight, so their length is real time: NY's
 * 2027-03-14 lasts 23 hours and 2027-11-07 25. A midnight that does not exist (Santiago
 * 2027-09-05, clocks 00:00 -> 01:00) starts its day at 01:00, the first instant of that date.
 */
export function periodOf(zone: string, period: LimitPeriod, t: number): Interval {
  const first = firstDateOf(period, instantToLocalDate(zone, t));
  return { start: localToInstant(zone, first, 0), end: localToInstant(zone, nextFirstDate(period, first), 0) };
}

function countIn(starts: readonly number[], p: Interval): number {
  let n = 0;
  for (const s of starts) if (s >= p.start && s < p.end) n++;
  return n;
}

/** Which limit a booking starting at `start` would exceed; null when none. */
export function exceededLimit(
  zone: string, limits: BookingLimits, existingStarts: readonly number[], start: number,
): LimitPeriod | null {
  for (const [period, key] of PERIODS) {
    const limit = limits[key];
    if (typeof limit === 'number' && countIn(existingStarts, periodOf(zone, period, start)) >= limit) return period;
  }
  return null;
}

/** Is t inside one of the normalized intervals? Binary search for the last one starting <= t. */
function isInside(list: readonly Interval[], t: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.start <= t) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && t < list[hi]!.end;
}

// A period lasts at most a month (31 days, plus a DST hour or a skipped date): a booking
// further than this from every slot cannot share a period with one.
const REACH = 40 * 86_400_000;

/**
 * Slots whose start lies in a period that is already full are dropped. Only periods holding
 * existing bookings can be full, so those are found from the existing starts (one periodOf
 * each), and each slot is then a binary search among the full periods: no Intl call per slot.
 */
export function filterByLimits(
  zone: string, limits: BookingLimits, existingStarts: readonly number[], slots: readonly Interval[],
): Interval[] {
  if (slots.length === 0) return [];
  let lowest = Infinity;
  let highest = -Infinity;
  for (const s of slots) {
    lowest = Math.min(lowest, s.start);
    highest = Math.max(highest, s.start);
  }
  const near = existingStarts.filter((e) => e > lowest - REACH && e < highest + REACH);
  const full: Interval[] = [];
  for (const [period, key] of PERIODS) {
    const limit = limits[key];
    if (typeof limit !== 'number') continue; // also tolerates null from stored JSON
    if (limit <= 0) return []; // every period is full, even an empty one
    const counts = new Map<number, { period: Interval; count: number }>();
    for (const e of near) {
      const p = periodOf(zone, period, e);
      const entry = counts.get(p.start) ?? { period: p, count: 0 };
      entry.count++;
      counts.set(p.start, entry);
    }
    for (const { period: p, count } of counts.values()) if (count >= limit) full.push(p);
  }
  if (full.length === 0) return slots.slice();
  const closed = normalizeIntervals(full);
  return slots.filter((s) => !isInside(closed, s.start));
}
