import { computeEventSlots } from '../../domain/event-slots.js';
import { filterByLimits } from '../../domain/limits.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { isLocalDate, loadForQueryRange, loadProviderVersion } from '../availability/availability-rules.js';
import type { AppContext, Principal } from '../context.js';
import { readableEventType } from '../event-types/event-types.js';
import { bufferMarginMs, clockCuts, durationOf, eventSlotRules, hostOf, startsForLimits } from '../event-types/slot-rules.js';
import { servedStarts, type FoundStarts, type StartsSource } from './served-starts.js';
import type { RenderedSlots } from './slot-cache.js';
import { parseRange, requireTimeZone } from './time-range.js';

export interface EventTypeSlotsView {
  eventTypeId: string;
  duration: number;
  timeZone: string;
  slots: { start: string; end: string }[];
}

export type EventTypeSlotsQuery = {
  eventTypeId: string; from: string; to: string; timeZone?: string; duration?: number; providerId?: string;
};

/**
 * Slots of an event type, rendered by `render` (owned by the HTTP layer) and
 * served through the same cache as v1 slots: the key names the type (and the
 * moment it was last edited), the host and the host's availability version.
 */
export async function renderEventTypeSlots(
  ctx: AppContext,
  caller: Principal | null,
  query: EventTypeSlotsQuery,
  render: (view: EventTypeSlotsView) => RenderedSlots,
): Promise<RenderedSlots> {
  const type = await readableEventType(ctx.db, caller, query.eventTypeId);
  const duration = durationOf(type, 'duration', query.duration);
  const hostId = hostOf(type, 'providerId', query.providerId);
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('timeZone', query.timeZone);
  const viewOf = (found: FoundStarts): EventTypeSlotsView => ({
    eventTypeId: type.id,
    duration,
    timeZone: outZone ?? 'UTC',
    slots: type.active ? startsToSlots(found) : [],
  });
  const cuts = clockCuts(ctx, type, ctx.clock.now());
  const source: StartsSource = {
    duration,
    outZone,
    // Applied when serving; a window of local dates is applied in compute, in the host's zone.
    earliestStart: cuts.earliest,
    latestStartExclusive: cuts.latestExclusive,
    async head() {
      const range = parseRange(query.from, query.to, outZone ?? 'UTC');
      const providerZoneDates = outZone === undefined && (isLocalDate(query.from) || isLocalDate(query.to));
      const rangeKey = providerZoneDates ? `d:${query.from}:${query.to}` : `r:${range.start}:${range.end}`;
      const head = await loadProviderVersion(ctx.db, hostId);
      return { scope: `${hostId}:${type.id}@${type.updatedAt}`, version: head.version, rangeKey, dbNow: head.dbNow };
    },
    async compute() {
      const loaded = await loadForQueryRange(ctx.db, hostId, query, outZone, { busy: true, marginMs: bufferMarginMs(type) });
      const zone = loaded.rules.timeZone;
      const rules = eventSlotRules(ctx, type, duration, loaded, loaded.range, undefined);
      const slots = computeEventSlots({ ...rules, range: loaded.range });
      const counted = await startsForLimits(ctx.db, type, hostId, zone, loaded.range, null);
      const within = type.spec.limits ? filterByLimits(zone, type.spec.limits, counted.starts, slots) : slots;
      // Bookings counted by the limits may lie outside the range read above: their lapses bound the answer too.
      const lapses = [loaded.holdsLapseAt, counted.lapseAt].filter((t): t is number => t !== null);
      const validUntil = lapses.length > 0 ? Math.min(...lapses) : null;
      return { starts: within.map((s) => s.start), version: loaded.version, validUntil, dbNow: loaded.dbNow };
    },
  };
  const found = await servedStarts(ctx, source);
  return found.render(() => render(viewOf(found)));
}

function startsToSlots(found: FoundStarts): { start: string; end: string }[] {
  const durationMs = found.duration * 60_000;
  const slots: { start: string; end: string }[] = [];
  for (let i = found.first; i < found.end; i++) {
    const start = found.starts[i]!;
    slots.push({ start: formatInstant(start, found.outZone), end: formatInstant(start + durationMs, found.outZone) });
  }
  return slots;
}
