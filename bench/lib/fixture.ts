// Deterministic inputs for the pure slot-engine benchmarks (no I/O, no clock).
import type { Interval } from '../../src/domain/intervals.js';
import type { AvailabilityRules, WeeklyWindow } from '../../src/domain/schedule.js';
import { addDays, localToInstant, weekdayOf } from '../../src/domain/zoned-time.js';

/** mulberry32: small, fast, good enough for reproducible test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Scenario {
  timeZone: string;
  firstDate: string; // local date the range starts on
  days: number;
  dayStart: number; // minutes of day, local
  dayEnd: number;
  workdays: string[]; // local dates (Mon-Fri) in the range
  range: Interval;
  rules: AvailabilityRules;
  bookings: Interval[];
  timeOff: Interval[];
}

const MON_FRI = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;

export interface ScenarioOptions {
  timeZone?: string;
  firstDate?: string;
  days?: number;
  bookings?: number;
  timeOff?: number;
  seed?: number;
  /** false: bookings may overlap one another (busy time from calendars can); default true. */
  disjoint?: boolean;
}

/**
 * One provider, Mon-Fri 09:00-17:00 local, `days` local days from `firstDate`; bookings and
 * time off are on the 15-minute grid and inside working hours; a quarter of the time-off
 * blocks are whole local days.
 */
export function scenario(o: ScenarioOptions = {}): Scenario {
  const timeZone = o.timeZone ?? 'Europe/Berlin';
  const firstDate = o.firstDate ?? '2027-03-01';
  const days = o.days ?? 90;
  const nBookings = o.bookings ?? 200;
  const nTimeOff = o.timeOff ?? 20;
  const disjoint = o.disjoint ?? true;
  const rnd = prng(o.seed ?? 20270301);
  const dayStart = 9 * 60;
  const dayEnd = 17 * 60;
  const range = { start: localToInstant(timeZone, firstDate, 0), end: localToInstant(timeZone, addDays(firstDate, days), 0) };
  const workdays: string[] = [];
  for (let i = 0; i < days; i++) {
    const d = addDays(firstDate, i);
    if ((MON_FRI as readonly string[]).includes(weekdayOf(d))) workdays.push(d);
  }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const quarters = (dayEnd - dayStart) / 15;
  const block = (maxQuarters: number): Interval => {
    const date = pick(workdays);
    const len = 1 + Math.floor(rnd() * maxQuarters);
    const first = Math.floor(rnd() * (quarters - len + 1));
    const start = localToInstant(timeZone, date, dayStart + first * 15);
    return { start, end: start + len * 15 * 60_000 };
  };
  const bookings: Interval[] = [];
  // Disjoint bookings can only fill the grid so far: stop trying after a bounded number of draws.
  for (let tries = 0; bookings.length < nBookings && tries < nBookings * 50; tries++) {
    const b = block(4); // 15-60 minutes
    if (disjoint && bookings.some((x) => x.start < b.end && b.start < x.end)) continue;
    bookings.push(b);
  }
  const timeOff: Interval[] = [];
  for (let i = 0; i < nTimeOff; i++) {
    if (i % 4 === 3) {
      const date = pick(workdays);
      timeOff.push({ start: localToInstant(timeZone, date, 0), end: localToInstant(timeZone, addDays(date, 1), 0) });
    } else {
      timeOff.push(block(12)); // 15 minutes - 3 hours
    }
  }
  const weekly: WeeklyWindow[] = MON_FRI.map((day) => ({ day, start: '09:00', end: '17:00' }));
  return {
    timeZone, firstDate, days, dayStart, dayEnd, workdays, range, bookings, timeOff,
    rules: { timeZone, weekly, overrides: [], oneOff: [], timeOff },
  };
}

export const slotKey = (s: Interval): string => `${s.start}/${s.end}`;
