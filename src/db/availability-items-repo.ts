import type { DateOverride } from '../domain/schedule.js';
import type { Interval } from '../domain/intervals.js';
import type { Queryable } from './database.js';

/**
 * Reads of a provider's stored availability items, one by id or a page of
 * them. Writes live in availability-repo.ts.
 */

export interface IntervalItem extends Interval {
  id: string;
  /** time_off only; null elsewhere. */
  reason: string | null;
}

export interface IntervalPage {
  /** Items overlapping [from, to) (either end open when null), by (start, id) after `after`. */
  from: number | null;
  to: number | null;
  after: { start: number; id: string } | null;
  limit: number;
}

type IntervalTable = 'availability_windows' | 'time_off';

interface IntervalRow {
  id: string;
  start_at: Date;
  end_at: Date;
  reason: string | null;
}

const columns = (table: IntervalTable) => `id, start_at, end_at, ${table === 'time_off' ? 'reason' : 'NULL::text AS reason'}`;
const toItem = (r: IntervalRow): IntervalItem => ({ id: r.id, start: r.start_at.getTime(), end: r.end_at.getTime(), reason: r.reason });

export async function listIntervalItems(q: Queryable, table: IntervalTable, providerId: string, page: IntervalPage): Promise<IntervalItem[]> {
  const { rows } = await q.query<IntervalRow>(
    `SELECT ${columns(table)} FROM ${table}
      WHERE provider_id = $1
        AND ($2::timestamptz IS NULL OR end_at > $2)
        AND ($3::timestamptz IS NULL OR start_at < $3)
        AND ($4::timestamptz IS NULL OR (start_at, id) > ($4::timestamptz, $5::text))
      ORDER BY start_at, id LIMIT $6`,
    [
      providerId,
      page.from === null ? null : new Date(page.from),
      page.to === null ? null : new Date(page.to),
      page.after === null ? null : new Date(page.after.start),
      page.after?.id ?? null,
      page.limit,
    ],
  );
  return rows.map(toItem);
}

export async function findIntervalItem(q: Queryable, table: IntervalTable, providerId: string, id: string): Promise<IntervalItem | null> {
  const { rows } = await q.query<IntervalRow>(`SELECT ${columns(table)} FROM ${table} WHERE provider_id = $1 AND id = $2`, [providerId, id]);
  return rows[0] ? toItem(rows[0]) : null;
}

interface OverrideRow {
  date: string;
  time_zone: string;
  windows: DateOverride['windows'];
}

/** Overrides with from <= date <= to (either end open when null), by date, after `after`. */
export async function listOverrides(
  q: Queryable,
  providerId: string,
  page: { from: string | null; to: string | null; after: string | null; limit: number },
): Promise<DateOverride[]> {
  const { rows } = await q.query<OverrideRow>(
    `SELECT to_char(local_date, 'YYYY-MM-DD') AS date, time_zone, windows FROM schedule_overrides
      WHERE provider_id = $1
        AND ($2::date IS NULL OR local_date >= $2::date)
        AND ($3::date IS NULL OR local_date <= $3::date)
        AND ($4::date IS NULL OR local_date > $4::date)
      ORDER BY local_date LIMIT $5`,
    [providerId, page.from, page.to, page.after, page.limit],
  );
  return rows.map((r) => ({ date: r.date, timeZone: r.time_zone, windows: r.windows }));
}

export async function findOverride(q: Queryable, providerId: string, date: string): Promise<DateOverride | null> {
  const rows = await listOverrides(q, providerId, { from: date, to: date, after: null, limit: 1 });
  return rows[0] ?? null;
}

/**
 * Changes only the schedule's zone; the weekly wall-clock hours stay as they
 * are. A provider without a schedule gets an empty one in that zone.
 */
export async function setScheduleZone(q: Queryable, providerId: string, timeZone: string): Promise<void> {
  await q.query(
    `INSERT INTO schedules (provider_id, time_zone, weekly) VALUES ($1, $2, '[]'::jsonb)
     ON CONFLICT (provider_id) DO UPDATE SET time_zone = EXCLUDED.time_zone, updated_at = now()`,
    [providerId, timeZone],
  );
}
