/**
 * A hold of a time that a live booking already takes is refused before the
 * provider's lock (hold_lock_providers, migrations/016), so the losers of a
 * race do not queue behind the winner; a free time still waits for the lock.
 * PostgreSQL only: the provider's lock is held from a second connection.
 */
import { describe, expect, it } from 'vitest';
import { PROVIDER_LOCK } from '../../src/features/bookings/hold.js';
import { upcomingDate } from '../helpers/api.js';
import { serverWithLocker } from '../helpers/locker.js';
import { ADMIN_KEY } from '../helpers/server.js';

const settledWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe.skipIf(!process.env.TEST_DATABASE_URL)('a taken time is refused before the provider\'s lock', () => {
  const the = serverWithLocker();

  const call = (key: string, method: 'GET' | 'POST' | 'PUT', url: string, body?: object) =>
    the.server.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });
  const user = async (role: string) => {
    const res = await call(ADMIN_KEY, 'POST', '/v1/users', { name: role, email: `${role}-${Math.random().toString(36).slice(2)}@example.com`, role, timeZone: 'UTC' });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().user.id as string, key: res.json().apiKey as string };
  };

  it('a second hold of a held time answers 409 while the lock is held elsewhere; a free time waits for it', async () => {
    const provider = await user('provider');
    const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
    expect((await call(ADMIN_KEY, 'PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'UTC', weekly })).statusCode).toBe(200);
    const [first, second] = [await user('client'), await user('client')];
    const monday = upcomingDate(1);
    const taken = `${monday}T10:00:00Z`;
    expect((await call(first.key, 'POST', '/v1/bookings', { providerId: provider.id, start: taken })).statusCode).toBe(201);

    await the.locker.query('BEGIN');
    await the.locker.query(`SELECT pg_advisory_xact_lock(${PROVIDER_LOCK}, hashtext($1))`, [provider.id]);
    try {
      const refused = call(second.key, 'POST', '/v1/bookings', { providerId: provider.id, start: taken });
      expect(await settledWithin(refused, 3000)).toBe(true);
      expect((await refused).statusCode).toBe(409);
      expect((await refused).json().code).toBe('slot_taken');

      const free = call(second.key, 'POST', '/v1/bookings', { providerId: provider.id, start: `${monday}T11:00:00Z` });
      expect(await settledWithin(free, 500)).toBe(false);
      await the.locker.query('COMMIT');
      expect((await free).statusCode).toBe(201);
    } finally {
      await the.locker.query('ROLLBACK').catch(() => {});
    }
  });
});
