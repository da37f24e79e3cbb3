// Bookable slots: starts on the schedule's local :00/:15/:30/:45 grid, wholly inside free time.
import {
  containsInterval, intersectIntervals, normalizeIntervals, overlaps, subtractIntervals,
} from './intervals.js';
import type { Interval } from './intervals.js';
import { offsetMinutesAt } from './zoned-time.js';

export const SLOT_GRID_MINUTES = 15;
const GRID_MS = SLOT_GRID_MINUTES * 60_000;

export interface SlotQuery {
  available: readonly Interval[]; // normalized effective availability
  busy: readonly Interval[]; // live bookings + calendar busy time, any order
  durationMinutes: number; // positive multiple of 15, <= 1440 (the caller validates)
  earliestStart: number; // now + minimum notice (epoch ms)
  range: Interval; // slots lie wholly inside it
  timeZone: string; // the schedule zone: the grid is its LOCAL clock
}

/**
 * First instant >= t whose local reading is on the grid. With Asia/Kathmandu (+05:45),
 * 03:20Z reads 09:05 local, so the next grid start is 09:15 local = 03:30Z. Every current
 * offset is a multiple of 15 minutes, so this is the epoch grid too; asking for the offset
 * keeps it right for historical ones (Africa/Monrovia -00:44:30 until 1972).
 */
export function alignUpToLocalGrid(zone: string, t: number): number {
  const offsetMs = Math.round(offsetMinutesAt(zone, t) * 60_000);
  const remainder = (((t + offsetMs) % GRID_MS) + GRID_MS) % GRID_MS;
  return remainder === 0 ? t : t + (GRID_MS - remainder);
}

/** Last instant <= t on the local grid (the end of a one-off window is rounded down). */
export function alignDownToLocalGrid(zone: string, t: number): number {
  const offsetMs = Math.round(offsetMinutesAt(zone, t) * 60_000);
  const remainder = (((t + offsetMs) % GRID_MS) + GRID_MS) % GRID_MS;
  return t - remainder;
}

/**
 * All slots, ascending. Slots may overlap one another: with 60 minutes and free time
 * 09:00-10:30 the slots are 09:00, 09:15, 09:30. Free time is (available ∩ range) \ busy;
 * each free piece is aligned once and then stepped in epoch ms, so the only objects created
 * per grid step are the results.
 */
export function computeSlots(q: SlotQuery): Interval[] {
  const durationMs = q.durationMinutes * 60_000;
  if (!(durationMs > 0)) return [];
  const inRange = intersectIntervals(normalizeIntervals(q.available), normalizeIntervals([q.range]));
  const free = subtractIntervals(inRange, normalizeIntervals(q.busy));
  const slots: Interval[] = [];
  for (const piece of free) {
    const lowest = Math.max(piece.start, q.earliestStart);
    if (lowest + durationMs > piece.end) continue; // too short: skip the Intl call
    for (let start = alignUpToLocalGrid(q.timeZone, lowest); start + durationMs <= piece.end; start += GRID_MS) {
      slots.push({ start, end: start + durationMs });
    }
  }
  return slots;
}

export type SlotVerdict = 'ok' | 'off_grid' | 'outside_availability' | 'too_soon' | 'busy';

/**
 * The rules of computeSlots for one proposed booking, checked in the order
 * off_grid, too_soon, outside_availability, busy. A slot whose length is not
 * durationMinutes is reported as off_grid: it is not one of the grid's slots.
 */
export function isBookableSlot(q: Omit<SlotQuery, 'range'>, slot: Interval): SlotVerdict {
  if (slot.end - slot.start !== q.durationMinutes * 60_000) return 'off_grid';
  if (alignUpToLocalGrid(q.timeZone, slot.start) !== slot.start) return 'off_grid';
  if (slot.start < q.earliestStart) return 'too_soon';
  if (!containsInterval(normalizeIntervals(q.available), slot)) return 'outside_availability';
  for (const b of q.busy) if (overlaps(b, slot)) return 'busy';
  return 'ok';
}
