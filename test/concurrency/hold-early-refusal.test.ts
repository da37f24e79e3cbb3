/**
 * A hold of a time that a live booking already takes is refused before the
 * provider's lock (hold_lock_providers, migrations/016), so the losers of a
 * race do not queue behind the winner; a free time still waits for the lock.
 * And, once the taken time is committed, before the hold's transaction (the
 * route's read sees it, migrations/018): not even the client's lock is waited for.
 * PostgreSQL only: the locks are held from a second connection.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_LOCK, PROVIDER_LOCK } from '../../src/features/bookings/hold.js';
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

  /** A provider (UTC, weekdays 09:00-17:00) whose next Monday at `time` a first client holds, and a second client. */
  const heldByAnother = async (time: string) => {
    const provider = await user('provider');
    const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
    expect((await call(ADMIN_KEY, 'PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'UTC', weekly })).statusCode).toBe(200);
    const [first, second] = [await user('client'), await user('client')];
    const monday = upcomingDate(1);
    const taken = `${monday}T${time}:00Z`;
    expect((await call(first.key, 'POST', '/v1/bookings', { providerId: provider.id, start: taken })).statusCode).toBe(201);
    return { provider, second, monday, taken };
  };

  // The provider's lock: refused by hold_lock_providers (in the insert's statement); the client's
  // lock, which the transaction takes first: refused by the route's read, before any transaction.
  it.each([
    { lock: 'the provider\'s', namespace: PROVIDER_LOCK, whose: 'provider' },
    { lock: 'the client\'s own', namespace: CLIENT_LOCK, whose: 'client' },
  ] as const)('a hold of a held time answers 409 while $lock lock is held elsewhere; a free time waits for it', async ({ namespace, whose }) => {
    const { provider, second, monday, taken } = await heldByAnother('10:00');

    await the.locker.query('BEGIN');
    await the.locker.query(`SELECT pg_advisory_xact_lock(${namespace}, hashtext($1))`, [whose === 'provider' ? provider.id : second.id]);
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

  it('an event type\'s hold of a held time answers 409 while the client\'s own lock is held elsewhere', async () => {
    const { provider, second, monday } = await heldByAnother('10:00');
    const created = await call(provider.key, 'POST', '/v1/event-types', { slug: `early-${Date.now()}`, title: 'Visit', durations: [30], minimumNotice: 0 });
    expect(created.statusCode, created.body).toBe(201);
    const eventTypeId = created.json().id as string;

    await the.locker.query('BEGIN');
    await the.locker.query(`SELECT pg_advisory_xact_lock(${CLIENT_LOCK}, hashtext($1))`, [second.id]);
    try {
      // The time of the v1 hold: the provider's time, whichever kind of booking took it.
      const refused = call(second.key, 'POST', '/v1/bookings', { eventTypeId, start: `${monday}T10:00:00Z` });
      expect(await settledWithin(refused, 3000)).toBe(true);
      expect((await refused).statusCode).toBe(409);
      expect((await refused).json().code).toBe('slot_taken');
    } finally {
      await the.locker.query('ROLLBACK').catch(() => {});
    }
  });
});
