import type { Interval } from '../domain/intervals.js';
import type { Queryable } from './database.js';

export type CalendarKind = 'ics' | 'caldav' | 'google';
export type CalendarStatus = 'ok' | 'error' | 'pending';
export type WriteMode = 'eventual' | 'strict';

export interface CalendarConnectionRecord {
  id: string;
  providerId: string;
  type: CalendarKind;
  /** Sealed JSON config, secrets included: open it only to talk to the source. */
  configCiphertext: string;
  writeBookings: boolean;
  writeMode: WriteMode;
  status: CalendarStatus;
  error: string | null;
  lastSyncedAt: number | null;
  busyDigest: string | null;
  createdAt: number;
}

interface Row {
  id: string;
  provider_id: string;
  type: CalendarKind;
  config_ciphertext: string;
  write_bookings: boolean;
  write_mode: WriteMode;
  status: CalendarStatus;
  error: string | null;
  last_synced_at: Date | null;
  busy_digest: string | null;
  created_at: Date;
}

const COLUMNS = `id, provider_id, type, config_ciphertext, write_bookings, write_mode, status, error, last_synced_at,
  busy_digest, created_at`;

function toRecord(r: Row): CalendarConnectionRecord {
  return {
    id: r.id,
    providerId: r.provider_id,
    type: r.type,
    configCiphertext: r.config_ciphertext,
    writeBookings: r.write_bookings,
    writeMode: r.write_mode,
    status: r.status,
    error: r.error,
    lastSyncedAt: r.last_synced_at?.getTime() ?? null,
    busyDigest: r.busy_digest,
    createdAt: r.created_at.getTime(),
  };
}

export async function insertConnection(
  q: Queryable,
  c: { id: string; providerId: string; type: CalendarKind; configCiphertext: string; writeBookings: boolean; writeMode: WriteMode },
): Promise<void> {
  await q.query(
    // Milliseconds, as the list cursor carries them: a microsecond tail would repeat a row across pages.
    `INSERT INTO calendar_connections (id, provider_id, type, config_ciphertext, write_bookings, write_mode, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', date_trunc('milliseconds', now()))`,
    [c.id, c.providerId, c.type, c.configCiphertext, c.writeBookings, c.writeMode],
  );
}

export async function countConnections(q: Queryable, providerId: string): Promise<number> {
  const { rows } = await q.query<{ n: number | string }>('SELECT count(*) AS n FROM calendar_connections WHERE provider_id = $1', [providerId]);
  return Number(rows[0]?.n ?? 0);
}

/** One connection of this provider; FOR UPDATE makes concurrent syncs of it write one after the other. */
export async function findConnection(
  q: Queryable,
  providerId: string | null,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<CalendarConnectionRecord | null> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM calendar_connections WHERE id = $1 AND ($2::text IS NULL OR provider_id = $2)
     ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, providerId],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Oldest first; keyset pagination on (created_at, id). */
export async function listConnections(
  q: Queryable,
  providerId: string,
  page: { after: { createdAt: number; id: string } | null; limit: number },
): Promise<CalendarConnectionRecord[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM calendar_connections
      WHERE provider_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
      ORDER BY created_at, id LIMIT $4`,
    [providerId, page.after ? new Date(page.after.createdAt) : null, page.after?.id ?? '', page.limit],
  );
  return rows.map(toRecord);
}

/** Deletes the connection and (by cascade) its busy time; true when it existed. */
export async function deleteConnection(q: Queryable, providerId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM calendar_connections WHERE id = $1 AND provider_id = $2', [id, providerId]);
  return rowCount > 0;
}

/** Replaces the connection's busy time with `busy` (epoch ms travel as JSON numbers: exact, driver-neutral). */
export async function replaceBusy(q: Queryable, connectionId: string, providerId: string, busy: readonly Interval[]): Promise<void> {
  await q.query('DELETE FROM calendar_busy WHERE connection_id = $1', [connectionId]);
  if (busy.length === 0) return;
  await q.query(
    `INSERT INTO calendar_busy (connection_id, provider_id, start_at, end_at)
     SELECT $1, $2, timestamptz 'epoch' + b.s * interval '1 millisecond', timestamptz 'epoch' + b.e * interval '1 millisecond'
       FROM jsonb_to_recordset($3::jsonb) AS b(s bigint, e bigint)`,
    [connectionId, providerId, JSON.stringify(busy.map((i) => ({ s: i.start, e: i.end })))],
  );
}

export async function recordSyncSuccess(q: Queryable, id: string, busyDigest: string): Promise<void> {
  await q.query(
    `UPDATE calendar_connections SET status = 'ok', error = NULL, last_synced_at = now(), last_attempt_at = now(), busy_digest = $2
      WHERE id = $1`,
    [id, busyDigest],
  );
}

/** The busy time stays as it was: the last good set keeps counting. */
export async function recordSyncFailure(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(
    `UPDATE calendar_connections SET status = 'error', error = $2, last_attempt_at = now() WHERE id = $1`,
    [id, error],
  );
}

/**
 * Takes up to `limit` connections not tried for `everySeconds`, marking them
 * tried now, so that several server processes share the work instead of each
 * fetching every calendar (SKIP LOCKED: rows another process is claiming are passed over).
 */
export async function claimDueConnections(q: Queryable, everySeconds: number, limit: number): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `UPDATE calendar_connections SET last_attempt_at = now()
      WHERE id IN (
        SELECT id FROM calendar_connections
         WHERE last_attempt_at IS NULL OR last_attempt_at <= now() - $1 * interval '1 second'
         ORDER BY last_attempt_at NULLS FIRST
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [everySeconds, limit],
  );
  return rows.map((r) => r.id);
}

/** Any one stored connection: the start-up check that ENCRYPTION_KEY is there and opens it. */
export async function anyConnection(q: Queryable): Promise<{ id: string; configCiphertext: string } | null> {
  const { rows } = await q.query<{ id: string; config_ciphertext: string }>(
    'SELECT id, config_ciphertext FROM calendar_connections ORDER BY created_at LIMIT 1',
  );
  return rows[0] ? { id: rows[0].id, configCiphertext: rows[0].config_ciphertext } : null;
}
