import {
  findBooking,
  insertHold,
  listBookings as listBookingRows,
  liveHoldsOfClient,
  markCancelled,
  markConfirmed,
  releaseLapsedHolds,
  type BookingRecord,
} from '../../db/bookings-repo.js';
import { SQLSTATE, sqlState, type Queryable } from '../../db/database.js';
import { bumpAvailabilityVersion, findUserById } from '../../db/users-repo.js';
import { cancelTransition, confirmTransition, type BookingStatus } from '../../domain/booking-state.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { effectiveAvailability } from '../../domain/schedule.js';
import { isBookableSlot } from '../../domain/slots.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { loadProviderAvailability } from '../availability/availability-rules.js';
import {
  calendarSyncOf,
  recordCancelWrite,
  recordConfirmWrite,
  undoStrictWrite,
  writeBeforeConfirm,
  type CalendarSyncView,
  type StrictWrite,
} from '../calendars/calendar-writes.js';
import type { AppContext, Principal } from '../context.js';
import { bookingListScope } from './booking-list-scope.js';
import { recordBookingEvent } from './events.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { newId } from '../../platform/crypto/secrets.js';
import { checkDuration, DEFAULT_DURATION_MINUTES } from '../slots/slots.js';

export interface BookingView {
  id: string;
  providerId: string;
  clientId: string;
  start: string;
  end: string;
  status: BookingStatus;
  expiresAt: string;
  createdAt: string;
  confirmedAt?: string;
  cancelledAt?: string;
  notes?: string;
  cancelReason?: string;
  /** The booking's event in the provider's write calendar (see calendar-writes.ts); absent without one. */
  calendarSync?: CalendarSyncView;
}

export function toBookingView(b: BookingRecord, calendarSync?: CalendarSyncView): BookingView {
  return {
    id: b.id,
    providerId: b.providerId,
    clientId: b.clientId,
    start: formatInstant(b.start),
    end: formatInstant(b.end),
    status: b.status,
    expiresAt: formatInstant(b.expiresAt),
    createdAt: formatInstant(b.createdAt),
    ...(b.confirmedAt !== null ? { confirmedAt: formatInstant(b.confirmedAt) } : {}),
    ...(b.cancelledAt !== null ? { cancelledAt: formatInstant(b.cancelledAt) } : {}),
    ...(b.notes !== null ? { notes: b.notes } : {}),
    ...(b.cancelReason !== null ? { cancelReason: b.cancelReason } : {}),
    ...(calendarSync ? { calendarSync } : {}),
  };
}

/** The views with their calendarSync (one small query); only the provider and admins see why a write failed. */
async function viewsOf(q: Queryable, caller: Principal, bookings: readonly BookingRecord[]): Promise<BookingView[]> {
  const sync = await calendarSyncOf(q, bookings);
  return bookings.map((b) => {
    const state = sync.get(b.id);
    const seesError = caller.role === 'admin' || caller.userId === b.providerId;
    return toBookingView(b, state && !seesError ? { status: state.status } : state);
  });
}

const viewOf = async (q: Queryable, caller: Principal, b: BookingRecord) => (await viewsOf(q, caller, [b]))[0]!;

const NOT_BOOKABLE_DETAIL = {
  off_grid: 'The start is not on the 15-minute grid of the provider\'s local clock.',
  too_soon: 'The start is less than the minimum notice ahead.',
  outside_availability: 'The time is not inside the provider\'s working time.',
} as const;

/** Clients book for themselves; an admin books on a client's behalf with clientId. */
async function resolveClient(ctx: AppContext, caller: Principal, clientId: string | undefined): Promise<string> {
  if (caller.role === 'admin') {
    if (clientId === undefined) throw invalidField('body/clientId', 'is required when an administrator books');
    const client = await findUserById(ctx.db, clientId);
    if (!client || client.role !== 'client') throw invalidField('body/clientId', `no client with id "${clientId}"`);
    return client.id;
  }
  if (caller.role !== 'client') throw new AppError('forbidden', 'Only clients (or an administrator for a client) can book.');
  if (clientId !== undefined && clientId !== caller.userId) {
    throw new AppError('forbidden', 'A client books for itself; clientId is for administrators.');
  }
  return caller.userId;
}

/**
 * At most MAX_HOLDS_PER_CLIENT live holds per client, so one client cannot
 * hold every slot of a provider. Called under the client's lock (see
 * holdBooking), so two holds of one client at once cannot both see room for one.
 */
async function ensureRoomForAnotherHold(tx: Queryable, ctx: AppContext, caller: Principal, clientId: string): Promise<void> {
  const { count, secondsToFirstExpiry } = await liveHoldsOfClient(tx, clientId);
  if (count < ctx.config.maxHoldsPerClient) return;
  const who = caller.userId === clientId ? 'You already hold' : `Client ${clientId} already holds`;
  throw new AppError(
    'too_many_holds',
    `${who} ${count} unconfirmed slot${count === 1 ? '' : 's'}; confirm or cancel one first ` +
      `(or retry when the earliest hold expires, in ${secondsToFirstExpiry ?? 1} s).`,
    undefined,
    secondsToFirstExpiry ?? 1,
  );
}

/**
 * Holds a slot for HOLD_TTL_SECONDS. The rules (grid, notice, working time)
 * are checked here; "nobody else has it" is not checked at all but left to the
 * exclusion constraint, which is what makes it true under any concurrency.
 */
export async function holdBooking(
  ctx: AppContext,
  caller: Principal,
  input: { providerId: string; start: number; duration?: number; notes?: string; clientId?: string },
): Promise<BookingView> {
  const duration = checkDuration('body/duration', input.duration ?? DEFAULT_DURATION_MINUTES);
  const clientId = await resolveClient(ctx, caller, input.clientId);
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  const { provider, rules, calendarBusy } = await loadProviderAvailability(ctx.db, input.providerId, slot, { busy: false });
  const verdict = isBookableSlot(
    {
      available: effectiveAvailability(rules, slot),
      // Bookings are left to the exclusion constraint; busy time in the provider's calendars is checked here.
      busy: calendarBusy,
      durationMinutes: duration,
      earliestStart: ctx.clock.now() + ctx.config.minNoticeMinutes * 60_000,
      timeZone: rules.timeZone,
    },
    slot,
  );
  if (verdict === 'busy') {
    ctx.metrics.countBooking('conflict');
    throw new AppError('slot_taken', 'This time is busy in the provider\'s connected calendar.');
  }
  if (verdict !== 'ok') {
    ctx.metrics.countBooking('not_bookable');
    throw new AppError('not_bookable', NOT_BOOKABLE_DETAIL[verdict]);
  }
  let released = 0;
  try {
    const booking = await ctx.db.transaction(async (tx) => {
      // Holds of one client take turns, so the cap is counted by one at a time. Every
      // hold takes this lock before the provider's: one order, so no deadlock between them.
      await tx.query('SELECT pg_advisory_xact_lock(724102, hashtext($1))', [clientId]);
      await ensureRoomForAnotherHold(tx, ctx, caller, clientId);
      // Holds of one provider take turns. Without this, two overlapping inserts
      // can each find the other's uncommitted row while checking the exclusion
      // constraint, wait on each other, and one dies with a deadlock (40P01, a 500)
      // instead of a 409. The constraint stays the guarantee; this only orders.
      await tx.query('SELECT pg_advisory_xact_lock(724101, hashtext($1))', [provider.id]);
      const lapsed = await releaseLapsedHolds(tx, provider.id, slot);
      for (const b of lapsed) await recordBookingEvent(tx, 'booking.expired', b);
      released = lapsed.length;
      const held = await insertHold(tx, {
        id: newId('bkg'),
        providerId: provider.id,
        clientId,
        ...slot,
        notes: input.notes ?? null,
        ttlSeconds: ctx.config.holdTtlSeconds,
      });
      await recordBookingEvent(tx, 'booking.held', held);
      await bumpAvailabilityVersion(tx, provider.id);
      return held;
    });
    ctx.metrics.countBooking('held');
    if (released > 0) ctx.metrics.holdsExpired.inc(released);
    return toBookingView(booking);
  } catch (error) {
    if (sqlState(error) === SQLSTATE.exclusionViolation) {
      ctx.metrics.countBooking('conflict');
      throw new AppError('slot_taken', 'This time overlaps a booking that is held or confirmed.');
    }
    if (error instanceof AppError && error.code === 'too_many_holds') {
      ctx.metrics.countBooking('too_many_holds');
      ctx.metrics.rateLimited.labels('holds').inc();
    }
    throw error;
  }
}

function canSee(caller: Principal, b: BookingRecord): boolean {
  return caller.role === 'admin' || caller.userId === b.clientId || caller.userId === b.providerId;
}

export async function getBooking(ctx: AppContext, caller: Principal, id: string): Promise<BookingView> {
  const b = await findBooking(ctx.db, id);
  if (!b || !canSee(caller, b)) throw new AppError('not_found', `No booking with id "${id}".`);
  return viewOf(ctx.db, caller, b);
}

function confirmable(caller: Principal, id: string, b: BookingRecord | null): BookingRecord {
  if (!b || !canSee(caller, b)) throw new AppError('not_found', `No booking with id "${id}".`);
  if (caller.role !== 'admin' && caller.userId !== b.clientId) {
    throw new AppError('forbidden', 'Only the booking\'s client confirms it.');
  }
  return b;
}

/**
 * With a strict write calendar the event is written first, outside the
 * transaction (see calendar-writes.ts); the checks run again under the row lock.
 */
export async function confirmBooking(ctx: AppContext, caller: Principal, id: string): Promise<BookingView> {
  let changed = false;
  let strict: StrictWrite | null = null;
  const confirmed = await (async () => {
    const before = confirmable(caller, id, await findBooking(ctx.db, id));
    if (confirmTransition(before.status) !== 'unchanged') strict = await writeBeforeConfirm(ctx, before);
    return ctx.db.transaction(async (tx) => {
      const b = confirmable(caller, id, await findBooking(tx, id, { forUpdate: true }));
      if (confirmTransition(b.status) === 'unchanged') {
        // Confirmed meanwhile by another request: this one's strict write is the same event.
        if (strict) await recordConfirmWrite(tx, b, strict);
        return viewOf(tx, caller, b);
      }
      const confirmed = await markConfirmed(tx, id);
      await recordBookingEvent(tx, 'booking.confirmed', confirmed);
      await bumpAvailabilityVersion(tx, b.providerId);
      await recordConfirmWrite(tx, confirmed, strict);
      changed = true;
      return viewOf(tx, caller, confirmed);
    });
  })().catch(async (error: unknown) => {
    if (strict) await undoStrictWrite(ctx, id, strict, 'the confirmation did not complete');
    if (error instanceof AppError && error.code === 'hold_expired') ctx.metrics.countBooking('expired_on_confirm');
    throw error;
  });
  if (changed) ctx.metrics.countBooking('confirmed');
  return confirmed;
}

export async function cancelBooking(ctx: AppContext, caller: Principal, id: string, reason: string | null): Promise<BookingView> {
  let changed = false;
  const view = await ctx.db.transaction(async (tx) => {
    const b = await findBooking(tx, id, { forUpdate: true });
    if (!b || !canSee(caller, b)) throw new AppError('not_found', `No booking with id "${id}".`);
    const transition = cancelTransition(b.status);
    if (transition === 'unchanged') return viewOf(tx, caller, b);
    const cancelled = await markCancelled(tx, id, reason);
    await recordBookingEvent(tx, 'booking.cancelled', cancelled);
    await bumpAvailabilityVersion(tx, b.providerId);
    if (b.status === 'confirmed') await recordCancelWrite(tx, id);
    changed = true;
    return viewOf(tx, caller, cancelled);
  });
  if (changed) ctx.metrics.countBooking('cancelled');
  return view;
}

export async function listBookings(
  ctx: AppContext,
  caller: Principal,
  query: { from?: number; to?: number; statuses?: BookingStatus[]; providerId?: string; clientId?: string; limit: number; cursor?: string },
): Promise<Page<BookingView>> {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw invalidField('query/from', 'must not be after to');
  }
  const after = decodeCursor(query.cursor);
  const rows = await listBookingRows(ctx.db, {
    ...bookingListScope(caller, query),
    from: query.from ?? null,
    to: query.to ?? null,
    statuses: query.statuses ?? null,
    after: after ? { start: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  const views = new Map((await viewsOf(ctx.db, caller, rows)).map((v) => [v.id, v]));
  return toPage(rows, query.limit, (b) => views.get(b.id)!, (b) => encodeCursor(b.start, b.id));
}
