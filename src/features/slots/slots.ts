import { invalidField } from '../../domain/errors.js';
import { effectiveAvailability } from '../../domain/schedule.js';
import { computeSlots, SLOT_GRID_MINUTES } from '../../domain/slots.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { isLocalDate, loadForQueryRange, loadProviderVersion } from '../availability/availability-rules.js';
import type { AppContext } from '../context.js';
import { slotCacheKey, type CachedSlots, type RenderedSlots, type SlotCache } from './slot-cache.js';
import { parseRange, requireTimeZone } from './time-range.js';

export const DEFAULT_DURATION_MINUTES = 15;
export const MAX_DURATION_MINUTES = 1440;

export function checkDuration(path: string, minutes: number): number {
  if (!Number.isInteger(minutes) || minutes <= 0 || minutes % SLOT_GRID_MINUTES !== 0 || minutes > MAX_DURATION_MINUTES) {
    throw invalidField(path, `must be a positive multiple of ${SLOT_GRID_MINUTES} minutes, at most ${MAX_DURATION_MINUTES}`);
  }
  return minutes;
}

export interface SlotsView {
  providerId: string;
  duration: number;
  timeZone: string;
  slots: { start: string; end: string }[];
}

export async function listSlots(
  ctx: AppContext,
  query: { providerId: string; from: string; to: string; timeZone?: string; duration?: number },
): Promise<SlotsView> {
  return viewOf(query.providerId, await slotStarts(ctx, query));
}

/**
 * listSlots, rendered by `render` (the response body and its tag). With the
 * cache, a render is kept beside the cached slots, keyed by what else it
 * depends on: the output zone and how many starts the notice cut off. A
 * repeated question then skips formatting, serialising and hashing; a render
 * lives and dies with its entry, so it is never staler than the entry.
 */
export async function renderSlots(
  ctx: AppContext,
  query: { providerId: string; from: string; to: string; timeZone?: string; duration?: number },
  render: (view: SlotsView) => RenderedSlots,
): Promise<RenderedSlots> {
  const found = await slotStarts(ctx, query);
  const cached = found.cached;
  if (!cached) return render(viewOf(query.providerId, found));
  const variant = `${found.outZone ?? ''}|${found.first}`;
  const kept = cached.cache.rendered(cached.key, cached.entry, variant);
  if (kept) return kept;
  const rendered = render(viewOf(query.providerId, found));
  cached.cache.keepRendered(cached.key, cached.entry, variant, rendered);
  return rendered;
}

interface FoundStarts {
  duration: number;
  outZone: string | undefined;
  /** Ascending; the answer is starts[first..] (the ones the notice lets through). */
  starts: number[];
  first: number;
  /** The cache entry the starts came from, if any. */
  cached?: { cache: SlotCache; key: string; entry: CachedSlots };
}

async function slotStarts(
  ctx: AppContext,
  query: { providerId: string; from: string; to: string; timeZone?: string; duration?: number },
): Promise<FoundStarts> {
  const duration = checkDuration('query/duration', query.duration ?? DEFAULT_DURATION_MINUTES);
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('query/timeZone', query.timeZone);
  const earliestStart = ctx.clock.now() + ctx.config.minNoticeMinutes * 60_000;
  if (!ctx.slotCache) {
    const { starts } = await computeStarts(ctx, query, outZone, duration, earliestStart);
    return { duration, outZone, starts, first: 0 };
  }
  const cached = await cachedStarts(ctx, ctx.slotCache, query, outZone, duration);
  const starts = cached.entry.starts;
  let first = 0;
  while (first < starts.length && starts[first]! < earliestStart) first++;
  return { duration, outZone, starts, first, cached };
}

function viewOf(providerId: string, found: FoundStarts): SlotsView {
  const { duration, outZone, starts } = found;
  const durationMs = duration * 60_000;
  const slots: SlotsView['slots'] = [];
  for (let i = found.first; i < starts.length; i++) {
    const start = starts[i]!;
    slots.push({ start: formatInstant(start, outZone), end: formatInstant(start + durationMs, outZone) });
  }
  return { providerId, duration, timeZone: outZone ?? 'UTC', slots };
}

/** Local dates in from/to are read in the asked zone, else the provider's. */
async function computeStarts(
  ctx: AppContext,
  query: { providerId: string; from: string; to: string },
  outZone: string | undefined,
  duration: number,
  earliestStart: number,
) {
  const loaded = await loadForQueryRange(ctx.db, query.providerId, query, outZone, { busy: true });
  const { rules, busy, calendarBusy, range } = loaded;
  const slots = computeSlots({
    available: effectiveAvailability(rules, range),
    busy: [...busy, ...calendarBusy],
    durationMinutes: duration,
    earliestStart,
    range,
    timeZone: rules.timeZone,
  });
  return { starts: slots.map((slot) => slot.start), loaded };
}

/**
 * The slots before the notice filter, from the cache when it holds them for
 * the provider's current version: one small query on a hit. The notice is a
 * filter on starts (computeSlots starts each free piece at the first grid
 * point at or after max(piece start, earliest start), so filtering the
 * unfiltered list by `start >= earliest` gives the same slots).
 */
async function cachedStarts(
  ctx: AppContext,
  cache: SlotCache,
  query: { providerId: string; from: string; to: string },
  outZone: string | undefined,
  duration: number,
): Promise<{ key: string; entry: CachedSlots; cache: SlotCache }> {
  const range = parseRange(query.from, query.to, outZone ?? 'UTC'); // a bad range is a 400 before any lookup, as before
  const providerZoneDates = outZone === undefined && (isLocalDate(query.from) || isLocalDate(query.to));
  const rangeKey = providerZoneDates ? `d:${query.from}:${query.to}` : `r:${range.start}:${range.end}`;
  const head = await loadProviderVersion(ctx.db, query.providerId);
  const headKey = slotCacheKey(query.providerId, head.version, rangeKey, duration);
  const hit = await cache.get(headKey, head.dbNow);
  if (hit) return { key: headKey, entry: hit, cache };
  const { starts, loaded } = await computeStarts(ctx, query, outZone, duration, -Infinity);
  // Stored under the version read with the data (one statement), which may be newer than head's.
  const key = slotCacheKey(query.providerId, loaded.version, rangeKey, duration);
  const entry: CachedSlots = { starts, validUntil: loaded.holdsLapseAt };
  cache.set(key, entry, loaded.dbNow);
  return { key, entry, cache };
}
