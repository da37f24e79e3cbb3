import type { Queryable } from './database.js';

export interface WebhookRecord {
  id: string;
  ownerId: string;
  url: string;
  events: string[];
  description: string | null;
  secretStored: string;
  createdAt: number;
}

interface WebhookRow {
  id: string;
  owner_id: string;
  url: string;
  events: string[];
  description: string | null;
  secret_stored: string;
  created_at: Date;
}

const COLUMNS = 'id, owner_id, url, events, description, secret_stored, created_at';

function toRecord(r: WebhookRow): WebhookRecord {
  return {
    id: r.id,
    ownerId: r.owner_id,
    url: r.url,
    events: r.events,
    description: r.description,
    secretStored: r.secret_stored,
    createdAt: r.created_at.getTime(),
  };
}

export async function insertWebhook(
  q: Queryable,
  w: { id: string; ownerId: string; url: string; events: string[]; description: string | null; secretStored: string },
): Promise<WebhookRecord> {
  const { rows } = await q.query<WebhookRow>(
    `INSERT INTO webhooks (id, owner_id, url, events, description, secret_stored)
     VALUES ($1, $2, $3, $4::text[], $5, $6) RETURNING ${COLUMNS}`,
    [w.id, w.ownerId, w.url, w.events, w.description, w.secretStored],
  );
  return toRecord(rows[0]!);
}

export async function findWebhook(q: Queryable, id: string): Promise<WebhookRecord | null> {
  const { rows } = await q.query<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** ownerId null = every webhook (admin). Paged by (created_at, id); the cursor carries milliseconds. */
export async function listWebhooks(
  q: Queryable,
  f: { ownerId: string | null; after: { createdAt: number; id: string } | null; limit: number },
): Promise<WebhookRecord[]> {
  const { rows } = await q.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks
      WHERE ($1::text IS NULL OR owner_id = $1)
        AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($2::timestamptz, $3::text))
      ORDER BY date_trunc('milliseconds', created_at), id LIMIT $4`,
    [f.ownerId, f.after ? new Date(f.after.createdAt) : null, f.after?.id ?? null, f.limit],
  );
  return rows.map(toRecord);
}

/** Deleting a webhook deletes its deliveries (ON DELETE CASCADE): nothing more is sent. */
export async function deleteWebhook(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM webhooks WHERE id = $1', [id]);
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: number;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: Date | null;
  next_attempt_at: Date;
  response_status: number | null;
  last_error: string | null;
  created_at: Date;
}

const DELIVERY_COLUMNS = `d.id, d.webhook_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.last_attempt_at,
  d.next_attempt_at, d.response_status, d.last_error, d.created_at`;

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    lastAttemptAt: r.last_attempt_at?.getTime() ?? null,
    nextAttemptAt: r.next_attempt_at.getTime(),
    responseStatus: r.response_status,
    lastError: r.last_error,
    createdAt: r.created_at.getTime(),
  };
}

export async function listDeliveries(
  q: Queryable,
  f: { webhookId: string; after: { createdAt: number; id: string } | null; limit: number },
): Promise<DeliveryRecord[]> {
  const { rows } = await q.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE d.webhook_id = $1
        AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', d.created_at), d.id) > ($2::timestamptz, $3::text))
      ORDER BY date_trunc('milliseconds', d.created_at), d.id LIMIT $4`,
    [f.webhookId, f.after ? new Date(f.after.createdAt) : null, f.after?.id ?? null, f.limit],
  );
  return rows.map(toDelivery);
}

/** A claimed delivery with what the worker needs to send it. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  url: string;
  /** scheme://host[:port] of the url: deliveries to one endpoint share its concurrency and circuit. */
  endpoint: string;
  webhookId: string;
  secretStored: string;
  eventType: string;
  eventData: unknown;
  eventCreatedAt: number;
}

/** The endpoint (origin) of a stored webhook URL, which is always a normalized http(s) URL without user info. */
const ENDPOINT_SQL = `substring(w.url from '^[a-z][a-z0-9+.-]*://[^/?#]+')`;

/**
 * Takes up to `limit` due deliveries, at most `perEndpoint` for any one
 * endpoint and none for the endpoints in `skipEndpoints` (busy in this
 * process, or with an open circuit), and leases them for `leaseMs` (their
 * next_attempt_at moves past the attempt's timeout), so another process skips
 * them now (SKIP LOCKED) and later (not due); a worker that dies mid-attempt
 * leaves them to be retried when the lease ends. Oldest due first.
 */
export async function claimDueDeliveries(
  q: Queryable,
  limit: number,
  leaseMs: number,
  options: { perEndpoint?: number; skipEndpoints?: string[] } = {},
): Promise<ClaimedDelivery[]> {
  const { rows } = await q.query<{
    id: string; attempts: number; url: string; endpoint: string; webhook_id: string; secret_stored: string;
    type: string; data: unknown; event_created_at: Date;
  }>(
    `WITH candidates AS (
       SELECT d.id, d.next_attempt_at,
              row_number() OVER (PARTITION BY ${ENDPOINT_SQL} ORDER BY d.next_attempt_at, d.id) AS nth
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
          AND NOT (${ENDPOINT_SQL} = ANY($4::text[]))
     ), due AS (
       SELECT id FROM webhook_deliveries
        WHERE id IN (SELECT id FROM candidates WHERE nth <= $3)
          AND status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id LIMIT $1
        FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.attempts, d.webhook_id, d.event_id
     )
     SELECT l.id, l.attempts, w.url, ${ENDPOINT_SQL} AS endpoint, l.webhook_id, w.secret_stored, e.type, e.data,
            e.created_at AS event_created_at
       FROM leased l JOIN webhooks w ON w.id = l.webhook_id JOIN events e ON e.id = l.event_id`,
    [limit, leaseMs, options.perEndpoint ?? limit, options.skipEndpoints ?? []],
  );
  return rows.map((r) => ({
    id: r.id,
    attempts: r.attempts,
    url: r.url,
    endpoint: r.endpoint,
    webhookId: r.webhook_id,
    secretStored: r.secret_stored,
    eventType: r.type,
    eventData: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
    eventCreatedAt: r.event_created_at.getTime(),
  }));
}

/** Gives claimed deliveries back unattempted (due now), for another round to take. */
export async function releaseDeliveries(q: Queryable, ids: string[]): Promise<void> {
  await q.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = ANY($1::text[]) AND status = 'pending'`, [ids]);
}

export async function countWebhooksOf(q: Queryable, ownerId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks WHERE owner_id = $1', [ownerId]);
  return rows[0]?.n ?? 0;
}

/** Writes down one attempt: succeeded, failed for good, or pending again after retryInMs. */
/**
 * Writes down one attempt of a delivery claimed with `claimedAttempts`
 * attempts. Only a row still as claimed is changed: if this worker's lease ran
 * out and another one already recorded its own attempt, or the delivery was
 * settled meanwhile (marked failed), this late result is dropped rather than
 * written over it.
 */
export async function recordAttempt(
  q: Queryable,
  id: string,
  claimedAttempts: number,
  a: { status: DeliveryStatus; responseStatus: number | null; error: string | null; retryInMs: number | null },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries
        SET attempts = attempts + 1, last_attempt_at = now(), status = $2, response_status = $3, last_error = $4,
            next_attempt_at = CASE WHEN $5::double precision IS NULL THEN next_attempt_at
                                   ELSE now() + make_interval(secs => $5::double precision / 1000) END
      WHERE id = $1 AND status = 'pending' AND attempts = $6`,
    [id, a.status, a.responseStatus, a.error, a.retryInMs, claimedAttempts],
  );
}
