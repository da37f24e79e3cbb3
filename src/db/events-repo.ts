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

export const newEventId = () => `evt_${randomBytes(15).toString('base64url')}`;

// Which webhooks see an event: the provider's (every host's), the client's,
// the staff's who manage one of those providers (access/policy.ts: staff act
// for their providers), and every administrator's. The event is the row that
// the statement's CTE `e` inserted (id, type, provider_id, client_id), so the
// event and its deliveries cost one round trip; `hosts` is SQL for its text[] of hosts.
// `events`: the name of that CTE where a statement records two events (bookings-repo insertHold).
export const fanOutOf = (hosts: string, events = 'e') => `
  INSERT INTO webhook_deliveries (id, webhook_id, event_id)
  SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), w.id, e.id
    FROM ${events} e JOIN webhooks w ON e.type = ANY (w.events) JOIN users u ON u.id = w.owner_id
   WHERE u.role = 'admin' OR w.owner_id = e.provider_id OR w.owner_id = e.client_id OR w.owner_id = ANY (${hosts})
      OR (u.role = 'staff' AND EXISTS (
            SELECT 1 FROM staff_providers s
             WHERE s.staff_id = w.owner_id AND (s.provider_id = e.provider_id OR s.provider_id = ANY (${hosts}))))
  ON CONFLICT (event_id, webhook_id) DO NOTHING`;

/**
 * Records an event in the caller's transaction and fans it out to the
 * matching webhooks as pending deliveries, in the same statement: an event
 * and its deliveries commit (or roll back) with the change itself.
 */
export async function recordEvent(
  q: Queryable,
  e: { type: EventType; providerId: string; clientId: string | null; data: unknown; hostIds?: readonly string[] },
): Promise<string> {
  const id = newEventId();
  await q.query(
    `WITH e AS (INSERT INTO events (id, type, provider_id, client_id, data) VALUES ($1, $2, $3, $4, $5)
                RETURNING id, type, provider_id, client_id)
     ${fanOutOf('$6::text[]')}`,
    [id, e.type, e.providerId, e.clientId, JSON.stringify(e.data), e.hostIds ?? []],
  );
  return id;
}

/**
 * The CTEs that raise a provider's availability version by one and record its
 * availability.changed event, at most one per transaction and provider (a
 * second raise in the same transaction updates the version of the first
 * event), fanned out: `v` (id, availability_version), `ve`, `vd`.
 * `providerId` and `eventId` are SQL (parameters).
 */
export const availabilityRaiseOf = (providerId: string, eventId: string) => `
  v AS (UPDATE users SET availability_version = availability_version + 1 WHERE id = ${providerId}
        RETURNING id, availability_version),
  ve AS (INSERT INTO events (id, type, provider_id, data)
         SELECT ${eventId}, 'availability.changed', v.id, jsonb_build_object('providerId', v.id, 'version', v.availability_version) FROM v
         ON CONFLICT (tx_id, provider_id) WHERE type = 'availability.changed' DO UPDATE SET data = EXCLUDED.data
         RETURNING id, type, provider_id, client_id),
  vd AS (${fanOutOf("'{}'::text[]", 've')})`;

/** availabilityRaiseOf in a statement of its own: the new version, or null for no such user. */
export async function raiseAvailabilityVersion(q: Queryable, providerId: string): Promise<number | null> {
  const { rows } = await q.query<{ v: number }>(
    `WITH ${availabilityRaiseOf('$1', '$2')} SELECT availability_version AS v FROM v`,
    [providerId, newEventId()],
  );
  return rows[0]?.v ?? null;
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
