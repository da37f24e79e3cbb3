// Slots of an event type: v1's rule (slot wholly inside free time, on the local grid) with a
// configurable grid, buffers around bookings and a booking window.
import {
  containsInterval, intersectIntervals, normalizeIntervals, overlaps, subtractIntervals,
} from './intervals.js';
import type { Interval } from './intervals.js';
import { offsetMinutesAt } from './zoned-time.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface EventSlotQuery {
  available: readonly Interval[]; // host's effective working time (closures already applied)
  bookingsBlocked: readonly Interval[]; // other live bookings' blocked ranges (their buffers included)
  calendarBusy: readonly Interval[]; // busy time from connected calendars
  durationMinutes: number;
  intervalMinutes: number; // a divisor of 1440, >= 5 (the caller validates)
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  earliestStart: number; // now + minimum notice (epoch ms)
  latestStartExclusive: number; // booking window: a start must be < this (Infinity when none)
  range: Interval; // slots lie wholly inside it
  timeZone: string; // host schedule zone: the grid is its local wall clock
}

export type EventSlotVerdict = 'ok' | 'off_grid' | 'too_soon' | 'outside_window' | 'outside_availability' | 'busy';

/** Offset in whole ms; v1 rounds the same way, so interval 15 gives v1's grid exactly. */
const offsetMs = (zone: string, t: number) => Math.round(offsetMinutesAt(zone, t) * MINUTE);

/** First instant >= t that reads local midnight + k * step while the offset is `offset`. */
function alignUp(t: number, offset: number, step: number): number {
  const remainder = (((t + offset) % step) + step) % step;
  return remainder === 0 ? t : t + (step - remainder);
}

/**
 * Is t a grid start: its local reading is local midnight plus a whole number of intervals?
 * The interval divides 1440, so local midnight is itself on the wall-ms grid and the test is
 * simply (t + offset) % interval === 0. Example, Kathmandu (+05:45), interval 45: 03:15Z
 * reads 09:00 (12 intervals after midnight) -> true; 03:30Z reads 09:15 -> false.
 */
export function isOnLocalGrid(zone: string, intervalMinutes: number, t: number): boolean {
  const step = intervalMinutes * MINUTE;
  if (!(step > 0) || !Number.isFinite(t)) return false;
  return alignUp(t, offsetMs(zone, t), step) === t;
}

/** With buffers 10 and 5, a 09:00-09:30 slot blocks 08:50-09:35. */
export function blockedRange(slot: Interval, bufferBeforeMinutes: number, bufferAfterMinutes: number): Interval {
  return { start: slot.start - bufferBeforeMinutes * MINUTE, end: slot.end + bufferAfterMinutes * MINUTE };
}

interface OffsetSpan { start: number; end: number; offset: number }

/**
 * [from, to) cut where the zone's offset changes. Stepping a grid in epoch ms is only right
 * while the offset stays put: NY's 60-minute shift moves a 45-minute grid by 15 minutes
 * (60 % 45 != 0), so every change must be found. Offsets are sampled at most a day apart,
 * never per slot, and a change is bisected to its instant. The samples sit on UTC midnights,
 * the very instants localToInstant probes (memoized) while availability is expanded, so they
 * rarely cost an Intl call. Like localToInstant this assumes no two changes within one day.
 */
function offsetSpans(zone: string, from: number, to: number): OffsetSpan[] {
  const spans: OffsetSpan[] = [];
  let spanStart = from;
  let offset = offsetMs(zone, from);
  for (let cursor = from; cursor < to;) {
    const probe = Math.min((Math.floor(cursor / DAY) + 1) * DAY, to); // the next UTC midnight
    if (offsetMs(zone, probe) === offset) {
      cursor = probe;
      continue;
    }
    let lo = cursor; // the old offset here
    let hi = probe; // a new one here: bisect to the first ms that has it
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetMs(zone, mid) === offset) lo = mid;
      else hi = mid;
    }
    spans.push({ start: spanStart, end: hi, offset });
    spanStart = cursor = hi;
    offset = offsetMs(zone, hi);
  }
  if (spanStart < to) spans.push({ start: spanStart, end: to, offset });
  return spans;
}

/**
 * All slots, ascending. A busy [x, y) forbids exactly the starts whose slot overlaps
 * [x - bufferAfter, y + bufferBefore), so subtracting those widened ranges from working time
 * leaves v1's walk: a slot must lie wholly inside one free piece. Buffers therefore may reach
 * into time off; the slot itself may not.
 */
export function computeEventSlots(q: EventSlotQuery): Interval[] {
  const durationMs = q.durationMinutes * MINUTE;
  const step = q.intervalMinutes * MINUTE;
  if (!(durationMs > 0) || !(step > 0)) return [];
  const before = q.bufferBeforeMinutes * MINUTE;
  const after = q.bufferAfterMinutes * MINUTE;
  const widened = normalizeIntervals(
    [...q.bookingsBlocked, ...q.calendarBusy]
      .filter((b) => b.end > b.start) // an empty busy range blocks nothing, even with buffers
      .map((b) => ({ start: b.start - after, end: b.end + before })),
  );
  const inRange = intersectIntervals(normalizeIntervals(q.available), normalizeIntervals([q.range]));
  const free = subtractIntervals(inRange, widened);

  // Candidate starts of each piece: [lo, hi). Grid starts are whole ms, so start + d <= end
  // is start < floor(end - d) + 1.
  const candidates: Interval[] = [];
  for (const piece of free) {
    const lo = Math.max(piece.start, q.earliestStart);
    const hi = Math.min(Math.floor(piece.end - durationMs) + 1, q.latestStartExclusive);
    if (lo < hi) candidates.push({ start: lo, end: hi });
  }
  if (candidates.length === 0) return [];
  const spans = offsetSpans(q.timeZone, candidates[0]!.start, candidates[candidates.length - 1]!.end);

  const slots: Interval[] = [];
  let k = 0;
  for (const c of candidates) {
    while (spans[k]!.end <= c.start) k++;
    for (let j = k; j < spans.length && spans[j]!.start < c.end; j++) {
      const span = spans[j]!;
      const end = Math.min(c.end, span.end);
      for (let start = alignUp(Math.max(c.start, span.start), span.offset, step); start < end; start += step) {
        slots.push({ start, end: start + durationMs });
      }
    }
  }
  return slots;
}

/** computeEventSlots' rule for one proposed slot; the first rule broken, in the verdict's order. */
export function checkEventSlot(q: Omit<EventSlotQuery, 'range'>, slot: Interval): EventSlotVerdict {
  if (slot.end - slot.start !== q.durationMinutes * MINUTE) return 'off_grid';
  if (!isOnLocalGrid(q.timeZone, q.intervalMinutes, slot.start)) return 'off_grid';
  if (slot.start < q.earliestStart) return 'too_soon';
  if (!(slot.start < q.latestStartExclusive)) return 'outside_window';
  if (!containsInterval(normalizeIntervals(q.available), slot)) return 'outside_availability';
  const blocked = blockedRange(slot, q.bufferBeforeMinutes, q.bufferAfterMinutes);
  for (const b of q.bookingsBlocked) if (overlaps(b, blocked)) return 'busy';
  for (const b of q.calendarBusy) if (overlaps(b, blocked)) return 'busy';
  return 'ok';
}
