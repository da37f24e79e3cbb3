import { invalidField } from '../../domain/errors.js';
import { effectiveAvailability } from '../../domain/schedule.js';
import { computeSlots, SLOT_GRID_MINUTES } from '../../domain/slots.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { loadForQueryRange } from '../availability/availability-rules.js';
import type { AppContext } from '../context.js';
import { providerHead, providerHeadInMemory } from './provider-versions.js';
import { renderedInMemory, servedStarts, type FoundStarts, type StartsSource } from './served-starts.js';
import type { RenderedSlots } from './slot-cache.js';
import { rangeKeyOf, requireTimeZone } from './time-range.js';

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

type SlotsQuery = { providerId: string; from: string; to: string; timeZone?: string; duration?: number };

export async function listSlots(ctx: AppContext, query: SlotsQuery): Promise<SlotsView> {
  return viewOf(query.providerId, await servedStarts(ctx, v1Source(ctx, query)));
}

/**
 * listSlots, rendered by `render` (the response body and its tag), which the
 * HTTP layer owns; with the cache, a render is kept beside the cached slots
 * (see servedStarts), so a repeated question skips formatting and hashing.
 */
export async function renderSlots(ctx: AppContext, query: SlotsQuery, render: (view: SlotsView) => RenderedSlots): Promise<RenderedSlots> {
  const found = await servedStarts(ctx, v1Source(ctx, query));
  return found.render(() => render(viewOf(query.providerId, found)));
}

/** renderSlots' answer when it is already rendered and everything it depends on is in memory (see renderedInMemory). */
export function renderedSlotsInMemory(ctx: AppContext, query: SlotsQuery): RenderedSlots | undefined {
  return renderedInMemory(ctx, v1Source(ctx, query));
}

/** v1: "provider X for N minutes", on the 15-minute grid, the server's minimum notice, no buffers. */
function v1Source(ctx: AppContext, query: SlotsQuery): StartsSource {
  const duration = checkDuration('duration', query.duration ?? DEFAULT_DURATION_MINUTES);
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('timeZone', query.timeZone);
  return {
    duration,
    outZone,
    earliestStart: ctx.clock.now() + ctx.config.minNoticeMinutes * 60_000,
    latestStartExclusive: Infinity,
    async head() {
      const rangeKey = rangeKeyOf(query, outZone);
      const head = await providerHead(ctx, query.providerId);
      return { scope: query.providerId, version: head.version, rangeKey, dbNow: head.dbNow };
    },
    headInMemory() {
      const rangeKey = rangeKeyOf(query, outZone);
      const head = providerHeadInMemory(ctx, query.providerId);
      return head && { scope: query.providerId, version: head.version, rangeKey, dbNow: head.dbNow };
    },
    async compute() {
      const loaded = await loadForQueryRange(ctx.db, query.providerId, query, outZone, { busy: true });
      const { rules, busy, calendarBusy, range } = loaded;
      const slots = computeSlots({
        available: effectiveAvailability(rules, range),
        busy: [...busy, ...calendarBusy],
        durationMinutes: duration,
        earliestStart: -Infinity,
        range,
        timeZone: rules.timeZone,
      });
      return { starts: slots.map((s) => s.start), version: loaded.version, validUntil: loaded.holdsLapseAt, dbNow: loaded.dbNow };
    },
  };
}

function viewOf(providerId: string, found: FoundStarts): SlotsView {
  const durationMs = found.duration * 60_000;
  const slots: SlotsView['slots'] = [];
  for (let i = found.first; i < found.end; i++) {
    const start = found.starts[i]!;
    slots.push({ start: formatInstant(start, found.outZone), end: formatInstant(start + durationMs, found.outZone) });
  }
  return { providerId, duration: found.duration, timeZone: found.outZone ?? 'UTC', slots };
}
