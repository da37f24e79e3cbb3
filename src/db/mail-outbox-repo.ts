import { randomBytes } from 'node:crypto';
import type { Queryable } from './database.js';

/** The mail outbox (migration 009). Every time is the app's clock, passed in as epoch ms. */
export type MailKind = 'confirmed' | 'accepted' | 'pending' | 'declined' | 'rescheduled' | 'cancelled' | 'reminder';
export type MailStatus = 'pending' | 'sent' | 'failed' | 'skipped';
export type RecipientRole = 'client' | 'host' | 'guest';

/** Who a mail goes to: a user (address and zone read at send time) or a guest's address. */
export type MailRecipient = { role: 'client' | 'host'; userId: string } | { role: 'guest'; email: string };

export const recipientKey = (r: MailRecipient) => (r.role === 'guest' ? `guest:${r.email.toLowerCase()}` : `${r.role}:${r.userId}`);

const mailId = () => `mail_${randomBytes(15).toString('base64url')}`;
const at = (ms: number) => new Date(ms);

/** One change mail per recipient; a second insert for the same change and recipient is ignored. */
export async function insertChangeMails(
  q: Queryable,
  m: { kind: Exclude<MailKind, 'reminder'>; bookingId: string; eventId: string; sequence: number; booking: unknown; now: number },
  recipients: readonly MailRecipient[],
): Promise<void> {
  for (const r of recipients) {
    await q.query(
      `INSERT INTO mail_outbox (id, dedupe_key, kind, booking_id, event_id, recipient_role, recipient_id, recipient_email,
                                booking, booking_sequence, due_at, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        mailId(), `${m.eventId}/${recipientKey(r)}`, m.kind, m.bookingId, m.eventId, r.role,
        r.role === 'guest' ? null : r.userId, r.role === 'guest' ? r.email : null,
        JSON.stringify(m.booking), m.sequence, at(m.now),
      ],
    );
  }
}

/** Whether the booking's client or hosts have been told of it (a change mail exists): only then do moves and cancellations mail. */
export async function wasAnnounced(q: Queryable, bookingId: string): Promise<boolean> {
  const { rows } = await q.query<{ yes: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM mail_outbox WHERE booking_id = $1 AND kind <> 'reminder') AS yes`,
    [bookingId],
  );
  return rows[0]?.yes === true;
}

/** Whether this recipient was sent (or is being sent) an invitation for the booking: only then does a cancellation carry METHOD:CANCEL. */
export async function hadInvitation(q: Queryable, bookingId: string, r: MailRecipient): Promise<boolean> {
  const { rows } = await q.query<{ yes: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM mail_outbox
                     WHERE booking_id = $1 AND kind IN ('confirmed', 'accepted', 'rescheduled') AND recipient_role = $2
                       AND recipient_id IS NOT DISTINCT FROM $3 AND recipient_email IS NOT DISTINCT FROM $4) AS yes`,
    [bookingId, r.role, r.role === 'guest' ? null : r.userId, r.role === 'guest' ? r.email : null],
  );
  return rows[0]?.yes === true;
}

/**
 * Arms (or moves) one reminder per offset and recipient, due at `due`.
 * A pending reminder just moves; one already sent (or skipped) for an earlier
 * SEQUENCE is armed again, since the booking moved since; one for this SEQUENCE
 * stays as it is. `version` rises on every change, so a worker still sending
 * the old one cannot settle the new one.
 */
export async function armReminder(
  q: Queryable,
  r: { bookingId: string; minutes: number; due: number; sequence: number; now: number },
  recipient: MailRecipient,
): Promise<void> {
  await q.query(
    `INSERT INTO mail_outbox (id, dedupe_key, kind, booking_id, recipient_role, recipient_id, recipient_email, reminder_minutes,
                              booking_sequence, due_at, next_attempt_at, created_at)
     VALUES ($1, $2, 'reminder', $3, $4, $5, $6, $7, $8, $9, $9, $10)
     ON CONFLICT (dedupe_key) DO UPDATE
       SET due_at = EXCLUDED.due_at, next_attempt_at = EXCLUDED.due_at, booking_sequence = EXCLUDED.booking_sequence,
           status = 'pending', attempts = 0, last_error = NULL, version = mail_outbox.version + 1
     WHERE mail_outbox.status = 'pending' OR mail_outbox.booking_sequence < EXCLUDED.booking_sequence`,
    [
      mailId(), `reminder/${r.bookingId}/${r.minutes}/${recipientKey(recipient)}`, r.bookingId, recipient.role,
      recipient.role === 'guest' ? null : recipient.userId, recipient.role === 'guest' ? recipient.email : null,
      r.minutes, r.sequence, at(r.due), at(r.now),
    ],
  );
}

/** Drops the booking's reminders not yet sent (all of them, or those of the given offsets). */
export async function dropPendingReminders(q: Queryable, bookingId: string, minutes: readonly number[] | null = null): Promise<void> {
  await q.query(
    `DELETE FROM mail_outbox
      WHERE booking_id = $1 AND kind = 'reminder' AND status = 'pending' AND ($2::int[] IS NULL OR reminder_minutes = ANY ($2::int[]))`,
    [bookingId, minutes],
  );
}

export interface ClaimedMail {
  id: string;
  kind: MailKind;
  bookingId: string;
  recipient: MailRecipient;
  reminderMinutes: number | null;
  /** The booking as the change left it (null for a reminder). */
  booking: unknown;
  bookingSequence: number;
  version: number;
  attempts: number;
  createdAt: number;
}

interface MailRow {
  id: string; kind: MailKind; booking_id: string; recipient_role: RecipientRole; recipient_id: string | null;
  recipient_email: string | null; reminder_minutes: number | null; booking: unknown; booking_sequence: number;
  version: number; attempts: number; created_at: Date;
}

const recipientOf = (r: { recipient_role: RecipientRole; recipient_id: string | null; recipient_email: string | null }): MailRecipient =>
  r.recipient_role === 'guest' ? { role: 'guest', email: r.recipient_email! } : { role: r.recipient_role, userId: r.recipient_id! };

/** The fields every reading of a row shares. */
const rowBase = (r: MailRow) => ({
  id: r.id,
  kind: r.kind,
  bookingId: r.booking_id,
  recipient: recipientOf(r),
  reminderMinutes: r.reminder_minutes,
  attempts: r.attempts,
  createdAt: r.created_at.getTime(),
});

/**
 * Takes up to `limit` due mails, oldest due first, and leases them until
 * now + leaseMs: another process passes over them now (SKIP LOCKED) and later
 * (not due); a worker that dies mid-send leaves them to come back when the lease ends.
 */
export async function claimDueMails(q: Queryable, limit: number, now: number, leaseMs: number): Promise<ClaimedMail[]> {
  const { rows } = await q.query<MailRow>(
    `WITH due AS (
       SELECT id FROM mail_outbox
        WHERE status = 'pending' AND next_attempt_at <= $2
        ORDER BY next_attempt_at, id LIMIT $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE mail_outbox m SET next_attempt_at = $3
       FROM due WHERE m.id = due.id
     RETURNING m.id, m.kind, m.booking_id, m.recipient_role, m.recipient_id, m.recipient_email, m.reminder_minutes,
               m.booking, m.booking_sequence, m.version, m.attempts, m.created_at`,
    [limit, at(now), at(now + leaseMs)],
  );
  return rows.map((r) => ({
    ...rowBase(r),
    booking: typeof r.booking === 'string' ? JSON.parse(r.booking) : r.booking,
    bookingSequence: r.booking_sequence,
    version: r.version,
  }));
}

/**
 * Writes down one attempt of a mail claimed at (version, attempts): sent,
 * failed for good, skipped (nothing to send any more), or pending again at
 * retryAt. A row that changed meanwhile (re-armed, or settled by another
 * worker after this one's lease ran out) is left alone.
 */
export async function recordMailAttempt(
  q: Queryable,
  m: { id: string; version: number; attempts: number },
  a: { status: MailStatus; error: string | null; retryAt: number | null; now: number },
): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE mail_outbox
        SET attempts = attempts + 1, last_attempt_at = $4, status = $5, last_error = $6,
            sent_at = CASE WHEN $5 = 'sent' THEN $4 ELSE sent_at END,
            next_attempt_at = COALESCE($7, next_attempt_at)
      WHERE id = $1 AND version = $2 AND attempts = $3 AND status = 'pending'`,
    [m.id, m.version, m.attempts, at(a.now), a.status, a.error, a.retryAt === null ? null : at(a.retryAt)],
  );
  return rowCount > 0;
}

/** The queue as the metrics show it: mails due and not sent, and how long the oldest of them has waited. */
export async function mailQueueStats(q: Queryable, now: number): Promise<{ due: number; oldestAgeSeconds: number }> {
  const { rows } = await q.query<{ n: number; age: number | null }>(
    `SELECT count(*)::int AS n, extract(epoch FROM $1::timestamptz - min(due_at))::float8 AS age
       FROM mail_outbox WHERE status = 'pending' AND due_at <= $1`,
    [at(now)],
  );
  return { due: rows[0]?.n ?? 0, oldestAgeSeconds: Math.max(0, Number(rows[0]?.age ?? 0)) };
}

export interface MailRecord {
  id: string;
  kind: MailKind;
  bookingId: string;
  recipient: MailRecipient;
  reminderMinutes: number | null;
  status: MailStatus;
  attempts: number;
  dueAt: number;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  sentAt: number | null;
  createdAt: number;
}

/** The outbox for the admin view, newest first, optionally by status and booking; paged by (created_at, id). */
export async function listMails(
  q: Queryable,
  f: { status: MailStatus | null; bookingId: string | null; before: { createdAt: number; id: string } | null; limit: number },
): Promise<MailRecord[]> {
  const { rows } = await q.query<MailRow & {
    status: MailStatus; due_at: Date; next_attempt_at: Date; last_attempt_at: Date | null; last_error: string | null; sent_at: Date | null;
  }>(
    `SELECT id, kind, booking_id, recipient_role, recipient_id, recipient_email, reminder_minutes, status, attempts,
            due_at, next_attempt_at, last_attempt_at, last_error, sent_at, created_at
       FROM mail_outbox
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR booking_id = $2)
        AND ($3::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) < ($3::timestamptz, $4::text))
      ORDER BY date_trunc('milliseconds', created_at) DESC, id DESC LIMIT $5`,
    [f.status, f.bookingId, f.before ? at(f.before.createdAt) : null, f.before?.id ?? null, f.limit],
  );
  return rows.map((r) => ({
    ...rowBase(r),
    status: r.status,
    dueAt: r.due_at.getTime(),
    nextAttemptAt: r.next_attempt_at.getTime(),
    lastAttemptAt: r.last_attempt_at?.getTime() ?? null,
    lastError: r.last_error,
    sentAt: r.sent_at?.getTime() ?? null,
  }));
}
