import { liveCondition } from './bookings-repo.js';
import type { Queryable } from './database.js';

/** Which of these providers have a live booking whose blocked range overlaps [start, end) (other than `excludeBookingId`). */
export async function busyProviders(
  q: Queryable,
  providerIds: readonly string[],
  range: { start: number; end: number },
  excludeBookingId: string | null,
): Promise<Set<string>> {
  const { rows } = await q.query<{ provider_id: string }>(
    `SELECT DISTINCT k.provider_id FROM booking_blocks k JOIN bookings b ON b.id = k.booking_id
      WHERE k.provider_id = ANY ($1::text[]) AND tstzrange(k.blocked_start, k.blocked_end, '[)') && tstzrange($2, $3, '[)')
        AND ${liveCondition('b')} AND ($4::text IS NULL OR b.id <> $4)`,
    [providerIds, new Date(range.start), new Date(range.end), excludeBookingId],
  );
  return new Set(rows.map((r) => r.provider_id));
}

/**
 * Round robin's inputs per host of a type: live bookings of the type created
 * in the last 30 days, and when its latest booking of the type was created.
 */
export async function roundRobinStats(
  q: Queryable,
  eventTypeId: string,
  providerIds: readonly string[],
  excludeBookingId: string | null,
): Promise<Map<string, { count: number; lastCreatedAt: number | null }>> {
  const { rows } = await q.query<{ provider_id: string; n: number; last: number | null }>(
    `SELECT provider_id,
            count(*) FILTER (WHERE ${liveCondition()} AND created_at > now() - interval '30 days')::int AS n,
            (extract(epoch FROM max(created_at)) * 1000)::float8 AS last
       FROM bookings
      WHERE event_type_id = $1 AND provider_id = ANY ($2::text[]) AND ($3::text IS NULL OR id <> $3)
      GROUP BY provider_id`,
    [eventTypeId, providerIds, excludeBookingId],
  );
  return new Map(rows.map((r) => [r.provider_id, { count: Number(r.n), lastCreatedAt: r.last === null ? null : Number(r.last) }]));
}

/**
 * Who takes a seat: a client (by id) or a guest (by email). A guest's email is
 * compared trimmed and case-insensitively, so " Ada@Example.com" and
 * "ada@example.com" are one guest with one seat.
 */
export type SeatHolder = { clientId: string } | { guestEmail: string };

/** Live seats of one occurrence, and whether this holder has one of them (other than `excludeBookingId`). */
export async function seatsTaken(
  q: Queryable,
  occurrence: string,
  holder: SeatHolder,
  excludeBookingId: string | null,
): Promise<{ taken: number; byHolder: boolean }> {
  const clientId = 'clientId' in holder ? holder.clientId : null;
  const guestEmail = 'guestEmail' in holder ? holder.guestEmail.trim().toLowerCase() : null;
  const { rows } = await q.query<{ taken: number; mine: number }>(
    `SELECT count(*)::int AS taken,
            count(*) FILTER (WHERE client_id = $2 OR lower(btrim(guest_email)) = $3)::int AS mine
       FROM bookings WHERE occurrence = $1 AND ${liveCondition()} AND ($4::text IS NULL OR id <> $4)`,
    [occurrence, clientId, guestEmail, excludeBookingId],
  );
  return { taken: rows[0]?.taken ?? 0, byHolder: (rows[0]?.mine ?? 0) > 0 };
}
