import type { DateOverride, WeeklyWindow } from '../domain/schedule.js';
import type { Interval } from '../domain/intervals.js';
import type { Queryable } from './database.js';

export interface ScheduleRecord {
  providerId: string;
  timeZone: string;
  weekly: WeeklyWindow[];
  updatedAt: Date;
}

export async function upsertSchedule(q: Queryable, s: Omit<ScheduleRecord, 'updatedAt'>): Promise<ScheduleRecord> {
  const { rows } = await q.query<{ updated_at: Date }>(
    `INSERT INTO schedules (provider_id, time_zone, weekly) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (provider_id) DO UPDATE SET time_zone = EXCLUDED.time_zone, weekly = EXCLUDED.weekly, updated_at = now()
     RETURNING updated_at`,
    [s.providerId, s.timeZone, JSON.stringify(s.weekly)],
  );
  return { ...s, updatedAt: rows[0]!.updated_at };
}

export async function findSchedule(q: Queryable, providerId: string): Promise<ScheduleRecord | null> {
  const { rows } = await q.query<{ time_zone: string; weekly: WeeklyWindow[]; updated_at: Date }>(
    'SELECT time_zone, weekly, updated_at FROM schedules WHERE provider_id = $1',
    [providerId],
  );
  const row = rows[0];
  return row ? { providerId, timeZone: row.time_zone, weekly: row.weekly, updatedAt: row.updated_at } : null;
}

export async function insertOneOffWindow(q: Queryable, w: { id: string; providerId: string } & Interval): Promise<void> {
  await q.query('INSERT INTO availability_windows (id, provider_id, start_at, end_at) VALUES ($1, $2, $3, $4)', [
    w.id, w.providerId, new Date(w.start), new Date(w.end),
  ]);
}

/** Deletes a row of one of the provider's interval tables; false when it was not theirs or not there. */
export async function deleteProviderRow(
  q: Queryable,
  table: 'availability_windows' | 'time_off',
  providerId: string,
  id: string,
): Promise<boolean> {
  const { rowCount } = await q.query(`DELETE FROM ${table} WHERE id = $1 AND provider_id = $2`, [id, providerId]);
  return rowCount === 1;
}

export interface TimeOffRecord extends Interval {
  id: string;
  reason: string | null;
}

export async function insertTimeOff(q: Queryable, t: { providerId: string } & TimeOffRecord): Promise<void> {
  await q.query('INSERT INTO time_off (id, provider_id, start_at, end_at, reason) VALUES ($1, $2, $3, $4, $5)', [
    t.id, t.providerId, new Date(t.start), new Date(t.end), t.reason,
  ]);
}

export async function upsertOverride(q: Queryable, providerId: string, o: DateOverride): Promise<void> {
  await q.query(
    `INSERT INTO schedule_overrides (provider_id, local_date, time_zone, windows) VALUES ($1, $2::date, $3, $4::jsonb)
     ON CONFLICT (provider_id, local_date) DO UPDATE
       SET time_zone = EXCLUDED.time_zone, windows = EXCLUDED.windows, updated_at = now()`,
    [providerId, o.date, o.timeZone, JSON.stringify(o.windows)],
  );
}

export async function deleteOverride(q: Queryable, providerId: string, date: string): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM schedule_overrides WHERE provider_id = $1 AND local_date = $2::date', [
    providerId, date,
  ]);
  return rowCount === 1;
}

