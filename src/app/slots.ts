import { invalidField } from '../domain/errors.js';
import { effectiveAvailability } from '../domain/schedule.js';
import { computeSlots, SLOT_GRID_MINUTES } from '../domain/slots.js';
import { formatInstant } from '../domain/zoned-time.js';
import { loadForQueryRange } from './availability-rules.js';
import type { AppContext } from './context.js';
import { requireTimeZone } from './time-range.js';

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
  const duration = checkDuration('query/duration', query.duration ?? DEFAULT_DURATION_MINUTES);
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('query/timeZone', query.timeZone);
  // Local dates in from/to are read in the asked zone, else the provider's.
  const { provider, rules, busy, calendarBusy, range } = await loadForQueryRange(ctx.db, query.providerId, query, outZone, { busy: true });
  const slots = computeSlots({
    available: effectiveAvailability(rules, range),
    busy: [...busy, ...calendarBusy],
    durationMinutes: duration,
    earliestStart: ctx.clock.now() + ctx.config.minNoticeMinutes * 60_000,
    range,
    timeZone: rules.timeZone,
  });
  return {
    providerId: provider.id,
    duration,
    timeZone: outZone ?? 'UTC',
    slots: slots.map((s) => ({ start: formatInstant(s.start, outZone), end: formatInstant(s.end, outZone) })),
  };
}
