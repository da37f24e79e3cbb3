import type { EventTypeRecord } from '../../db/event-types-repo.js';
import { checkEventSlot, computeEventSlots } from '../../domain/event-slots.js';
import type { Interval } from '../../domain/intervals.js';
import { filterByLimits } from '../../domain/limits.js';
import type { ProviderAvailability } from '../availability/availability-rules.js';
import type { AppContext } from '../context.js';
import { eventSlotRules, startsForLimits } from './slot-rules.js';

/** The occurrence key seat bookings of one start share (see migration 010): the type and the start. */
export const seatOccurrence = (typeId: string, start: number) => `${typeId}@${start}`;

export interface HostStarts {
  starts: number[];
  /** Seats left per start (seated types only). */
  seatsLeft?: number[];
  /** When this answer stops being true by time alone (a hold lapsing), or null. */
  validUntil: number | null;
}

/**
 * One host's free starts of a type in `range`, before the clock-dependent cuts:
 * the grid, working time, buffers, busy time and limits. For a seated type an
 * occurrence that already has seats is offered again while seats are left: its
 * own seats do not block it, every other booking does.
 */
export async function hostStarts(
  ctx: AppContext,
  type: EventTypeRecord,
  duration: number,
  hostId: string,
  host: ProviderAvailability,
  range: Interval,
): Promise<HostStarts> {
  const zone = host.rules.timeZone;
  const rules = eventSlotRules(ctx, type, duration, host, range, undefined);
  let starts = computeEventSlots({ ...rules, range }).map((s) => s.start);
  let seatsLeft: number[] | undefined;
  if (type.spec.seats > 1) ({ starts, seatsLeft } = withOpenOccurrences(type, rules, host, range, starts));
  const counted = await startsForLimits(ctx.db, type, hostId, zone, range, null);
  if (type.spec.limits) {
    const kept = new Set(filterByLimits(zone, type.spec.limits, counted.starts, starts.map((s) => ({ start: s, end: s + duration * 60_000 })))
      .map((s) => s.start));
    const keep = starts.map((s) => kept.has(s));
    starts = starts.filter((_, i) => keep[i]);
    if (seatsLeft) seatsLeft = seatsLeft.filter((_, i) => keep[i]);
  }
  const lapses = [host.holdsLapseAt, counted.lapseAt].filter((t): t is number => t !== null);
  return { starts, ...(seatsLeft ? { seatsLeft } : {}), validUntil: lapses.length > 0 ? Math.min(...lapses) : null };
}

function withOpenOccurrences(
  type: EventTypeRecord,
  rules: ReturnType<typeof eventSlotRules>,
  host: ProviderAvailability,
  range: Interval,
  fresh: number[],
): { starts: number[]; seatsLeft: number[] } {
  const prefix = `${type.id}@`;
  // Seats already taken, by start: this type's occurrences among the host's busy time.
  const taken = new Map<number, number>();
  for (const o of host.busyOccurrences) {
    if (!o.startsWith(prefix)) continue;
    const start = Number(o.slice(prefix.length));
    taken.set(start, (taken.get(start) ?? 0) + 1);
  }
  const byStart = new Map(fresh.map((s) => [s, type.spec.seats]));
  const durationMs = rules.durationMinutes * 60_000;
  for (const [start, count] of taken) {
    if (count >= type.spec.seats || start < range.start || start + durationMs > range.end) continue;
    // The occurrence's own seats are no obstacle to it; everything else still is.
    const others = host.busy.filter((_, i) => host.busyOccurrences[i] !== seatOccurrence(type.id, start));
    if (checkEventSlot({ ...rules, bookingsBlocked: others }, { start, end: start + durationMs }) === 'ok') {
      byStart.set(start, type.spec.seats - count);
    }
  }
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  return { starts, seatsLeft: starts.map((s) => byStart.get(s)!) };
}

/** Round robin offers a start when any host can take it; collective only when every host can. */
export function combineHosts(assignment: EventTypeRecord['spec']['assignment'], perHost: readonly HostStarts[]): HostStarts {
  const lapses = perHost.map((h) => h.validUntil).filter((t): t is number => t !== null);
  const validUntil = lapses.length > 0 ? Math.min(...lapses) : null;
  if (perHost.length === 1) return { ...perHost[0]!, validUntil };
  const counts = new Map<number, number>();
  for (const h of perHost) for (const s of h.starts) counts.set(s, (counts.get(s) ?? 0) + 1);
  const need = assignment === 'collective' ? perHost.length : 1;
  const starts = [...counts].filter(([, n]) => n >= need).map(([s]) => s).sort((a, b) => a - b);
  return { starts, validUntil };
}
