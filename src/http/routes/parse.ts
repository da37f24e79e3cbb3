import { isSupportedInstant, SUPPORTED_RANGE_MESSAGE } from '../../features/slots/time-range.js';
import { invalidField } from '../../domain/errors.js';
import { parseInstant } from '../../domain/zoned-time.js';

/**
 * JSON Schema checks an instant's shape; this also rejects impossible values
 * (2027-02-30T10:00:00Z) and years the database cannot store, as a 400 naming the field.
 */
export function instantField(path: string, value: string): number {
  const ms = parseInstant(value);
  if (ms === null) throw invalidField(path, `"${value}" is not an RFC 3339 instant with an offset`);
  if (!isSupportedInstant(ms)) throw invalidField(path, SUPPORTED_RANGE_MESSAGE);
  return ms;
}
