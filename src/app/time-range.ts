import { invalidField } from '../domain/errors.js';
import type { Interval } from '../domain/intervals.js';
import { addDays, isValidLocalDate, localToInstant, parseInstant } from '../domain/zoned-time.js';

export const MAX_RANGE_DAYS = 93;
const DAY_MS = 24 * 3600 * 1000;

/**
 * `from`/`to` query values: instants, or local dates in `zone` where `to` is
 * inclusive (from=2027-03-01&to=2027-03-01 is that whole local day).
 */
export function parseRange(from: string, to: string, zone: string): Interval {
  const start = boundary('from', from, zone, 0);
  const end = boundary('to', to, zone, 1);
  if (start > end) throw invalidField('query/from', 'must not be after to');
  if (end - start > MAX_RANGE_DAYS * DAY_MS) {
    throw invalidField('query/to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  }
  return { start, end };
}

function boundary(name: string, value: string, zone: string, daysAfter: number): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    if (!isValidLocalDate(value)) throw invalidField(`query/${name}`, `"${value}" is not a real date`);
    return localToInstant(zone, addDays(value, daysAfter), 0);
  }
  const ms = parseInstant(value);
  if (ms === null) {
    throw invalidField(`query/${name}`, `"${value}" is neither an RFC 3339 instant with an offset nor a date YYYY-MM-DD`);
  }
  return ms;
}
