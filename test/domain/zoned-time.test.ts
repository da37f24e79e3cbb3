import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  WEEKDAYS, addDays, formatInstant, instantToLocalDate, instantToLocalMinutes, isValidLocalDate,
  isValidTimeZone, localToInstant, offsetMinutesAt, parseClockTime, parseInstant, weekdayOf,
} from '../../src/domain/zoned-time.js';
import { DAY, MINUTE, at, findTransitions, readLocal, referenceLocalToInstant } from './tz-reference.js';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const LORD_HOWE = 'Australia/Lord_Howe';

describe('validation', () => {
  it('isValidTimeZone accepts IANA names and UTC, rejects the rest', () => {
    for (const z of ['UTC', NY, 'Asia/Kathmandu', LORD_HOWE, 'Pacific/Chatham', NY]) expect(isValidTimeZone(z)).toBe(true);
    for (const z of ['', 'garbage', 'Mars/Olympus', '+01:00', '-05:00', 'America/New York']) expect(isValidTimeZone(z)).toBe(false);
  });
  it('isValidLocalDate is strict and knows the calendar', () => {
    for (const d of ['2027-02-28', '2028-02-29', '2000-02-29', '2027-12-31']) expect(isValidLocalDate(d)).toBe(true);
    for (const d of ['2027-02-29', '2027-02-30', '1900-02-29', '2027-13-01', '2027-00-10', '2027-04-31',
      '2027-1-01', '27-01-01', '2027-01-01T00:00', ' 2027-01-01', '']) expect(isValidLocalDate(d)).toBe(false);
  });
  it('parseClockTime', () => {
    expect(parseClockTime('00:00', false)).toBe(0);
    expect(parseClockTime('09:30', false)).toBe(570);
    expect(parseClockTime('23:59', false)).toBe(1439);
    expect(parseClockTime('24:00', true)).toBe(1440);
    for (const s of ['24:00', '25:00', '9:00', '12:60', '24:01', ' 09:00', '09:00:00', '']) expect(parseClockTime(s, false)).toBeNull();
    for (const s of ['25:00', '24:01', '9:00']) expect(parseClockTime(s, true)).toBeNull();
  });
});

describe('calendar arithmetic', () => {
  it('addDays crosses months, years and leap days', () => {
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-12-31', 1)).toBe('2028-01-01');
    expect(addDays('2027-03-01', -1)).toBe('2027-02-28');
    expect(addDays('2027-03-14', 0)).toBe('2027-03-14');
    expect(addDays('2027-01-01', 365)).toBe('2028-01-01');
  });
  it('weekdayOf and WEEKDAYS', () => {
    expect(WEEKDAYS).toEqual(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);
    expect(weekdayOf('2027-03-14')).toBe('sunday');
    expect(weekdayOf('2027-03-15')).toBe('monday');
    expect(weekdayOf('2000-01-01')).toBe('saturday');
    expect(weekdayOf('1970-01-01')).toBe('thursday');
    expect(weekdayOf('1969-12-31')).toBe('wednesday');
  });
});

describe('offsetMinutesAt', () => {
  it('reads the offset in force at an instant', () => {
    expect(offsetMinutesAt(BERLIN, at('2027-01-15T12:00:00Z'))).toBe(60);
    expect(offsetMinutesAt(BERLIN, at('2027-07-15T12:00:00Z'))).toBe(120);
    expect(offsetMinutesAt(NY, at('2027-03-14T06:59:59Z'))).toBe(-300);
    expect(offsetMinutesAt(NY, at('2027-03-14T07:00:00Z'))).toBe(-240);
    expect(offsetMinutesAt('Asia/Kathmandu', at('2027-03-14T00:00:00Z'))).toBe(345);
    expect(offsetMinutesAt(LORD_HOWE, at('2027-07-01T00:00:00Z'))).toBe(630);
    expect(offsetMinutesAt('Pacific/Chatham', at('2027-01-01T00:00:00Z'))).toBe(825);
    expect(offsetMinutesAt('UTC', at('2027-01-01T00:00:00Z'))).toBe(0);
  });
});

describe('localToInstant', () => {
  const cases: [string, string, string, string][] = [
    // zone, date, wall time, expected instant
    [NY, '2027-03-14', '01:59', '2027-03-14T01:59:00-05:00'],
    [NY, '2027-03-14', '02:00', '2027-03-14T03:00:00-04:00'], // gap: forward
    [NY, '2027-03-14', '02:30', '2027-03-14T07:30:00Z'], // = 03:30 EDT
    [NY, '2027-03-14', '03:00', '2027-03-14T03:00:00-04:00'],
    [NY, '2027-11-07', '00:59', '2027-11-07T00:59:00-04:00'],
    [NY, '2027-11-07', '01:30', '2027-11-07T05:30:00Z'], // fold: first (EDT)
    [NY, '2027-11-07', '02:00', '2027-11-07T02:00:00-05:00'],
    [BERLIN, '2027-03-28', '02:30', '2027-03-28T03:30:00+02:00'],
    [BERLIN, '2027-10-31', '02:30', '2027-10-31T02:30:00+02:00'],
    [BERLIN, '2027-10-31', '03:00', '2027-10-31T03:00:00+01:00'],
    ['Asia/Kathmandu', '2027-03-14', '09:00', '2027-03-14T03:15:00Z'],
    ['America/Sao_Paulo', '2018-11-04', '00:00', '2018-11-04T01:00:00-02:00'], // the day starts at 01:00
    ['America/Sao_Paulo', '2019-02-16', '23:30', '2019-02-16T23:30:00-02:00'], // 23:xx happens twice
    ['Pacific/Chatham', '2027-09-26', '02:45', '2027-09-26T03:45:00+13:45'],
    ['UTC', '2027-03-14', '24:00', '2027-03-15T00:00:00Z'],
    [NY, '2027-03-13', '24:00', '2027-03-14T00:00:00-05:00'],
  ];
  it.each(cases)('%s %s %s -> %s', (zone, date, time, expected) => {
    const t = localToInstant(zone, date, parseClockTime(time, true)!);
    expect(t).toBe(at(expected));
  });

  it('Lord Howe: 30-minute shifts on the 2027 dates found with Intl', () => {
    const [backward, forward] = findTransitions(LORD_HOWE, at('2027-01-01T00:00:00Z'), at('2028-01-01T00:00:00Z'));
    expect([backward?.before, backward?.after, forward?.before, forward?.after]).toEqual([660, 630, 630, 660]);
    const foldDate = readLocal(LORD_HOWE, backward!.at).date;
    const gapDate = readLocal(LORD_HOWE, forward!.at).date;
    expect([foldDate, gapDate]).toEqual(['2027-04-04', '2027-10-03']);
    // 02:00 +11:00 -> 01:30 +10:30: 01:45 happens twice, the first one wins.
    expect(localToInstant(LORD_HOWE, foldDate, 105)).toBe(at('2027-04-04T01:45:00+11:00'));
    expect(localToInstant(LORD_HOWE, foldDate, 120)).toBe(at('2027-04-04T02:00:00+10:30'));
    // 02:00 +10:30 -> 02:30 +11:00: 02:15 does not exist and moves forward 30 minutes.
    expect(localToInstant(LORD_HOWE, gapDate, 135)).toBe(at('2027-10-03T02:45:00+11:00'));
    expect(localToInstant(LORD_HOWE, gapDate, 150)).toBe(at('2027-10-03T02:30:00+11:00'));
  });

  it('agrees with a brute-force scan near transitions (property)', () => {
    const zones = [NY, BERLIN, LORD_HOWE, 'Pacific/Chatham', 'America/Sao_Paulo', 'Pacific/Apia', 'Asia/Kathmandu'];
    const dates = zones.flatMap((z) => findTransitions(z, at('2018-01-01T00:00:00Z'), at('2028-01-01T00:00:00Z'))
      .map((t) => [z, readLocal(z, t.at).date] as const));
    fc.assert(fc.property(fc.constantFrom(...dates), fc.integer({ min: -1, max: 1 }), fc.integer({ min: 0, max: 96 }),
      ([zone, date], shift, quarter) => {
        const d = addDays(date, shift);
        expect(localToInstant(zone, d, quarter * 15)).toBe(referenceLocalToInstant(zone, d, quarter * 15));
      }), { numRuns: 300 });
  });
});

describe('instant -> local', () => {
  it('reads local date and minutes', () => {
    expect(instantToLocalDate(NY, at('2027-03-14T06:59:00Z'))).toBe('2027-03-14');
    expect(instantToLocalMinutes(NY, at('2027-03-14T06:59:00Z'))).toBe(119);
    expect(instantToLocalMinutes(NY, at('2027-03-14T07:00:00Z'))).toBe(180);
    expect(instantToLocalDate('Asia/Kathmandu', at('2027-03-14T18:15:00Z'))).toBe('2027-03-15');
    expect(instantToLocalMinutes('Asia/Kathmandu', at('2027-03-14T18:15:00Z'))).toBe(0);
    expect(instantToLocalDate('Pacific/Chatham', at('2027-03-14T10:14:59Z'))).toBe('2027-03-14'); // +13:45
    expect(instantToLocalDate('Pacific/Chatham', at('2027-03-14T10:15:00Z'))).toBe('2027-03-15');
  });
  it('round trip: local reading -> instant gives the earliest instant with that reading (property)', () => {
    const zones = [NY, BERLIN, LORD_HOWE, 'Asia/Kathmandu', 'Pacific/Chatham', 'America/Sao_Paulo', 'UTC'];
    fc.assert(fc.property(fc.constantFrom(...zones), fc.integer({ min: at('2015-01-01T00:00:00Z') / MINUTE, max: at('2035-01-01T00:00:00Z') / MINUTE }),
      (zone, minute) => {
        const t = minute * MINUTE;
        const back = localToInstant(zone, instantToLocalDate(zone, t), instantToLocalMinutes(zone, t));
        expect(back).toBeLessThanOrEqual(t);
        expect(t - back).toBeLessThanOrEqual(60 * MINUTE); // at most one repeated hour
        expect(readLocal(zone, back)).toEqual(readLocal(zone, t));
      }), { numRuns: 300 });
  });
});

describe('formatInstant / parseInstant', () => {
  it('formats RFC 3339 with seconds, without milliseconds', () => {
    const t = at('2027-03-14T07:30:00.999Z');
    expect(formatInstant(t)).toBe('2027-03-14T07:30:00Z');
    expect(formatInstant(t, 'UTC')).toBe('2027-03-14T07:30:00Z');
    expect(formatInstant(t, NY)).toBe('2027-03-14T03:30:00-04:00');
    expect(formatInstant(t, 'Asia/Kathmandu')).toBe('2027-03-14T13:15:00+05:45');
    expect(formatInstant(t, 'Europe/London')).toBe('2027-03-14T07:30:00+00:00');
    expect(formatInstant(at('2027-11-07T06:30:00Z'), NY)).toBe('2027-11-07T01:30:00-05:00');
    expect(formatInstant(-1)).toBe('1969-12-31T23:59:59Z');
  });
  it('parses strict RFC 3339 with an offset', () => {
    expect(parseInstant('2027-03-01T09:00:00Z')).toBe(Date.UTC(2027, 2, 1, 9));
    expect(parseInstant('2027-03-01T09:00:00.000+01:00')).toBe(Date.UTC(2027, 2, 1, 8));
    expect(parseInstant('2027-03-01T09:00:00.5-05:45')).toBe(Date.UTC(2027, 2, 1, 14, 45, 0, 500));
    expect(parseInstant('2028-02-29T23:59:59Z')).toBe(Date.UTC(2028, 1, 29, 23, 59, 59));
    for (const s of ['2027-03-01T09:00Z', '2027-03-01T09:00:00', '2027-02-30T09:00:00Z', '2027-03-01T25:00:00Z',
      '2027-03-01T24:00:00Z', '2027-03-01T09:60:00Z', '2027-03-01T09:00:60Z', '2027-03-01 09:00:00Z',
      '2027-03-01T09:00:00+0100', '2027-03-01T09:00:00+24:00', '2027-03-01T09:00:00.Z', '2027-3-01T09:00:00Z', '', 'now'])
      expect(parseInstant(s)).toBeNull();
  });
  it('parse(format(t, zone)) is t to the second (property)', () => {
    const zones = [NY, BERLIN, LORD_HOWE, 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];
    fc.assert(fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 40 * 365 * DAY }), (zone, offset) => {
      const t = at('2000-01-01T00:00:00Z') + offset;
      expect(parseInstant(formatInstant(t, zone))).toBe(Math.floor(t / 1000) * 1000);
    }));
  });
});
