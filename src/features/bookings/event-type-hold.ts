import type { Queryable } from '../../db/database.js';
import type { EventTypeRecord } from '../../db/event-types-repo.js';
import type { SeatHolder } from '../../db/team-repo.js';
import { validateAnswers } from '../../domain/answers.js';
import { AppError, invalidFields } from '../../domain/errors.js';
import { blockedRange, checkEventSlot, type EventSlotVerdict } from '../../domain/event-slots.js';
import { overlaps, type Interval } from '../../domain/intervals.js';
import { exceededLimit } from '../../domain/limits.js';
import { loadProviderAvailability } from '../availability/availability-rules.js';
import type { AppContext, Principal } from '../context.js';
import { readableEventType } from '../event-types/event-types.js';
import { bufferMarginMs, durationOf, eventSlotRules, hostOf, requireBookable, startsForLimits } from '../event-types/slot-rules.js';
import { seatOccurrence } from '../event-types/host-slots.js';
import { assignRoundRobin, eligibleHosts, ensureSeatFree, type EligibleHost } from './assignment.js';
import { insertHoldUnderLocks, refuseTakenTime, resolveClient, type HoldOptions } from './hold.js';
import { toBookingView, type BookingView } from './views.js';

const NOT_BOOKABLE_DETAIL: Record<Exclude<EventSlotVerdict, 'ok' | 'busy'>, string> = {
  off_grid: 'The start is not on the event type\'s slot grid of the host\'s local clock.',
  too_soon: 'The start is less than the event type\'s minimum notice ahead.',
  outside_window: 'The start is outside the event type\'s booking window.',
  outside_availability: 'The time is not inside the host\'s working time.',
};

/**
 * Checks a proposed time of a type for one host against every rule that does
 * not count other bookings (grid, notice, window, working time, calendar busy
 * time including buffers): the same rule the slot list uses. Returns the blocked range.
 * `seeTaken`: the same read also tells whether a live booking of the host takes
 * that blocked range now (`taken`), for a hold to be refused before its transaction.
 */
export async function checkTypeSlot(
  ctx: AppContext,
  type: EventTypeRecord,
  hostId: string,
  slot: Interval,
  seeTaken = false,
): Promise<{ blocked: Interval; zone: string; taken: boolean }> {
  const duration = (slot.end - slot.start) / 60_000;
  const host = await loadProviderAvailability(ctx.db, hostId, slot, { busy: seeTaken, marginMs: bufferMarginMs(type) });
  // Bookings are left to the exclusion constraint on blocked ranges (the rules get none): "nobody else has it" is its job.
  const rules = eventSlotRules(ctx, type, duration, { ...host, busy: [] }, slot, ctx.clock.now());
  const verdict = checkEventSlot(rules, slot);
  if (verdict === 'busy') {
    ctx.metrics.countBooking('conflict');
    throw new AppError('slot_taken', 'This time (with its buffers) is busy in the host\'s connected calendar.');
  }
  if (verdict !== 'ok') {
    ctx.metrics.countBooking('not_bookable');
    throw new AppError('not_bookable', NOT_BOOKABLE_DETAIL[verdict]);
  }
  const blocked = blockedRange(slot, type.spec.bufferBefore, type.spec.bufferAfter);
  return { blocked, zone: host.rules.timeZone, taken: host.busy.some((b) => overlaps(b, blocked)) };
}

/**
 * Per-day/week/month limits, counted under the host's lock (taken by the hold's
 * transaction before this runs), so simultaneous holds see each other: with
 * perDay 3, twenty holds at once on one day give exactly three.
 */
export async function ensureWithinLimits(
  tx: Queryable,
  type: EventTypeRecord,
  hostId: string,
  zone: string,
  start: number,
  excludeBookingId: string | null,
): Promise<void> {
  if (!type.spec.limits) return;
  const { starts } = await startsForLimits(tx, type, hostId, zone, { start, end: start + 1 }, excludeBookingId);
  const period = exceededLimit(zone, type.spec.limits, starts, start);
  if (period !== null) {
    throw new AppError('limit_reached', `The host already has the most bookings of this type allowed in that ${period}.`);
  }
}

/** Answers checked against the type's questions: a 400 naming each bad answer (answers/<id>; the HTTP layer adds body/). */
export function checkedAnswers(type: EventTypeRecord, answers: Record<string, unknown> | undefined): Record<string, unknown> | null {
  const questions = type.spec.questions as Parameters<typeof validateAnswers>[0];
  const { errors, value } = validateAnswers(questions, answers);
  if (errors.length > 0) {
    throw invalidFields(errors);
  }
  return questions.length === 0 && answers === undefined ? null : value;
}

/**
 * Who a hold of a type is with, and the counting rules under the hosts' locks:
 * round robin picks under the type's lock, collective takes every eligible
 * host (all of them, or eligibleHosts refused); limits per host; a seat needs
 * room at its occurrence. Shared by client and guest holds.
 */
export function assignmentOf(
  type: EventTypeRecord,
  eligible: readonly EligibleHost[],
  blocked: Interval,
  start: number,
  occurrence: string | undefined,
  seatHolder: SeatHolder,
): Required<Pick<HoldOptions, 'assign'>> & Pick<HoldOptions, 'checkUnderLock'> {
  // Known before any lock but round robin's; nothing to count under the hosts' locks without limits or
  // seats, and a client's hold then takes those locks in its insert's statement (hold.ts).
  const assign: HoldOptions['assign'] = type.spec.assignment === 'roundRobin'
    ? async (tx) => assignRoundRobin(tx, type, eligible, blocked, start, null)
    : { providerId: eligible[0]!.providerId, hostIds: eligible.map((h) => h.providerId) };
  if (!type.spec.limits && occurrence === undefined) return { assign };
  return {
    assign,
    checkUnderLock: async (tx, assigned) => {
      for (const host of eligible.filter((h) => assigned.hostIds.includes(h.providerId))) {
        await ensureWithinLimits(tx, type, host.providerId, host.zone, start, null);
      }
      if (occurrence !== undefined) await ensureSeatFree(tx, type, occurrence, seatHolder, null);
    },
  };
}

/** The hosts a hold of this type may be with: collective all, else the one asked for, else any. */
export function candidateHosts(type: EventTypeRecord, asked: string | undefined): string[] {
  const all = type.hosts.map((h) => h.providerId);
  return type.spec.assignment === 'collective' ? all : asked !== undefined ? [asked] : all;
}

export async function holdEventTypeBooking(
  ctx: AppContext,
  caller: Principal,
  input: { eventTypeId: string; start: number; duration?: number; answers?: Record<string, unknown>; notes?: string; providerId?: string; clientId?: string },
): Promise<BookingView> {
  const type = await readableEventType(ctx.db, caller, input.eventTypeId);
  requireBookable(type);
  const duration = durationOf(type, 'duration', input.duration);
  const asked = input.providerId === undefined ? undefined : hostOf(type, 'providerId', input.providerId);
  const answers = checkedAnswers(type, input.answers);
  const clientId = await resolveClient(ctx, caller, input.clientId, candidateHosts(type, asked));
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  const blocked = blockedRange(slot, type.spec.bufferBefore, type.spec.bufferAfter);
  const occurrence = type.spec.seats > 1 ? seatOccurrence(type.id, slot.start) : undefined;
  // Hosts known before any lock, and no rule counting under theirs (limits and seats answer first):
  // a time a live booking takes is refused before the transaction, as for v1 holds.
  const seeTaken = type.spec.assignment !== 'roundRobin' && !type.spec.limits && occurrence === undefined;
  const eligible = await eligibleHosts(ctx, type, candidateHosts(type, asked), slot, seeTaken);
  // A type with a booking window sets its own horizon instead of BOOKING_HORIZON_DAYS.
  const horizon = type.spec.bookingWindow ? { horizonDays: Infinity } : {};
  if (eligible.some((h) => h.taken)) {
    await refuseTakenTime(ctx, caller, clientId, { providerId: eligible[0]!.providerId, start: slot.start, ...horizon });
  }
  const held = await insertHoldUnderLocks(
    ctx,
    caller,
    {
      providerId: null, clientId, eventTypeId: type.id, ...slot,
      blockedStart: blocked.start, blockedEnd: blocked.end, notes: input.notes ?? null, answers,
      requiresConfirmation: type.spec.requiresConfirmation, cancellationNotice: type.spec.cancellationNotice,
      ...(occurrence !== undefined ? { occurrence } : {}),
    },
    {
      ...horizon,
      ...assignmentOf(type, eligible, blocked, slot.start, occurrence, { clientId }),
    },
  );
  return toBookingView(held);
}
