/**
 * The hold's locks since migration 017 (the providers' locks and the
 * provider's availability bump inside the insert's statement), held from a
 * second connection. PostgreSQL only.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_LOCK, PROVIDER_LOCK } from '../../src/features/bookings/hold.js';
import { admin, createUser, upcomingDate } from '../helpers/api.js';
import { serverWithLocker } from '../helpers/locker.js';

const settledWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe.skipIf(!process.env.TEST_DATABASE_URL)('the hold\'s locks, one round trip', () => {
  const the = serverWithLocker();

  const provider = async () => {
    const p = await createUser(the.server, 'provider', { timeZone: 'UTC' });
    const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
    expect((await admin(the.server)('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly })).statusCode).toBe(200);
    return p;
  };
  /** Advisory locks of one namespace (two-key form) in this test's database. */
  const advisoryLocks = async (namespace: number) => (await the.locker.query<{ granted: boolean }>(
    `SELECT granted FROM pg_locks
      WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [namespace],
  )).rows;
  /** Runs `body` while the locker's open transaction holds the advisory lock (namespace, key); rolls back after. */
  const whileLocked = async (namespace: number, key: string, body: () => Promise<void>) => {
    await the.locker.query('BEGIN');
    await the.locker.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [namespace, key]);
    try {
      await body();
    } finally {
      await the.locker.query('ROLLBACK').catch(() => {});
    }
  };

  /** The locker bumps the provider's row as a cancel would: it must not wait for the hold; then the hold gets its 201. */
  const bumpWithoutWaitingThenCommit = async (providerId: string, held: Promise<{ statusCode: number; body: string }>) => {
    const bump = the.locker.query('UPDATE users SET availability_version = availability_version + 1 WHERE id = $1', [providerId]);
    expect(await settledWithin(bump, 500)).toBe(true);
    await bump;
    await the.locker.query('COMMIT');
    const answer = await held;
    expect(answer.statusCode, answer.body).toBe(201);
  };

  it('the client\'s lock comes first: while it is held elsewhere the hold waits, no provider\'s lock taken', async () => {
    const p = await provider();
    const c = await createUser(the.server, 'client');
    await whileLocked(CLIENT_LOCK, c.id, async () => {
      const held = c.call('POST', '/v1/bookings', { providerId: p.id, start: `${upcomingDate(1)}T10:00:00Z` });
      expect(await settledWithin(held, 500)).toBe(false);
      expect(await advisoryLocks(CLIENT_LOCK)).toEqual(expect.arrayContaining([{ granted: false }]));
      expect(await advisoryLocks(PROVIDER_LOCK)).toEqual([]);
      await the.locker.query('COMMIT');
      expect((await held).statusCode).toBe(201);
    });
  });

  // The insert's statement takes the provider's lock first and bumps the provider's row after it; the other
  // way round, a hold waiting for the lock would keep the row from the lock's holder, which bumps it too.
  it('a hold waiting for the provider\'s lock (in its insert\'s statement) does not hold the provider\'s row yet', async () => {
    const p = await provider();
    const c = await createUser(the.server, 'client');
    await whileLocked(PROVIDER_LOCK, p.id, async () => {
      const held = c.call('POST', '/v1/bookings', { providerId: p.id, start: `${upcomingDate(3)}T10:00:00Z` });
      expect(await settledWithin(held, 500)).toBe(false);
      await bumpWithoutWaitingThenCommit(p.id, held);
    });
  });

  // A cancel takes no provider's lock: it changes the booking (and its blocks), then bumps the provider's
  // availability version. A hold of the same time must wait for it before locking the provider's users row
  // (in the insert's statement since migration 017), or the two deadlock (40P01: a 500 or a failed cancel).
  // A type with limits: its holds are not refused before the locks (a v1 hold would answer 409 at once).
  it('an event-type hold of a time being cancelled waits for the cancel without holding the provider\'s row: 201, no deadlock', async () => {
    const p = await provider();
    const type = await p.call('POST', '/v1/event-types', {
      slug: `order-${Date.now()}`, title: 'Visit', durations: [30], minimumNotice: 0, limits: { perDay: 5 },
    });
    expect(type.statusCode, type.body).toBe(201);
    const start = `${upcomingDate(2)}T10:00:00Z`;
    const [first, second] = [await createUser(the.server, 'client'), await createUser(the.server, 'client')];
    const taken = await first.call('POST', '/v1/bookings', { eventTypeId: type.json().id, start, duration: 30 });
    expect(taken.statusCode, taken.body).toBe(201);

    await the.locker.query('BEGIN');
    try {
      await the.locker.query("UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE id = $1", [taken.json().id]);
      const held = second.call('POST', '/v1/bookings', { eventTypeId: type.json().id, start, duration: 30 });
      expect(await settledWithin(held, 500)).toBe(false);
      // The cancel's bump: it would wait on the hold's row lock (deadlock_timeout 1 s, then one of them dies).
      await bumpWithoutWaitingThenCommit(p.id, held);
    } finally {
      await the.locker.query('ROLLBACK').catch(() => {});
    }
  });
});
