import { Type } from 'typebox';
import { Id, IdOf, Instant, named, PageQuery, TimeZone } from './common.js';

export const BookingStatus = named('BookingStatus', Type.Union([
  Type.Literal('held'), Type.Literal('confirmed'), Type.Literal('cancelled'), Type.Literal('expired'),
]));

export const CalendarSync = named('CalendarSync', Type.Object(
  {
    status: Type.Union([Type.Literal('pending'), Type.Literal('synced'), Type.Literal('removed'), Type.Literal('failed')], {
      description: 'pending: the write calendar does not show the booking\'s state yet (queued, or retried after a failure: see error); '
        + 'synced: the event is in the calendar; removed: cancelled and its event removed (or never written); '
        + 'failed: retries gave up (see error)',
    }),
    error: Type.Optional(Type.String({ description: 'Why the last attempt failed (pending or failed only)' })),
  },
  { description: 'The booking\'s event in the provider\'s write calendar (writeBookings). Absent when the provider had no write calendar when the booking was confirmed, and on bookings never confirmed' },
));

export const Booking = named('Booking', Type.Object({
  id: Id,
  providerId: Id,
  clientId: Id,
  start: Instant,
  end: Instant,
  status: BookingStatus,
  expiresAt: Instant,
  createdAt: Instant,
  confirmedAt: Type.Optional(Instant),
  cancelledAt: Type.Optional(Instant),
  notes: Type.Optional(Type.String()),
  cancelReason: Type.Optional(Type.String()),
  calendarSync: Type.Optional(CalendarSync),
}), 'A booking');

const Duration = Type.Integer({ minimum: 15, maximum: 1440, multipleOf: 15, description: 'Minutes, a multiple of 15' });

export const HoldBody = named('HoldRequest', Type.Object(
  {
    providerId: Id,
    start: Instant,
    duration: Type.Optional(Duration),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
    clientId: Type.Optional(Id),
  },
  { additionalProperties: false, examples: [{ providerId: 'usr_3xJq9mZ0aB1cD2eF3gH4', start: '2027-03-01T09:00:00Z', duration: 30, notes: 'First visit' }] },
));

export const CancelBody = named('CancelRequest', Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, examples: [{ reason: 'Something came up' }] },
));

export const BookingListQuery = Type.Object({
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  status: Type.Optional(Type.Array(BookingStatus, {
    maxItems: 4,
    description: 'Any of these statuses; repeat the parameter for several: status=held&status=confirmed',
  })),
  providerId: Type.Optional(IdOf('Only this provider\'s bookings (an admin: anyone; others: only themselves)')),
  clientId: Type.Optional(IdOf('Only this client\'s bookings (an admin: anyone; others: only themselves)')),
  ...PageQuery,
});

export const SlotsQuery = Type.Object({
  providerId: Id,
  from: Type.String({ description: 'Instant, or local date YYYY-MM-DD', examples: ['2027-03-01'] }),
  to: Type.String({ description: 'Instant, or local date YYYY-MM-DD (inclusive)', examples: ['2027-03-07'] }),
  timeZone: Type.Optional(TimeZone),
  duration: Type.Optional(Type.Integer({ description: 'Minutes, a positive multiple of 15, at most 1440', default: 15 })),
});

export const Slots = named('Slots', Type.Object({
  providerId: Id,
  duration: Type.Integer(),
  timeZone: TimeZone,
  slots: Type.Array(Type.Object({ start: Instant, end: Instant })),
}), 'Free slots, by start');
