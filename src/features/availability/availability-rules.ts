import type { Queryable } from '../../db/database.js';
import { loadSlotInputs, loadSlotVersion, loadSlotVersions, type SlotInputs } from '../../db/slot-inputs-repo.js';
import { AppError } from '../../domain/errors.js';
import type { Interval } from '../../domain/intervals.js';
import type { AvailabilityRules } from '../../domain/schedule.js';
import { parseRange } from '../slots/time-range.js';

export interface ProviderAvailability {
  provider: SlotInputs['provider'];
  rules: AvailabilityRules;
  /** Blocked ranges of live bookings overlapping the range, when asked for. */
  busy: Interval[];
  /** The occurrence of each of `busy`: seats of one occurrence share it. */
  busyOccurrences: string[];
  /** Busy time of the provider's connected calendars overlapping the range. */
  calendarBusy: Interval[];
  /** What a cached answer needs: see SlotInputs. */
  version: number;
  holdsLapseAt: number | null;
  dbNow: number;
}

const noProvider = (providerId: string) => new AppError('not_found', `No provider with id "${providerId}".`);

/** A provider's availability version and the database's clock, in one small query; a 404 for non-providers. */
export async function loadProviderVersion(q: Queryable, providerId: string): Promise<{ version: number; dbNow: number }> {
  const head = await loadSlotVersion(q, providerId);
  if (!head || head.role !== 'provider') throw noProvider(providerId);
  return head;
}

/** The versions of several providers as one string (see loadSlotVersions), and the database's clock; a 404 if one is not a provider. */
export async function loadProviderVersions(q: Queryable, providerIds: readonly string[]): Promise<{ versions: string; dbNow: number }> {
  const head = await loadSlotVersions(q, providerIds);
  if (!head) throw new AppError('not_found', `No providers with ids "${providerIds.join('", "')}".`);
  return head;
}

const DAY_MS = 24 * 3600 * 1000;

/** A provider's rules (and, if asked, live bookings) around a range, in one query; a 404 for non-providers. */
export async function loadProviderAvailability(
  q: Queryable,
  providerId: string,
  range: Interval,
  options: { busy: boolean; marginMs?: number },
): Promise<ProviderAvailability> {
  // The margin widens what is read (bookings whose blocked ranges reach a slot's buffers), not the answer's range.
  const margin = options.marginMs ?? 0;
  const inputs = await loadSlotInputs(q, providerId, { start: range.start - margin, end: range.end + margin }, options);
  if (!inputs || inputs.provider.role !== 'provider') {
    throw noProvider(providerId);
  }
  return {
    provider: inputs.provider,
    rules: {
      // A provider that never published hours works only its one-off windows, in its own zone.
      timeZone: inputs.schedule?.timeZone ?? inputs.provider.timeZone,
      weekly: inputs.schedule?.weekly ?? [],
      overrides: inputs.overrides,
      oneOff: inputs.oneOff,
      timeOff: inputs.timeOff,
      closures: inputs.closures,
    },
    busy: inputs.busy,
    busyOccurrences: inputs.busyOccurrences,
    calendarBusy: inputs.calendarBusy,
    version: inputs.version,
    holdsLapseAt: inputs.holdsLapseAt,
    dbNow: inputs.dbNow,
  };
}

export const isLocalDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);

/**
 * `from`/`to` from a query string, with their data. Local dates are read in
 * `zone`, or, without one, in the provider's own zone, which only the data
 * itself tells: then the data is read for the dates as seen from any zone
 * (UTC ± 1 day) and the exact range is taken once the zone is known.
 * Everything downstream clips to the exact range, so the wider read is harmless.
 */
export async function loadForQueryRange(
  q: Queryable,
  providerId: string,
  query: { from: string; to: string },
  zone: string | undefined,
  options: { busy: boolean; marginMs?: number },
): Promise<ProviderAvailability & { range: Interval }> {
  if (zone !== undefined || (!isLocalDate(query.from) && !isLocalDate(query.to))) {
    const range = parseRange(query.from, query.to, zone ?? 'UTC');
    return { ...(await loadProviderAvailability(q, providerId, range, options)), range };
  }
  const utc = parseRange(query.from, query.to, 'UTC');
  const wide = { start: utc.start - DAY_MS, end: utc.end + DAY_MS };
  const loaded = await loadProviderAvailability(q, providerId, wide, options);
  return { ...loaded, range: parseRange(query.from, query.to, loaded.rules.timeZone) };
}
