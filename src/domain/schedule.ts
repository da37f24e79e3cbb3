// Rule expansion: weekly wall-clock windows and per-date overrides (local rules) become
// instants, united with one-off windows, minus time off.
import { isClosedOn } from './closures.js';
import type { Closure } from './closures.js';
import { intersectIntervals, normalizeIntervals, subtractIntervals, unionIntervals } from './intervals.js';
import type { Interval } from './intervals.js';
import { addDays, instantToLocalDate, localToInstant, parseClockTime, weekdayOf } from './zoned-time.js';
import type { LocalDate, Weekday } from './zoned-time.js';

/** 'HH:MM' to 'HH:MM'. end '24:00' is allowed; end < start runs past midnight (22:00-06:00). */
export interface ClockWindow {
  start: string;
  end: string;
}

export interface WeeklyWindow extends ClockWindow {
  day: Weekday;
}

/** Replaces the weekly windows of `date`; `windows: []` makes it a day off. */
export interface DateOverride {
  date: LocalDate;
  timeZone: string;
  windows: ClockWindow[];
}

export interface AvailabilityRules {
  timeZone: string;
  weekly: readonly WeeklyWindow[];
  overrides: readonly DateOverride[];
  oneOff: readonly Interval[];
  timeOff: readonly Interval[];
  /** Closed local dates (schedule zone): their weekly windows count as a day off. */
  closures?: readonly Closure[];
}

/** null when valid, else a message for humans. */
export function validateClockWindow(w: ClockWindow): string | null {
  const start = parseClockTime(w.start, false);
  if (start === null) return `start ${JSON.stringify(w.start)} is not a time of day 'HH:MM' (00:00-23:59)`;
  const end = parseClockTime(w.end, true);
  if (end === null) return `end ${JSON.stringify(w.end)} is not a time of day 'HH:MM' (00:00-24:00)`;
  if (end === start) return `start and end are both ${w.start}: a window must not be empty`;
  return null;
}

/**
 * The instants a window covers on `date`. Both ends are wall times, so the length is real
 * elapsed time: 01:00-05:00 on NY 2027-03-14 (clocks jump 02:00 -> 03:00) lasts 3 hours,
 * on 2027-11-07 (01:00-02:00 happens twice) 5 hours. 22:00-06:00 ends on date + 1;
 * '24:00' is date + 1 at 00:00. A window inside a gap (02:00-02:30 on NY 2027-03-14) has
 * both ends pushed to 03:xx and may come out empty; it is returned as empty, never inverted.
 */
export function expandWindowOnDate(zone: string, date: LocalDate, w: ClockWindow): Interval {
  const problem = validateClockWindow(w);
  if (problem !== null) throw new RangeError(`Invalid window ${w.start}-${w.end}: ${problem}`);
  const startMinutes = parseClockTime(w.start, false)!;
  const endMinutes = parseClockTime(w.end, true)!;
  const start = localToInstant(zone, date, startMinutes);
  const end = endMinutes > startMinutes
    ? localToInstant(zone, date, endMinutes)
    : localToInstant(zone, addDays(date, 1), endMinutes);
  return { start, end: Math.max(start, end) };
}

/**
 * Availability inside `range`, normalized. Local dates are walked in the schedule zone from
 * one day before the range's first local date (its overnight windows reach into the range)
 * to one day after its last. Overrides may use another zone, which can shift a date by up to
 * 26 hours, so they are expanded over a wider span of dates; the weekly windows of a date
 * that has an override are skipped. So are those of a closed date (a holiday), but an
 * override on it still counts: a provider who chose to work on a holiday can. A weekly
 * window belongs to the date it starts on, so Sunday 22:00-06:00 still reaches into a
 * closed Monday, and a closed Sunday's overnight window is gone on Monday morning too.
 */
export function effectiveAvailability(rules: AvailabilityRules, range: Interval): Interval[] {
  if (!(range.end > range.start)) return [];
  const zone = rules.timeZone;
  const firstDate = addDays(instantToLocalDate(zone, range.start), -1);
  const lastDate = addDays(instantToLocalDate(zone, range.end - 1), 1);

  const overridden = new Set(rules.overrides.map((o) => o.date));
  const weeklyByDay = new Map<Weekday, WeeklyWindow[]>();
  for (const w of rules.weekly) weeklyByDay.set(w.day, [...(weeklyByDay.get(w.day) ?? []), w]);

  const pieces: Interval[] = [];
  // 'YYYY-MM-DD' strings compare like the dates they name.
  for (let date = firstDate; date <= lastDate; date = addDays(date, 1)) {
    if (overridden.has(date)) continue;
    if (rules.closures !== undefined && isClosedOn(rules.closures, date)) continue;
    for (const w of weeklyByDay.get(weekdayOf(date)) ?? []) pieces.push(expandWindowOnDate(zone, date, w));
  }
  const overrideFrom = addDays(firstDate, -2);
  const overrideTo = addDays(lastDate, 2);
  for (const o of rules.overrides) {
    if (o.date < overrideFrom || o.date > overrideTo) continue;
    for (const w of o.windows) pieces.push(expandWindowOnDate(o.timeZone, o.date, w));
  }

  const open = unionIntervals(pieces, rules.oneOff);
  const free = subtractIntervals(open, normalizeIntervals(rules.timeOff));
  return intersectIntervals(free, [{ start: range.start, end: range.end }]);
}
