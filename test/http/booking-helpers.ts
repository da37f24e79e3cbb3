import { expect } from 'vitest';
import { localToInstant, parseClockTime } from '../../src/domain/zoned-time.js';
import { createUser } from '../helpers/api.js';
import type { TestServer } from '../helpers/server.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The instant (as 'YYYY-MM-DDTHH:MM:SSZ') when the wall clock in `zone` shows `time` on `date`. */
export function localInstant(date: string, time: string, zone = 'Europe/Berlin'): string {
  const minutes = parseClockTime(time, true);
  if (minutes === null) throw new Error(`bad clock time ${time}`);
  return isoUtc(localToInstant(zone, date, minutes));
}

/** Epoch ms -> '2027-03-01T09:00:00Z' (the server's own UTC format). */
export function isoUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** A local date plus n days ('YYYY-MM-DD'). */
export function plusDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export const ms = (instant: string): number => {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) throw new Error(`not an instant: ${instant}`);
  return t;
};

/** A provider working every day, all day (00:00-24:00) in the zone: slots wherever notice allows. */
export async function providerAlwaysOpen(server: TestServer, timeZone = 'Europe/Berlin') {
  const provider = await createUser(server, 'provider', { timeZone });
  const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => ({
    day,
    start: '00:00',
    end: '24:00',
  }));
  const res = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone, weekly });
  expect(res.statusCode, res.body).toBe(200);
  return provider;
}

type Caller = Awaited<ReturnType<typeof createUser>>['call'];

/** POST /v1/bookings with the given fields. */
export function hold(
  call: Caller,
  providerId: string,
  start: string,
  duration?: number,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return call('POST', '/v1/bookings', { providerId, start, ...(duration !== undefined ? { duration } : {}), ...extra }, headers);
}

/** Holds and asserts 201; returns the booking. */
export async function holdOk(call: Caller, providerId: string, start: string, duration?: number, extra: Record<string, unknown> = {}) {
  const res = await hold(call, providerId, start, duration, extra);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Lets a hold lapse by moving its expiry into the past. */
export async function expireHold(server: TestServer, bookingId: string): Promise<void> {
  const { rowCount } = await server.db.query(
    `UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1`,
    [bookingId],
  );
  expect(rowCount).toBe(1);
}

/** The slot starts (epoch ms) for a provider and a query. */
export async function slotStarts(call: Caller, providerId: string, query: string): Promise<number[]> {
  const res = await call('GET', `/v1/slots?providerId=${encodeURIComponent(providerId)}&${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().slots as { start: string }[]).map((s) => ms(s.start));
}

export const STORED_TABLES = ['bookings', 'users', 'schedules', 'api_keys', 'availability_windows', 'schedule_overrides', 'time_off', 'idempotency_keys', 'calendar_feeds'] as const;

/** Row counts and a content hash of the tables a request could change, for "nothing changed" assertions. */
export async function snapshot(server: TestServer): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of STORED_TABLES) {
    const { rows } = await server.db.query<{ n: number; h: string | null }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${table} t`,
    );
    out[table] = `${rows[0]!.n}:${rows[0]!.h}`;
  }
  return out;
}

export async function countBookings(server: TestServer, where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE ${where}`, params);
  return rows[0]!.n;
}

export { idempotencyRequestHash } from '../../src/http/idempotency.js';
