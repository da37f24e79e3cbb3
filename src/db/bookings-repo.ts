import type { BookingStatus } from '../domain/booking-state.js';
import type { Interval } from '../domain/intervals.js';
import type { Queryable } from './database.js';

export interface BookingRecord {
  id: string;
  providerId: string;
  clientId: string;
  start: number;
  end: number;
  /** Already the effective status: a held row past expires_at reads 'expired'. */
  status: BookingStatus;
  expiresAt: number;
  notes: string | null;
  cancelReason: string | null;
  createdAt: number;
  confirmedAt: number | null;
  cancelledAt: number | null;
}

// The lazy expiry, by the database clock, in every read: one truth for all processes.
const EFFECTIVE_STATUS = `CASE WHEN status = 'held' AND expires_at <= now() THEN 'expired' ELSE status END`;
const COLUMNS = `id, provider_id, client_id, start_at, end_at, ${EFFECTIVE_STATUS} AS status, expires_at, notes,
  cancel_reason, created_at, confirmed_at, cancelled_at`;
/** Held-and-unexpired or confirmed: the rows that occupy time. `alias` qualifies the columns. */
export function liveCondition(alias?: string): string {
  const c = alias ? `${alias}.` : '';
  return `(${c}status = 'confirmed' OR (${c}status = 'held' AND ${c}expires_at > now()))`;
}
const LIVE = liveCondition();

interface BookingRow {
  id: string;
  provider_id: string;
  client_id: string;
  start_at: Date;
  end_at: Date;
  status: BookingStatus;
  expires_at: Date;
  notes: string | null;
  cancel_reason: string | null;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
}

function toRecord(r: BookingRow): BookingRecord {
  return {
    id: r.id,
    providerId: r.provider_id,
    clientId: r.client_id,
    start: r.start_at.getTime(),
    end: r.end_at.getTime(),
    status: r.status,
    expiresAt: r.expires_at.getTime(),
    notes: r.notes,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at.getTime(),
    confirmedAt: r.confirmed_at?.getTime() ?? null,
    cancelledAt: r.cancelled_at?.getTime() ?? null,
  };
}

/**
 * Marks expired the provider's lapsed holds that overlap the new time, in the
 * inserting transaction, so the exclusion constraint (which only sees stored
 * statuses) lets the new hold take their place.
 */
export async function releaseLapsedHolds(q: Queryable, providerId: string, range: Interval): Promise<BookingRecord[]> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'expired'
      WHERE provider_id = $1 AND status = 'held' AND expires_at <= now()
        AND tstzrange(start_at, end_at, '[)') && tstzrange($2, $3, '[)')
      RETURNING ${COLUMNS}`,
    [providerId, new Date(range.start), new Date(range.end)],
  );
  return rows.map(toRecord);
}

/**
 * A client's live holds (held and unexpired, by the database clock) and the
 * whole seconds until the earliest of them lapses (null when there is none).
 */
export async function liveHoldsOfClient(q: Queryable, clientId: string): Promise<{ count: number; secondsToFirstExpiry: number | null }> {
  const { rows } = await q.query<{ n: number; wait: number | null }>(
    `SELECT count(*)::int AS n, ceil(extract(epoch FROM min(expires_at) - now()))::int AS wait
       FROM bookings WHERE client_id = $1 AND status = 'held' AND expires_at > now()`,
    [clientId],
  );
  return { count: rows[0]?.n ?? 0, secondsToFirstExpiry: rows[0]?.wait ?? null };
}

export async function insertHold(
  q: Queryable,
  b: { id: string; providerId: string; clientId: string; start: number; end: number; notes: string | null; ttlSeconds: number },
): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `INSERT INTO bookings (id, provider_id, client_id, start_at, end_at, status, expires_at, notes)
     VALUES ($1, $2, $3, $4, $5, 'held', now() + make_interval(secs => $6), $7)
     RETURNING ${COLUMNS}`,
    [b.id, b.providerId, b.clientId, new Date(b.start), new Date(b.end), b.ttlSeconds, b.notes],
  );
  return toRecord(rows[0]!);
}

export async function findBooking(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<BookingRecord | null> {
  const { rows } = await q.query<BookingRow>(
    `SELECT ${COLUMNS} FROM bookings WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function markConfirmed(q: Queryable, id: string): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'confirmed', confirmed_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return toRecord(rows[0]!);
}

export async function markCancelled(q: Queryable, id: string, reason: string | null): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancel_reason = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, reason],
  );
  return toRecord(rows[0]!);
}

export interface BookingFilter {
  /** null = every booking (admin); otherwise bookings where this user is the client or the provider. */
  participantId: string | null;
  /** Narrow to one provider / one client (null: any). */
  providerId: string | null;
  clientId: string | null;
  from: number | null;
  to: number | null;
  /** Any of these effective statuses (null: any). */
  statuses: BookingStatus[] | null;
  after: { start: number; id: string } | null;
  limit: number;
}

export async function listBookings(q: Queryable, f: BookingFilter): Promise<BookingRecord[]> {
  const { rows } = await q.query<BookingRow>(
    `SELECT ${COLUMNS} FROM bookings
      WHERE ($1::text IS NULL OR client_id = $1 OR provider_id = $1)
        AND ($2::timestamptz IS NULL OR end_at > $2)
        AND ($3::timestamptz IS NULL OR start_at < $3)
        AND ($4::text[] IS NULL OR ${EFFECTIVE_STATUS} = ANY($4::text[]))
        AND ($5::timestamptz IS NULL OR (start_at, id) > ($5::timestamptz, $6::text))
        AND ($8::text IS NULL OR provider_id = $8)
        AND ($9::text IS NULL OR client_id = $9)
      ORDER BY start_at, id LIMIT $7`,
    [
      f.participantId,
      f.from === null ? null : new Date(f.from),
      f.to === null ? null : new Date(f.to),
      f.statuses,
      f.after === null ? null : new Date(f.after.start),
      f.after?.id ?? null,
      f.limit,
      f.providerId,
      f.clientId,
    ],
  );
  return rows.map(toRecord);
}

/** The sweeper: writes 'expired' on lapsed holds; returns them, how many, and the providers whose slots changed. */
export async function expireLapsedHolds(q: Queryable): Promise<{ holds: number; providerIds: string[]; expired: BookingRecord[] }> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'expired' WHERE status = 'held' AND expires_at <= now() RETURNING ${COLUMNS}`,
  );
  return { holds: rows.length, providerIds: [...new Set(rows.map((r) => r.provider_id))], expired: rows.map(toRecord) };
}

/** Live and recent bookings of a provider, for the ICS feed. */
export async function feedBookings(q: Queryable, providerId: string, sinceMs: number): Promise<BookingRecord[]> {
  const { rows } = await q.query<BookingRow>(
    `SELECT ${COLUMNS} FROM bookings WHERE provider_id = $1 AND ${LIVE} AND end_at > $2 ORDER BY start_at, id LIMIT 5000`,
    [providerId, new Date(sinceMs)],
  );
  return rows.map(toRecord);
}
