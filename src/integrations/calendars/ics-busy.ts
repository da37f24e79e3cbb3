import ICAL from 'ical.js';
import { normalizeIntervals, type Interval } from '../../domain/intervals.js';
import { addDays } from '../../domain/zoned-time.js';
import { dateOf, daysBetween, timeAtWall, timeValue, timeValues, wallMs, ZoneResolver, type IcsZone } from './ics-time.js';
import { recurrenceStepsLeft, RecurrenceBudgetExceeded, withRecurrenceBudget } from './recurrence-budget.js';

/**
 * Busy time in an iCalendar (RFC 5545) document, as sorted, merged [start, end)
 * epoch-ms intervals within a horizon. Pure: no clock, no I/O, no process TZ.
 *
 * - A VEVENT is busy unless TRANSP:TRANSPARENT, STATUS:CANCELLED or
 *   X-MICROSOFT-CDO-BUSYSTATUS:FREE. VFREEBUSY periods count unless FBTYPE=FREE.
 * - RRULE and RDATE are expanded, minus EXDATE; an instance with a
 *   RECURRENCE-ID override is replaced by the override (moved, shortened, or
 *   cancelled), whichever way it went.
 * - Times are read in their TZID (see ics-time.ts); floating times and all-day
 *   dates in the provider's zone, all-day events covering whole local days.
 * - A DTEND makes every instance last the same elapsed time; a DURATION of days
 *   keeps the local clock time (RFC 5545 3.8.2.5).
 * - Bounded: at most maxOccurrences intervals in the horizon and
 *   maxRecurrenceSteps recurrence steps in all, else IcsError; a malformed
 *   event, or a rule that needs over MAX_STEPS_PER_RULE steps (one no date can
 *   satisfy), is skipped and counted, not fatal.
 *
 *   parseIcsBusy(text, { timeZone: 'Europe/Berlin', horizon: { start: now - DAY, end: now + 400 * DAY } })
 *   // -> { busy: [{ start: 1799830800000, end: 1799834400000 }, ...], skippedEvents: 0 }
 */
export interface IcsBusyOptions {
  /** The provider's zone. */
  timeZone: string;
  horizon: Interval;
  maxOccurrences?: number;
  maxRecurrenceSteps?: number;
}

export interface IcsBusyResult {
  busy: Interval[];
  /** Events that could not be read (a bad date, an unknown rule part): left out. */
  skippedEvents: number;
}

/** The document as a whole cannot be used. The message is safe to show the calendar's owner. */
export class IcsError extends Error {
  override name = 'IcsError';
}

export const MAX_OCCURRENCES = 50_000;
/** Recurrence steps for a whole document (ical.js takes ~5-10 µs each) and for one rule. */
export const MAX_RECURRENCE_STEPS = 100_000;
export const MAX_STEPS_PER_RULE = 20_000;
const DAY_MS = 86_400_000;
const PERIOD_MS: Partial<Record<string, number>> = {
  SECONDLY: 1000, MINUTELY: 60_000, HOURLY: 3_600_000, DAILY: DAY_MS, WEEKLY: 7 * DAY_MS,
};

/** How long each instance lasts, from the master event. */
type Length =
  | { kind: 'days'; days: number } // all-day: whole local days
  | { kind: 'exact'; ms: number } // DTEND - DTSTART in elapsed time
  | { kind: 'nominal'; days: number; ms: number }; // DURATION: local days, then elapsed time

interface Exclusions {
  instants: Set<number>;
  dates: Set<string>;
}

function parseCalendars(text: string): ICAL.Component[] {
  if (!/^\s*BEGIN:VCALENDAR/i.test(text.replace(/^\uFEFF/, ''))) {
    throw new IcsError('the source is not an iCalendar document (no BEGIN:VCALENDAR)');
  }
  let parsed: unknown;
  try {
    parsed = ICAL.parse(text);
  } catch {
    // ical.js quotes the offending line; it may hold private text, so it is not repeated.
    throw new IcsError('the source is not valid iCalendar (RFC 5545) text');
  }
  const roots = (Array.isArray(parsed) && Array.isArray(parsed[0]) ? parsed : [parsed]) as unknown[];
  return roots.map((jcal) => new ICAL.Component(jcal as never)).filter((c) => c.name === 'vcalendar');
}

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : '');

function isBusy(event: ICAL.Component): boolean {
  return upper(event.getFirstPropertyValue('status')) !== 'CANCELLED' &&
    upper(event.getFirstPropertyValue('transp')) !== 'TRANSPARENT' &&
    upper(event.getFirstPropertyValue('x-microsoft-cdo-busystatus')) !== 'FREE';
}

class Collector {
  readonly intervals: Interval[] = [];
  skipped = 0;
  private readonly maxOccurrences: number;

  constructor(private readonly options: IcsBusyOptions) {
    this.maxOccurrences = options.maxOccurrences ?? MAX_OCCURRENCES;
  }

  add(interval: Interval | null): void {
    if (interval === null || !(interval.end > interval.start)) return;
    if (interval.end <= this.options.horizon.start || interval.start >= this.options.horizon.end) return;
    if (this.intervals.length >= this.maxOccurrences) {
      throw new IcsError(`the calendar has more than ${this.maxOccurrences} busy events in the next ${Math.round((this.options.horizon.end - this.options.horizon.start) / DAY_MS)} days`);
    }
    this.intervals.push(interval);
  }

  collect(calendar: ICAL.Component): void {
    const zones = new ZoneResolver(this.options.timeZone, calendar);
    const groups = new Map<string, { masters: ICAL.Component[]; overrides: ICAL.Component[] }>();
    calendar.getAllSubcomponents('vevent').forEach((event, index) => {
      const uid = event.getFirstPropertyValue('uid');
      const key = typeof uid === 'string' && uid !== '' ? uid : `#${index}`;
      const group = groups.get(key) ?? { masters: [], overrides: [] };
      (event.hasProperty('recurrence-id') ? group.overrides : group.masters).push(event);
      groups.set(key, group);
    });
    for (const { masters, overrides } of groups.values()) {
      const replaced: Exclusions = { instants: new Set(), dates: new Set() };
      let masterLength: Length | null = null;
      try {
        masterLength = masters[0] ? lengthOf(masters[0], zones) : null;
      } catch {
        // counted when the master itself is expanded below
      }
      for (const override of overrides) this.guard(() => this.addOverride(override, zones, masterLength, replaced));
      for (const master of masters) this.guard(() => this.expandMaster(master, zones, replaced));
    }
    for (const freeBusy of calendar.getAllSubcomponents('vfreebusy')) this.guard(() => this.addFreeBusy(freeBusy, zones));
  }

  /** Runs one event's work; a malformed event is counted and left out, the limits still stop everything. */
  private guard<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (error) {
      if (error instanceof IcsError || error instanceof RecurrenceBudgetExceeded) throw error;
      this.skipped += 1;
      return undefined;
    }
  }

  private addOverride(event: ICAL.Component, zones: ZoneResolver, masterLength: Length | null, replaced: Exclusions): void {
    const ridProp = event.getFirstProperty('recurrence-id')!;
    const rid = timeValue(ridProp);
    if (rid.isDate) replaced.dates.add(dateOf(rid));
    else replaced.instants.add(zones.toInstant(rid, zones.zoneOf(rid, ridProp)));
    if (!isBusy(event)) return;
    const startProp = event.getFirstProperty('dtstart');
    const start = startProp ? timeValue(startProp) : rid;
    const zone = zones.zoneOf(start, startProp ?? ridProp);
    const hasOwnEnd = event.hasProperty('dtend') || event.hasProperty('duration');
    const length = hasOwnEnd || masterLength === null ? lengthOf(event, zones) : masterLength;
    if (length !== null) this.add(intervalOf(start, zone, length, zones));
  }

  private expandMaster(event: ICAL.Component, zones: ZoneResolver, replaced: Exclusions): void {
    const startProp = event.getFirstProperty('dtstart');
    if (!startProp || !isBusy(event)) return;
    const dtstart = timeValue(startProp);
    const zone = zones.zoneOf(dtstart, startProp);
    const length = lengthOf(event, zones);
    if (length === null) return; // a DATE-TIME start without end or duration takes no time
    const excluded: Exclusions = { instants: new Set(replaced.instants), dates: new Set(replaced.dates) };
    for (const prop of event.getAllProperties('exdate')) {
      for (const value of timeValues(prop)) {
        if (!(value instanceof ICAL.Time)) continue;
        if (value.isDate) excluded.dates.add(dateOf(value));
        else excluded.instants.add(zones.toInstant(value, zones.zoneOf(value, prop)));
      }
    }
    // Kept aside until the whole event expanded: an event given up halfway adds nothing.
    const instances: (Interval | null)[] = [];
    const seen = new Set<number>();
    const emit = (start: ICAL.Time, startZone: IcsZone, explicitEnd?: number) => {
      const instant = zones.toInstant(start, startZone);
      if (seen.has(instant)) return; // RRULE and RDATE may name the same instance: it counts once
      seen.add(instant);
      if (excluded.instants.has(instant) || excluded.dates.has(dateOf(start))) return;
      instances.push(explicitEnd === undefined ? intervalOf(start, startZone, length, zones) : { start: instant, end: explicitEnd });
    };
    const rules = event.getAllProperties('rrule');
    if (rules.length === 0) emit(dtstart, zone);
    for (const rule of rules) this.expandRule(rule.getFirstValue() as ICAL.Recur, dtstart, zone, length, zones, emit);
    for (const prop of event.getAllProperties('rdate')) {
      for (const value of timeValues(prop)) {
        if (value instanceof ICAL.Period) {
          const at = zones.zoneOf(value.start, prop);
          emit(value.start, at, zones.toInstant(value.getEnd(), at));
        } else {
          emit(value, zones.zoneOf(value, prop));
        }
      }
    }
    for (const interval of instances) this.add(interval);
  }

  /**
   * Instances of one RRULE in the horizon. The rule is walked in wall-clock
   * time (floating), so DST never shifts an instance's local time; UNTIL is
   * applied here, against the instant it names. Without COUNT, a fixed-period
   * rule (DAILY, WEEKLY, ...) starts whole periods later, just before the
   * horizon, instead of stepping through years of past instances.
   */
  private expandRule(
    recur: ICAL.Recur, dtstart: ICAL.Time, zone: IcsZone, length: Length, zones: ZoneResolver,
    emit: (start: ICAL.Time, zone: IcsZone) => void,
  ): void {
    const rule = recur.clone();
    const until = rule.until;
    rule.until = null;
    let untilPassed: (t: ICAL.Time) => boolean = () => false;
    if (until !== null) {
      if (until.isDate) untilPassed = (t) => dateOf(t) > dateOf(until);
      else if (until.zone === ICAL.Timezone.utcTimezone) {
        const limit = zones.toInstant(until, { kind: 'utc' });
        untilPassed = (t) => zones.toInstant(t, zone) > limit;
      } else untilPassed = (t) => wallMs(t) > wallMs(until);
    }
    let from = timeAtWall(wallMs(dtstart), dtstart.isDate);
    const period = PERIOD_MS[rule.freq];
    if (period !== undefined && !rule.count) {
      const step = period * Math.max(1, rule.interval || 1);
      const longest = length.kind === 'days' ? length.days * DAY_MS : length.kind === 'exact' ? length.ms : length.days * DAY_MS + length.ms;
      // Far enough back that the shifted start (always yielded, even off the rule) ends before the horizon.
      const target = this.options.horizon.start - Math.max(0, longest) - 2 * DAY_MS;
      const periods = Math.floor((target - wallMs(from)) / step);
      if (periods > 0) from = timeAtWall(wallMs(from) + periods * step, dtstart.isDate);
    }
    const stopAfter = this.options.horizon.end + DAY_MS; // wall time differs from UTC by under a day
    try {
      withRecurrenceBudget(MAX_STEPS_PER_RULE, () => {
        const iterator = rule.iterator(from);
        for (let i = 0; i < MAX_STEPS_PER_RULE; i += 1) {
          const next = iterator.next();
          if (!next || wallMs(next) > stopAfter || untilPassed(next)) return;
          emit(next, zone);
        }
        throw new RecurrenceBudgetExceeded('recurrence rule has too many instances');
      });
    } catch (error) {
      // This rule's own allowance ran out: skip the event. The document's: give up on it (IcsError).
      if (error instanceof RecurrenceBudgetExceeded && recurrenceStepsLeft() > 0) throw new Error('recurrence rule too expensive');
      throw error;
    }
  }

  private addFreeBusy(component: ICAL.Component, zones: ZoneResolver): void {
    for (const prop of component.getAllProperties('freebusy')) {
      if (upper(prop.getParameter('fbtype')) === 'FREE') continue;
      for (const period of timeValues(prop)) {
        if (!(period instanceof ICAL.Period)) continue;
        const zone = zones.zoneOf(period.start, prop);
        this.add({ start: zones.toInstant(period.start, zone), end: zones.toInstant(period.getEnd(), zone) });
      }
    }
  }
}

function lengthOf(event: ICAL.Component, zones: ZoneResolver): Length | null {
  const startProp = event.getFirstProperty('dtstart') ?? event.getFirstProperty('recurrence-id');
  if (!startProp) return null;
  const start = timeValue(startProp);
  const endProp = event.getFirstProperty('dtend');
  if (endProp) {
    const end = timeValue(endProp);
    if (start.isDate) return { kind: 'days', days: daysBetween(start, end) };
    return { kind: 'exact', ms: zones.toInstant(end, zones.zoneOf(end, endProp)) - zones.toInstant(start, zones.zoneOf(start, startProp)) };
  }
  const duration = event.getFirstPropertyValue('duration') as ICAL.Duration | null;
  if (duration) {
    const sign = duration.isNegative ? -1 : 1;
    const days = sign * (duration.weeks * 7 + duration.days);
    const ms = sign * (duration.hours * 3600 + duration.minutes * 60 + duration.seconds) * 1000;
    return start.isDate ? { kind: 'days', days: days + Math.ceil(ms / DAY_MS) } : { kind: 'nominal', days, ms };
  }
  return start.isDate ? { kind: 'days', days: 1 } : null; // RFC 5545 3.6.1
}

function intervalOf(start: ICAL.Time, zone: IcsZone, length: Length, zones: ZoneResolver): Interval | null {
  if (length.kind === 'days') {
    const date = dateOf(start);
    return { start: zones.dayStart(date), end: zones.dayStart(addDays(date, length.days)) };
  }
  const begin = zones.toInstant(start, zone);
  if (length.kind === 'exact') return { start: begin, end: begin + length.ms };
  const endWall = timeAtWall(wallMs(start) + length.days * DAY_MS, false);
  return { start: begin, end: zones.toInstant(endWall, zone) + length.ms };
}

export function parseIcsBusy(text: string, options: IcsBusyOptions): IcsBusyResult {
  const calendars = parseCalendars(text);
  const collector = new Collector(options);
  try {
    withRecurrenceBudget(options.maxRecurrenceSteps ?? MAX_RECURRENCE_STEPS, () => {
      for (const calendar of calendars) collector.collect(calendar);
    });
  } catch (error) {
    if (error instanceof RecurrenceBudgetExceeded) throw new IcsError('the calendar\'s recurrence rules are too expensive to expand');
    throw error;
  }
  return { busy: normalizeIntervals(collector.intervals), skippedEvents: collector.skipped };
}
