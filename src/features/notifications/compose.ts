import { findBooking } from '../../db/bookings-repo.js';
import type { Queryable } from '../../db/database.js';
import { findEventTypeEvenDeleted, type EventTypeRecord } from '../../db/event-types-repo.js';
import { hadInvitation, type ClaimedMail } from '../../db/mail-outbox-repo.js';
import { findUserById } from '../../db/users-repo.js';
import type { MailConfig } from '../../config.js';
import { renderInvitation, type Party } from '../../domain/itip.js';
import { bookingEventUid } from '../calendars/calendar-writes.js';
import type { OutgoingMail } from './mailer.js';
import { snapshotOf, type BookingSnapshot } from './outbox.js';
import { renderMail, type MailFacts } from './templates.js';
import { storeManageToken } from '../bookings/manage-tokens.js';

/**
 * Where a booking is managed. A guest (no account): the booking page's
 * manage view with a mail token (`/book/manage/{id}?token=…`). The token the
 * guest got when booking is stored only as its hash, so it cannot be put in
 * a mail; instead each mail to a guest mints its own token (stored hashed,
 * the plaintext only in that mail, the newest ten kept), with the same rights:
 * that booking only. A client (with an account): the booking in the API
 * (GET, and POST …/cancel or …/reschedule, with the client's key).
 */
export function manageLinkOf(publicBaseUrl: string, bookingId: string, guestToken?: string): string {
  const id = encodeURIComponent(bookingId);
  return guestToken !== undefined
    ? `${publicBaseUrl}/book/manage/${id}?token=${encodeURIComponent(guestToken)}`
    : `${publicBaseUrl}/v1/bookings/${id}`;
}

/** What the worker sends, or why there is nothing to send any more. */
export type Composed = { mail: OutgoingMail } | { skip: string };

interface Env {
  db: Queryable;
  mail: MailConfig;
  publicBaseUrl: string;
  now: number;
}

/** The booking a mail is about: as the change left it, or, for a reminder, as it is now (if the reminder still applies). */
async function bookingFor(env: Env, m: ClaimedMail): Promise<BookingSnapshot | string> {
  if (m.kind !== 'reminder') return m.booking as BookingSnapshot;
  const current = await findBooking(env.db, m.bookingId);
  if (!current) return 'the booking is gone';
  if (current.status !== 'confirmed') return `the booking is ${current.status}`;
  if (current.start <= env.now) return 'the booking has started';
  if (current.sequence !== m.bookingSequence) return 'the booking moved since this reminder was armed';
  return snapshotOf(current);
}

function answersOf(b: BookingSnapshot, type: EventTypeRecord | null): { label: string; value: string }[] {
  const out: { label: string; value: string }[] = [];
  for (const q of type?.spec.questions ?? []) {
    const answer = b.answers?.[q.id];
    if (answer === undefined || answer === null || answer === '') continue;
    out.push({ label: q.label, value: Array.isArray(answer) ? answer.join(', ') : typeof answer === 'boolean' ? (answer ? 'yes' : 'no') : String(answer) });
  }
  return out;
}

export async function composeMail(env: Env, m: ClaimedMail): Promise<Composed> {
  const booking = await bookingFor(env, m);
  if (typeof booking === 'string') return { skip: booking };
  const hosts = (await Promise.all(booking.hosts.map((id) => findUserById(env.db, id)))).filter((h) => h !== null);
  const guest = booking.guest ?? null;
  let recipient: { id: string | null; name: string; email: string; timeZone: string } | null;
  if (m.recipient.role === 'guest') {
    // A guest's zone is the one the booking page sent, else the host's.
    recipient = guest ? { id: null, name: guest.name, email: m.recipient.email, timeZone: guest.timeZone ?? hosts[0]?.timeZone ?? 'UTC' } : null;
  } else {
    const found = await findUserById(env.db, m.recipient.userId);
    // A resource (a room, a machine) has no address.
    recipient = found && found.email !== null ? { ...found, email: found.email } : null;
  }
  if (!recipient || recipient.email === '') return { skip: 'the recipient has no address' };
  const client = booking.clientId === null ? guest
    : recipient.id === booking.clientId ? recipient : await findUserById(env.db, booking.clientId);
  const type = booking.eventTypeId === null ? null : await findEventTypeEvenDeleted(env.db, booking.eventTypeId);
  const role = m.recipient.role;
  const isClient = role === 'client' || role === 'guest';
  const wantsLink = isClient && m.kind !== 'cancelled' && m.kind !== 'declined';
  const manageUrl = !wantsLink ? null
    : role === 'guest' ? manageLinkOf(env.publicBaseUrl, booking.id, await storeManageToken(env.db, booking.id, 'mail'))
      : manageLinkOf(env.publicBaseUrl, booking.id);
  const sender = env.mail.from.name ?? 'Bookings';
  const facts: MailFacts = {
    kind: m.kind,
    role,
    recipientName: recipient.name,
    timeZone: recipient.timeZone,
    title: type?.spec.title ?? 'Appointment',
    start: booking.start,
    end: booking.end,
    previous: m.kind === 'rescheduled' && booking.previousStart !== null && booking.previousEnd !== null
      ? { start: booking.previousStart, end: booking.previousEnd } : null,
    awaitingApproval: m.kind === 'rescheduled' && booking.status === 'pending',
    location: type?.spec.location ?? null,
    clientName: client?.name ?? 'the client',
    hostNames: hosts.map((h) => h.name),
    answers: isClient ? [] : answersOf(booking, type),
    notes: isClient ? null : booking.notes,
    reason: m.kind === 'cancelled' || m.kind === 'declined' || m.kind === 'rescheduled' ? booking.reason : null,
    cancelledBy: m.kind === 'cancelled' ? booking.cancelledBy : null,
    manageUrl,
    reminderMinutes: m.reminderMinutes,
    sender,
  };
  const rendered = renderMail(facts);
  const me: Party = { name: recipient.name, email: recipient.email };
  const attendees = isClient || !client?.email ? [me] : [me, { name: client.name, email: client.email }];
  const method: 'REQUEST' | 'CANCEL' | null = m.kind === 'confirmed' || m.kind === 'accepted' || m.kind === 'rescheduled' ? 'REQUEST'
    : m.kind === 'cancelled' && (await hadInvitation(env.db, m.bookingId, m.recipient)) ? 'CANCEL' : null;
  const description = isClient ? facts.manageUrl ?? undefined
    : [...facts.answers.map((a) => `${a.label}: ${a.value}`), ...(facts.notes ? [`Notes: ${facts.notes}`] : [])].join('\n') || undefined;
  const invitation = method === null ? null : {
    method,
    content: renderInvitation({
      method,
      uid: bookingEventUid(booking.id),
      sequence: booking.sequence,
      stamp: m.createdAt,
      start: booking.start,
      end: booking.end,
      tentative: booking.status === 'pending',
      summary: isClient ? facts.title : `${facts.title} with ${facts.clientName}`,
      ...(facts.location ? { location: facts.location } : {}),
      ...(description ? { description } : {}),
      organizer: { name: sender, email: env.mail.from.address },
      attendees,
    }),
  };
  const domain = env.mail.from.address.split('@')[1]!;
  return {
    mail: {
      messageId: `<${m.id}@${domain}>`,
      from: { name: sender, address: env.mail.from.address },
      to: { name: recipient.name, address: recipient.email },
      ...rendered,
      invitation,
    },
  };
}
