import { Type } from 'typebox';
import { Id, IdOf, Instant, named, PageQuery, TimeZone } from './common.js';

export const BookingStatus = named('BookingStatus', Type.Union([
  Type.Literal('held'), Type.Literal('pending'), Type.Literal('confirmed'),
  Type.Literal('declined'), Type.Literal('cancelled'), Type.Literal('expired'),
], { description: 'pending: confirmed by the client, awaiting the host\'s approval (requiresConfirmation)' }));

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

export const Answers = named('Answers', Type.Record(Type.String(), Type.Unknown(), {
  description: 'Answers to the event type\'s questions, keyed by question id',
  examples: [{ reason: 'Back pain', first_visit: true }],
}));

export const GuestView = named('Guest', Type.Object({
  name: Type.String(),
  email: Type.String(),
}, { description: 'Who booked without an account (public booking)' }));

export const Booking = named('Booking', Type.Object({
  id: Id,
  providerId: Id,
  clientId: Type.Union([Id, Type.Null()], { description: 'The client; null for a guest\'s booking (see guest)' }),
  guest: Type.Optional(GuestView),
  hosts: Type.Array(Id, { description: 'Every host whose time the booking blocks; providerId is the first' }),
  eventTypeId: Type.Optional(Id),
  start: Instant,
  end: Instant,
  status: BookingStatus,
  expiresAt: Instant,
  createdAt: Instant,
  confirmedAt: Type.Optional(Instant),
  cancelledAt: Type.Optional(Instant),
  cancelledBy: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('host'), Type.Literal('admin')])),
  notes: Type.Optional(Type.String()),
  cancelReason: Type.Optional(Type.String()),
  declineReason: Type.Optional(Type.String()),
  answers: Type.Optional(Answers),
  rescheduledAt: Type.Optional(Instant),
  previousStart: Type.Optional(Instant),
  previousEnd: Type.Optional(Instant),
  rescheduleReason: Type.Optional(Type.String()),
  calendarSync: Type.Optional(CalendarSync),
  manageToken: Type.Optional(Type.String({
    description: 'Only in the 201 of a guest\'s POST /v1/bookings, and never again: opens this booking (and nothing else) '
      + 'for GET, confirm, cancel and reschedule, as ?token= or Authorization: Bearer',
  })),
}), 'A booking');

const Duration = Type.Integer({
  minimum: 5, maximum: 1440, multipleOf: 5,
  description: 'Minutes: with providerId a multiple of 15 (default 15); with eventTypeId one of the type\'s durations (default its first)',
});

export const GuestInput = named('GuestInput', Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 320 }),
    timeZone: Type.Optional(TimeZone),
  },
  {
    additionalProperties: false,
    description: 'Booking without an account: who books (mails go to this address, in this time zone)',
    examples: [{ name: 'Grace Hopper', email: 'grace@example.com', timeZone: 'America/New_York' }],
  },
));

export const HoldBody = named('HoldRequest', Type.Object(
  {
    eventTypeId: Type.Optional(Id),
    providerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'v1: the provider booked; with eventTypeId: the host wanted (optional)' })),
    start: Instant,
    duration: Type.Optional(Duration),
    answers: Type.Optional(Answers),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
    clientId: Type.Optional(Id),
    guest: Type.Optional(GuestInput),
  },
  {
    additionalProperties: false,
    description: 'Exactly one of providerId (v1) or eventTypeId identifies what is booked. Without an API key: a public '
      + 'event type with guest (the answer then carries manageToken, once)',
    examples: [{ providerId: 'usr_3xJq9mZ0aB1cD2eF3gH4', start: '2027-03-01T09:00:00Z', duration: 30, notes: 'First visit' }],
  },
));

export const RescheduleBody = named('RescheduleRequest', Type.Object(
  {
    start: Instant,
    duration: Type.Optional(Duration),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, examples: [{ start: '2027-03-02T09:00:00Z', reason: 'Clash at work' }] },
));

export const DeclineBody = named('DeclineRequest', Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, examples: [{ reason: 'Fully booked that week' }] },
));

export const CancelBody = named('CancelRequest', Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, examples: [{ reason: 'Something came up' }] },
));

export const BookingListQuery = Type.Object({
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  status: Type.Optional(Type.Array(BookingStatus, {
    maxItems: 6,
    description: 'Any of these statuses; repeat the parameter for several: status=held&status=confirmed',
  })),
  providerId: Type.Optional(IdOf('Only this provider\'s bookings (an admin: anyone; others: only themselves)')),
  clientId: Type.Optional(IdOf('Only this client\'s bookings (an admin: anyone; others: only themselves)')),
  eventTypeId: Type.Optional(IdOf('Only bookings of this event type')),
  ...PageQuery,
});

export const SlotsQuery = Type.Object({
  providerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'v1: whose slots; with eventTypeId: narrows to that host' })),
  eventTypeId: Type.Optional(Id),
  from: Type.String({ description: 'Instant, or local date YYYY-MM-DD', examples: ['2027-03-01'] }),
  to: Type.String({ description: 'Instant, or local date YYYY-MM-DD (inclusive)', examples: ['2027-03-07'] }),
  timeZone: Type.Optional(TimeZone),
  duration: Type.Optional(Type.Integer({ description: 'Minutes: v1 a positive multiple of 15, at most 1440 (default 15); with eventTypeId one of its durations (default the first)' })),
});

export const Slots = named('Slots', Type.Object({
  providerId: Type.Optional(Id),
  eventTypeId: Type.Optional(Id),
  duration: Type.Integer(),
  timeZone: TimeZone,
  slots: Type.Array(Type.Object({ start: Instant, end: Instant, seatsLeft: Type.Optional(Type.Integer()) })),
}), 'Free slots, by start: providerId for v1 questions, eventTypeId for event-type questions');
