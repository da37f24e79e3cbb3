// Wall-clock <-> instant conversion with nothing but Intl and UTC arithmetic. No Date
// getter that reads the machine's zone is used, so results do not depend on process.env.TZ.
// "Wall ms" below means a local reading encoded as if it were UTC: 2027-03-14 03:30 local
// is Date.UTC(2027, 2, 14, 3, 30), whatever the zone. offset = wall ms - instant.

export type LocalDate = string; // 'YYYY-MM-DD'
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
export const WEEKDAYS: readonly Weekday[] = Object.freeze([
  'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
] as const);

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

// Only valid names are cached: the set of IANA names is bounded, garbage from requests is not.
const validZones = new Set<string>();

export function isValidTimeZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  // Newer engines accept offset strings ('+01:00') as zones; they are not IANA names.
  if (zone === '' || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  validZones.add(zone);
  return true;
}

const canonicalZones = new Map<string, string>();

/**
 * The zone's canonical IANA spelling, or null when it is not a zone:
 * 'europe/berlin' -> 'Europe/Berlin', 'US/Eastern' -> 'America/New_York'.
 * Stored and echoed zones use it, so one zone has one name in the API.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (!isValidTimeZone(zone)) return null;
  let canonical = canonicalZones.get(zone);
  if (canonical === undefined) {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    canonicalZones.set(zone, canonical);
  }
  return canonical;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isRealDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

export function isValidLocalDate(s: string): boolean {
  const m = DATE_PATTERN.exec(s);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Date.UTC, except years 0-99 are not remapped to 1900-1999. */
function utcMs(year: number, month: number, day: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day);
  return new Date(0).setUTCFullYear(year, month - 1, day);
}

/** '2027-03-14' -> Date.UTC(2027, 2, 14). Throws on anything that is not a real date. */
function localDateToUtcMs(date: LocalDate): number {
  const m = DATE_PATTERN.exec(date);
  if (m === null || !isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new RangeError(`Invalid local date: ${JSON.stringify(date)}`);
  }
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Inverse of localDateToUtcMs: the UTC calendar date of a (wall) ms value. */
function utcMsToLocalDate(ms: number): LocalDate {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** 'HH:MM' -> minutes since midnight. '09:00' -> 540; '24:00' -> 1440 only when allow24. */
export function parseClockTime(s: string, allow24: boolean): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(s);
  if (m === null) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (hours === 24 && minutes === 0) return allow24 ? 1440 : null;
  if (hours > 23 || minutes > 59) return null;
  return hours * 60 + minutes;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return utcMsToLocalDate(localDateToUtcMs(date) + days * MS_PER_DAY);
}

/** 1970-01-01 was a Thursday (index 3 with Monday = 0). */
export function weekdayOf(date: LocalDate): Weekday {
  const dayNumber = Math.round(localDateToUtcMs(date) / MS_PER_DAY);
  return WEEKDAYS[(((dayNumber + 3) % 7) + 7) % 7]!;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    const n = 'numeric';
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: n, month: n, day: n, hour: n, minute: n, second: n });
    formatters.set(zone, f);
  }
  return f;
}

// format() + one regex is ~3x faster than formatToParts(), and offsets are on the hot path of
// slot computation. en-US gives '3/14/2027, 03:30:00'; separators are matched loosely (\D+).
const READING = /^(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)$/;

// Intl is the slow part (~1.5 us a call) and the same probes recur: localToInstant probes the
// midnights around its date, shared by the windows of neighbouring dates. The offset at an
// instant never changes, so a memo is safe; it is emptied when it grows past 50 000 entries.
const offsetMemo = new Map<string, Map<number, number>>(); // zone -> whole second -> offset ms
let offsetMemoEntries = 0;

function offsetMsAt(zone: string, epochMs: number): number {
  const wholeSecond = Math.floor(epochMs / 1000) * 1000;
  const known = offsetMemo.get(zone)?.get(wholeSecond);
  if (known !== undefined) return known;
  const text = formatterFor(zone).format(wholeSecond);
  const m = READING.exec(text);
  if (m === null) throw new RangeError(`Unexpected Intl output ${JSON.stringify(text)} for ${zone}`);
  const wall = utcMs(Number(m[3]), Number(m[1]), Number(m[2])) +
    (Number(m[4]) % 24) * 3_600_000 + Number(m[5]) * MS_PER_MINUTE + Number(m[6]) * 1000;
  if (++offsetMemoEntries > 50_000) {
    offsetMemo.clear();
    offsetMemoEntries = 1;
  }
  let memo = offsetMemo.get(zone);
  if (memo === undefined) offsetMemo.set(zone, (memo = new Map()));
  memo.set(wholeSecond, wall - wholeSecond);
  return wall - wholeSecond;
}

/** UTC offset in minutes: Europe/Berlin in January -> 60, America/New_York in July -> -240. */
export function offsetMinutesAt(zone: string, epochMs: number): number {
  return offsetMsAt(zone, epochMs) / MS_PER_MINUTE;
}

/** The local reading at an instant, as wall ms. */
function wallMsAt(zone: string, epochMs: number): number {
  return epochMs + offsetMsAt(zone, epochMs);
}

/**
 * The instant when the wall clock in `zone` shows `minutesOfDay` on `date` (1440 = next day
 * 00:00), disambiguated like Temporal's 'compatible':
 *   gap  (NY 2027-03-14 02:30 does not exist)   -> moved forward: 03:30 EDT = 07:30Z
 *   fold (NY 2027-11-07 01:30 happens twice)    -> the first one: 01:30 EDT = 05:30Z
 * The offsets read at the day before's and the day after next's midnight (as if UTC) bracket
 * any change near the wall time, since offsets are under a day. Each gives a candidate that
 * is right if its local reading shows the wall time again. Probing at midnights rather than
 * at wall time +-1 day lets all windows of neighbouring dates share (memoized) probes. It
 * assumes at most one offset change in those three days: true of every zone 1970-2040.
 */
export function localToInstant(zone: string, date: LocalDate, minutesOfDay: number): number {
  const midnight = localDateToUtcMs(date);
  const wall = midnight + minutesOfDay * MS_PER_MINUTE;
  const offsetBefore = offsetMsAt(zone, midnight - MS_PER_DAY);
  const offsetAfter = offsetMsAt(zone, midnight + 2 * MS_PER_DAY);
  const early = wall - offsetBefore;
  if (offsetBefore === offsetAfter) return early;
  const late = wall - offsetAfter;
  const earlyMatches = wallMsAt(zone, early) === wall;
  const lateMatches = wallMsAt(zone, late) === wall;
  if (earlyMatches && lateMatches) return Math.min(early, late);
  if (earlyMatches) return early;
  if (lateMatches) return late;
  // Gap: keep the pre-transition offset, i.e. push the wall time forward by the gap length.
  return early;
}

export function instantToLocalDate(zone: string, epochMs: number): LocalDate {
  return utcMsToLocalDate(wallMsAt(zone, epochMs));
}

export function instantToLocalMinutes(zone: string, epochMs: number): number {
  const wall = wallMsAt(zone, epochMs);
  return Math.floor((((wall % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / MS_PER_MINUTE);
}

/**
 * RFC 3339 with whole seconds (milliseconds are truncated):
 *   formatInstant(t)                       -> '2027-03-14T07:30:00Z'
 *   formatInstant(t, 'America/New_York')   -> '2027-03-14T03:30:00-04:00'
 *   formatInstant(t, 'Asia/Kathmandu')     -> '2027-03-14T13:15:00+05:45'
 */
export function formatInstant(epochMs: number, zone?: string): string {
  const wholeSecond = Math.floor(epochMs / 1000) * 1000;
  if (zone === undefined || zone === 'UTC') return `${new Date(wholeSecond).toISOString().slice(0, 19)}Z`;
  // RFC 3339 offsets have no seconds; historical offsets like +00:19:32 get rounded, and the
  // local time shown is shifted by the same rounded offset so the string names the same instant.
  const offsetMinutes = Math.round(offsetMsAt(zone, wholeSecond) / MS_PER_MINUTE);
  const local = new Date(wholeSecond + offsetMinutes * MS_PER_MINUTE).toISOString().slice(0, 19);
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

// RFC 3339 section 5.6 date-time. 'T' and 'Z' may be lower case (RFC 3339 5.6, NOTE).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Strict RFC 3339 with seconds and an explicit offset, else null:
 *   '2027-03-01T09:00:00Z', '2027-03-01T09:00:00.000+01:00' -> epoch ms
 *   '2027-03-01T09:00Z', '2027-03-01T09:00:00', '2027-02-30T09:00:00Z', '...T25:00:00Z' -> null
 * A leap second (:60) is rejected: epoch ms cannot represent it.
 */
export function parseInstant(s: string): number | null {
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const field = (i: number) => Number(m[i]);
  const [year, month, day, hour, minute, second] = [field(1), field(2), field(3), field(4), field(5), field(6)];
  if (!isRealDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const [offsetHours, offsetMins] = m[8] === undefined ? [0, 0] : [field(9), field(10)];
  if (offsetHours > 23 || offsetMins > 59) return null;
  const offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  const wall = utcMs(year, month, day) + hour * 3_600_000 + minute * MS_PER_MINUTE + second * 1000 + millis;
  return wall - offsetMinutes * MS_PER_MINUTE;
}
