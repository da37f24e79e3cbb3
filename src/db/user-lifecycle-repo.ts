import { liveCondition } from './bookings-repo.js';
import type { Queryable } from './database.js';
import { toRecord, USER_COLUMNS, type UserRecord, type UserRow } from './users-repo.js';

/** Changes and deletion of a user (src/features/identity/user-lifecycle.ts). */

export interface UserChanges {
  name?: string;
  email?: string;
  timeZone?: string;
  passwordHash?: string;
}

/** Sets the given fields only; null when there is no such user. */
export async function updateUserFields(q: Queryable, id: string, changes: UserChanges): Promise<UserRecord | null> {
  const { rows } = await q.query<UserRow>(
    `UPDATE users SET name = coalesce($2, name), email = coalesce($3, email), time_zone = coalesce($4, time_zone),
            password_hash = coalesce($5, password_hash)
      WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [id, changes.name ?? null, changes.email ?? null, changes.timeZone ?? null, changes.passwordHash ?? null],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * The user, row-locked FOR UPDATE until commit: a booking insert waits for it
 * (see the trigger in migrations/008_api_complete.sql), so the live bookings
 * read after this cannot be joined by a new one.
 */
export async function lockUser(q: Queryable, id: string): Promise<UserRecord | null> {
  const { rows } = await q.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Ids of the user's held (unexpired) or confirmed bookings that have not ended, as provider or client, by start. */
export async function liveFutureBookingIds(q: Queryable, side: 'provider_id' | 'client_id', userId: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM bookings WHERE ${side} = $1 AND ${liveCondition()} AND end_at > now() ORDER BY start_at, id`,
    [userId],
  );
  return rows.map((r) => r.id);
}

/** Marks the user deleted and makes every one of its keys stop working. */
export async function deactivateUser(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE users SET deactivated_at = now() WHERE id = $1', [id]);
  await q.query('UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id]);
}

/** A deactivated provider's connected calendars go, with their credentials: nothing is synced for it any more. */
export async function dropCalendarConnections(q: Queryable, providerId: string): Promise<void> {
  await q.query('DELETE FROM calendar_connections WHERE provider_id = $1', [providerId]);
}

/**
 * Erases a client's personal data and keeps its anonymised booking rows
 * (GDPR Art. 17; README, "Deleting users"). The email becomes a placeholder
 * that is no address, unique by the user's id. Its bookings lose their notes
 * and cancel reasons, also in the recorded change events; the stored replies
 * of its Idempotency-Keys (which repeat them) and its webhooks go.
 */
export async function eraseClientData(q: Queryable, id: string): Promise<void> {
  await q.query(
    `UPDATE users SET name = 'Erased user', email = 'erased:' || id, time_zone = 'UTC', password_hash = NULL,
            avatar_key = NULL, avatar_content_type = NULL WHERE id = $1`,
    [id],
  );
  await q.query('UPDATE bookings SET notes = NULL, cancel_reason = NULL WHERE client_id = $1', [id]);
  await q.query(`UPDATE events SET data = data - 'notes' - 'cancelReason' WHERE client_id = $1`, [id]);
  await q.query('UPDATE api_keys SET name = NULL WHERE user_id = $1', [id]);
  await q.query('DELETE FROM idempotency_keys WHERE caller_id = $1', [id]);
  await q.query('DELETE FROM webhooks WHERE owner_id = $1', [id]);
}
