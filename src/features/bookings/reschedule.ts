import { findBooking, moveBooking, type BookingRecord } from '../../db/bookings-repo.js';
import { findEventTypeEvenDeleted, type EventTypeRecord } from '../../db/event-types-repo.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { rescheduleAllowed, type BookingStatus } from '../../domain/booking-state.js';
import { ensureChangeAllowed } from '../../domain/change-rules.js';
import { AppError } from '../../domain/errors.js';
import type { Interval } from '../../domain/intervals.js';
import { actorOf, bookingRelation } from '../access/policy.js';
import { recordCancelWrite, recordConfirmWrite } from '../calendars/calendar-writes.js';
import type { AppContext, Principal } from '../context.js';
import { durationOf } from '../event-types/slot-rules.js';
import { checkDuration } from '../slots/slots.js';
import { checkV1Slot } from './bookings.js';
import { checkTypeSlot, ensureWithinLimits } from './event-type-hold.js';
import { bookingConflict, lockProviderAndClear } from './hold.js';
import { allowed } from './lifecycle.js';
import { recordBookingEvent } from './events.js';
import { hostsOf, viewOf, type BookingView } from './views.js';

/**
 * Moves a booking to another time, keeping its id, in one transaction: the
 * row is updated in place, so the exclusion constraint frees the old blocked
 * range and takes the new one in the same statement. A refused move (409
 * slot_taken, 422) rolls back and leaves the booking exactly as it was; at no
 * moment are both times, or neither, held for it.
 */
export async function rescheduleBooking(
  ctx: AppContext,
  caller: Principal,
  id: string,
  input: { start: number; duration?: number; reason?: string },
): Promise<BookingView> {
  const before = allowed(caller, id, await findBooking(ctx.db, id), 'reschedule');
  rescheduleAllowed(before.status);
  const relation = actorOf(bookingRelation(caller, { id: before.id, clientId: before.clientId, hostIds: hostsOf(before) })!);
  const type = before.eventTypeId === null ? null : await findEventTypeEvenDeleted(ctx.db, before.eventTypeId);
  ensureChangeAllowed('reschedule', relation, ctx.clock.now(), before.start, before.cancellationNotice);
  const slot = await checkedSlot(ctx, before, type, input);
  // The buffers in force when the booking was made go with it.
  const blocked = { start: slot.start - (before.start - before.blockedStart), end: slot.end + (before.blockedEnd - before.end) };
  try {
    const moved = await ctx.db.transaction(async (tx) => {
      await lockProviderAndClear(tx, before.providerId, blocked);
      const b = allowed(caller, id, await findBooking(tx, id, { forUpdate: true }), 'reschedule');
      rescheduleAllowed(b.status);
      if (type && slot.zone !== null) await ensureWithinLimits(tx, type, b.providerId, slot.zone, slot.start, b.id);
      const status = statusAfterMove(b, relation);
      const moved = await moveBooking(tx, id, {
        start: slot.start, end: slot.end, blockedStart: blocked.start, blockedEnd: blocked.end, status, reason: input.reason ?? null,
      });
      await recordBookingEvent(tx, 'booking.rescheduled', moved, ctx.notifier);
      await bumpAvailabilityVersion(tx, b.providerId);
      // A write calendar gets the same event (same UID) moved, or removed when the move awaits approval again.
      if (b.status === 'confirmed') await (status === 'confirmed' ? recordConfirmWrite(tx, moved, null) : recordCancelWrite(tx, id));
      return viewOf(tx, caller, moved);
    });
    ctx.metrics.countBooking('rescheduled');
    return moved;
  } catch (error) {
    throw bookingConflict(ctx, error);
  }
}

/** The new time, checked against every rule of a new hold of its kind (v1 or the type's). */
async function checkedSlot(
  ctx: AppContext,
  b: BookingRecord,
  type: EventTypeRecord | null,
  input: { start: number; duration?: number },
): Promise<Interval & { zone: string | null }> {
  const currentMinutes = (b.end - b.start) / 60_000;
  if (b.eventTypeId === null) {
    const duration = checkDuration('body/duration', input.duration ?? currentMinutes);
    const slot = { start: input.start, end: input.start + duration * 60_000 };
    await checkV1Slot(ctx, b.providerId, slot);
    return { ...slot, zone: null };
  }
  if (!type || type.deletedAt !== null) throw new AppError('not_bookable', 'The booking\'s event type was deleted; it cannot move.');
  if (!type.active) throw new AppError('not_bookable', 'The booking\'s event type is inactive; it cannot move.');
  const duration = durationOf(type, 'body/duration', input.duration ?? currentMinutes);
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  const { zone } = await checkTypeSlot(ctx, type, b.providerId, slot);
  return { ...slot, zone };
}

/** A held booking stays held, a confirmed one confirmed, except when a client moves one that needed approval. */
function statusAfterMove(b: BookingRecord, relation: ReturnType<typeof actorOf>): BookingStatus {
  if (b.status === 'confirmed' && b.requiresConfirmation && relation === 'client') return 'pending';
  return b.status;
}
