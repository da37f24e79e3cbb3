import { invalidField } from '../../domain/errors.js';
import { canonicalTimeZone } from '../../domain/zoned-time.js';
import type { Interval } from '../../domain/intervals.js';
import { addDays, isValidLocalDate, localToInstant, parseInstant } from '../../domain/zoned-time.js';

export const MAX_RANGE_DAYS = 93;
const DAY_MS = 24 * 3600 * 1000;

/**
 * `from`/`to` query values: instants, or local dates in `zone` where `to` is
 * inclusive (from=2027-03-01&to=2027-03-01 is that whole local day).
 */
export function parseRange(from: string, to: string, zone: string): Interval {
  // A pure function of its text (and the zone rules, fixed for the process): slot reads ask the
  // same few ranges over and over, and the local-date conversions were ~4% of a cached read's CPU.
  const key = `${from}|${to}|${zone}`;
  const known = parsedRanges.get(key);
  if (known) return { start: known.start, end: known.end };
  const range = parseRangeOnce(from, to, zone);
  if (parsedRanges.size >= MAX_PARSED_RANGES) parsedRanges.clear();
  parsedRanges.set(key, range);
  return { start: range.start, end: range.end };
}

/** Ranges parsed before (valid ones only: a bad range is parsed, and refused, every time). */
const parsedRanges = new Map<string, Interval>();
const MAX_PARSED_RANGES = 1_000;

function parseRangeOnce(from: string, to: string, zone: string): Interval {
  const start = boundary('from', from, zone, 0);
  const end = boundary('to', to, zone, 1);
  // Two dates: to is inclusive, so from=D+1&to=D is an empty range by instants, yet from is after to.
  const datesReversed = LOCAL_DATE.test(from) && LOCAL_DATE.test(to) && from > to;
  if (start > end || datesReversed) throw invalidField('from', 'must not be after to');
  // Two local dates count local days (to inclusive), so a DST change inside does not add or take an hour.
  const bothDates = LOCAL_DATE.test(from) && LOCAL_DATE.test(to);
  const tooLong = bothDates
    ? Date.parse(`${addDays(to, 1)}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`) > MAX_RANGE_DAYS * DAY_MS
    : end - start > MAX_RANGE_DAYS * DAY_MS;
  if (tooLong) {
    throw invalidField('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  }
  return { start, end };
}

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The instants this API accepts: years 1000 to 8999. Far outside, local-date
 * arithmetic (schedule margins, `to` + 1 day) leaves years 0001-9999, which
 * PostgreSQL and the date code cannot hold: a 400, never a 500.
 */
const MIN_SUPPORTED_MS = Date.UTC(1000, 0, 1);
const MAX_SUPPORTED_MS = Date.UTC(9000, 0, 1);
export const SUPPORTED_RANGE_MESSAGE = 'must lie in the years 1000 to 8999';

export function isSupportedInstant(ms: number): boolean {
  return ms >= MIN_SUPPORTED_MS && ms < MAX_SUPPORTED_MS;
}

/** A 'YYYY-MM-DD' (already known to be real) in the years 1000 to 8999. */
export function isSupportedLocalDate(date: string): boolean {
  const year = Number(date.slice(0, 4));
  return year >= 1000 && year < 9000;
}

/** One end of a range: an instant, or a local date in `zone` plus `daysAfter` days (1 makes `to` inclusive). */
export function boundary(name: string, value: string, zone: string, daysAfter: number): number {
  if (LOCAL_DATE.test(value)) {
    if (!isValidLocalDate(value)) throw invalidField(name, `"${value}" is not a real date`);
    if (!isSupportedLocalDate(value)) throw invalidField(name, SUPPORTED_RANGE_MESSAGE);
    return localToInstant(zone, addDays(value, daysAfter), 0);
  }
  const ms = parseInstant(value);
  if (ms === null) {
    throw invalidField(name, `"${value}" is neither an RFC 3339 instant with an offset nor a date YYYY-MM-DD`);
  }
  if (!isSupportedInstant(ms)) throw invalidField(name, SUPPORTED_RANGE_MESSAGE);
  return ms;
}

/** A zone from the request, in its canonical IANA spelling; a 400 naming the field otherwise. */
export function requireTimeZone(path: string, zone: string): string {
  const canonical = canonicalTimeZone(zone);
  if (canonical === null) throw invalidField(path, `"${zone}" is not a known IANA time zone`);
  return canonical;
}

/**
 * The range's part of a slot cache key: local dates read in the provider's own zone (no zone asked)
 * by their text (that zone is part of the versioned data), anything else by its instants. A bad
 * range is a 400 before any lookup.
 */
export function rangeKeyOf(query: { from: string; to: string }, outZone: string | undefined): string {
  const range = parseRange(query.from, query.to, outZone ?? 'UTC');
  const providerZoneDates = outZone === undefined && (LOCAL_DATE.test(query.from) || LOCAL_DATE.test(query.to));
  return providerZoneDates ? `d:${query.from}:${query.to}` : `r:${range.start}:${range.end}`;
}
