// Set-based generation of the scale bench's databases (bench/scale.ts): providers with weekly
// schedules, event types, clients and bookings on a per-provider grid, inserted through the real
// tables with every trigger on (booking_blocks and client_blocks are the triggers' rows, checked by
// their exclusion constraints as the app's inserts are). No row goes through the API.
import { performance } from 'node:perf_hooks';
import type pg from 'pg';

export interface ScaleShape {
  providers: number;
  /** Event types per provider (each hosted by that provider alone). */
  typesPerProvider: number;
  /** Bookings per provider, one per week from 52 weeks ago: past and future. */
  bookingsPerProvider: number;
  /** Clients with bookings; at least `providers` (see the grid below). */
  clients: number;
  /** Clients without bookings who make the bench's holds (5 each, the per-client hold limit). */
  holdClients: number;
  /** Users (providers, clients, hold clients) that get an API key `bk_scale_<user id>`. */
  keyedProviders: number;
  keyedClients: number;
}

export const BIG: ScaleShape = {
  providers: 10_000, typesPerProvider: 10, bookingsPerProvider: 100, clients: 50_000, holdClients: 40, keyedProviders: 5, keyedClients: 5,
};
export const SMALL: ScaleShape = {
  providers: 5, typesPerProvider: 10, bookingsPerProvider: 100, clients: 25, holdClients: 40, keyedProviders: 5, keyedClients: 5,
};

export const keyOf = (userId: string) => `bk_scale_${userId}`;
export const providerId = (i: number) => `sp_${i}`;
export const clientId = (i: number) => `sc_${i}`;
export const holdClientId = (i: number) => `sh_${i}`;
/** The first event type of provider i (types are numbered provider by provider). */
export const typeId = (provider: number, shape: ScaleShape) => `se_${provider * shape.typesPerProvider}`;

const WEEKLY = JSON.stringify(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' })));

/**
 * The grid. Booking k (0..B-1) of provider p lies in week k - 52 from this week's Monday (UTC), on
 * weekday (p + k) % 5 at 09:00 + (3p + k) % 7 hours, 30 or 60 minutes: one booking per provider and
 * week, so no two overlap per host. Its client is (p + 7919 k) % C: two bookings of one client
 * either differ in k (another week) or have the same k and then the same p (p < C): never overlap.
 * Status by (31p + 17k) % 100 (r): past 80% confirmed, 12% cancelled, 8% expired holds; future 75%
 * confirmed, 13% cancelled, 9% expired holds, 3% live holds (expiring in a day, so that no sweep
 * runs during the bench). One booking in five is a v1 booking (no event type: no client_blocks row).
 */
function bookingsSql(shape: ScaleShape, fromProvider: number, toProvider: number): string {
  const T = shape.typesPerProvider;
  return `
WITH g AS (
  SELECT p, k,
         date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
           + make_interval(days => (k - 52) * 7 + (p + k) % 5, hours => 9 + (3 * p + k) % 7) AS s,
         (31 * p + 17 * k) % 100 AS r,
         CASE WHEN k % 5 = 4 THEN NULL ELSE p * ${T} + k % ${T} END AS t
    FROM generate_series(${fromProvider}, ${toProvider - 1}) p, generate_series(0, ${shape.bookingsPerProvider - 1}) k
), b AS (
  SELECT g.*, s + make_interval(mins => CASE WHEN t IS NOT NULL AND t % 2 = 1 THEN 60 ELSE 30 END) AS e,
         s - make_interval(days => 1 + (p + k) % 30) AS made,
         CASE WHEN s < now() THEN (CASE WHEN r < 80 THEN 'confirmed' WHEN r < 92 THEN 'cancelled' ELSE 'expired' END)
              ELSE (CASE WHEN r < 75 THEN 'confirmed' WHEN r < 88 THEN 'cancelled' WHEN r < 97 THEN 'expired' ELSE 'held' END) END AS st
    FROM g
)
INSERT INTO bookings (id, provider_id, client_id, event_type_id, start_at, end_at, blocked_start, blocked_end, status, expires_at,
                      created_at, confirmed_at, cancelled_at, cancelled_by, host_ids, occurrence)
SELECT 'sb_' || p || '_' || k, 'sp_' || p, 'sc_' || ((p + 7919 * k) % ${shape.clients}), CASE WHEN t IS NULL THEN NULL ELSE 'se_' || t END,
       s, e, s, e, st,
       CASE WHEN st = 'held' AND s >= now() THEN now() + interval '1 day' ELSE made + interval '10 minutes' END,
       made, CASE WHEN st IN ('confirmed', 'cancelled') THEN made + interval '5 minutes' END,
       CASE WHEN st = 'cancelled' THEN made + interval '2 days' END, CASE WHEN st = 'cancelled' THEN 'client' END,
       ARRAY['sp_' || p], 'sb_' || p || '_' || k
  FROM b`;
}

export interface GenerateResult {
  seconds: { users: number; eventTypes: number; bookings: number; analyze: number; total: number };
  rows: Record<string, number>;
  databaseBytes: number;
}

/** Fills an empty, migrated database. Bounded: one statement per step, bookings in chunks of providers. */
export async function generate(db: pg.Client, shape: ScaleShape, log: (s: string) => void): Promise<GenerateResult> {
  if (shape.clients < shape.providers) throw new Error('the grid needs clients >= providers');
  const t0 = performance.now();
  const lap = (since: number) => (performance.now() - since) / 1000;
  let t = performance.now();
  await db.query(`INSERT INTO users (id, name, email, role, time_zone)
    SELECT 'sp_' || g, 'Provider ' || g, 'sp' || g || '@scale.example', 'provider', 'UTC' FROM generate_series(0, ${shape.providers - 1}) g`);
  await db.query(`INSERT INTO users (id, name, email, role, time_zone)
    SELECT 'sc_' || g, 'Client ' || g, 'sc' || g || '@scale.example', 'client', 'UTC' FROM generate_series(0, ${shape.clients - 1}) g`);
  await db.query(`INSERT INTO users (id, name, email, role, time_zone)
    SELECT 'sh_' || g, 'Hold client ' || g, 'sh' || g || '@scale.example', 'client', 'UTC' FROM generate_series(0, ${shape.holdClients - 1}) g`);
  await db.query(`INSERT INTO schedules (provider_id, time_zone, weekly)
    SELECT 'sp_' || g, 'UTC', $1::jsonb FROM generate_series(0, ${shape.providers - 1}) g`, [WEEKLY]);
  await db.query(`INSERT INTO api_keys (id, user_id, name, key_hash, prefix)
    SELECT 'key_' || u.id, u.id, 'scale bench', encode(sha256(convert_to('bk_scale_' || u.id, 'UTF8')), 'hex'), left('bk_scale_' || u.id, 10)
      FROM users u
     WHERE u.id IN (SELECT 'sp_' || g FROM generate_series(0, ${shape.keyedProviders - 1}) g
                    UNION ALL SELECT 'sc_' || g FROM generate_series(0, ${shape.keyedClients - 1}) g
                    UNION ALL SELECT 'sh_' || g FROM generate_series(0, ${shape.holdClients - 1}) g)`);
  // What else slot inputs read per provider: monthly time off (an afternoon, from a year back), a changed day every
  // 13 weeks, a Saturday window every 26 weeks, and ten closed dates for everyone. (No calendar_busy: it needs a
  // connected calendar; that table stays empty.)
  const monday = `date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
  await db.query(`INSERT INTO time_off (id, provider_id, start_at, end_at, reason)
    SELECT 'so_' || p || '_' || m, 'sp_' || p, ${monday} + make_interval(months => m - 12, days => 2 + p % 3, hours => 13),
           ${monday} + make_interval(months => m - 12, days => 2 + p % 3, hours => 17), 'scale bench'
      FROM generate_series(0, ${shape.providers - 1}) p, generate_series(0, 23) m`);
  await db.query(`INSERT INTO schedule_overrides (provider_id, local_date, time_zone, windows)
    SELECT DISTINCT ON (p, d) 'sp_' || p, d, 'UTC', '[{"start": "10:00", "end": "14:00"}]'::jsonb
      FROM (SELECT p, ((${monday})::date + (w * 13 - 52) * 7 + 1 + p % 4) AS d
              FROM generate_series(0, ${shape.providers - 1}) p, generate_series(0, 7) w) x`);
  await db.query(`INSERT INTO availability_windows (id, provider_id, start_at, end_at)
    SELECT 'sw_' || p || '_' || w, 'sp_' || p, ${monday} + make_interval(days => (w * 26 - 52) * 7 + 5, hours => 10),
           ${monday} + make_interval(days => (w * 26 - 52) * 7 + 5, hours => 13)
      FROM generate_series(0, ${shape.providers - 1}) p, generate_series(0, 3) w`);
  await db.query(`INSERT INTO users (id, name, email, role, time_zone) VALUES ('sa_0', 'Scale admin', 'sa0@scale.example', 'admin', 'UTC')`);
  await db.query(`INSERT INTO closures (id, name, local_date, recurrence, created_by)
    SELECT 'sx_' || g, 'Closed ' || g, (${monday})::date + (g * 73 - 365), CASE WHEN g % 2 = 0 THEN 'yearly' ELSE 'none' END, 'sa_0'
      FROM generate_series(0, 9) g`);
  const users = lap(t);
  log(`  users, schedules, keys, time off, overrides, windows, closures: ${users.toFixed(1)} s`);

  t = performance.now();
  const T = shape.typesPerProvider;
  await db.query(`INSERT INTO event_types (id, slug, spec)
    SELECT 'se_' || g, 'scale-' || g, jsonb_build_object(
             'title', 'Visit ' || g, 'durations', jsonb_build_array(CASE WHEN g % 2 = 1 THEN 60 ELSE 30 END), 'questions', '[]'::jsonb,
             'assignment', 'single', 'bufferAfter', 0, 'bufferBefore', 0, 'slotInterval', 15, 'minimumNotice', 0,
             'clientMayOverlap', false, 'cancellationNotice', 0, 'requiresConfirmation', false, 'seats', 1)
      FROM generate_series(0, ${shape.providers * T - 1}) g`);
  await db.query(`INSERT INTO event_type_hosts (event_type_id, provider_id, position)
    SELECT 'se_' || g, 'sp_' || (g / ${T}), 0 FROM generate_series(0, ${shape.providers * T - 1}) g`);
  const eventTypes = lap(t);
  log(`  event types: ${eventTypes.toFixed(1)} s`);

  t = performance.now();
  const CHUNK = 500; // providers per statement: 50,000 bookings
  for (let p = 0; p < shape.providers; p += CHUNK) {
    await db.query(bookingsSql(shape, p, Math.min(shape.providers, p + CHUNK)));
    if (shape.providers > CHUNK) log(`  bookings of providers ${p}..${Math.min(shape.providers, p + CHUNK) - 1}: ${lap(t).toFixed(0)} s so far`);
  }
  const bookings = lap(t);
  log(`  bookings (triggers on): ${bookings.toFixed(1)} s`);

  t = performance.now();
  await db.query('VACUUM ANALYZE');
  const analyze = lap(t);
  const rows: Record<string, number> = {};
  for (const table of ['users', 'schedules', 'time_off', 'schedule_overrides', 'availability_windows', 'closures', 'event_types', 'event_type_hosts', 'bookings', 'booking_blocks', 'client_blocks']) {
    rows[table] = Number((await db.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows[0].n);
  }
  const status = await db.query(`SELECT status, count(*)::bigint AS n FROM bookings GROUP BY status ORDER BY status`);
  for (const s of status.rows) rows[`bookings ${s.status}`] = Number(s.n);
  const databaseBytes = Number((await db.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b);
  return { seconds: { users, eventTypes, bookings, analyze, total: lap(t0) }, rows, databaseBytes };
}
