// Seeding through the public API (as an administrator), shared by the HTTP and contention benches.
import { ADMIN_KEY, expectStatus, pool, request, type Reply } from './proc.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

export interface Account { id: string; key: string }

export async function createUser(base: string, role: 'provider' | 'client', name: string, timeZone = 'UTC'): Promise<Account> {
  const r = await expectStatus(201, `${base}/v1/users`, {
    method: 'POST', key: ADMIN_KEY,
    body: { name, email: `${name}-${Math.random().toString(36).slice(2, 10)}@bench.example`, role, timeZone },
  });
  return { id: r.json.user.id, key: r.json.apiKey };
}

export function createUsers(base: string, role: 'provider' | 'client', prefix: string, n: number, timeZone?: string): Promise<Account[]> {
  return pool(Array.from({ length: n }, (_, i) => () => createUser(base, role, `${prefix}${i}`, timeZone)), 16);
}

/** Weekly hours on the given days (default every day). */
export async function putSchedule(base: string, providerId: string, timeZone: string, start: string, end: string, days = WEEKDAYS): Promise<void> {
  await expectStatus(200, `${base}/v1/providers/${providerId}/schedule`, {
    method: 'PUT', key: ADMIN_KEY, body: { timeZone, weekly: days.map((day) => ({ day, start, end })) },
  });
}

export function hold(base: string, clientKey: string, providerId: string, startIso: string, maxSockets?: number): Promise<Reply> {
  return request(`${base}/v1/bookings`, { method: 'POST', key: clientKey, body: { providerId, start: startIso }, maxSockets });
}

/** YYYY-MM-DD of the first day `weekday` (0 = Sunday .. 6) at least `minDays` days after now (UTC dates). */
export function dateAhead(minDays: number, weekday?: number): string {
  const d = new Date(Date.now() + minDays * 86_400_000);
  while (weekday !== undefined && d.getUTCDay() !== weekday) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export const addDaysIso = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * One provider in Berlin, Mon-Fri 09:00-17:00, and one client to read its slots: the URL of
 * its 7 days from a Monday at least 3 days ahead (what tables 8 and 9 read under load).
 */
export async function seedWeekReader(base: string, name: string): Promise<{ url: string; readerKey: string }> {
  const provider = await createUser(base, 'provider', `${name}-provider`, 'Europe/Berlin');
  await putSchedule(base, provider.id, 'Europe/Berlin', '09:00', '17:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']);
  const monday = dateAhead(3, 1);
  const [reader] = await createUsers(base, 'client', `${name}-reader`, 1);
  return { url: `${base}/v1/slots?providerId=${provider.id}&from=${monday}&to=${addDaysIso(monday, 6)}`, readerKey: reader!.key };
}
