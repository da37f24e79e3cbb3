import type { Interval } from '../domain/intervals.js';
import type { Closure } from '../domain/closures.js';
import type { DateOverride, WeeklyWindow } from '../domain/schedule.js';
import { liveCondition } from './bookings-repo.js';
import type { Queryable } from './database.js';
import type { Role } from './users-repo.js';

/** Everything slots depend on for one provider and range. */
export interface SlotInputs {
  provider: { id: string; name: string; role: Role; timeZone: string };
  schedule: { timeZone: string; weekly: WeeklyWindow[] } | null;
  overrides: DateOverride[];
  oneOff: Interval[];
  timeOff: Interval[];
  /** Blocked ranges (with buffers) of live bookings that take this provider's time, overlapping the range (empty unless asked for). */
  busy: Interval[];
  /** The occurrence of each of `busy` (same order): seat bookings of one occurrence share it; others have their own id. */
  busyOccurrences: string[];
  /** Closed dates that apply to this provider (its own and everyone's). */
  closures: Closure[];
  /** Busy time from the provider's connected calendars overlapping the range (always read). */
  calendarBusy: Interval[];
  /** The provider's availability version these inputs belong to (read in the same statement). */
  version: number;
  /**
   * When the first hold among `busy` lapses (epoch ms, database clock), or null: holds lapse
   * by time, without a version bump, so an answer built on these inputs is good only until then.
   */
  holdsLapseAt: number | null;
  /** The database's now() (epoch ms) that `busy` was judged at. */
  dbNow: number;
}

const DAY_MS = 24 * 3600 * 1000;
// Local dates are within a day of UTC dates in every zone; overrides in another zone can
// reach a range from up to three local dates away (see effectiveAvailability): 4 is safe.
const OVERRIDE_MARGIN_DAYS = 4;

const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

// Instants travel as epoch milliseconds inside JSON: no Date objects, no driver-specific parsing.
const intervalsOf = (table: string, start: string, end: string, extra = '') => `(
  SELECT coalesce(json_agg(json_build_array(
           (extract(epoch FROM x.${start}) * 1000)::bigint, (extract(epoch FROM x.${end}) * 1000)::bigint
         ) ORDER BY x.${start}), '[]'::json)
    FROM ${table} x
   WHERE x.provider_id = u.id AND x.${start} < $3 AND x.${end} > $2 ${extra})`;

/**
 * A block's status is its booking's (the trigger of migration 010), so naming it on k changes no answer;
 * it lets the partial indexes of migration 015 start at the range instead of the provider's first booking.
 *
 * One round trip instead of seven: on the embedded database each query costs
 * about half a millisecond of the single WASM thread, so listing slots and
 * holding are dominated by their number of queries, not by their work.
 */
const SQL = `
SELECT u.id, u.name, u.role, u.time_zone, s.time_zone AS schedule_zone, s.weekly, u.availability_version AS version,
  (extract(epoch FROM now()) * 1000)::float8 AS db_now,
  CASE WHEN $6::boolean THEN (
    SELECT (extract(epoch FROM min(CASE WHEN x.status = 'held' THEN x.expires_at ELSE x.start_at END)) * 1000)::float8
      FROM booking_blocks k JOIN bookings x ON x.id = k.booking_id
     WHERE k.provider_id = u.id AND k.status IN ('held', 'pending') AND k.blocked_end > $2 AND k.blocked_start < $3
       AND ((x.status = 'held' AND x.expires_at > now()) OR (x.status = 'pending' AND x.start_at > now())))
  END AS holds_lapse_at,
  (SELECT coalesce(json_agg(json_build_object(
            'date', to_char(o.local_date, 'YYYY-MM-DD'), 'timeZone', o.time_zone, 'windows', o.windows
          ) ORDER BY o.local_date), '[]'::json)
     FROM schedule_overrides o
    WHERE o.provider_id = u.id AND o.local_date BETWEEN $4::date AND $5::date) AS overrides,
  ${intervalsOf('availability_windows', 'start_at', 'end_at')} AS one_off,
  ${intervalsOf('time_off', 'start_at', 'end_at')} AS time_off,
  CASE WHEN $6::boolean THEN (
    SELECT coalesce(json_agg(json_build_array(
             (extract(epoch FROM k.blocked_start) * 1000)::bigint, (extract(epoch FROM k.blocked_end) * 1000)::bigint, k.occurrence
           ) ORDER BY k.blocked_start), '[]'::json)
      FROM booking_blocks k JOIN bookings x ON x.id = k.booking_id
     WHERE k.provider_id = u.id AND k.status IN ('held', 'pending', 'confirmed') AND k.blocked_end > $2 AND k.blocked_start < $3
       AND ${liveCondition('x')})
       ELSE '[]'::json END AS busy,
  (SELECT coalesce(json_agg(json_build_object('date', to_char(c.local_date, 'YYYY-MM-DD'), 'recurrence', c.recurrence)), '[]'::json)
     FROM closures c WHERE c.provider_ids IS NULL OR u.id = ANY (c.provider_ids)) AS closures,
  ${intervalsOf('calendar_busy', 'start_at', 'end_at')} AS calendar_busy
FROM users u LEFT JOIN schedules s ON s.provider_id = u.id
WHERE u.id = $1 AND u.deactivated_at IS NULL`;

type Pair = [number | string, number | string];
const toIntervals = (pairs: Pair[]): Interval[] => pairs.map(([s, e]) => ({ start: Number(s), end: Number(e) }));

export async function loadSlotInputs(
  q: Queryable,
  providerId: string,
  range: Interval,
  options: { busy: boolean },
): Promise<SlotInputs | null> {
  const { rows } = await q.query<{
    id: string;
    name: string;
    role: Role;
    time_zone: string;
    schedule_zone: string | null;
    weekly: WeeklyWindow[] | null;
    overrides: DateOverride[];
    one_off: Pair[];
    time_off: Pair[];
    busy: [number | string, number | string, string][];
    closures: Closure[];
    calendar_busy: Pair[];
    version: number;
    db_now: number;
    holds_lapse_at: number | null;
  }>(SQL, [
    providerId,
    new Date(range.start),
    new Date(range.end),
    utcDate(range.start - OVERRIDE_MARGIN_DAYS * DAY_MS),
    utcDate(range.end + OVERRIDE_MARGIN_DAYS * DAY_MS),
    options.busy,
  ]);
  const row = rows[0];
  if (!row) return null;
  return {
    provider: { id: row.id, name: row.name, role: row.role, timeZone: row.time_zone },
    schedule: row.schedule_zone !== null && row.weekly !== null ? { timeZone: row.schedule_zone, weekly: row.weekly } : null,
    overrides: row.overrides,
    oneOff: toIntervals(row.one_off),
    timeOff: toIntervals(row.time_off),
    busy: toIntervals(row.busy.map(([s, e]) => [s, e] as Pair)),
    busyOccurrences: row.busy.map((b) => String(b[2])),
    closures: row.closures,
    calendarBusy: toIntervals(row.calendar_busy),
    version: Number(row.version),
    holdsLapseAt: row.holds_lapse_at === null ? null : Number(row.holds_lapse_at),
    dbNow: Number(row.db_now),
  };
}

/** The cheap question asked before a cached answer is used: the provider's role, version, and the database's now(). */
export async function loadSlotVersion(
  q: Queryable,
  providerId: string,
): Promise<{ role: Role; version: number; dbNow: number } | null> {
  const { rows } = await q.query<{ role: Role; version: number; db_now: number }>(
    `SELECT role, availability_version AS version, (extract(epoch FROM now()) * 1000)::float8 AS db_now FROM users WHERE id = $1 AND deactivated_at IS NULL`,
    [providerId],
  );
  const row = rows[0];
  return row ? { role: row.role, version: Number(row.version), dbNow: Number(row.db_now) } : null;
}

/** loadSlotVersion for several providers in one query: their versions as one string (in the order given), or null if one is missing. */
export async function loadSlotVersions(q: Queryable, providerIds: readonly string[]): Promise<{ versions: string; dbNow: number } | null> {
  const { rows } = await q.query<{ id: string; version: number; db_now: number }>(
    `SELECT id, availability_version AS version, (extract(epoch FROM now()) * 1000)::float8 AS db_now
       FROM users WHERE id = ANY ($1::text[]) AND role = 'provider' AND deactivated_at IS NULL`,
    [providerIds],
  );
  const byId = new Map(rows.map((r) => [r.id, Number(r.version)]));
  if (providerIds.some((id) => !byId.has(id))) return null;
  return { versions: providerIds.map((id) => byId.get(id)).join('.'), dbNow: Number(rows[0]!.db_now) };
}
