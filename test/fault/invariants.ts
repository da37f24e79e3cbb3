/**
 * What must be true in SQL after any storm and any fault, whatever the
 * clients were told: no overlap, nothing confirmed lost, one booking per
 * idempotency key, a webhook delivery for every confirmed booking; for team
 * event types, no host's blocked time overlapping across bookings, no
 * occurrence with more live seats than `seats`, and round robin's balance.
 */
import type { ClusterSql } from '../helpers/cluster.js';
import type { StormResult } from './storm.js';

/** Live (held and unexpired, or confirmed) bookings of one provider that overlap: must be none. */
export async function overlappingLivePairs(sql: ClusterSql, providerId: string): Promise<string[]> {
  const { rows } = await sql.query<{ a: string; b: string }>(
    `SELECT x.id AS a, y.id AS b
       FROM bookings x
       JOIN bookings y ON y.provider_id = x.provider_id AND x.id < y.id
                      AND tstzrange(x.start_at, x.end_at, '[)') && tstzrange(y.start_at, y.end_at, '[)')
      WHERE x.provider_id = $1
        AND (x.status = 'confirmed' OR (x.status = 'held' AND x.expires_at > now()))
        AND (y.status = 'confirmed' OR (y.status = 'held' AND y.expires_at > now()))`,
    [providerId],
  );
  return rows.map((r) => `${r.a} overlaps ${r.b}`);
}

/** Confirms answered 200 whose booking is not confirmed in SQL. */
export async function lostConfirms(sql: ClusterSql, confirmedIds: Iterable<string>): Promise<string[]> {
  const ids = [...confirmedIds];
  const { rows } = await sql.query<{ id: string; status: string }>('SELECT id, status FROM bookings WHERE id = ANY($1::text[])', [ids]);
  const status = new Map(rows.map((r) => [r.id, r.status]));
  return ids.filter((id) => status.get(id) !== 'confirmed').map((id) => `${id}: ${status.get(id) ?? 'no row'}`);
}

/**
 * One key, at most one booking. Each hold key asked for its own (client,
 * start), so two bookings with the same client and start would be one key
 * booking twice. The clients' view must agree: every 201 of one key carried
 * the same id, and the answer stored for the key names that same booking.
 */
export async function idempotencyViolations(
  sql: ClusterSql,
  scope: { providerId: string } | { eventTypeId: string },
  storm: StormResult,
  keyPrefix: string,
): Promise<string[]> {
  const problems: string[] = [];
  const [column, id] = 'providerId' in scope ? ['provider_id', scope.providerId] : ['event_type_id', scope.eventTypeId];
  const { rows: twice } = await sql.query<{ client_id: string; start_at: Date; n: number }>(
    `SELECT client_id, start_at, count(*)::int AS n FROM bookings WHERE ${column} = $1
      GROUP BY client_id, start_at HAVING count(*) > 1`,
    [id],
  );
  for (const r of twice) problems.push(`client ${r.client_id} has ${r.n} bookings at ${r.start_at.toISOString()}`);
  for (const [key, ids] of storm.holdIdsByKey) if (ids.size > 1) problems.push(`key ${key} answered 201 with ${[...ids].join(', ')}`);

  const { rows: stored } = await sql.query<{ caller_id: string; key: string; id: string | null; client_id: string | null; start_at: Date | null }>(
    `SELECT k.caller_id, k.key, k.response_body::jsonb->>'id' AS id, b.client_id, b.start_at
       FROM idempotency_keys k
       LEFT JOIN bookings b ON b.id = k.response_body::jsonb->>'id'
      WHERE k.key ~ ('^' || $1 || '-c[0-9]+-h[0-9]+$') AND k.status_code = 201`,
    [keyPrefix],
  );
  for (const r of stored) {
    const asked = storm.holdRequests.get(r.key);
    const seen = storm.holdIdsByKey.get(r.key);
    if (!r.client_id) problems.push(`key ${r.key} stored 201 for ${r.id}, which has no row`);
    else if (r.client_id !== r.caller_id) problems.push(`key ${r.key} of ${r.caller_id} stored booking ${r.id} of ${r.client_id}`);
    else if (asked && Date.parse(asked.start) !== r.start_at!.getTime()) problems.push(`key ${r.key} asked ${asked.start}, booked ${r.start_at!.toISOString()}`);
    if (seen && r.id && !seen.has(r.id)) problems.push(`key ${r.key} stored ${r.id} but answered ${[...seen].join(', ')}`);
  }
  return problems;
}

const LIVE = (b: string) => `(${b}.status = 'confirmed' OR (${b}.status = 'held' AND ${b}.expires_at > now()) OR (${b}.status = 'pending' AND ${b}.start_at > now()))`;

/**
 * Live blocks (booking_blocks: one row per booking and host whose time it takes) of these hosts that overlap
 * another live block of the same host: must be none. Seats of one occurrence share their time, so they are
 * not an overlap; anything else is, collective and round-robin bookings included.
 */
export async function overlappingLiveBlocks(sql: ClusterSql, providerIds: string[]): Promise<string[]> {
  const { rows } = await sql.query<{ provider_id: string; a: string; b: string }>(
    `SELECT x.provider_id, x.booking_id AS a, y.booking_id AS b
       FROM booking_blocks x
       JOIN booking_blocks y ON y.provider_id = x.provider_id AND x.booking_id < y.booking_id AND x.occurrence <> y.occurrence
                            AND tstzrange(x.blocked_start, x.blocked_end, '[)') && tstzrange(y.blocked_start, y.blocked_end, '[)')
       JOIN bookings xb ON xb.id = x.booking_id
       JOIN bookings yb ON yb.id = y.booking_id
      WHERE x.provider_id = ANY($1::text[]) AND ${LIVE('xb')} AND ${LIVE('yb')}`,
    [providerIds],
  );
  return rows.map((r) => `${r.provider_id}: ${r.a} overlaps ${r.b}`);
}

/** Occurrences of a seats type with more live seats than `seats`, and clients with two live seats in one occurrence: must be none. */
export async function overfullOccurrences(sql: ClusterSql, eventTypeId: string, seats: number): Promise<string[]> {
  const { rows: full } = await sql.query<{ occurrence: string; n: number }>(
    `SELECT occurrence, count(*)::int AS n FROM bookings b WHERE event_type_id = $1 AND ${LIVE('b')}
      GROUP BY occurrence HAVING count(*) > $2`,
    [eventTypeId, seats],
  );
  const { rows: twice } = await sql.query<{ occurrence: string; client_id: string; n: number }>(
    `SELECT occurrence, client_id, count(*)::int AS n FROM bookings b WHERE event_type_id = $1 AND ${LIVE('b')}
      GROUP BY occurrence, client_id HAVING count(*) > 1`,
    [eventTypeId],
  );
  return [
    ...full.map((r) => `${r.occurrence}: ${r.n} live seats of ${seats}`),
    ...twice.map((r) => `${r.occurrence}: client ${r.client_id} has ${r.n} live seats`),
  ];
}

/** Live bookings of a type per host, in the order of `hostIds`. */
export async function liveBookingsPerHost(sql: ClusterSql, eventTypeId: string, hostIds: string[]): Promise<number[]> {
  const { rows } = await sql.query<{ provider_id: string; n: number }>(
    `SELECT provider_id, count(*)::int AS n FROM bookings b WHERE event_type_id = $1 AND ${LIVE('b')} GROUP BY provider_id`,
    [eventTypeId],
  );
  const n = new Map(rows.map((r) => [r.provider_id, r.n]));
  return hostIds.map((id) => n.get(id) ?? 0);
}

/**
 * Round robin over equal hosts that are free for every hold and never lose a booking (no cancels): each hold,
 * in the order the type's lock let them through, goes to a host with the fewest live bookings of the type so far.
 * That order is the order of their transaction ids: a hold's transaction writes nothing before it takes the
 * type's lock (src/features/bookings/hold.ts insertHoldUnderLocks), so it gets its id (events.tx_id) under the
 * lock, after every hold the lock let through before it. A hold whose transaction died left no event and no booking.
 * Answers every hold that went to a host with more than the fewest; must be none.
 */
export async function roundRobinOutOfTurn(sql: ClusterSql, eventTypeId: string, hostIds: string[]): Promise<string[]> {
  const { rows } = await sql.query<{ provider_id: string; booking_id: string; tx_id: string }>(
    `SELECT data->>'providerId' AS provider_id, data->>'id' AS booking_id, tx_id::text FROM events
      WHERE type = 'booking.held' AND data->>'eventTypeId' = $1 ORDER BY tx_id`,
    [eventTypeId],
  );
  const count = new Map(hostIds.map((id) => [id, 0]));
  const problems: string[] = [];
  for (const [i, r] of rows.entries()) {
    const fewest = Math.min(...count.values());
    const had = count.get(r.provider_id);
    if (had === undefined) problems.push(`hold ${i} (${r.booking_id}) went to ${r.provider_id}, not a host of the type`);
    else if (had > fewest) problems.push(`hold ${i} (${r.booking_id}, tx ${r.tx_id}) went to a host with ${had} while another had ${fewest}`);
    count.set(r.provider_id, (had ?? 0) + 1);
  }
  return problems;
}

export interface DeliveryCounts {
  confirmed: number;
  succeeded: number;
  pending: number;
  /** Pending and never attempted, under a lease far in the future: claimed by a worker that died (kill -9) mid-round. */
  leased: number;
  missing: string[];
}

/** Every confirmed booking of the provider has a booking.confirmed event with a delivery to the webhook, delivered or pending. */
export async function confirmedDeliveries(sql: ClusterSql, providerId: string, webhookId: string): Promise<DeliveryCounts> {
  const { rows } = await sql.query<{ id: string; statuses: string[] | null; leased: boolean }>(
    `SELECT b.id,
            (SELECT array_agg(d.status) FROM events e JOIN webhook_deliveries d ON d.event_id = e.id AND d.webhook_id = $2
              WHERE e.type = 'booking.confirmed' AND e.data->>'id' = b.id) AS statuses,
            EXISTS (SELECT 1 FROM events e JOIN webhook_deliveries d ON d.event_id = e.id AND d.webhook_id = $2
              WHERE e.type = 'booking.confirmed' AND e.data->>'id' = b.id
                AND d.status = 'pending' AND d.attempts = 0 AND d.next_attempt_at > now() + interval '5 seconds') AS leased
       FROM bookings b WHERE b.provider_id = $1 AND b.status = 'confirmed'`,
    [providerId, webhookId],
  );
  const out: DeliveryCounts = { confirmed: rows.length, succeeded: 0, pending: 0, leased: 0, missing: [] };
  for (const r of rows) {
    const s = r.statuses ?? [];
    if (s.includes('succeeded')) out.succeeded += 1;
    else if (s.includes('pending')) {
      out.pending += 1;
      if (r.leased) out.leased += 1;
    }
    else out.missing.push(`${r.id}: ${s.length ? s.join(',') : 'no delivery'}`);
  }
  return out;
}
