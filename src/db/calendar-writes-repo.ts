import type { CalendarKind, WriteMode } from './calendars-repo.js';
import type { Queryable } from './database.js';

/**
 * The outbox of calendar writes (migration 004): per (booking, write
 * calendar) the state the calendar should reach, 'put' or 'delete', and how
 * far the worker got. See the migration for the lease rule that keeps a
 * DELETE from overtaking a PUT in flight.
 */
export type WriteAction = 'put' | 'delete';
export type WriteStatus = 'pending' | 'done' | 'failed';

export interface WriteState {
  bookingId: string;
  action: WriteAction;
  status: WriteStatus;
  lastError: string | null;
}

/** A new action is due now, or when the lease of the attempt in flight ends (never before it). */
const DUE_AFTER_LEASE = 'GREATEST(now(), COALESCE(calendar_writes.leased_until, now()))';
const lease = (param: string) => `now() + make_interval(secs => ${param}::double precision / 1000)`;

/** The provider's write calendar (at most one: a partial unique index), or null. */
export async function findWriteCalendar(q: Queryable, providerId: string): Promise<{ id: string; writeMode: WriteMode } | null> {
  const { rows } = await q.query<{ id: string; write_mode: WriteMode }>(
    'SELECT id, write_mode FROM calendar_connections WHERE provider_id = $1 AND write_bookings',
    [providerId],
  );
  return rows[0] ? { id: rows[0].id, writeMode: rows[0].write_mode } : null;
}

/** In the confirming transaction: the event should exist. */
export async function enqueuePut(q: Queryable, bookingId: string, connectionId: string): Promise<void> {
  await q.query(
    `INSERT INTO calendar_writes (booking_id, connection_id, action) VALUES ($1, $2, 'put')
     ON CONFLICT (booking_id, connection_id) DO UPDATE
       SET action = 'put', status = 'pending', version = calendar_writes.version + 1, attempts = 0, last_error = NULL,
           next_attempt_at = ${DUE_AFTER_LEASE}, updated_at = now()`,
    [bookingId, connectionId],
  );
}

/**
 * In the cancelling transaction: the event should not exist. A put that no
 * request has carried yet is settled at once (there is nothing to remove).
 */
export async function enqueueRemoval(q: Queryable, bookingId: string): Promise<void> {
  await q.query(
    `UPDATE calendar_writes
        SET action = 'delete', status = CASE WHEN sent THEN 'pending' ELSE 'done' END, version = version + 1,
            attempts = 0, last_error = NULL, next_attempt_at = ${DUE_AFTER_LEASE}, updated_at = now()
      WHERE booking_id = $1 AND action = 'put'`,
    [bookingId],
  );
}

/**
 * Strict mode, before its PUT: the request leases the row itself, recorded as
 * a pending 'delete' due when the lease ends. Should the process die or the
 * confirm fail after the PUT, the worker removes the event; a committed
 * confirm turns the row into a done 'put' (settleStrictWrite). Returns the
 * leased version, or null while another attempt holds the lease.
 */
export async function leaseForStrictWrite(q: Queryable, bookingId: string, connectionId: string, leaseMs: number): Promise<number | null> {
  const { rows } = await q.query<{ version: number }>(
    `INSERT INTO calendar_writes (booking_id, connection_id, action, sent, leased_until, next_attempt_at)
     VALUES ($1, $2, 'delete', true, ${lease('$3')}, ${lease('$3')})
     ON CONFLICT (booking_id, connection_id) DO UPDATE
       SET action = 'delete', status = 'pending', version = calendar_writes.version + 1, sent = true, attempts = 0,
           leased_until = EXCLUDED.leased_until, next_attempt_at = EXCLUDED.next_attempt_at, updated_at = now()
       WHERE calendar_writes.leased_until IS NULL OR calendar_writes.leased_until <= now()
     RETURNING version`,
    [bookingId, connectionId, leaseMs],
  );
  return rows[0]?.version ?? null;
}

/** Strict mode, in the confirming transaction: the event is written. False when the lease was lost meanwhile. */
export async function settleStrictWrite(q: Queryable, bookingId: string, connectionId: string, version: number): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE calendar_writes
        SET action = 'put', status = 'done', attempts = 1, last_error = NULL, leased_until = NULL, updated_at = now()
      WHERE booking_id = $1 AND connection_id = $2 AND version = $3`,
    [bookingId, connectionId, version],
  );
  return rowCount > 0;
}

/** Strict mode, when the write or the confirm failed: the pending 'delete' is due now. */
export async function releaseStrictWrite(q: Queryable, bookingId: string, connectionId: string, version: number, error: string): Promise<void> {
  await q.query(
    `UPDATE calendar_writes SET leased_until = NULL, next_attempt_at = now(), last_error = $4, updated_at = now()
      WHERE booking_id = $1 AND connection_id = $2 AND version = $3`,
    [bookingId, connectionId, version, error],
  );
}

/** A claimed write with what the worker needs to send it. */
export interface ClaimedWrite {
  bookingId: string;
  connectionId: string;
  action: WriteAction;
  version: number;
  attempts: number;
  connectionType: CalendarKind;
  configCiphertext: string;
  start: number;
  end: number;
  clientName: string;
}

/**
 * Takes up to `limit` due writes, oldest due first, and leases them for
 * `leaseMs` (SKIP LOCKED: rows another process is claiming are passed over;
 * a worker that dies mid-attempt leaves its rows to come back when the lease ends).
 */
export async function claimDueWrites(q: Queryable, limit: number, leaseMs: number): Promise<ClaimedWrite[]> {
  const { rows } = await q.query<{
    booking_id: string; connection_id: string; action: WriteAction; version: number; attempts: number;
    type: CalendarKind; config_ciphertext: string; start_at: Date; end_at: Date; client_name: string;
  }>(
    `WITH due AS (
       SELECT booking_id, connection_id FROM calendar_writes
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1
        FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE calendar_writes w SET leased_until = ${lease('$2')}, next_attempt_at = ${lease('$2')}, sent = true
         FROM due WHERE w.booking_id = due.booking_id AND w.connection_id = due.connection_id
       RETURNING w.booking_id, w.connection_id, w.action, w.version, w.attempts
     )
     SELECT l.booking_id, l.connection_id, l.action, l.version, l.attempts, c.type, c.config_ciphertext,
            b.start_at, b.end_at, coalesce(u.name, b.guest_name) AS client_name
       FROM leased l
       JOIN calendar_connections c ON c.id = l.connection_id
       JOIN bookings b ON b.id = l.booking_id
       LEFT JOIN users u ON u.id = b.client_id`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({
    bookingId: r.booking_id,
    connectionId: r.connection_id,
    action: r.action,
    version: r.version,
    attempts: r.attempts,
    connectionType: r.type,
    configCiphertext: r.config_ciphertext,
    start: r.start_at.getTime(),
    end: r.end_at.getTime(),
    clientName: r.client_name,
  }));
}

/**
 * Writes down one attempt and ends the lease. When the row moved on while the
 * request was out (a cancel after a put: a newer version), the attempt does
 * not count and the new action is due at once.
 */
export async function recordWriteAttempt(
  q: Queryable,
  w: { bookingId: string; connectionId: string; version: number },
  a: { status: WriteStatus; error: string | null; retryInMs: number | null },
): Promise<void> {
  await q.query(
    `UPDATE calendar_writes
        SET leased_until = NULL, updated_at = now(),
            attempts = CASE WHEN version = $3 THEN attempts + 1 ELSE attempts END,
            status = CASE WHEN version = $3 THEN $4 ELSE status END,
            last_error = CASE WHEN version = $3 THEN $5 ELSE last_error END,
            next_attempt_at = CASE WHEN version <> $3 THEN now()
                                   WHEN $6::double precision IS NULL THEN next_attempt_at
                                   ELSE ${lease('$6')} END
      WHERE booking_id = $1 AND connection_id = $2`,
    [w.bookingId, w.connectionId, w.version, a.status, a.error, a.retryInMs],
  );
}

/** The write state of each of these bookings that has one (the latest, should a booking have two). */
export async function writeStatesOf(q: Queryable, bookingIds: readonly string[]): Promise<Map<string, WriteState>> {
  if (bookingIds.length === 0) return new Map();
  const { rows } = await q.query<{ booking_id: string; action: WriteAction; status: WriteStatus; last_error: string | null }>(
    `SELECT DISTINCT ON (booking_id) booking_id, action, status, last_error
       FROM calendar_writes WHERE booking_id = ANY ($1::text[])
      ORDER BY booking_id, updated_at DESC`,
    [bookingIds],
  );
  return new Map(rows.map((r) => [r.booking_id, { bookingId: r.booking_id, action: r.action, status: r.status, lastError: r.last_error }]));
}
