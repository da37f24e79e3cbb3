import type { Queryable } from './database.js';
import { liveCondition } from './bookings-repo.js';

/**
 * Guest bookings (no account): their hold caps are counted per address (the
 * SHA-256 of it) and per email (case-insensitive), and their manage tokens
 * are stored as SHA-256 in booking_tokens.
 */
export async function liveGuestHolds(
  q: Queryable,
  by: { addressHash: string } | { email: string },
): Promise<{ count: number; secondsToFirstExpiry: number | null }> {
  const [column, value] = 'addressHash' in by ? ['guest_address', by.addressHash] : ['lower(guest_email)', by.email.toLowerCase()];
  const { rows } = await q.query<{ n: number; wait: number | null }>(
    `SELECT count(*)::int AS n, ceil(extract(epoch FROM min(expires_at) - now()))::int AS wait
       FROM bookings WHERE ${column} = $1 AND status = 'held' AND expires_at > now()`,
    [value],
  );
  return { count: rows[0]?.n ?? 0, secondsToFirstExpiry: rows[0]?.wait ?? null };
}

/** A guest email's upcoming live bookings: with one provider, and in all (the same caps as a client's). */
export async function upcomingBookingsOfGuest(q: Queryable, email: string, providerId: string): Promise<{ withProvider: number; overall: number }> {
  const { rows } = await q.query<{ with_provider: number; overall: number }>(
    `SELECT count(*) FILTER (WHERE provider_id = $2)::int AS with_provider, count(*)::int AS overall
       FROM bookings WHERE lower(guest_email) = $1 AND start_at > now() AND ${liveCondition()}`,
    [email.toLowerCase(), providerId],
  );
  return { withProvider: rows[0]?.with_provider ?? 0, overall: rows[0]?.overall ?? 0 };
}

export async function insertBookingToken(q: Queryable, t: { tokenHash: string; bookingId: string; kind: 'manage' | 'mail' }): Promise<void> {
  await q.query('INSERT INTO booking_tokens (token_hash, booking_id, kind) VALUES ($1, $2, $3)', [t.tokenHash, t.bookingId, t.kind]);
}

/** The booking a token hash opens, or null. */
export async function bookingOfToken(q: Queryable, tokenHash: string): Promise<string | null> {
  const { rows } = await q.query<{ booking_id: string }>('SELECT booking_id FROM booking_tokens WHERE token_hash = $1', [tokenHash]);
  return rows[0]?.booking_id ?? null;
}

/** Keeps a booking's newest `keep` mail tokens: every mail mints one, so old links stop working after a while. */
export async function pruneMailTokens(q: Queryable, bookingId: string, keep: number): Promise<void> {
  await q.query(
    `DELETE FROM booking_tokens WHERE booking_id = $1 AND kind = 'mail' AND token_hash NOT IN (
       SELECT token_hash FROM booking_tokens WHERE booking_id = $1 AND kind = 'mail' ORDER BY created_at DESC LIMIT $2)`,
    [bookingId, keep],
  );
}
