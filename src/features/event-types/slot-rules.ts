import { listLiveStartsOfType } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import type { EventTypeRecord } from '../../db/event-types-repo.js';
import { windowBounds } from '../../domain/change-rules.js';
import type { EventSlotQuery } from '../../domain/event-slots.js';
import type { Interval } from '../../domain/intervals.js';
import { periodOf, type LimitPeriod } from '../../domain/limits.js';
import { effectiveAvailability, type AvailabilityRules } from '../../domain/schedule.js';
import { AppError, invalidField } from '../../domain/errors.js';
import type { AppContext } from '../context.js';

/**
 * One rule for listing and for holding (a slot that is listed can be held, and
 * only those): the inputs of computeEventSlots / checkEventSlot for one host of
 * a type. Listing leaves out the clock-dependent cuts (`now` undefined) and
 * applies them when serving; holding passes `now`.
 */
export function eventSlotRules(
  ctx: AppContext,
  type: EventTypeRecord,
  duration: number,
  host: { rules: AvailabilityRules; busy: Interval[]; calendarBusy: Interval[] },
  range: Interval,
  now: number | undefined,
): Omit<EventSlotQuery, 'range'> {
  const zone = host.rules.timeZone;
  const cuts = timeCuts(ctx, type, zone, now);
  return {
    available: effectiveAvailability(host.rules, range),
    bookingsBlocked: host.busy,
    calendarBusy: host.calendarBusy,
    durationMinutes: duration,
    intervalMinutes: type.spec.slotInterval,
    bufferBeforeMinutes: type.spec.bufferBefore,
    bufferAfterMinutes: type.spec.bufferAfter,
    earliestStart: cuts.earliest,
    latestStartExclusive: cuts.latestExclusive,
    timeZone: zone,
  };
}

/**
 * Earliest and latest starts: the minimum notice and the booking window. With
 * `now` undefined only the part that does not move with the clock (a window
 * given as local dates, read in the host's zone); clockCuts is the rest.
 */
export function timeCuts(ctx: AppContext, type: EventTypeRecord, zone: string, now: number | undefined) {
  const window = type.spec.bookingWindow;
  const fixed = window?.type === 'range' ? windowBounds(window, zone, 0) : { earliest: -Infinity, latestExclusive: Infinity };
  if (now === undefined) return fixed;
  const moving = clockCuts(ctx, type, now);
  return { earliest: Math.max(fixed.earliest, moving.earliest), latestExclusive: Math.min(fixed.latestExclusive, moving.latestExclusive) };
}

/** The cuts that move with the clock, whatever the host's zone: the notice and a rolling window. */
export function clockCuts(ctx: AppContext, type: EventTypeRecord, now: number) {
  const window = type.spec.bookingWindow;
  const notice = (type.spec.minimumNotice ?? ctx.config.minNoticeMinutes) * 60_000;
  return { earliest: now + notice, latestExclusive: window?.type === 'rolling' ? now + window.days * DAY_MS : Infinity };
}

const DAY_MS = 24 * 3600 * 1000;

/** The buffers' reach: how much wider than a range the bookings must be read. */
export const bufferMarginMs = (type: EventTypeRecord) => (type.spec.bufferBefore + type.spec.bufferAfter + 1440) * 60_000;

/** The duration asked for, or the type's default; 400 when the type does not offer it. */
export function durationOf(type: EventTypeRecord, path: string, asked: number | undefined): number {
  if (asked === undefined) return type.spec.durations[0]!;
  if (!type.spec.durations.includes(asked)) throw invalidField(path, `must be one of ${type.spec.durations.join(', ')}`);
  return asked;
}

/** The host booked: the one asked for (400 if not a host) or, for a single-host type, its host. */
export function hostOf(type: EventTypeRecord, path: string, asked: string | undefined): string {
  if (asked !== undefined && !type.hosts.some((h) => h.providerId === asked)) {
    throw invalidField(path, `"${asked}" is not a host of event type ${type.id}`);
  }
  return asked ?? type.hosts[0]!.providerId;
}

export function requireBookable(type: EventTypeRecord): void {
  if (!type.active) throw new AppError('not_bookable', 'This event type is inactive and takes no bookings.');
}

const LIMIT_KEY = { day: 'perDay', week: 'perWeek', month: 'perMonth' } as const;

/**
 * The live bookings of this type and host that the limits count, for the
 * periods around `range` (a month either side covers every period kind).
 */
export async function startsForLimits(
  q: Queryable,
  type: EventTypeRecord,
  hostId: string,
  zone: string,
  range: Interval,
  excludeBookingId: string | null,
): Promise<{ starts: number[]; lapseAt: number | null }> {
  const none = { starts: [], lapseAt: null };
  const limits = type.spec.limits;
  if (!limits) return none;
  const kinds = (Object.keys(LIMIT_KEY) as LimitPeriod[]).filter((p) => limits[LIMIT_KEY[p]] !== undefined);
  if (kinds.length === 0) return none;
  const from = Math.min(...kinds.map((p) => periodOf(zone, p, range.start).start));
  const to = Math.max(...kinds.map((p) => periodOf(zone, p, Math.max(range.start, range.end - 1)).end));
  return listLiveStartsOfType(q, { eventTypeId: type.id, providerId: hostId, from, to, excludeBookingId });
}
