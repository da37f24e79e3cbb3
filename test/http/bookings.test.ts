import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/features/bookings/expiry-sweeper.js';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  expireHold, hold, holdOk, HOUR_MS, localInstant, MINUTE_MS, ms, plusDays, providerAlwaysOpen, slotStarts,
} from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

describe('bookings', () => {
  let server: TestServer;
  let provider: User;
  let alice: User;
  let bob: User;
  const monday = upcomingDate(1);
  const tuesday = plusDays(monday, 1);
  const wednesday = plusDays(monday, 2);
  const thursday = plusDays(monday, 3);
  const friday = plusDays(monday, 4);
  const at = (date: string, time: string) => localInstant(date, time);

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server, 'Europe/Berlin');
  });
  // Fresh clients per test, so no test depends on how many live holds another left behind.
  beforeEach(async () => {
    alice = await createUser(server, 'client');
    bob = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  /** A new provider per test that needs a clean calendar. */
  const freshProvider = () => providerWithHours(server, 'Europe/Berlin');

  describe('POST /v1/bookings (hold)', () => {
    it('holds a slot: 201, status held, expiresAt = createdAt + 30 min, a Location header', async () => {
      const res = await hold(alice.call, provider.id, at(monday, '09:00'), 60, { notes: 'first visit' });
      expect(res.statusCode, res.body).toBe(201);
      const b = res.json();
      expect(b.status).toBe('held');
      expect(typeof b.id).toBe('string');
      expect(b.providerId).toBe(provider.id);
      expect(b.clientId).toBe(alice.id);
      expect(ms(b.start)).toBe(ms(at(monday, '09:00')));
      expect(ms(b.end)).toBe(ms(at(monday, '10:00')));
      expect(b.notes).toBe('first visit');
      expect(b.confirmedAt).toBeUndefined();
      expect(b.cancelledAt).toBeUndefined();
      expect(Math.abs(ms(b.expiresAt) - ms(b.createdAt) - 30 * MINUTE_MS)).toBeLessThanOrEqual(1000);
      expect(Math.abs(ms(b.createdAt) - Date.now())).toBeLessThan(60_000);
      expect(res.headers.location).toBe(`/v1/bookings/${b.id}`);
      const read = await alice.call('GET', res.headers.location as string);
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual(b);
    });

    it('duration defaults to 15 minutes', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(monday, '09:00'));
      expect(ms(b.end) - ms(b.start)).toBe(15 * MINUTE_MS);
    });

    it('the same slot again is a 409 (same client or another)', async () => {
      const p = await freshProvider();
      await holdOk(alice.call, p.id, at(monday, '10:00'), 30);
      expectProblem(await hold(bob.call, p.id, at(monday, '10:00'), 30), 409);
      expectProblem(await hold(alice.call, p.id, at(monday, '10:00'), 30), 409);
    });

    it('an overlapping 60-minute hold is a 409', async () => {
      const p = await freshProvider();
      await holdOk(alice.call, p.id, at(monday, '10:00'), 30);
      expectProblem(await hold(bob.call, p.id, at(monday, '09:45'), 60), 409);
      expectProblem(await hold(bob.call, p.id, at(monday, '10:15'), 60), 409);
      expect(await countFor(p.id)).toBe(1);
    });

    it('back-to-back (touching) holds are both 201', async () => {
      const p = await freshProvider();
      await holdOk(alice.call, p.id, at(monday, '10:00'), 60);
      await holdOk(bob.call, p.id, at(monday, '11:00'), 60);
      await holdOk(bob.call, p.id, at(monday, '09:00'), 60);
    });

    it('the same time with another provider is fine', async () => {
      const p1 = await freshProvider();
      const p2 = await freshProvider();
      await holdOk(alice.call, p1.id, at(monday, '10:00'), 60);
      await holdOk(alice.call, p2.id, at(monday, '10:00'), 60);
    });

    it('an off-grid start (09:05) is a 422', async () => {
      const p = await freshProvider();
      expectProblem(await hold(alice.call, p.id, at(monday, '09:05'), 15), 422);
      expectProblem(await hold(alice.call, p.id, new Date(ms(at(monday, '09:00')) + 30_000).toISOString(), 15), 422);
      expect(await countFor(p.id)).toBe(0);
    });

    it('outside working time is a 422', async () => {
      const p = await freshProvider();
      expectProblem(await hold(alice.call, p.id, at(monday, '08:00'), 60), 422);
      expectProblem(await hold(alice.call, p.id, at(monday, '16:30'), 60), 422); // runs past 17:00
      expectProblem(await hold(alice.call, p.id, at(plusDays(monday, 5), '10:00'), 60), 422); // Saturday
      expect(await countFor(p.id)).toBe(0);
    });

    it('under the minimum notice is a 422', async () => {
      const open = await providerAlwaysOpen(server);
      const soon = Math.ceil((Date.now() + 2 * HOUR_MS) / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
      expectProblem(await hold(alice.call, open.id, new Date(soon).toISOString(), 15), 422);
      const past = Math.floor((Date.now() - 2 * HOUR_MS) / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
      expectProblem(await hold(alice.call, open.id, new Date(past).toISOString(), 15), 422);
      // just over a day ahead is fine
      const later = Math.ceil((Date.now() + 25 * HOUR_MS) / (15 * MINUTE_MS)) * 15 * MINUTE_MS;
      await holdOk(alice.call, open.id, new Date(later).toISOString(), 15);
    });

    it.each([10, 20, 0, -15, 1455, 7.5])('duration %s (not a positive multiple of 15 up to 1440) is a 400', async (duration) => {
      expectProblem(await hold(alice.call, provider.id, at(tuesday, '09:00'), duration), 400);
    });

    it('a string duration is a 400', async () => {
      expectProblem(await alice.call('POST', '/v1/bookings', { providerId: provider.id, start: at(tuesday, '09:00'), duration: '60' }), 400);
    });

    it('an unknown provider is a 404; a client id as provider is a 404', async () => {
      expectProblem(await hold(alice.call, 'usr_nope', at(tuesday, '09:00'), 15), 404);
      expectProblem(await hold(alice.call, bob.id, at(tuesday, '09:00'), 15), 404);
    });

    it('a provider key trying to book is a 403', async () => {
      const other = await freshProvider();
      expectProblem(await hold(provider.call, other.id, at(tuesday, '09:00'), 15), 403);
      expectProblem(await hold(provider.call, provider.id, at(tuesday, '09:00'), 15), 403);
    });

    it('a client may not book for another client (clientId)', async () => {
      const p = await freshProvider();
      expectProblem(await hold(alice.call, p.id, at(tuesday, '09:00'), 15, { clientId: bob.id }), 403);
      expect(await countFor(p.id)).toBe(0);
    });

    it('the admin books with clientId (201) and without it gets a 400', async () => {
      const p = await freshProvider();
      const res = await hold(admin(server), p.id, at(tuesday, '09:00'), 30, { clientId: alice.id });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().clientId).toBe(alice.id);
      expect(res.json().status).toBe('held');
      expectProblem(await hold(admin(server), p.id, at(tuesday, '10:00'), 30), 400);
      // a clientId that is not a client
      expectProblem(await hold(admin(server), p.id, at(tuesday, '10:00'), 30, { clientId: p.id }), 400);
      // alice sees the booking made on her behalf
      expect((await alice.call('GET', `/v1/bookings/${res.json().id}`)).statusCode).toBe(200);
    });

    it('no key is a 401', async () => {
      const res = await server.app.inject({
        method: 'POST', url: '/v1/bookings', headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ providerId: provider.id, start: at(tuesday, '09:00') }),
      });
      expectProblem(res, 401);
    });
  });

  describe('confirm', () => {
    it('confirm is 200 confirmed; again 200 unchanged', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(wednesday, '09:00'), 60);
      const first = await alice.call('POST', `/v1/bookings/${b.id}/confirm`);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json().status).toBe('confirmed');
      expect(typeof first.json().confirmedAt).toBe('string');
      expect(first.json().id).toBe(b.id);
      expect(first.json().start).toBe(b.start);
      const second = await alice.call('POST', `/v1/bookings/${b.id}/confirm`);
      expect(second.statusCode, second.body).toBe(200);
      expect(second.json()).toEqual(first.json());
      // with a JSON content type and an empty body, too
      const third = await alice.call('POST', `/v1/bookings/${b.id}/confirm`, undefined, { 'content-type': 'application/json' });
      expect(third.statusCode, third.body).toBe(200);
      expect(third.json()).toEqual(first.json());
      // a confirmed booking does not expire
      await server.db.query(`UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1`, [b.id]);
      const read = await alice.call('GET', `/v1/bookings/${b.id}`);
      expect(read.json().status).toBe('confirmed');
      expectProblem(await hold(bob.call, p.id, at(wednesday, '09:00'), 60), 409);
    });

    it('after the hold expired: 410, the booking reads expired, and its time is free', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(wednesday, '10:00'), 60);
      await expireHold(server, b.id);
      expectProblem(await alice.call('POST', `/v1/bookings/${b.id}/confirm`), 410);
      const read = await alice.call('GET', `/v1/bookings/${b.id}`);
      expect(read.statusCode).toBe(200);
      expect(read.json().status).toBe('expired');
      const starts = await slotStarts(bob.call, p.id, `from=${wednesday}&to=${wednesday}`);
      expect(starts).toContain(ms(at(wednesday, '10:00')));
      const taken = await holdOk(bob.call, p.id, at(wednesday, '10:00'), 60);
      expect(taken.status).toBe('held');
      // the old one stays expired and still cannot be confirmed
      expectProblem(await alice.call('POST', `/v1/bookings/${b.id}/confirm`), 410);
      expect((await alice.call('GET', `/v1/bookings/${b.id}`)).json().status).toBe('expired');
    });

    it('the provider may not confirm (only its client)', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(wednesday, '11:00'), 15);
      const res = await p.call('POST', `/v1/bookings/${b.id}/confirm`);
      expect([403, 404]).toContain(res.statusCode);
      expectProblem(res, res.statusCode);
      expect((await alice.call('GET', `/v1/bookings/${b.id}`)).json().status).toBe('held');
    });

    it('confirming a cancelled booking is a 409', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(wednesday, '12:00'), 15);
      expect((await alice.call('POST', `/v1/bookings/${b.id}/cancel`, {})).statusCode).toBe(200);
      expectProblem(await alice.call('POST', `/v1/bookings/${b.id}/confirm`), 409);
      expect((await alice.call('GET', `/v1/bookings/${b.id}`)).json().status).toBe('cancelled');
    });

    it('an unknown booking is a 404', async () => {
      expectProblem(await alice.call('POST', '/v1/bookings/bkg_nope/confirm'), 404);
      expectProblem(await alice.call('POST', '/v1/bookings/bkg_nope/cancel', {}), 404);
      expectProblem(await alice.call('GET', '/v1/bookings/bkg_nope'), 404);
    });
  });

  describe('cancel', () => {
    it('cancels a held booking; the time is free at once', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(thursday, '09:00'), 60);
      expect(await slotStarts(bob.call, p.id, `from=${thursday}&to=${thursday}`)).not.toContain(ms(at(thursday, '09:00')));
      const res = await alice.call('POST', `/v1/bookings/${b.id}/cancel`, { reason: 'changed my mind' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('cancelled');
      expect(typeof res.json().cancelledAt).toBe('string');
      expect(await slotStarts(bob.call, p.id, `from=${thursday}&to=${thursday}`)).toContain(ms(at(thursday, '09:00')));
      await holdOk(bob.call, p.id, at(thursday, '09:00'), 60);
    });

    it('cancels a confirmed booking; the time is free at once', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(thursday, '10:00'), 60);
      expect((await alice.call('POST', `/v1/bookings/${b.id}/confirm`)).statusCode).toBe(200);
      const res = await alice.call('POST', `/v1/bookings/${b.id}/cancel`, {});
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('cancelled');
      expect(res.json().confirmedAt).toBeDefined();
      await holdOk(bob.call, p.id, at(thursday, '10:00'), 60);
    });

    it('cancel with no body at all is fine', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(thursday, '11:00'), 15);
      const res = await alice.call('POST', `/v1/bookings/${b.id}/cancel`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('cancelled');
    });

    it('the provider may cancel; cancelling again is 200 unchanged', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(thursday, '12:00'), 30);
      expect((await alice.call('POST', `/v1/bookings/${b.id}/confirm`)).statusCode).toBe(200);
      const first = await p.call('POST', `/v1/bookings/${b.id}/cancel`, { reason: 'ill' });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json().status).toBe('cancelled');
      const again = await p.call('POST', `/v1/bookings/${b.id}/cancel`, {});
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json()).toEqual(first.json());
      const byClient = await alice.call('POST', `/v1/bookings/${b.id}/cancel`, {});
      expect(byClient.statusCode).toBe(200);
      expect(byClient.json()).toEqual(first.json());
    });

    it('another provider cannot cancel (404)', async () => {
      const p = await freshProvider();
      const other = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(thursday, '13:00'), 30);
      expectProblem(await other.call('POST', `/v1/bookings/${b.id}/cancel`, {}), 404);
      expectProblem(await other.call('GET', `/v1/bookings/${b.id}`), 404);
      expect((await alice.call('GET', `/v1/bookings/${b.id}`)).json().status).toBe('held');
    });
  });

  describe('another client\'s booking', () => {
    it('GET, confirm and cancel are all 404 and change nothing', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(friday, '09:00'), 30);
      const g = expectProblem(await bob.call('GET', `/v1/bookings/${b.id}`), 404);
      expect(JSON.stringify(g)).not.toContain(alice.id);
      expectProblem(await bob.call('POST', `/v1/bookings/${b.id}/confirm`), 404);
      expectProblem(await bob.call('POST', `/v1/bookings/${b.id}/cancel`, {}), 404);
      const read = await alice.call('GET', `/v1/bookings/${b.id}`);
      expect(read.json().status).toBe('held');
      expect(read.json()).toEqual(b);
    });

    it('the provider reads its booking', async () => {
      const p = await freshProvider();
      const b = await holdOk(alice.call, p.id, at(friday, '10:00'), 30);
      const res = await p.call('GET', `/v1/bookings/${b.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(b);
    });
  });

  describe('GET /v1/bookings', () => {
    it('lists only the caller\'s own, as client and as provider, sorted by start; filters and pages', async () => {
      const p = await freshProvider();
      const p2 = await freshProvider();
      const carol = await createUser(server, 'client');
      const dave = await createUser(server, 'client');
      const later = plusDays(monday, 7);
      // carol: three with p (out of order), one with p2; dave: one with p
      const c3 = await holdOk(carol.call, p.id, at(later, '15:00'), 60);
      const c1 = await holdOk(carol.call, p.id, at(monday, '09:00'), 60);
      const c2 = await holdOk(carol.call, p.id, at(tuesday, '11:00'), 60);
      const c4 = await holdOk(carol.call, p2.id, at(tuesday, '09:00'), 30);
      const d1 = await holdOk(dave.call, p.id, at(wednesday, '09:00'), 60);
      expect((await carol.call('POST', `/v1/bookings/${c2.id}/confirm`)).statusCode).toBe(200);
      expect((await carol.call('POST', `/v1/bookings/${c4.id}/cancel`, {})).statusCode).toBe(200);
      await expireHold(server, c3.id);

      const carolAll = await carol.call('GET', '/v1/bookings');
      expect(carolAll.statusCode, carolAll.body).toBe(200);
      expect(carolAll.json().nextCursor).toBeNull();
      const ids = (r: { json(): any }) => r.json().data.map((b: { id: string }) => b.id);
      expect(ids(carolAll)).toEqual([c1.id, c4.id, c2.id, c3.id]);
      expect(carolAll.json().data.map((b: { status: string }) => b.status)).toEqual(['held', 'cancelled', 'confirmed', 'expired']);

      const daveAll = await dave.call('GET', '/v1/bookings');
      expect(ids(daveAll)).toEqual([d1.id]);

      const pAll = await p.call('GET', '/v1/bookings');
      expect(ids(pAll)).toEqual([c1.id, c2.id, d1.id, c3.id]);
      const p2All = await p2.call('GET', '/v1/bookings');
      expect(ids(p2All)).toEqual([c4.id]);

      // status filter, including expired (which is stored as held)
      expect(ids(await carol.call('GET', '/v1/bookings?status=expired'))).toEqual([c3.id]);
      expect(ids(await carol.call('GET', '/v1/bookings?status=held'))).toEqual([c1.id]);
      expect(ids(await carol.call('GET', '/v1/bookings?status=confirmed'))).toEqual([c2.id]);
      expect(ids(await carol.call('GET', '/v1/bookings?status=cancelled'))).toEqual([c4.id]);
      expect(ids(await p.call('GET', '/v1/bookings?status=held'))).toEqual([c1.id, d1.id]);
      expectProblem(await carol.call('GET', '/v1/bookings?status=bogus'), 400);

      // from/to: bookings overlapping [from, to)
      const from = encodeURIComponent(at(tuesday, '00:00'));
      const to = encodeURIComponent(at(wednesday, '00:00'));
      expect(ids(await carol.call('GET', `/v1/bookings?from=${from}&to=${to}`))).toEqual([c4.id, c2.id]);
      expect(ids(await carol.call('GET', `/v1/bookings?from=${from}`))).toEqual([c4.id, c2.id, c3.id]);
      expect(ids(await carol.call('GET', `/v1/bookings?to=${to}`))).toEqual([c1.id, c4.id, c2.id]);
      expectProblem(await carol.call('GET', `/v1/bookings?from=${to}&to=${from}`), 400);
      expectProblem(await carol.call('GET', '/v1/bookings?from=tuesday'), 400);

      // limit + cursor
      const page1 = await carol.call('GET', '/v1/bookings?limit=3');
      expect(page1.statusCode).toBe(200);
      expect(ids(page1)).toEqual([c1.id, c4.id, c2.id]);
      expect(typeof page1.json().nextCursor).toBe('string');
      const page2 = await carol.call('GET', `/v1/bookings?limit=3&cursor=${encodeURIComponent(page1.json().nextCursor)}`);
      expect(page2.statusCode, page2.body).toBe(200);
      expect(ids(page2)).toEqual([c3.id]);
      expect(page2.json().nextCursor).toBeNull();
      const one = await carol.call('GET', '/v1/bookings?limit=1');
      expect(ids(one)).toEqual([c1.id]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { statusCode: number; json(): any } = await carol.call(
          'GET', `/v1/bookings?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.statusCode).toBe(200);
        seen.push(...res.json().data.map((b: { id: string }) => b.id));
        cursor = res.json().nextCursor;
      } while (cursor);
      expect(seen).toEqual([c1.id, c4.id, c2.id, c3.id]);
      // limit bounds and a bad cursor
      expectProblem(await carol.call('GET', '/v1/bookings?limit=0'), 400);
      expectProblem(await carol.call('GET', '/v1/bookings?limit=201'), 400);
      expectProblem(await carol.call('GET', '/v1/bookings?cursor=not-a-cursor'), 400);
      expect((await carol.call('GET', '/v1/bookings?limit=200')).statusCode).toBe(200);
    });
  });

  describe('hold lifetime', () => {
    it('HOLD_TTL_SECONDS changes expiresAt', async () => {
      const other = await startTestServer({ HOLD_TTL_SECONDS: '120' });
      try {
        const p = await providerWithHours(other, 'Europe/Berlin');
        const c = await createUser(other, 'client');
        const b = await holdOk(c.call, p.id, at(monday, '09:00'), 15);
        expect(Math.abs(ms(b.expiresAt) - ms(b.createdAt) - 120_000)).toBeLessThanOrEqual(1000);
      } finally {
        await other.close();
      }
    });

    it('the expiry sweeper writes status expired in SQL, and only for lapsed holds', async () => {
      const p = await freshProvider();
      const lapsed = await holdOk(alice.call, p.id, at(friday, '13:00'), 15);
      const live = await holdOk(alice.call, p.id, at(friday, '14:00'), 15);
      const confirmed = await holdOk(alice.call, p.id, at(friday, '15:00'), 15);
      expect((await alice.call('POST', `/v1/bookings/${confirmed.id}/confirm`)).statusCode).toBe(200);
      await expireHold(server, lapsed.id);
      await server.db.query(`UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1`, [confirmed.id]);
      const stored = async (id: string) =>
        (await server.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id])).rows[0]!.status;
      expect(await stored(lapsed.id)).toBe('held'); // lazily expired: reads say expired, the row not yet
      await sweepOnce(server.db);
      expect(await stored(lapsed.id)).toBe('expired');
      expect(await stored(live.id)).toBe('held');
      expect(await stored(confirmed.id)).toBe('confirmed');
      expect((await alice.call('GET', `/v1/bookings/${lapsed.id}`)).json().status).toBe('expired');
      await sweepOnce(server.db); // idempotent
      expect(await stored(lapsed.id)).toBe('expired');
      await holdOk(bob.call, p.id, at(friday, '13:00'), 15);
    });
  });

  async function countFor(providerId: string): Promise<number> {
    const { rows } = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE provider_id = $1', [providerId]);
    return rows[0]!.n;
  }
});
