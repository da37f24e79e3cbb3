import type { BookingStatus } from '../domain/booking-state.js';
import type { Queryable } from './database.js';
import { availabilityRaiseOf, fanOutOf, newEventId, type EventType } from './events-repo.js';

export interface BookingRecord {
  id: string;
  providerId: string;
  /** null for a guest's booking (public booking without an account): see `guest`. */
  clientId: string | null;
  /** Who booked without an account; null for a client's booking. */
  guest: Guest | null;
  eventTypeId: string | null;
  start: number;
  end: number;
  /** [start - bufferBefore, end + bufferAfter): the provider's time this booking takes. */
  blockedStart: number;
  blockedEnd: number;
  /** Already the effective status: a held row past expires_at reads 'expired'. */
  status: BookingStatus;
  expiresAt: number;
  notes: string | null;
  cancelReason: string | null;
  createdAt: number;
  confirmedAt: number | null;
  cancelledAt: number | null;
  cancelledBy: 'client' | 'host' | 'admin' | null;
  answers: Record<string, unknown> | null;
  decidedAt: number | null;
  declineReason: string | null;
  rescheduledAt: number | null;
  previousStart: number | null;
  previousEnd: number | null;
  rescheduleReason: string | null;
  /** iCalendar SEQUENCE: raised each time the booking moves. */
  sequence: number;
  /** Every host whose time the booking takes; providerId is the first. */
  hostIds: string[];
  /** Seat bookings of one occurrence share it; any other booking has its own id here. */
  occurrence: string;
  /** The event type's rules when the booking was made (v1 bookings: false, 0). */
  requiresConfirmation: boolean;
  cancellationNotice: number;
}

export interface Guest {
  name: string;
  email: string;
  timeZone: string | null;
}

// The lazy expiry, by the database clock, in every read: one truth for all processes.
// A hold lapses at expires_at; a request awaiting approval lapses when it would have started.
const EFFECTIVE_STATUS = `CASE WHEN status = 'held' AND expires_at <= now() THEN 'expired'
  WHEN status = 'pending' AND start_at <= now() THEN 'expired' ELSE status END`;
/** The columns every booking read selects (the status already effective); toRecord maps them. */
export const COLUMNS = `id, provider_id, client_id, event_type_id, start_at, end_at, blocked_start, blocked_end,
  ${EFFECTIVE_STATUS} AS status, expires_at, notes, cancel_reason, created_at, confirmed_at, cancelled_at,
  cancelled_by, answers, decided_at, decline_reason, rescheduled_at, previous_start, previous_end, reschedule_reason, sequence,
  host_ids, occurrence, requires_confirmation, cancellation_notice, guest_name, guest_email, guest_time_zone`;
/** Held-and-unexpired, pending-and-not-started, or confirmed: the rows that occupy time. `alias` qualifies the columns. */
export function liveCondition(alias?: string): string {
  const c = alias ? `${alias}.` : '';
  return `(${c}status = 'confirmed' OR (${c}status = 'held' AND ${c}expires_at > now())
    OR (${c}status = 'pending' AND ${c}start_at > now()))`;
}
const LIVE = liveCondition();

export interface BookingRow {
  id: string;
  provider_id: string;
  client_id: string | null;
  event_type_id: string | null;
  start_at: Date;
  end_at: Date;
  blocked_start: Date;
  blocked_end: Date;
  status: BookingStatus;
  expires_at: Date;
  notes: string | null;
  cancel_reason: string | null;
  created_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  cancelled_by: BookingRecord['cancelledBy'];
  answers: Record<string, unknown> | null;
  decided_at: Date | null;
  decline_reason: string | null;
  rescheduled_at: Date | null;
  previous_start: Date | null;
  previous_end: Date | null;
  reschedule_reason: string | null;
  sequence: number;
  host_ids: string[];
  occurrence: string;
  requires_confirmation: boolean;
  cancellation_notice: number;
  guest_name: string | null;
  guest_email: string | null;
  guest_time_zone: string | null;
}

export function toRecord(r: BookingRow): BookingRecord {
  return {
    id: r.id,
    providerId: r.provider_id,
    clientId: r.client_id,
    guest: r.guest_email !== null ? { name: r.guest_name ?? '', email: r.guest_email, timeZone: r.guest_time_zone } : null,
    eventTypeId: r.event_type_id,
    start: r.start_at.getTime(),
    end: r.end_at.getTime(),
    blockedStart: r.blocked_start.getTime(),
    blockedEnd: r.blocked_end.getTime(),
    status: r.status,
    expiresAt: r.expires_at.getTime(),
    notes: r.notes,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at.getTime(),
    confirmedAt: r.confirmed_at?.getTime() ?? null,
    cancelledAt: r.cancelled_at?.getTime() ?? null,
    cancelledBy: r.cancelled_by,
    answers: r.answers,
    decidedAt: r.decided_at?.getTime() ?? null,
    declineReason: r.decline_reason,
    rescheduledAt: r.rescheduled_at?.getTime() ?? null,
    previousStart: r.previous_start?.getTime() ?? null,
    previousEnd: r.previous_end?.getTime() ?? null,
    rescheduleReason: r.reschedule_reason,
    sequence: Number(r.sequence),
    hostIds: r.host_ids,
    occurrence: r.occurrence,
    requiresConfirmation: r.requires_confirmation,
    cancellationNotice: Number(r.cancellation_notice),
  };
}

export type NewHold = Pick<
  BookingRecord,
  'id' | 'providerId' | 'clientId' | 'eventTypeId' | 'start' | 'end' | 'blockedStart' | 'blockedEnd' | 'notes' | 'answers'
> & {
  ttlSeconds: number;
  /** Every host whose time it takes (collective); default: the provider alone. */
  hostIds?: string[];
  /** A seat's occurrence (shared with the other seats of it); default: the booking's own id. */
  occurrence?: string;
  /** The type's rules at booking time (default false, 0). */
  requiresConfirmation?: boolean;
  cancellationNotice?: number;
  /** A guest's booking (clientId null): who, and the SHA-256 of the address it came from. */
  guest?: Guest & { addressHash: string };
};

const HOLD_COLUMNS = `id, provider_id, client_id, event_type_id, start_at, end_at, blocked_start, blocked_end,
                      status, expires_at, notes, answers, occurrence, host_ids, requires_confirmation, cancellation_notice,
                      guest_name, guest_email, guest_time_zone, guest_address`;
const HOLD_VALUES = `$1, $2, $3, $4, $5, $6, $7, $8, 'held', now() + make_interval(secs => $9), $10, $11,
                     coalesce($13::text, $1), coalesce($12::text[], ARRAY[$2::text]), $14, $15, $16, $17, $18, $19`;

function holdParams(b: NewHold): unknown[] {
  return [
    b.id, b.providerId, b.clientId, b.eventTypeId, new Date(b.start), new Date(b.end),
    new Date(b.blockedStart), new Date(b.blockedEnd), b.ttlSeconds, b.notes,
    b.answers === null ? null : JSON.stringify(b.answers), b.hostIds ?? null, b.occurrence ?? null,
    b.requiresConfirmation ?? false, b.cancellationNotice ?? 0,
    b.guest?.name ?? null, b.guest?.email ?? null, b.guest?.timeZone ?? null, b.guest?.addressHash ?? null,
  ];
}

/** Inserts a hold, alone (a guest's: its event and bumps are the caller's statements). */
export async function insertHold(q: Queryable, b: NewHold): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(`INSERT INTO bookings (${HOLD_COLUMNS}) VALUES (${HOLD_VALUES}) RETURNING ${COLUMNS}`, holdParams(b));
  return toRecord(rows[0]!);
}

/**
 * The providers' locks taken in the insert's own statement
 * (hold_lock_providers_settled, see lockProvidersAndReleaseLapsed) and the
 * client's lapsed time released there (releaseLapsedClientBlocks; `clientKey`
 * null: none). `providerIds` sorted.
 */
export interface LocksInInsert {
  providerIds: readonly string[];
  refuseTakenFor: string | null;
  clientKey: string | null;
}

/**
 * Inserts a hold with its change event (and the webhook deliveries) and the
 * provider's availability raise (events-repo availabilityRaiseOf) in one
 * statement: the event's data must then be known before the row is written,
 * which heldRecordOf gives. The providers' locks must be held, taken by
 * hold_lock_providers_settled (migrations/017: why, or this can deadlock):
 * earlier in the transaction, or with `locks` first in this statement (its
 * insert reads the CTE that takes them, and the raise reads the insert's row,
 * so they run in that order). `lapsedIds`: the lapsed holds those locks released.
 */
export async function insertHoldWithEvent(
  q: Queryable,
  b: NewHold,
  event: { type: EventType; data: unknown },
  locks: LocksInInsert | null,
): Promise<{ held: BookingRecord; lapsedIds: string[] }> {
  const { rows } = await q.query<BookingRow & { lapsed_ids: string[] | null }>(
    `WITH ${locks === null ? '' : `l AS (SELECT id FROM hold_lock_providers_settled($24::text[], $7, $8, $25::text)),
          c AS (SELECT release_lapsed_client_blocks($26::text, $5, $6) WHERE $26::text IS NOT NULL),`}
          b AS (INSERT INTO bookings (${HOLD_COLUMNS})
                ${locks === null ? `VALUES (${HOLD_VALUES})` : `SELECT ${HOLD_VALUES} FROM (SELECT count(*) FROM l) locked, (SELECT count(*) FROM c) cleared`}
                RETURNING *),
          e AS (INSERT INTO events (id, type, provider_id, client_id, data) SELECT $20, $21, b.provider_id, b.client_id, $22 FROM b
                RETURNING id, type, provider_id, client_id),
          d AS (${fanOutOf('(SELECT host_ids FROM b)::text[]')}),
          ${availabilityRaiseOf('(SELECT provider_id FROM b)', '$23')}
     SELECT ${COLUMNS}, ${locks === null ? 'NULL::text[]' : '(SELECT array_agg(id) FROM l)'} AS lapsed_ids FROM b`,
    [
      ...holdParams(b), newEventId(), event.type, JSON.stringify(event.data), newEventId(),
      ...(locks === null ? [] : [locks.providerIds, locks.refuseTakenFor, locks.clientKey]),
    ],
  );
  return { held: toRecord(rows[0]!), lapsedIds: rows[0]!.lapsed_ids ?? [] };
}

/** Bookings by id (lapsed holds just released: rare, so read back only when there are some). */
export async function findBookings(q: Queryable, ids: readonly string[]): Promise<BookingRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<BookingRow>(`SELECT ${COLUMNS} FROM bookings WHERE id = ANY ($1::text[]) ORDER BY id`, [ids]);
  return rows.map(toRecord);
}

/**
 * The row insertHold writes, as it reads back, in a transaction whose now() is
 * `dbNow`: now() is the transaction's start, the same in each of its
 * statements, so created_at and expires_at are known before the insert.
 */
export function heldRecordOf(b: NewHold, dbNow: number): BookingRecord {
  return {
    id: b.id, providerId: b.providerId, clientId: b.clientId,
    guest: b.guest ? { name: b.guest.name, email: b.guest.email, timeZone: b.guest.timeZone } : null,
    eventTypeId: b.eventTypeId, start: b.start, end: b.end, blockedStart: b.blockedStart, blockedEnd: b.blockedEnd,
    status: 'held', expiresAt: dbNow + b.ttlSeconds * 1000, notes: b.notes, cancelReason: null, createdAt: dbNow,
    confirmedAt: null, cancelledAt: null, cancelledBy: null, answers: b.answers, decidedAt: null, declineReason: null,
    rescheduledAt: null, previousStart: null, previousEnd: null, rescheduleReason: null, sequence: 0,
    hostIds: b.hostIds ?? [b.providerId], occurrence: b.occurrence ?? b.id,
    requiresConfirmation: b.requiresConfirmation ?? false, cancellationNotice: b.cancellationNotice ?? 0,
  };
}

/**
 * Moves a booking in place (same row, same id): the exclusion constraint judges
 * the new blocked range against every other live booking in this statement, so
 * the old time is freed and the new one taken in one step.
 */
export async function moveBooking(
  q: Queryable,
  id: string,
  to: {
    start: number; end: number; blockedStart: number; blockedEnd: number; status: BookingStatus; reason: string | null;
    /** Round robin may change the host; a seat changes occurrence (the trigger moves the blocks with them). */
    providerId: string; hostIds: string[]; occurrence: string;
  },
): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET previous_start = start_at, previous_end = end_at, start_at = $2, end_at = $3,
            blocked_start = $4, blocked_end = $5, status = $6, rescheduled_at = now(), reschedule_reason = $7,
            sequence = sequence + 1, confirmed_at = CASE WHEN $6 = 'confirmed' THEN confirmed_at END,
            provider_id = $8, host_ids = $9, occurrence = $10
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id, new Date(to.start), new Date(to.end), new Date(to.blockedStart), new Date(to.blockedEnd), to.status, to.reason,
      to.providerId, to.hostIds, to.occurrence,
    ],
  );
  return toRecord(rows[0]!);
}

export async function markPending(q: Queryable, id: string): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'pending', confirmed_at = NULL WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return toRecord(rows[0]!);
}

/** The host's answer to a request for approval; only a row still pending (and not started) changes. */
export async function markDecided(
  q: Queryable,
  id: string,
  decision: { to: 'confirmed' } | { to: 'declined'; reason: string | null },
): Promise<BookingRecord | null> {
  const { rows } = await q.query<BookingRow>(
    decision.to === 'confirmed'
      ? `UPDATE bookings SET status = 'confirmed', confirmed_at = now(), decided_at = now()
          WHERE id = $1 AND status = 'pending' AND start_at > now() RETURNING ${COLUMNS}`
      : `UPDATE bookings SET status = 'declined', decided_at = now(), decline_reason = $2
          WHERE id = $1 AND status = 'pending' AND start_at > now() RETURNING ${COLUMNS}`,
    decision.to === 'confirmed' ? [id] : [id, decision.reason],
  );
  return rows[0] ? toRecord(rows[0]) : null;
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

export async function markCancelled(
  q: Queryable,
  id: string,
  reason: string | null,
  by: NonNullable<BookingRecord['cancelledBy']>,
): Promise<BookingRecord> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancel_reason = $2, cancelled_by = $3
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, reason, by],
  );
  return toRecord(rows[0]!);
}

export interface BookingFilter {
  /** null = every booking (admin); otherwise bookings where this user is the client or the provider. */
  participantIds: readonly string[] | null;
  /** Narrow to one provider / one client (null: any). */
  providerId: string | null;
  clientId: string | null;
  /** Only bookings of this event type (null: any). */
  eventTypeId: string | null;
  from: number | null;
  to: number | null;
  /** Any of these effective statuses (null: any). */
  statuses: BookingStatus[] | null;
  after: { start: number; id: string } | null;
  limit: number;
}

export async function listBookings(q: Queryable, f: BookingFilter): Promise<BookingRecord[]> {
  // `host_ids @> ARRAY[$8]` rather than `$8 = ANY (host_ids)`: the same rows, but only the first can use the GIN
  // index bookings_hosts. The other form scanned every booking (bench table 10b: 164 ms on 1,000,000 bookings).
  const { rows } = await q.query<BookingRow>(
    `SELECT ${COLUMNS} FROM bookings
      WHERE ($1::text[] IS NULL OR client_id = ANY ($1::text[]) OR host_ids && $1::text[])
        AND ($2::timestamptz IS NULL OR end_at > $2)
        AND ($3::timestamptz IS NULL OR start_at < $3)
        AND ($4::text[] IS NULL OR ${EFFECTIVE_STATUS} = ANY($4::text[]))
        AND ($5::timestamptz IS NULL OR (start_at, id) > ($5::timestamptz, $6::text))
        AND ($8::text IS NULL OR host_ids @> ARRAY[$8::text])
        AND ($9::text IS NULL OR client_id = $9)
        AND ($10::text IS NULL OR event_type_id = $10)
      ORDER BY start_at, id LIMIT $7`,
    [
      f.participantIds,
      f.from === null ? null : new Date(f.from),
      f.to === null ? null : new Date(f.to),
      f.statuses,
      f.after === null ? null : new Date(f.after.start),
      f.after?.id ?? null,
      f.limit,
      f.providerId,
      f.clientId,
      f.eventTypeId,
    ],
  );
  return rows.map(toRecord);
}

/**
 * The sweeper: writes 'expired' on lapsed holds and on requests for approval
 * whose start has passed; returns them, how many, and the providers whose slots changed.
 */
export async function expireLapsedHolds(q: Queryable): Promise<{ holds: number; providerIds: string[]; expired: BookingRecord[] }> {
  const { rows } = await q.query<BookingRow>(
    `UPDATE bookings SET status = 'expired'
      WHERE (status = 'held' AND expires_at <= now()) OR (status = 'pending' AND start_at <= now())
      RETURNING ${COLUMNS}`,
  );
  return { holds: rows.length, providerIds: [...new Set(rows.flatMap((r) => r.host_ids))], expired: rows.map(toRecord) };
}

/** Live and recent bookings of a provider, for the ICS feed. */
export async function feedBookings(q: Queryable, providerId: string, sinceMs: number): Promise<BookingRecord[]> {
  const { rows } = await q.query<BookingRow>(
    // host_ids @> rather than = ANY: only this form can use the GIN index bookings_hosts (see listBookings).
    `SELECT ${COLUMNS} FROM bookings WHERE host_ids @> ARRAY[$1::text] AND ${LIVE} AND end_at > $2 ORDER BY start_at, id LIMIT 5000`,
    [providerId, new Date(sinceMs)],
  );
  return rows.map(toRecord);
}

/**
 * Starts of the live bookings of one type and host starting in [from, to): what
 * per-day/week/month limits count. `lapseAt`: when the first of them stops being
 * live by time alone (a hold's expiry, a pending request's start), or null.
 */
export async function listLiveStartsOfType(
  q: Queryable,
  f: { eventTypeId: string; providerId: string; from: number; to: number; excludeBookingId: string | null },
): Promise<{ starts: number[]; lapseAt: number | null }> {
  const { rows } = await q.query<{ s: number; lapse: number | null }>(
    `SELECT (extract(epoch FROM start_at) * 1000)::float8 AS s,
            (extract(epoch FROM CASE status WHEN 'held' THEN expires_at WHEN 'pending' THEN start_at END) * 1000)::float8 AS lapse
       FROM bookings
      WHERE event_type_id = $1 AND $2 = ANY (host_ids) AND start_at >= $3 AND start_at < $4 AND ${LIVE}
        AND ($5::text IS NULL OR id <> $5)
      ORDER BY start_at`,
    [f.eventTypeId, f.providerId, new Date(f.from), new Date(f.to), f.excludeBookingId],
  );
  const lapses = rows.map((r) => r.lapse).filter((l): l is number => l !== null).map(Number);
  return { starts: rows.map((r) => Number(r.s)), lapseAt: lapses.length > 0 ? Math.min(...lapses) : null };
}
