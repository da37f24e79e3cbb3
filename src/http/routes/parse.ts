import { isSupportedInstant, SUPPORTED_RANGE_MESSAGE } from '../../app/time-range.js';
import { invalidField } from '../../domain/errors.js';
import { isValidLocalDate, isValidTimeZone, parseInstant } from '../../domain/zoned-time.js';

/**
 * Field parsers for what JSON Schema cannot fully check (a real calendar date,
 * a known zone). Each raises a 400 naming the field.
 */
export function instantField(path: string, value: string): number {
  const ms = parseInstant(value);
  if (ms === null) throw invalidField(path, `"${value}" is not an RFC 3339 instant with an offset`);
  if (!isSupportedInstant(ms)) throw invalidField(path, SUPPORTED_RANGE_MESSAGE);
  return ms;
}

export function timeZoneField(path: string, value: string): string {
  if (!isValidTimeZone(value)) throw invalidField(path, `"${value}" is not a known IANA time zone`);
  return value;
}

export function localDateField(path: string, value: string): string {
  if (!isValidLocalDate(value)) throw invalidField(path, `"${value}" is not a real date (YYYY-MM-DD)`);
  return value;
}
