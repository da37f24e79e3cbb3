import { findBooking, listBookings as listBookingRows } from '../../db/bookings-repo.js';
import type { BookingStatus } from '../../domain/booking-state.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { effectiveAvailability } from '../../domain/schedule.js';
import { isBookableSlot } from '../../domain/slots.js';
import { requireAccess } from '../access/policy.js';
import { loadProviderAvailability } from '../availability/availability-rules.js';
import type { AppContext, Principal } from '../context.js';
import { overlaps, type Interval } from '../../domain/intervals.js';
import { bookingListScope } from './booking-list-scope.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { checkDuration, DEFAULT_DURATION_MINUTES } from '../slots/slots.js';
import { insertHoldUnderLocks, refuseTakenTime, resolveClient } from './hold.js';
import { hostsOf, toBookingView, viewOf, viewsOf, type BookingView } from './views.js';

export { toBookingView, type BookingView } from './views.js';

const NOT_BOOKABLE_DETAIL = {
  off_grid: 'The start is not on the 15-minute grid of the provider\'s local clock.',
  too_soon: 'The start is less than the minimum notice ahead.',
  outside_availability: 'The time is not inside the provider\'s working time.',
} as const;

/**
 * A v1 hold: "provider X for N minutes" on the 15-minute grid with the
 * server's minimum notice and no buffers. The rules are checked here; the
 * time being free is left to the exclusion constraint (insertHoldUnderLocks).
 */
export async function holdBooking(
  ctx: AppContext,
  caller: Principal,
  input: { providerId: string; start: number; duration?: number; notes?: string; clientId?: string },
): Promise<BookingView> {
  const duration = checkDuration('duration', input.duration ?? DEFAULT_DURATION_MINUTES);
  const clientId = await resolveClient(ctx, caller, input.clientId, [input.providerId]);
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  const provider = await checkV1Slot(ctx, input.providerId, slot, { seeTaken: true });
  if (provider.taken) await refuseTakenTime(ctx, caller, clientId, { providerId: provider.id, start: slot.start });
  const held = await insertHoldUnderLocks(ctx, caller, {
    providerId: provider.id,
    clientId,
    eventTypeId: null,
    ...slot,
    blockedStart: slot.start,
    blockedEnd: slot.end,
    notes: input.notes ?? null,
    answers: null,
  });
  return toBookingView(held);
}

/**
 * The v1 rules for one slot (grid, notice, working time, calendar busy time); the provider, or a 404/409/422.
 * `seeTaken`: the same read also tells whether a live booking takes the slot now (`taken`), for a
 * new hold to be refused before its transaction (refuseTakenTime); a reschedule's own booking
 * may take its new time, so it leaves that to the exclusion constraint.
 */
export async function checkV1Slot(
  ctx: AppContext,
  providerId: string,
  slot: Interval,
  options: { seeTaken: boolean } = { seeTaken: false },
): Promise<{ id: string; taken: boolean }> {
  const { provider, rules, calendarBusy, busy } = await loadProviderAvailability(ctx.db, providerId, slot, { busy: options.seeTaken });
  const verdict = isBookableSlot(
    {
      available: effectiveAvailability(rules, slot),
      // Bookings are left to the exclusion constraint; busy time in the provider's calendars is checked here.
      busy: calendarBusy,
      durationMinutes: (slot.end - slot.start) / 60_000,
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
  return { id: provider.id, taken: busy.some((b) => overlaps(b, slot)) };
}

export async function getBooking(ctx: AppContext, caller: Principal, id: string): Promise<BookingView> {
  const b = await findBooking(ctx.db, id);
  if (!b) throw new AppError('not_found', `No booking with id "${id}".`);
  requireAccess(caller, { on: 'booking', action: 'read', id: b.id, clientId: b.clientId, hostIds: hostsOf(b) }, id);
  return viewOf(ctx.db, caller, b);
}

export async function listBookings(
  ctx: AppContext,
  caller: Principal,
  query: {
    from?: number; to?: number; statuses?: BookingStatus[]; providerId?: string; clientId?: string; eventTypeId?: string;
    limit: number; cursor?: string;
  },
): Promise<Page<BookingView>> {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw invalidField('from', 'must not be after to');
  }
  const after = decodeCursor(query.cursor);
  const rows = await listBookingRows(ctx.db, {
    ...bookingListScope(caller, query),
    from: query.from ?? null,
    to: query.to ?? null,
    statuses: query.statuses ?? null,
    eventTypeId: query.eventTypeId ?? null,
    after: after ? { start: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  const views = new Map((await viewsOf(ctx.db, caller, rows)).map((v) => [v.id, v]));
  return toPage(rows, query.limit, (b) => views.get(b.id)!, (b) => encodeCursor(b.start, b.id));
}
