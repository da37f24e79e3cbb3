import { findBooking, moveBooking, type BookingRecord } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
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
import { ensureWithinLimits } from './event-type-hold.js';
import { assignRoundRobin, eligibleHosts, ensureSeatFree, seatHolderOf, type EligibleHost } from './assignment.js';
import { seatOccurrence } from '../event-types/host-slots.js';
import { bookingConflict, CLIENT_LOCK, lockProvidersAndClear, type Assignment } from './hold.js';
import { GUEST_EMAIL_LOCK } from './guest-hold.js';
import { allowed } from './lifecycle.js';
import { clearClientTime, explainClientOverlap, type ClientTime } from './client-overlap.js';
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
  const occurrence = type && type.spec.seats > 1 ? seatOccurrence(type.id, slot.start) : before.id;
  // Moving onto another booking of the same client is refused (client_overlap); its own old time does not count.
  const clientTime: ClientTime = {
    clientId: before.clientId, guestEmail: before.guest?.email ?? null, range: { start: slot.start, end: slot.end }, bookingId: before.id,
  };
  try {
    const moved = await ctx.db.transaction(async (tx) => {
      if (before.eventTypeId !== null) await lockClientOf(tx, before);
      const assigned = type?.spec.assignment === 'roundRobin'
        ? await keepOrReassign(tx, type, before, slot, blocked)
        : { providerId: before.providerId, hostIds: before.hostIds };
      await lockProvidersAndClear(tx, [...new Set([...assigned.hostIds, ...before.hostIds])].sort(), blocked);
      const b = allowed(caller, id, await findBooking(tx, id, { forUpdate: true }), 'reschedule');
      rescheduleAllowed(b.status);
      if (type) {
        for (const host of slot.hosts.filter((h) => assigned.hostIds.includes(h.providerId))) {
          await ensureWithinLimits(tx, type, host.providerId, host.zone, slot.start, b.id);
        }
        // A seat moves to the new start's occurrence, if a seat is left there and its client (or guest email) has none.
        if (type.spec.seats > 1) await ensureSeatFree(tx, type, occurrence, seatHolderOf(b), b.id);
      }
      const status = statusAfterMove(b, relation);
      if (b.eventTypeId !== null) await clearClientTime(tx, clientTime);
      const moved = await moveBooking(tx, id, {
        start: slot.start, end: slot.end, blockedStart: blocked.start, blockedEnd: blocked.end, status, reason: input.reason ?? null,
        providerId: assigned.providerId, hostIds: assigned.hostIds, occurrence,
      });
      await recordBookingEvent(tx, 'booking.rescheduled', moved, ctx.notifier);
      for (const hostId of new Set([...b.hostIds, ...moved.hostIds])) await bumpAvailabilityVersion(tx, hostId);
      // A write calendar gets the same event (same UID) moved; removed when the move awaits approval again,
      // or from the old host's calendar when round robin gave the booking to another host.
      if (b.status === 'confirmed') {
        if (status !== 'confirmed' || b.hostIds.join() !== moved.hostIds.join()) await recordCancelWrite(tx, id);
        if (status === 'confirmed') await recordConfirmWrite(tx, moved, null);
      }
      return viewOf(tx, caller, moved);
    });
    ctx.metrics.countBooking('rescheduled');
    return moved;
  } catch (error) {
    throw bookingConflict(ctx, await explainClientOverlap(ctx.db, error, clientTime));
  }
}

/**
 * The client's moves take turns with its holds (the lock a hold takes first,
 * the guest's email lock for a guest): two of its bookings moving onto
 * overlapping times at once would otherwise each wait for the other's row in
 * the client's exclusion constraint (migrations/012) and one die in a deadlock
 * (a 500) instead of a 409 client_overlap. The constraint stays the guarantee.
 */
async function lockClientOf(tx: Queryable, b: BookingRecord): Promise<void> {
  if (b.clientId !== null) await tx.query(`SELECT pg_advisory_xact_lock(${CLIENT_LOCK}, hashtext($1))`, [b.clientId]);
  else if (b.guest) await tx.query(`SELECT pg_advisory_xact_lock(${GUEST_EMAIL_LOCK}, hashtext($1))`, [b.guest.email.toLowerCase()]);
}

/**
 * Round robin keeps the host when it is free at the new time (and within its
 * limits); else the booking is assigned as a new hold would be, under the type's lock.
 */
async function keepOrReassign(
  tx: Queryable,
  type: EventTypeRecord,
  b: BookingRecord,
  slot: MovedSlot,
  blocked: Interval,
): Promise<Assignment> {
  const current = slot.hosts.find((h) => h.providerId === b.providerId);
  if (current) {
    try {
      return await assignRoundRobin(tx, type, [current], blocked, slot.start, b.id);
    } catch (error) {
      if (!(error instanceof AppError) || (error.code !== 'slot_taken' && error.code !== 'limit_reached')) throw error;
    }
  }
  return assignRoundRobin(tx, type, slot.hosts, blocked, slot.start, b.id);
}

interface MovedSlot extends Interval {
  /** The hosts that can take the new time (v1: none, the provider's own checks ran). */
  hosts: EligibleHost[];
}

/** The new time, checked against every rule of a new hold of its kind (v1 or the type's, for each host it could be with). */
async function checkedSlot(
  ctx: AppContext,
  b: BookingRecord,
  type: EventTypeRecord | null,
  input: { start: number; duration?: number },
): Promise<MovedSlot> {
  const currentMinutes = (b.end - b.start) / 60_000;
  if (b.eventTypeId === null) {
    const duration = checkDuration('duration', input.duration ?? currentMinutes);
    const slot = { start: input.start, end: input.start + duration * 60_000 };
    await checkV1Slot(ctx, b.providerId, slot);
    return { ...slot, hosts: [] };
  }
  if (!type || type.deletedAt !== null) throw new AppError('not_bookable', 'The booking\'s event type was deleted; it cannot move.');
  if (!type.active) throw new AppError('not_bookable', 'The booking\'s event type is inactive; it cannot move.');
  const duration = durationOf(type, 'duration', input.duration ?? currentMinutes);
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  // Collective: every host of the booking; round robin: any host of the type; single: its host.
  const candidates = type.spec.assignment === 'roundRobin' ? type.hosts.map((h) => h.providerId) : b.hostIds;
  return { ...slot, hosts: await eligibleHosts(ctx, type, candidates, slot) };
}

/** A held booking stays held, a confirmed one confirmed, except when a client moves one that needed approval. */
function statusAfterMove(b: BookingRecord, relation: ReturnType<typeof actorOf>): BookingStatus {
  if (b.status === 'confirmed' && b.requiresConfirmation && relation === 'client') return 'pending';
  return b.status;
}
