import { findBooking, markCancelled, markConfirmed, markDecided, markPending, type BookingRecord } from '../../db/bookings-repo.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { acceptTransition, cancelTransition, confirmTransition, declineTransition } from '../../domain/booking-state.js';
import { ensureChangeAllowed } from '../../domain/change-rules.js';
import { AppError } from '../../domain/errors.js';
import { actorOf, bookingRelation, requireAccess, type BookingAction } from '../access/policy.js';
import {
  recordCancelWrite,
  recordConfirmWrite,
  undoStrictWrite,
  writeBeforeConfirm,
  type StrictWrite,
} from '../calendars/calendar-writes.js';
import type { AppContext, Principal } from '../context.js';
import { recordBookingEvent } from './events.js';
import { hostsOf, viewOf, type BookingView } from './views.js';

/** The booking, if the caller may do `action` with it (404 when it may not even see it, else 403). */
export function allowed(caller: Principal, id: string, b: BookingRecord | null, action: BookingAction): BookingRecord {
  if (!b) throw new AppError('not_found', `No booking with id "${id}".`);
  requireAccess(caller, { on: 'booking', action, id: b.id, clientId: b.clientId, hostIds: hostsOf(b) }, id);
  return b;
}

/**
 * The client confirms its hold: confirmed, or pending when the event type
 * requires the host's approval. With a strict write calendar the event is
 * written first, outside the transaction (see calendar-writes.ts); the checks
 * run again under the row lock.
 */
export async function confirmBooking(ctx: AppContext, caller: Principal, id: string): Promise<BookingView> {
  let outcome: 'confirmed' | 'pending' | null = null;
  let strict: StrictWrite | null = null;
  const view = await (async () => {
    const before = allowed(caller, id, await findBooking(ctx.db, id), 'confirm');
    // The type's rules as they were when the booking was made, kept on it.
    const { requiresConfirmation } = before;
    const planned = confirmTransition(before.status, requiresConfirmation);
    if (planned !== 'unchanged' && planned.to === 'confirmed') strict = await writeBeforeConfirm(ctx, before);
    return ctx.db.transaction(async (tx) => {
      const b = allowed(caller, id, await findBooking(tx, id, { forUpdate: true }), 'confirm');
      const transition = confirmTransition(b.status, requiresConfirmation);
      if (transition === 'unchanged') {
        // Confirmed meanwhile by another request: this one's strict write is the same event.
        if (strict && b.status === 'confirmed') await recordConfirmWrite(tx, b, strict);
        return viewOf(tx, caller, b);
      }
      if (transition.to === 'pending') {
        const pending = await markPending(tx, id);
        await recordBookingEvent(tx, 'booking.pending', pending, ctx.notifier);
        outcome = 'pending';
        return viewOf(tx, caller, pending);
      }
      const confirmed = await markConfirmed(tx, id);
      await recordBookingEvent(tx, 'booking.confirmed', confirmed, ctx.notifier);
      for (const hostId of hostsOf(b)) await bumpAvailabilityVersion(tx, hostId);
      await recordConfirmWrite(tx, confirmed, strict);
      outcome = 'confirmed';
      return viewOf(tx, caller, confirmed);
    });
  })().catch(async (error: unknown) => {
    if (strict) await undoStrictWrite(ctx, id, strict, 'the confirmation did not complete');
    if (error instanceof AppError && error.code === 'hold_expired') ctx.metrics.countBooking('expired_on_confirm');
    throw error;
  });
  if (outcome) ctx.metrics.countBooking(outcome);
  return view;
}

/**
 * A host's answer to a request for approval. The update is conditional on the
 * row still being pending (and not started), so two answers, or an answer and
 * a cancel, cannot both win: the loser sees the new state and gets a 409.
 */
export async function decideBooking(
  ctx: AppContext,
  caller: Principal,
  id: string,
  decision: { to: 'confirmed' } | { to: 'declined'; reason: string | null },
): Promise<BookingView> {
  let changed = false;
  const view = await ctx.db.transaction(async (tx) => {
    const b = allowed(caller, id, await findBooking(tx, id, { forUpdate: true }), 'decide');
    const transition = decision.to === 'confirmed' ? acceptTransition(b.status) : declineTransition(b.status);
    if (transition === 'unchanged') return viewOf(tx, caller, b);
    const decided = await markDecided(tx, id, decision);
    if (!decided) throw new AppError('state_conflict', 'The booking is no longer awaiting a decision.');
    if (decided.status === 'confirmed') {
      await recordBookingEvent(tx, 'booking.confirmed', decided, ctx.notifier);
      await recordConfirmWrite(tx, decided, null);
    } else {
      await recordBookingEvent(tx, 'booking.declined', decided, ctx.notifier);
    }
    for (const hostId of hostsOf(b)) await bumpAvailabilityVersion(tx, hostId);
    changed = true;
    return viewOf(tx, caller, decided);
  });
  if (changed) ctx.metrics.countBooking(decision.to === 'confirmed' ? 'accepted' : 'declined');
  return view;
}

export async function cancelBooking(ctx: AppContext, caller: Principal, id: string, reason: string | null): Promise<BookingView> {
  let changed = false;
  const view = await ctx.db.transaction(async (tx) => {
    const b = allowed(caller, id, await findBooking(tx, id, { forUpdate: true }), 'cancel');
    const transition = cancelTransition(b.status);
    if (transition === 'unchanged') return viewOf(tx, caller, b);
    const relation = actorOf(bookingRelation(caller, { id: b.id, clientId: b.clientId, hostIds: hostsOf(b) })!);
    ensureChangeAllowed('cancel', relation, ctx.clock.now(), b.start, b.cancellationNotice);
    const cancelled = await markCancelled(tx, id, reason, relation);
    await recordBookingEvent(tx, 'booking.cancelled', cancelled, ctx.notifier);
    for (const hostId of hostsOf(b)) await bumpAvailabilityVersion(tx, hostId);
    if (b.status === 'confirmed') await recordCancelWrite(tx, id);
    changed = true;
    return viewOf(tx, caller, cancelled);
  });
  if (changed) ctx.metrics.countBooking('cancelled');
  return view;
}
