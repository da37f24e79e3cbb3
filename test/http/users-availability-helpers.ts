import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';

/**
 * Helpers shared by users.test.ts, api-keys.test.ts and availability.test.ts.
 * They read the database directly, so "bad input changed nothing" is checked
 * on the stored rows, not only through the API.
 */

/** A unique e-mail address for one test. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Math.random().toString(36).slice(2)}@example.test`;
}

/** Every row of a table, as JSON text, in a stable order: a fingerprint to compare before and after. */
export async function tableSnapshot(server: TestServer, table: string, orderBy = 'id'): Promise<string> {
  const { rows } = await server.db.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`);
  return JSON.stringify(rows);
}

/** The stored state of every table that users, keys and availability write. */
export async function storedState(server: TestServer): Promise<Record<string, string>> {
  return {
    users: await tableSnapshot(server, 'users'),
    api_keys: await tableSnapshot(server, 'api_keys'),
    schedules: await tableSnapshot(server, 'schedules', 'provider_id'),
    availability_windows: await tableSnapshot(server, 'availability_windows'),
    schedule_overrides: await tableSnapshot(server, 'schedule_overrides', 'provider_id, local_date'),
    time_off: await tableSnapshot(server, 'time_off'),
  };
}

/** Runs `action` and asserts that no stored row changed. */
export async function expectNothingChanged<T>(server: TestServer, action: () => Promise<T>): Promise<T> {
  const before = await storedState(server);
  const result = await action();
  const after = await storedState(server);
  expect(after).toEqual(before);
  return result;
}

export async function countRows(server: TestServer, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return rows[0]!.n;
}

/** Compare instants, not strings. */
export function ms(instant: string): number {
  const t = Date.parse(instant);
  expect(Number.isNaN(t), `not an instant: ${instant}`).toBe(false);
  return t;
}

export interface WindowOut {
  start: string;
  end: string;
}

/** Windows as [startMs, endMs] pairs. */
export function spans(windows: WindowOut[]): [number, number][] {
  return windows.map((w) => [ms(w.start), ms(w.end)]);
}

/** The RFC 3339 offset suffix of an instant string: 'Z', '+02:00', '-04:00'. */
export function offsetOf(instant: string): string {
  const m = /(Z|[+-]\d{2}:\d{2})$/i.exec(instant);
  expect(m, `no offset in ${instant}`).not.toBeNull();
  return m![1]!.toUpperCase();
}
