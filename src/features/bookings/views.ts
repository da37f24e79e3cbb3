import type { BookingRecord } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import type { BookingStatus } from '../../domain/booking-state.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { can } from '../access/policy.js';
import { calendarSyncOf, type CalendarSyncView } from '../calendars/calendar-writes.js';
import type { Principal } from '../context.js';

export interface BookingView {
  id: string;
  providerId: string;
  /** null for a guest's booking (see guest). */
  clientId: string | null;
  /** Who booked without an account (public booking); absent for a client's booking. */
  guest?: { name: string; email: string };
  /** Every host whose time the booking blocks; providerId is the first. */
  hosts: string[];
  eventTypeId?: string;
  start: string;
  end: string;
  status: BookingStatus;
  expiresAt: string;
  createdAt: string;
  confirmedAt?: string;
  cancelledAt?: string;
  cancelledBy?: 'client' | 'host' | 'admin';
  notes?: string;
  cancelReason?: string;
  declineReason?: string;
  answers?: Record<string, unknown>;
  rescheduledAt?: string;
  previousStart?: string;
  previousEnd?: string;
  rescheduleReason?: string;
  /** The booking's event in the provider's write calendar (see calendar-writes.ts); absent without one. */
  calendarSync?: CalendarSyncView;
}

/** The hosts whose time a booking blocks (providerId first). */
export const hostsOf = (b: BookingRecord): string[] => b.hostIds;

const optionalInstant = <K extends string>(key: K, ms: number | null) =>
  (ms !== null ? { [key]: formatInstant(ms) } : {}) as Partial<Record<K, string>>;

export function toBookingView(b: BookingRecord, calendarSync?: CalendarSyncView): BookingView {
  return {
    id: b.id,
    providerId: b.providerId,
    clientId: b.clientId,
    ...(b.guest !== null ? { guest: { name: b.guest.name, email: b.guest.email } } : {}),
    hosts: hostsOf(b),
    ...(b.eventTypeId !== null ? { eventTypeId: b.eventTypeId } : {}),
    start: formatInstant(b.start),
    end: formatInstant(b.end),
    status: b.status,
    expiresAt: formatInstant(b.expiresAt),
    createdAt: formatInstant(b.createdAt),
    ...optionalInstant('confirmedAt', b.confirmedAt),
    ...optionalInstant('cancelledAt', b.cancelledAt),
    ...(b.cancelledBy !== null ? { cancelledBy: b.cancelledBy } : {}),
    ...(b.notes !== null ? { notes: b.notes } : {}),
    ...(b.cancelReason !== null ? { cancelReason: b.cancelReason } : {}),
    ...(b.declineReason !== null ? { declineReason: b.declineReason } : {}),
    ...(b.answers !== null ? { answers: b.answers } : {}),
    ...optionalInstant('rescheduledAt', b.rescheduledAt),
    ...optionalInstant('previousStart', b.previousStart),
    ...optionalInstant('previousEnd', b.previousEnd),
    ...(b.rescheduleReason !== null ? { rescheduleReason: b.rescheduleReason } : {}),
    ...(calendarSync ? { calendarSync } : {}),
  };
}

/** The views with their calendarSync (one small query); only hosts and admins see why a write failed. */
export async function viewsOf(q: Queryable, caller: Principal, bookings: readonly BookingRecord[]): Promise<BookingView[]> {
  const sync = await calendarSyncOf(q, bookings);
  return bookings.map((b) => {
    const state = sync.get(b.id);
    const seesError = can(caller, { on: 'booking', action: 'seeSyncError', id: b.id, clientId: b.clientId, hostIds: hostsOf(b) });
    return toBookingView(b, state && !seesError ? { status: state.status } : state);
  });
}

export const viewOf = async (q: Queryable, caller: Principal, b: BookingRecord) => (await viewsOf(q, caller, [b]))[0]!;
