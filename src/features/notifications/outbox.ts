import type { BookingRecord } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import type { EventType } from '../../db/events-repo.js';
import {
  armReminder,
  dropPendingReminders,
  insertChangeMails,
  wasAnnounced,
  type MailKind,
  type MailRecipient,
} from '../../db/mail-outbox-repo.js';
import type { Clock } from '../context.js';
import { hostsOf } from '../bookings/views.js';

/**
 * Called by recordBookingEvent (src/features/bookings/events.ts) inside the
 * transaction that changed a booking, right after its event row: the mails of
 * that change, one row per recipient, and the booking's reminders armed,
 * moved or dropped. Absent (no SMTP_URL): nothing is queued.
 */
export type BookingNotifier = (
  tx: Queryable,
  change: { eventId: string; type: Exclude<EventType, 'availability.changed'>; booking: BookingRecord },
) => Promise<void>;

/** The booking as a mail about one change needs it later (times in epoch ms); stored with the mail. */
export interface BookingSnapshot {
  id: string;
  clientId: string | null;
  /** A guest's booking (no account); absent in snapshots written before guests existed. */
  guest?: { name: string; email: string; timeZone: string | null } | null;
  hosts: string[];
  eventTypeId: string | null;
  start: number;
  end: number;
  status: BookingRecord['status'];
  sequence: number;
  notes: string | null;
  answers: Record<string, unknown> | null;
  previousStart: number | null;
  previousEnd: number | null;
  reason: string | null;
  cancelledBy: BookingRecord['cancelledBy'];
}

export function snapshotOf(b: BookingRecord): BookingSnapshot {
  return {
    id: b.id,
    clientId: b.clientId,
    guest: b.guest,
    hosts: hostsOf(b),
    eventTypeId: b.eventTypeId,
    start: b.start,
    end: b.end,
    status: b.status,
    sequence: b.sequence,
    notes: b.notes,
    answers: b.answers,
    previousStart: b.previousStart,
    previousEnd: b.previousEnd,
    reason: b.status === 'cancelled' ? b.cancelReason : b.status === 'declined' ? b.declineReason : b.rescheduleReason,
    cancelledBy: b.cancelledBy,
  };
}

/**
 * Everyone a booking's mail goes to: its client (or its guest, a booking
 * without an account: `{ role: 'guest', email }`), then every host.
 */
export function recipientsOf(b: BookingRecord): MailRecipient[] {
  const booker: MailRecipient[] = b.clientId !== null ? [{ role: 'client', userId: b.clientId }]
    : b.guest !== null ? [{ role: 'guest', email: b.guest.email }] : [];
  const seen = new Set<string>(b.clientId !== null ? [b.clientId] : []);
  const hosts = hostsOf(b).filter((h) => !seen.has(h) && seen.add(h));
  return [...booker, ...hosts.map((userId) => ({ role: 'host' as const, userId }))];
}

/**
 * Which mail a change makes, if any. A hold and its expiry make none; a
 * confirmation after the host's approval (decided_at set) is "accepted".
 */
export function mailKindOf(type: Exclude<EventType, 'availability.changed'>, b: BookingRecord): Exclude<MailKind, 'reminder'> | null {
  switch (type) {
    case 'booking.confirmed': return b.decidedAt !== null ? 'accepted' : 'confirmed';
    case 'booking.pending': return 'pending';
    case 'booking.declined': return 'declined';
    case 'booking.rescheduled': return 'rescheduled';
    case 'booking.cancelled': return 'cancelled';
    default: return null;
  }
}

/**
 * A confirmed booking has one reminder per offset and recipient, due at
 * start − offset; one whose time has already come when the booking is
 * confirmed or moved is not sent (the confirmation is the reminder). Any
 * other status drops the reminders not yet sent.
 */
export async function syncReminders(tx: Queryable, b: BookingRecord, offsets: readonly number[], now: number): Promise<void> {
  if (b.status !== 'confirmed') {
    await dropPendingReminders(tx, b.id);
    return;
  }
  const passed: number[] = [];
  for (const minutes of offsets) {
    const due = b.start - minutes * 60_000;
    if (due <= now) {
      passed.push(minutes);
      continue;
    }
    for (const recipient of recipientsOf(b)) {
      await armReminder(tx, { bookingId: b.id, minutes, due, sequence: b.sequence, now }, recipient);
    }
  }
  if (passed.length > 0) await dropPendingReminders(tx, b.id, passed);
}

export function createBookingNotifier(options: { reminderMinutes: readonly number[]; clock: Clock }): BookingNotifier {
  return async (tx, { eventId, type, booking }) => {
    const kind = mailKindOf(type, booking);
    if (kind === null) return;
    const now = options.clock.now();
    // A move or cancellation of a booking nobody was told of (a hold) mails nobody.
    const tell = kind === 'rescheduled' || kind === 'cancelled' ? await wasAnnounced(tx, booking.id) : true;
    if (tell) {
      await insertChangeMails(
        tx,
        { kind, bookingId: booking.id, eventId, sequence: booking.sequence, booking: snapshotOf(booking), now },
        recipientsOf(booking),
      );
    }
    await syncReminders(tx, booking, options.reminderMinutes, now);
  };
}
