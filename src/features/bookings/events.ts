import { heldRecordOf, insertHold, type BookingRecord, type NewHold } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import { recordEvent, type EventType } from '../../db/events-repo.js';
import type { BookingNotifier } from '../notifications/outbox.js';
import { toBookingView } from './bookings.js';

/**
 * The one seam for change events: call it inside the transaction that changed
 * the booking. The event's data is the booking as the API shows it; every
 * host and the client route it to their webhooks. availability.changed is
 * recorded by bumpAvailabilityVersion (src/db/users-repo.ts). With `notify`
 * (ctx.notifier, set with SMTP_URL) the change's mails are queued beside it.
 */
export async function recordBookingEvent(
  tx: Queryable,
  type: Exclude<EventType, 'availability.changed'>,
  booking: BookingRecord,
  notify?: BookingNotifier,
): Promise<void> {
  const eventId = await recordEvent(tx, {
    type, providerId: booking.providerId, clientId: booking.clientId, hostIds: booking.hostIds, data: toBookingView(booking),
  });
  await notify?.(tx, { eventId, type, booking });
}

/**
 * A new hold and its booking.held event in one statement (recordBookingEvent
 * needs a second): the event shows the row as it will read back, built before
 * the insert from the transaction's now() (`dbNow`, read earlier in it).
 */
export async function insertHoldRecordingEvent(tx: Queryable, hold: NewHold, dbNow: number): Promise<BookingRecord> {
  return insertHold(tx, hold, { type: 'booking.held', data: toBookingView(heldRecordOf(hold, dbNow)) });
}
