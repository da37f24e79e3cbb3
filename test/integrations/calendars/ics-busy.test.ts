import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import ICAL from 'ical.js';
import { afterEach, describe, expect, it } from 'vitest';
import { localToInstant } from '../../../src/domain/zoned-time.js';
import { IcsError, parseIcsBusy, type IcsBusyOptions } from '../../../src/integrations/calendars/ics-busy.js';

/**
 * The ICS parser on fixture files, with a pinned horizon (no "now"): expected
 * busy times are written as instants with the offset of the zone they were
 * meant in. The same cases are re-run with the process's TZ changed, which
 * must change nothing (CI also runs this folder under other TZ values).
 */
const DAY = 86_400_000;
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/calendars/${name}`, import.meta.url), 'utf8');
const HORIZON = { start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2027-05-01T00:00:00Z') };
const BERLIN: IcsBusyOptions = { timeZone: 'Europe/Berlin', horizon: HORIZON };

/** Busy intervals as [start, end] ISO strings in UTC, for readable expectations. */
function busy(text: string, options: IcsBusyOptions = BERLIN): [string, string][] {
  return parseIcsBusy(text, options).busy.map((i) => [new Date(i.start).toISOString(), new Date(i.end).toISOString()]);
}
/** '2027-01-04T10:00:00+01:00' -> '2027-01-04T09:00:00.000Z' */
const utc = (instant: string) => new Date(Date.parse(instant)).toISOString();
const span = (start: string, end: string): [string, string] => [utc(start), utc(end)];

function calendar(...lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n');
}
function event(...lines: string[]): string[] {
  return ['BEGIN:VEVENT', `UID:${Math.random().toString(36).slice(2)}@test`, 'DTSTAMP:20261101T000000Z', ...lines, 'END:VEVENT'];
}

const ZONES = ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('ICS busy time: recurring events', () => {
  it('expands a weekly rule, drops the EXDATE, moves the overridden instance and drops the cancelled one', () => {
    expect(busy(fixture('recurring-weekly.ics'))).toEqual([
      span('2026-12-28T10:00:00+01:00', '2026-12-28T11:00:00+01:00'),
      span('2027-01-04T10:00:00+01:00', '2027-01-04T11:00:00+01:00'),
      // 2027-01-11: EXDATE. 2027-01-18: moved to Tuesday 14:30-16:00. 2027-01-25: cancelled.
      span('2027-01-19T14:30:00+01:00', '2027-01-19T16:00:00+01:00'),
      span('2027-02-01T10:00:00+01:00', '2027-02-01T11:00:00+01:00'),
      span('2027-02-08T10:00:00+01:00', '2027-02-08T11:00:00+01:00'),
      span('2027-02-15T10:00:00+01:00', '2027-02-15T11:00:00+01:00'),
      span('2027-02-22T10:00:00+01:00', '2027-02-22T11:00:00+01:00'),
      span('2027-03-01T10:00:00+01:00', '2027-03-01T11:00:00+01:00'),
      span('2027-03-08T10:00:00+01:00', '2027-03-08T11:00:00+01:00'),
      span('2027-03-15T10:00:00+01:00', '2027-03-15T11:00:00+01:00'),
      span('2027-03-22T10:00:00+01:00', '2027-03-22T11:00:00+01:00'),
      // Berlin moves to summer time on 2027-03-28: still 10:00 local, one hour earlier in UTC.
      span('2027-03-29T10:00:00+02:00', '2027-03-29T11:00:00+02:00'),
      span('2027-04-05T10:00:00+02:00', '2027-04-05T11:00:00+02:00'),
      // UNTIL=20270412T080000Z is exactly this instance's start: inclusive.
      span('2027-04-12T10:00:00+02:00', '2027-04-12T11:00:00+02:00'),
    ]);
  });

  it('keeps only the horizon, and an open-ended rule started long ago still reaches it', () => {
    const text = calendar(...event('DTSTART;TZID=Europe/Berlin:19900101T100000', 'DTEND;TZID=Europe/Berlin:19900101T103000', 'RRULE:FREQ=DAILY'));
    const result = busy(text, { ...BERLIN, horizon: { start: Date.parse('2027-03-01T00:00:00Z'), end: Date.parse('2027-03-03T00:00:00Z') } });
    expect(result).toEqual([
      span('2027-03-01T10:00:00+01:00', '2027-03-01T10:30:00+01:00'),
      span('2027-03-02T10:00:00+01:00', '2027-03-02T10:30:00+01:00'),
    ]);
  });

  it('honours COUNT from the first instance, and RDATE adds instances', () => {
    const text = calendar(...event(
      'DTSTART:20261201T120000Z', 'DTEND:20261201T130000Z', 'RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3', 'RDATE:20261220T120000Z',
    ));
    expect(busy(text)).toEqual([
      span('2026-12-01T12:00:00Z', '2026-12-01T13:00:00Z'),
      span('2026-12-03T12:00:00Z', '2026-12-03T13:00:00Z'),
      span('2026-12-05T12:00:00Z', '2026-12-05T13:00:00Z'),
      span('2026-12-20T12:00:00Z', '2026-12-20T13:00:00Z'),
    ]);
  });

  it('an all-day weekly rule with an all-day EXDATE', () => {
    const text = calendar(...event('DTSTART;VALUE=DATE:20270301', 'RRULE:FREQ=WEEKLY;COUNT=3', 'EXDATE;VALUE=DATE:20270308'));
    expect(busy(text)).toEqual([
      span('2027-03-01T00:00:00+01:00', '2027-03-02T00:00:00+01:00'),
      span('2027-03-15T00:00:00+01:00', '2027-03-16T00:00:00+01:00'),
    ]);
  });

  it('an EXDATE in UTC removes the instance it names in another zone', () => {
    const text = calendar(...event(
      'DTSTART;TZID=America/New_York:20270301T090000', 'DTEND;TZID=America/New_York:20270301T100000',
      'RRULE:FREQ=DAILY;COUNT=3', 'EXDATE:20270302T140000Z',
    ));
    expect(busy(text)).toEqual([
      span('2027-03-01T09:00:00-05:00', '2027-03-01T10:00:00-05:00'),
      span('2027-03-03T09:00:00-05:00', '2027-03-03T10:00:00-05:00'),
    ]);
  });

  it('a shifted start gives the same instances as stepping from the first one (DAILY/WEEKLY rules)', () => {
    const zone = 'America/New_York';
    const rule = fc.record({
      freq: fc.constantFrom('DAILY', 'WEEKLY'),
      interval: fc.integer({ min: 1, max: 5 }),
      byday: fc.subarray(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], { minLength: 0, maxLength: 3 }),
      daysBack: fc.integer({ min: 30, max: 4000 }),
      minute: fc.integer({ min: 0, max: 24 * 4 - 1 }).map((q) => q * 15),
      lengthMinutes: fc.integer({ min: 15, max: 3 * 24 * 60 }),
    });
    fc.assert(fc.property(rule, (r) => {
      const horizon = { start: Date.parse('2027-03-01T00:00:00Z'), end: Date.parse('2027-04-15T00:00:00Z') };
      const first = new Date(horizon.start - r.daysBack * DAY).toISOString().slice(0, 10);
      const hh = String(Math.floor(r.minute / 60)).padStart(2, '0');
      const mm = String(r.minute % 60).padStart(2, '0');
      const rrule = `FREQ=${r.freq};INTERVAL=${r.interval}${r.byday.length > 0 ? `;BYDAY=${r.byday.join(',')}` : ''}`;
      const text = calendar(...event(
        `DTSTART;TZID=${zone}:${first.replace(/-/g, '')}T${hh}${mm}00`, `DURATION:PT${r.lengthMinutes}M`, `RRULE:${rrule}`,
      ));
      const actual = parseIcsBusy(text, { timeZone: 'UTC', horizon }).busy;
      // Reference: ical.js stepping from DTSTART itself, each wall time read in the zone.
      const iterator = ICAL.Recur.fromString(rrule).iterator(ICAL.Time.fromDateTimeString(`${first}T${hh}:${mm}:00`));
      const expected = [];
      for (let next = iterator.next(), i = 0; next && i < 100_000; next = iterator.next(), i += 1) {
        const start = localToInstant(zone, next.toString().slice(0, 10), next.hour * 60 + next.minute);
        if (start >= horizon.end) break;
        if (start + r.lengthMinutes * 60_000 > horizon.start) expected.push({ start, end: start + r.lengthMinutes * 60_000 });
      }
      const merged = expected.reduce<{ start: number; end: number }[]>((out, i) => {
        const last = out[out.length - 1];
        if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
        else out.push({ ...i });
        return out;
      }, []);
      expect(actual).toEqual(merged);
    }), { numRuns: 150, seed: 20270301 });
  });
});

describe('ICS busy time: all-day, zones, floating', () => {
  it('all-day events cover the provider\'s whole local days; without DTEND one day; a transparent one is free', () => {
    expect(busy(fixture('all-day.ics'))).toEqual([
      span('2027-03-01T00:00:00+01:00', '2027-03-03T00:00:00+01:00'),
      span('2027-03-10T00:00:00+01:00', '2027-03-11T00:00:00+01:00'),
    ]);
    expect(busy(fixture('all-day.ics'), { ...BERLIN, timeZone: 'America/New_York' })).toEqual([
      span('2027-03-01T00:00:00-05:00', '2027-03-03T00:00:00-05:00'),
      span('2027-03-10T00:00:00-05:00', '2027-03-11T00:00:00-05:00'),
    ]);
  });

  it('an all-day event on a DST day is that local day, 23 hours long', () => {
    const text = calendar(...event('DTSTART;VALUE=DATE:20270328', 'DTEND;VALUE=DATE:20270329'));
    expect(busy(text)).toEqual([span('2027-03-28T00:00:00+01:00', '2027-03-29T00:00:00+02:00')]);
  });

  it('TZID: an IANA name, a VTIMEZONE with a Windows name, an old Mozilla prefix, UTC with DURATION', () => {
    expect(busy(fixture('tzid.ics'))).toEqual([
      span('2027-03-04T09:00:00-05:00', '2027-03-04T10:00:00-05:00'),
      span('2027-03-06T12:00:00+05:45', '2027-03-06T13:00:00+05:45'),
      span('2027-03-07T15:00:00Z', '2027-03-07T15:45:00Z'),
      span('2027-04-05T09:00:00+02:00', '2027-04-05T09:30:00+02:00'),
    ]);
  });

  it('floating times are read in the provider\'s zone', () => {
    expect(busy(fixture('floating.ics'))).toEqual([span('2027-03-02T09:00:00+01:00', '2027-03-02T10:30:00+01:00')]);
    expect(busy(fixture('floating.ics'), { ...BERLIN, timeZone: 'Asia/Kathmandu' })).toEqual([
      span('2027-03-02T09:00:00+05:45', '2027-03-02T10:30:00+05:45'),
    ]);
  });

  it('a TZID nobody defines falls back to the provider\'s zone', () => {
    const text = calendar(...event('DTSTART;TZID=Somewhere Else:20270302T090000', 'DTEND;TZID=Somewhere Else:20270302T100000'));
    expect(busy(text)).toEqual([span('2027-03-02T09:00:00+01:00', '2027-03-02T10:00:00+01:00')]);
  });
});

describe('ICS busy time: what is not busy', () => {
  it('transparent and cancelled events are left out; tentative ones block', () => {
    expect(busy(fixture('transparent-cancelled.ics'))).toEqual([
      span('2027-03-03T08:00:00Z', '2027-03-03T09:00:00Z'),
      span('2027-03-03T14:00:00Z', '2027-03-03T15:00:00Z'),
    ]);
  });

  it('Outlook\'s free status, a zero-length event and a VFREEBUSY FREE period are free; BUSY periods are not', () => {
    const text = calendar(
      ...event('DTSTART:20270303T080000Z', 'DTEND:20270303T090000Z', 'X-MICROSOFT-CDO-BUSYSTATUS:FREE'),
      ...event('DTSTART:20270303T100000Z'),
      'BEGIN:VFREEBUSY', 'UID:fb@test', 'DTSTAMP:20261101T000000Z',
      'FREEBUSY;FBTYPE=FREE:20270304T080000Z/20270304T090000Z',
      'FREEBUSY:20270304T100000Z/PT30M,20270304T120000Z/20270304T130000Z',
      'END:VFREEBUSY',
    );
    expect(busy(text)).toEqual([
      span('2027-03-04T10:00:00Z', '2027-03-04T10:30:00Z'),
      span('2027-03-04T12:00:00Z', '2027-03-04T13:00:00Z'),
    ]);
  });

  it('overlapping and touching events are merged', () => {
    const text = calendar(
      ...event('DTSTART:20270303T080000Z', 'DTEND:20270303T090000Z'),
      ...event('DTSTART:20270303T090000Z', 'DTEND:20270303T093000Z'),
      ...event('DTSTART:20270303T091500Z', 'DTEND:20270303T100000Z'),
    );
    expect(busy(text)).toEqual([span('2027-03-03T08:00:00Z', '2027-03-03T10:00:00Z')]);
  });
});

describe('ICS busy time: bad and hostile input', () => {
  it('a document that is not iCalendar is an IcsError', () => {
    expect(() => parseIcsBusy('<html>Sign in</html>', BERLIN)).toThrow(IcsError);
    expect(() => parseIcsBusy('BEGIN:VCALENDAR\r\nthis is not a property line\r\n', BERLIN)).toThrow(IcsError);
  });

  it('a malformed event is skipped and counted; the others still count', () => {
    const text = calendar(
      ...event('DTSTART:20270303T080000Z', 'DTEND:20270303T090000Z'),
      ...event('DTSTART:not-a-date', 'DTEND:20270303T120000Z'),
    );
    const result = parseIcsBusy(text, BERLIN);
    expect(result.skippedEvents).toBe(1);
    expect(result.busy).toEqual([{ start: Date.parse('2027-03-03T08:00:00Z'), end: Date.parse('2027-03-03T09:00:00Z') }]);
  });

  it('rules no date can satisfy end quickly instead of hanging the process', () => {
    const impossible = [
      'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
      'FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31',
      'FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30',
      'FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31',
      'FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2',
    ];
    const ok = event('DTSTART:20270303T080000Z', 'DTEND:20270303T090000Z');
    for (const rule of impossible) {
      const text = calendar(...ok, ...event('DTSTART:20260101T090000Z', 'DTEND:20260101T100000Z', `RRULE:${rule}`));
      const started = performance.now();
      const result = parseIcsBusy(text, BERLIN);
      expect(performance.now() - started, rule).toBeLessThan(2_000);
      // The impossible event is left out (skipped, or it simply has no instance); the good one counts.
      expect(result.busy, rule).toEqual([{ start: Date.parse('2027-03-03T08:00:00Z'), end: Date.parse('2027-03-03T09:00:00Z') }]);
    }
    // Many of them exhaust the document's budget: the calendar is refused as a whole.
    const many = calendar(...impossible.slice(0, 3).flatMap((rule) => [0, 1].flatMap(() =>
      event('DTSTART:20260101T090000Z', 'DTEND:20260101T100000Z', `RRULE:${rule}`))));
    const started = performance.now();
    expect(() => parseIcsBusy(many, BERLIN)).toThrow(/too expensive/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('too many instances in the horizon is an IcsError, not a huge busy set', () => {
    const text = calendar(...event('DTSTART:20261201T090000Z', 'DTEND:20261201T100000Z', 'RRULE:FREQ=DAILY'));
    expect(parseIcsBusy(text, BERLIN).busy).toHaveLength(151);
    expect(() => parseIcsBusy(text, { ...BERLIN, maxOccurrences: 100 })).toThrow(/more than 100 busy events/);
  });

  it('one rule with more steps than a rule may take (every 2 minutes for months) is skipped, not expanded', () => {
    const text = calendar(...event('DTSTART:20261201T000000Z', 'DTEND:20261201T000100Z', 'RRULE:FREQ=MINUTELY;INTERVAL=2'));
    expect(parseIcsBusy(text, BERLIN)).toEqual({ busy: [], skippedEvents: 1 });
  });
});

describe('ICS busy time does not depend on the process TZ', () => {
  it.each(ZONES)('TZ=%s gives the same intervals as TZ=UTC for every fixture', (zone) => {
    const files = ['recurring-weekly.ics', 'all-day.ics', 'tzid.ics', 'floating.ics', 'transparent-cancelled.ics', 'open-ended.ics'];
    process.env.TZ = 'UTC';
    const reference = files.map((f) => busy(fixture(f)));
    process.env.TZ = zone;
    // The process really is in the other zone now (Node applies a changed TZ at once).
    if (zone !== 'UTC') expect(new Date(Date.UTC(2027, 0, 1)).getTimezoneOffset()).not.toBe(0);
    expect(files.map((f) => busy(fixture(f)))).toEqual(reference);
  });
});
