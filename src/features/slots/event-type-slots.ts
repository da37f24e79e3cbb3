import { formatInstant } from '../../domain/zoned-time.js';
import { loadForQueryRange, loadProviderAvailability } from '../availability/availability-rules.js';
import type { EventTypeRecord } from '../../db/event-types-repo.js';
import type { AppContext, Principal } from '../context.js';
import { combineHosts, hostStarts, type HostStarts } from '../event-types/host-slots.js';
import { bufferMarginMs, clockCuts, durationOf, hostOf } from '../event-types/slot-rules.js';
import { providersHead, providersHeadInMemory, slotEventType, slotEventTypeInMemory } from './provider-versions.js';
import { renderedInMemory, servedStarts, type FoundStarts, type StartsSource } from './served-starts.js';
import type { RenderedSlots } from './slot-cache.js';
import { rangeKeyOf, requireTimeZone } from './time-range.js';

export interface EventTypeSlotsView {
  eventTypeId: string;
  duration: number;
  timeZone: string;
  slots: { start: string; end: string; seatsLeft?: number }[];
}

export type EventTypeSlotsQuery = {
  eventTypeId: string; from: string; to: string; timeZone?: string; duration?: number; providerId?: string;
};

/**
 * Slots of an event type, rendered by `render` (owned by the HTTP layer) and
 * served through the same cache as v1 slots: the key names the type (and the
 * moment it was last edited) and the availability versions of its hosts.
 * Each host's starts come from hostStarts; round robin offers their union,
 * collective their intersection. Seated types are computed every time (their
 * answer carries seats left per start).
 */
export async function renderEventTypeSlots(
  ctx: AppContext,
  caller: Principal | null,
  query: EventTypeSlotsQuery,
  render: (view: EventTypeSlotsView) => RenderedSlots,
): Promise<RenderedSlots> {
  const type = await slotEventType(ctx, caller, query.eventTypeId);
  const source = eventTypeSource(ctx, type, query);
  const found = await servedStarts(ctx, source);
  return found.render(() => render({
    eventTypeId: type.id,
    duration: source.duration,
    timeZone: source.outZone ?? 'UTC',
    slots: type.active ? startsToSlots(found) : [],
  }));
}

/** renderEventTypeSlots' answer when it is already rendered and everything it depends on is in memory (see renderedInMemory). */
export function renderedEventTypeSlotsInMemory(ctx: AppContext, caller: Principal | null, query: EventTypeSlotsQuery): RenderedSlots | undefined {
  const type = slotEventTypeInMemory(ctx, caller, query.eventTypeId);
  return type && renderedInMemory(ctx, eventTypeSource(ctx, type, query));
}

function eventTypeSource(ctx: AppContext, type: EventTypeRecord, query: EventTypeSlotsQuery): StartsSource {
  const duration = durationOf(type, 'duration', query.duration);
  const hostIds = query.providerId !== undefined ? [hostOf(type, 'providerId', query.providerId)] : type.hosts.map((h) => h.providerId);
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('timeZone', query.timeZone);
  const cuts = clockCuts(ctx, type, ctx.clock.now());
  const scope = () => `${type.id}@${type.updatedAt}:${hostIds.join(',')}`;
  return {
    duration,
    outZone,
    // Applied when serving; a window of local dates is applied in compute, in each host's zone.
    earliestStart: cuts.earliest,
    latestStartExclusive: cuts.latestExclusive,
    uncached: type.spec.seats > 1,
    async head() {
      const rangeKey = rangeKeyOf(query, outZone);
      const head = await providersHead(ctx, hostIds);
      return { scope: scope(), version: head.versions, rangeKey, dbNow: head.dbNow };
    },
    headInMemory() {
      const rangeKey = rangeKeyOf(query, outZone);
      const head = providersHeadInMemory(ctx, hostIds);
      return head && { scope: scope(), version: head.versions, rangeKey, dbNow: head.dbNow };
    },
    async compute() {
      const options = { busy: true, marginMs: bufferMarginMs(type) };
      // Local dates without a zone are read in the first host's zone; every host is read for that range.
      const first = await loadForQueryRange(ctx.db, hostIds[0]!, query, outZone, options);
      const hosts = [first, ...await Promise.all(hostIds.slice(1).map((id) => loadProviderAvailability(ctx.db, id, first.range, options)))];
      const perHost: HostStarts[] = [];
      for (const [i, host] of hosts.entries()) perHost.push(await hostStarts(ctx, type, duration, hostIds[i]!, host, first.range));
      const combined = combineHosts(type.spec.assignment, perHost);
      return {
        starts: combined.starts,
        ...(combined.seatsLeft ? { extra: combined.seatsLeft } : {}),
        version: hosts.map((h) => h.version).join('.'),
        validUntil: combined.validUntil,
        dbNow: first.dbNow,
      };
    },
  };
}

function startsToSlots(found: FoundStarts): EventTypeSlotsView['slots'] {
  const durationMs = found.duration * 60_000;
  const slots: EventTypeSlotsView['slots'] = [];
  for (let i = found.first; i < found.end; i++) {
    const start = found.starts[i]!;
    slots.push({
      start: formatInstant(start, found.outZone),
      end: formatInstant(start + durationMs, found.outZone),
      ...(found.extra ? { seatsLeft: found.extra[i]! } : {}),
    });
  }
  return slots;
}
