import { randomBytes } from 'node:crypto';
import type { Queryable } from './database.js';

/** The change events the outbox records (and webhooks can subscribe to). */
export const EVENT_TYPES = [
  'booking.held',
  'booking.confirmed',
  'booking.cancelled',
  'booking.expired',
  'booking.pending',
  'booking.declined',
  'booking.rescheduled',
  'availability.changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const eventId = () => `evt_${randomBytes(15).toString('base64url')}`;

// Which webhooks see an event: the provider's (every host's), the client's,
// the staff's who manage one of those providers (access/policy.ts: staff act
// for their providers), and every administrator's.
const FAN_OUT = `
  INSERT INTO webhook_deliveries (id, webhook_id, event_id)
  SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), w.id, $1
    FROM webhooks w JOIN users u ON u.id = w.owner_id
   WHERE $2::text = ANY (w.events)
     AND (u.role = 'admin' OR w.owner_id = $3::text OR w.owner_id = $4::text OR w.owner_id = ANY ($5::text[])
          OR (u.role = 'staff' AND EXISTS (
                SELECT 1 FROM staff_providers s
                 WHERE s.staff_id = w.owner_id AND (s.provider_id = $3::text OR s.provider_id = ANY ($5::text[])))))
  ON CONFLICT (event_id, webhook_id) DO NOTHING`;

/**
 * Records an event in the caller's transaction and fans it out to the
 * matching webhooks as pending deliveries, in the same transaction: an event
 * and its deliveries commit (or roll back) with the change itself.
 */
export async function recordEvent(
  q: Queryable,
  e: { type: EventType; providerId: string; clientId: string | null; data: unknown; hostIds?: readonly string[] },
): Promise<string> {
  const id = eventId();
  await q.query('INSERT INTO events (id, type, provider_id, client_id, data) VALUES ($1, $2, $3, $4, $5)', [
    id, e.type, e.providerId, e.clientId, JSON.stringify(e.data),
  ]);
  await q.query(FAN_OUT, [id, e.type, e.providerId, e.clientId, e.hostIds ?? []]);
  return id;
}

/**
 * availability.changed, at most one per transaction and provider: a second
 * bump in the same transaction updates the version of the first event.
 */
export async function recordAvailabilityChanged(q: Queryable, providerId: string, version: number): Promise<void> {
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO events (id, type, provider_id, data)
     VALUES ($1, 'availability.changed', $2::text, jsonb_build_object('providerId', $2::text, 'version', $3::int))
     ON CONFLICT (tx_id, provider_id) WHERE type = 'availability.changed' DO UPDATE SET data = EXCLUDED.data
     RETURNING id`,
    [eventId(), providerId, version],
  );
  await q.query(FAN_OUT, [rows[0]!.id, 'availability.changed', providerId, null, []]);
}

/**
 * Retention: events older than the given age with no delivery still pending
 * are deleted (their deliveries with them), at most `limit` per call.
 */
export async function deleteSettledEventsOlderThan(q: Queryable, seconds: number, limit = 10_000): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM events WHERE id IN (
       SELECT e.id FROM events e
        WHERE e.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
        ORDER BY e.created_at LIMIT $2)`,
    [seconds, limit],
  );
  return rowCount;
}
