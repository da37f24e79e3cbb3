import { Type } from 'typebox';
import { Id, Instant, named, PageQuery } from './common.js';

const MailStatus = Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('skipped')]);

export const MailQuery = Type.Object({
  status: Type.Optional(MailStatus),
  bookingId: Type.Optional(Id),
  ...PageQuery,
});

export const MailView = named('Mail', Type.Object({
  id: Type.String(),
  kind: Type.Union([
    Type.Literal('confirmed'), Type.Literal('accepted'), Type.Literal('pending'), Type.Literal('declined'),
    Type.Literal('rescheduled'), Type.Literal('cancelled'), Type.Literal('reminder'),
  ]),
  bookingId: Type.String(),
  recipient: Type.Object({
    role: Type.Union([Type.Literal('client'), Type.Literal('host'), Type.Literal('guest')]),
    userId: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
  }),
  reminderMinutes: Type.Optional(Type.Integer({ minimum: 1 })),
  status: MailStatus,
  attempts: Type.Integer({ minimum: 0 }),
  dueAt: Instant,
  nextAttemptAt: Type.Optional(Instant),
  lastAttemptAt: Type.Union([Instant, Type.Null()]),
  sentAt: Type.Optional(Instant),
  error: Type.Optional(Type.String({ description: 'Why the last attempt failed (or why the mail was skipped)' })),
  createdAt: Instant,
}), 'A notification mail in the outbox');
