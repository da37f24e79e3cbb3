import { describe, expect, it } from 'vitest';
import { effectiveAvailability, expandWindowOnDate, validateClockWindow } from '../../src/domain/schedule.js';
import type { AvailabilityRules, WeeklyWindow } from '../../src/domain/schedule.js';
import type { Interval } from '../../src/domain/intervals.js';
import { formatInstant } from '../../src/domain/zoned-time.js';
import { HOUR, at } from './tz-reference.js';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const LORD_HOWE = 'Australia/Lord_Howe';

const show = (list: readonly Interval[], zone: string) =>
  list.map((i) => `${formatInstant(i.start, zone)} / ${formatInstant(i.end, zone)}`);
const span = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
const hours = (i: Interval) => (i.end - i.start) / HOUR;

describe('validateClockWindow', () => {
  it('accepts day, overnight and 24:00 windows', () => {
    expect(validateClockWindow({ start: '09:00', end: '17:00' })).toBeNull();
    expect(validateClockWindow({ start: '22:00', end: '06:00' })).toBeNull();
    expect(validateClockWindow({ start: '00:00', end: '24:00' })).toBeNull();
  });
  it('explains what is wrong', () => {
    expect(validateClockWindow({ start: '09:00', end: '09:00' })).toMatch(/empty/);
    expect(validateClockWindow({ start: '9:00', end: '17:00' })).toMatch(/start/);
    expect(validateClockWindow({ start: '24:00', end: '01:00' })).toMatch(/start/);
    expect(validateClockWindow({ start: '10:00', end: '25:00' })).toMatch(/end/);
  });
});

describe('expandWindowOnDate', () => {
  const cases: [string, string, string, string, number][] = [
    // zone, date, window, expected, elapsed hours
    [NY, '2027-03-14', '01:00-05:00', '2027-03-14T01:00:00-05:00 / 2027-03-14T05:00:00-04:00', 3],
    [NY, '2027-11-07', '01:00-05:00', '2027-11-07T01:00:00-04:00 / 2027-11-07T05:00:00-05:00', 5],
    [NY, '2027-03-13', '18:00-24:00', '2027-03-13T18:00:00-05:00 / 2027-03-14T00:00:00-05:00', 6],
    [NY, '2027-03-13', '22:00-06:00', '2027-03-13T22:00:00-05:00 / 2027-03-14T06:00:00-04:00', 7],
    [BERLIN, '2027-03-27', '22:00-06:00', '2027-03-27T22:00:00+01:00 / 2027-03-28T06:00:00+02:00', 7],
    [BERLIN, '2027-10-30', '22:00-06:00', '2027-10-30T22:00:00+02:00 / 2027-10-31T06:00:00+01:00', 9],
    [BERLIN, '2027-10-31', '02:00-03:00', '2027-10-31T02:00:00+02:00 / 2027-10-31T03:00:00+01:00', 2],
    [LORD_HOWE, '2027-10-03', '01:00-03:00', '2027-10-03T01:00:00+10:30 / 2027-10-03T03:00:00+11:00', 1.5],
    [LORD_HOWE, '2027-04-04', '01:00-03:00', '2027-04-04T01:00:00+11:00 / 2027-04-04T03:00:00+10:30', 2.5],
    ['Asia/Kathmandu', '2027-03-14', '09:00-17:00', '2027-03-14T09:00:00+05:45 / 2027-03-14T17:00:00+05:45', 8],
    ['Asia/Kathmandu', '2027-03-14', '09:00-00:00', '2027-03-14T09:00:00+05:45 / 2027-03-15T00:00:00+05:45', 15],
    // Both ends in the gap move forward by an hour; an end at 03:00 (real) before a start
    // pushed to 03:30 gives an empty window, never an inverted one.
    [NY, '2027-03-14', '02:00-02:30', '2027-03-14T03:00:00-04:00 / 2027-03-14T03:30:00-04:00', 0.5],
    [NY, '2027-03-14', '02:30-03:00', '2027-03-14T03:30:00-04:00 / 2027-03-14T03:30:00-04:00', 0],
  ];
  it.each(cases)('%s %s %s', (zone, date, window, expected, elapsed) => {
    const [start, end] = window.split('-') as [string, string];
    const interval = expandWindowOnDate(zone, date, { start, end });
    expect(show([interval], zone)).toEqual([expected]);
    expect(hours(interval)).toBe(elapsed);
  });
  it('throws on an invalid window', () => {
    expect(() => expandWindowOnDate(NY, '2027-03-14', { start: '10:00', end: '10:00' })).toThrow(RangeError);
  });
});

describe('effectiveAvailability', () => {
  const weekdays9to17: WeeklyWindow[] = (['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const)
    .map((day) => ({ day, start: '09:00', end: '17:00' }));
  const rules = (extra: Partial<AvailabilityRules> = {}): AvailabilityRules =>
    ({ timeZone: BERLIN, weekly: weekdays9to17, overrides: [], oneOff: [], timeOff: [], ...extra });
  // Monday 2027-03-15 00:00 to Monday 2027-03-22 00:00, Berlin (+01:00).
  const week = span('2027-03-15T00:00:00+01:00', '2027-03-22T00:00:00+01:00');

  it('expands weekly windows over a week', () => {
    expect(show(effectiveAvailability(rules(), week), BERLIN)).toEqual([15, 16, 17, 18, 19].map((d) =>
      `2027-03-${d}T09:00:00+01:00 / 2027-03-${d}T17:00:00+01:00`));
  });

  it('an override replaces the day, an empty override is a day off, other zones are honoured', () => {
    const result = effectiveAvailability(rules({
      overrides: [
        { date: '2027-03-16', timeZone: BERLIN, windows: [{ start: '12:00', end: '14:00' }, { start: '15:00', end: '16:00' }] },
        { date: '2027-03-17', timeZone: BERLIN, windows: [] },
        { date: '2027-03-18', timeZone: NY, windows: [{ start: '09:00', end: '10:00' }] }, // NY is -04:00 here
        { date: '2027-03-20', timeZone: BERLIN, windows: [{ start: '10:00', end: '11:00' }] }, // a Saturday
      ],
    }), week);
    expect(show(result, BERLIN)).toEqual([
      '2027-03-15T09:00:00+01:00 / 2027-03-15T17:00:00+01:00',
      '2027-03-16T12:00:00+01:00 / 2027-03-16T14:00:00+01:00',
      '2027-03-16T15:00:00+01:00 / 2027-03-16T16:00:00+01:00',
      '2027-03-18T14:00:00+01:00 / 2027-03-18T15:00:00+01:00',
      '2027-03-19T09:00:00+01:00 / 2027-03-19T17:00:00+01:00',
      '2027-03-20T10:00:00+01:00 / 2027-03-20T11:00:00+01:00',
    ]);
  });

  it('subtracts time off and unites one-off windows (touching ones merge)', () => {
    const result = effectiveAvailability(rules({
      timeOff: [span('2027-03-15T12:00:00+01:00', '2027-03-15T13:00:00+01:00'), span('2027-03-16T00:00:00+01:00', '2027-03-19T00:00:00+01:00')],
      oneOff: [span('2027-03-19T17:00:00+01:00', '2027-03-19T19:00:00+01:00'), span('2027-03-21T10:00:00+01:00', '2027-03-21T12:00:00+01:00')],
    }), week);
    expect(show(result, BERLIN)).toEqual([
      '2027-03-15T09:00:00+01:00 / 2027-03-15T12:00:00+01:00',
      '2027-03-15T13:00:00+01:00 / 2027-03-15T17:00:00+01:00',
      '2027-03-19T09:00:00+01:00 / 2027-03-19T19:00:00+01:00',
      '2027-03-21T10:00:00+01:00 / 2027-03-21T12:00:00+01:00',
    ]);
  });

  it('time off also removes one-off time', () => {
    const oneOff = [span('2027-03-20T10:00:00+01:00', '2027-03-20T12:00:00+01:00')];
    const timeOff = [span('2027-03-20T11:00:00+01:00', '2027-03-20T13:00:00+01:00')];
    expect(show(effectiveAvailability(rules({ weekly: [], oneOff, timeOff }), week), BERLIN))
      .toEqual(['2027-03-20T10:00:00+01:00 / 2027-03-20T11:00:00+01:00']);
  });

  it("catches the previous day's overnight window and clips to the range", () => {
    const overnight = rules({ weekly: [{ day: 'sunday', start: '22:00', end: '06:00' }] });
    expect(show(effectiveAvailability(overnight, week), BERLIN)).toEqual([
      '2027-03-15T00:00:00+01:00 / 2027-03-15T06:00:00+01:00', // from Sunday 03-14
      '2027-03-21T22:00:00+01:00 / 2027-03-22T00:00:00+01:00', // clipped at the range end
    ]);
    const midDay = span('2027-03-15T10:30:00+01:00', '2027-03-15T11:00:00+01:00');
    expect(show(effectiveAvailability(rules(), midDay), BERLIN)).toEqual(['2027-03-15T10:30:00+01:00 / 2027-03-15T11:00:00+01:00']);
  });

  it('an override of the previous day also replaces its overnight window', () => {
    const overnight = rules({
      weekly: [{ day: 'sunday', start: '22:00', end: '06:00' }],
      overrides: [{ date: '2027-03-14', timeZone: BERLIN, windows: [] }],
    });
    expect(show(effectiveAvailability(overnight, week), BERLIN)).toEqual([
      '2027-03-21T22:00:00+01:00 / 2027-03-22T00:00:00+01:00', // Sunday 03-21 is not overridden
    ]);
  });

  it('an override in a zone far west can reach a range that starts two local dates later', () => {
    // Apia is +13:00, New York -04:00. New York's 2027-06-08 12:00 to 06-09 11:00 ends at
    // 06-09 15:00Z, which is already 2027-06-10 04:00 in Apia.
    const apia = rules({
      timeZone: 'Pacific/Apia', weekly: [],
      overrides: [{ date: '2027-06-08', timeZone: NY, windows: [{ start: '12:00', end: '11:00' }] }],
    });
    const day = span('2027-06-10T00:00:00+13:00', '2027-06-11T00:00:00+13:00');
    expect(show(effectiveAvailability(apia, day), 'Pacific/Apia')).toEqual(['2027-06-10T00:00:00+13:00 / 2027-06-10T04:00:00+13:00']);
  });

  it('follows DST: Sunday 01:00-05:00 in New York lasts 3 hours in March and 5 in November', () => {
    const sunday = rules({ timeZone: NY, weekly: [{ day: 'sunday', start: '01:00', end: '05:00' }] });
    const march = effectiveAvailability(sunday, span('2027-03-13T00:00:00-05:00', '2027-03-15T00:00:00-04:00'));
    expect(show(march, NY)).toEqual(['2027-03-14T01:00:00-05:00 / 2027-03-14T05:00:00-04:00']);
    const november = effectiveAvailability(sunday, span('2027-11-06T00:00:00-04:00', '2027-11-08T00:00:00-05:00'));
    expect(november.map(hours)).toEqual([5]);
  });

  it('empty or inverted range gives nothing', () => {
    expect(effectiveAvailability(rules(), { start: week.start, end: week.start })).toEqual([]);
    expect(effectiveAvailability(rules(), { start: week.end, end: week.start })).toEqual([]);
  });
});
