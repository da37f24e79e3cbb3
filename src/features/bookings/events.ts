import { heldRecordOf, insertHoldWithEvent, type BookingRecord, type LocksInInsert, type NewHold } from '../../db/bookings-repo.js';
import type { Queryable, Transaction } from '../../db/database.js';
import { recordEvent, type EventType } from '../../db/events-repo.js';
import { AVAILABILITY_TOPIC } from '../../db/users-repo.js';
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
 * A new hold, its booking.held event and the provider's availability bump
 * (bumpAvailabilityVersion's; other hosts are the caller's) in one statement
 * (recordBookingEvent and the bump need two more), with `locks` the providers'
 * locks too (bookings-repo insertHoldWithEvent): the event shows the row as it
 * will read back, built before the insert from the transaction's now()
 * (`dbNow`, read earlier in it). `lapsedIds`: holds the locks released.
 */
export async function insertHoldRecordingEvent(
  tx: Transaction,
  hold: NewHold,
  dbNow: number,
  locks: LocksInInsert | null,
): Promise<{ held: BookingRecord; lapsedIds: string[] }> {
  tx.touches(AVAILABILITY_TOPIC, hold.providerId);
  return insertHoldWithEvent(tx, hold, { type: 'booking.held', data: toBookingView(heldRecordOf(hold, dbNow)) }, locks);
}
