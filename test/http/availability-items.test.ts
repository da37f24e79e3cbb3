import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem, providerWithHours } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectNothingChanged, ms } from './users-availability-helpers.js';

// Fixed dates: availability has no minimum notice. Berlin is +02:00 in June 2027, Tokyo +09:00.
type Call = ReturnType<typeof client>;

describe('availability items read back', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  async function addTimeOff(call: Call, providerId: string, start: string, end: string, reason?: string) {
    const res = await call('POST', `/v1/providers/${providerId}/time-off`, { start, end, ...(reason ? { reason } : {}) });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; start: string; end: string; reason: string | null };
  }

  async function list(call: Call, url: string) {
    const res = await call('GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: any[]; nextCursor: string | null };
  }

  describe('time off', () => {
    it('lists by start, filters by overlapping instants and local dates, pages, and reads one by id', async () => {
      const p = await providerWithHours(server, 'Europe/Berlin');
      // Entered out of order; the list is by start.
      const late = await addTimeOff(p.call, p.id, '2027-06-10T08:00:00Z', '2027-06-10T12:00:00Z', 'dentist');
      const early = await addTimeOff(p.call, p.id, '2027-06-03T22:00:00Z', '2027-06-04T22:00:00Z'); // Berlin: all of 06-04
      const middle = await addTimeOff(p.call, p.id, '2027-06-07T10:00:00+02:00', '2027-06-07T11:00:00+02:00');

      const all = await list(p.call, `/v1/providers/${p.id}/time-off`);
      expect(all.data.map((t) => t.id)).toEqual([early.id, middle.id, late.id]);
      expect(all.nextCursor).toBeNull();
      expect(all.data[2]).toEqual({ id: late.id, start: '2027-06-10T08:00:00Z', end: '2027-06-10T12:00:00Z', reason: 'dentist' });
      expect(all.data[0].reason).toBeNull();

      // Half-open: the early one ends exactly at from, the late one starts exactly at to: neither overlaps.
      const byInstants = await list(p.call, `/v1/providers/${p.id}/time-off?from=2027-06-04T22:00:00Z&to=2027-06-10T08:00:00Z`);
      expect(byInstants.data.map((t) => t.id)).toEqual([middle.id]);

      // Local dates in the provider's zone, `to` inclusive: 06-05 Berlin starts at 06-04T22:00Z, so the early one is out.
      const byDates = await list(p.call, `/v1/providers/${p.id}/time-off?from=2027-06-05&to=2027-06-10`);
      expect(byDates.data.map((t) => t.id)).toEqual([middle.id, late.id]);
      const oneDay = await list(p.call, `/v1/providers/${p.id}/time-off?from=2027-06-04&to=2027-06-04`);
      expect(oneDay.data.map((t) => t.id)).toEqual([early.id]);

      const first = await list(p.call, `/v1/providers/${p.id}/time-off?limit=2`);
      expect(first.data.map((t) => t.id)).toEqual([early.id, middle.id]);
      expect(first.nextCursor).not.toBeNull();
      const second = await list(p.call, `/v1/providers/${p.id}/time-off?limit=2&cursor=${first.nextCursor}`);
      expect(second.data.map((t) => t.id)).toEqual([late.id]);
      expect(second.nextCursor).toBeNull();

      const one = await p.call('GET', `/v1/providers/${p.id}/time-off/${late.id}`);
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual(late);

      expectProblem(await p.call('GET', `/v1/providers/${p.id}/time-off?from=2027-06-10&to=2027-06-01`), 400);
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/time-off?from=2027-02-30`), 400);
    });

    it('is read by the provider itself and an admin only; another provider\'s item is a 404 under one\'s own path', async () => {
      const p = await providerWithHours(server);
      const other = await providerWithHours(server);
      const someClient = await createUser(server, 'client');
      const off = await addTimeOff(p.call, p.id, '2027-06-10T08:00:00Z', '2027-06-10T09:00:00Z');
      const theirs = await addTimeOff(other.call, other.id, '2027-06-10T08:00:00Z', '2027-06-10T09:00:00Z');

      expect((await list(admin(server), `/v1/providers/${p.id}/time-off`)).data.map((t) => t.id)).toEqual([off.id]);
      expect((await admin(server)('GET', `/v1/providers/${p.id}/time-off/${off.id}`)).statusCode).toBe(200);
      for (const url of [`/v1/providers/${p.id}/time-off`, `/v1/providers/${p.id}/time-off/${off.id}`]) {
        expectProblem(await other.call('GET', url), 403);
        expectProblem(await someClient.call('GET', url), 403);
        expectProblem(await client(server, null)('GET', url), 401);
      }
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/time-off/${theirs.id}`), 404);
      expectProblem(await admin(server)('GET', `/v1/providers/usr_nobody/time-off`), 404);
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/time-off/off_nobody`), 404);
    });
  });

  describe('one-off windows', () => {
    it('lists them at /availability-windows and reads one at /availability/{id}, next to the effective /availability', async () => {
      const p = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const add = async (date: string, start: string, end: string) => {
        const res = await p.call('POST', `/v1/providers/${p.id}/availability`, { date, start, end });
        expect(res.statusCode, res.body).toBe(201);
        return res.json() as { id: string; start: string; end: string };
      };
      const second = await add('2027-06-12', '10:00', '12:00');
      const first = await add('2027-06-05', '08:00', '09:00');

      const all = await list(p.call, `/v1/providers/${p.id}/availability-windows`);
      expect(all.data).toEqual([
        { id: first.id, start: '2027-06-05T06:00:00Z', end: '2027-06-05T07:00:00Z' },
        { id: second.id, start: '2027-06-12T08:00:00Z', end: '2027-06-12T10:00:00Z' },
      ]);
      const later = await list(p.call, `/v1/providers/${p.id}/availability-windows?from=2027-06-06`);
      expect(later.data.map((w) => w.id)).toEqual([second.id]);

      const one = await p.call('GET', `/v1/providers/${p.id}/availability/${first.id}`);
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual(all.data[0]);
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/availability/win_nobody`), 404);

      // The effective-time route is untouched by the new parameterised one.
      const effective = await p.call('GET', `/v1/providers/${p.id}/availability?from=2027-06-05&to=2027-06-05`);
      expect(effective.statusCode, effective.body).toBe(200);
      expect(effective.json().windows).toEqual([{ start: '2027-06-05T06:00:00Z', end: '2027-06-05T07:00:00Z' }]);
    });
  });

  describe('overrides', () => {
    it('lists them by date within from..to (inclusive) and reads one by date', async () => {
      const p = await providerWithHours(server, 'Europe/Berlin');
      const put = async (date: string, windows: { start: string; end: string }[]) => {
        const res = await p.call('PUT', `/v1/providers/${p.id}/overrides/${date}`, { windows });
        expect(res.statusCode, res.body).toBe(200);
      };
      await put('2027-06-09', [{ start: '10:00', end: '12:00' }]);
      await put('2027-06-02', []);
      await put('2027-06-20', [{ start: '22:00', end: '02:00' }]);

      const all = await list(p.call, `/v1/providers/${p.id}/overrides`);
      expect(all.data.map((o) => o.date)).toEqual(['2027-06-02', '2027-06-09', '2027-06-20']);
      expect(all.data[0]).toEqual({ date: '2027-06-02', timeZone: 'Europe/Berlin', windows: [] });

      const june = await list(p.call, `/v1/providers/${p.id}/overrides?from=2027-06-09&to=2027-06-20`);
      expect(june.data.map((o) => o.date)).toEqual(['2027-06-09', '2027-06-20']);
      const paged = await list(p.call, `/v1/providers/${p.id}/overrides?limit=1&from=2027-06-03`);
      expect(paged.data.map((o) => o.date)).toEqual(['2027-06-09']);
      const rest = await list(p.call, `/v1/providers/${p.id}/overrides?limit=1&from=2027-06-03&cursor=${paged.nextCursor}`);
      expect(rest.data.map((o) => o.date)).toEqual(['2027-06-20']);
      expect(rest.nextCursor).toBeNull();

      const one = await p.call('GET', `/v1/providers/${p.id}/overrides/2027-06-20`);
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual({ date: '2027-06-20', timeZone: 'Europe/Berlin', windows: [{ start: '22:00', end: '02:00' }] });
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/overrides/2027-06-21`), 404);
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/overrides/2027-02-30`), 400);
      expectProblem(await p.call('GET', `/v1/providers/${p.id}/overrides?from=2027-06-21T00:00:00Z`), 400);
      expectProblem(await (await createUser(server, 'client')).call('GET', `/v1/providers/${p.id}/overrides`), 403);
    });
  });

  describe('PATCH schedule', () => {
    async function versionAndEvents(providerId: string) {
      const { rows } = await server.db.query<{ v: number; n: number }>(
        `SELECT availability_version AS v,
                (SELECT count(*)::int FROM events WHERE provider_id = $1 AND type = 'availability.changed') AS n
           FROM users WHERE id = $1`,
        [providerId],
      );
      return rows[0]!;
    }

    it('changes only the zone: the weekly hours are the same wall-clock times in the new zone, and the version moves', async () => {
      const p = await providerWithHours(server, 'Europe/Berlin');
      const before = (await p.call('GET', `/v1/providers/${p.id}/schedule`)).json();
      const counters = await versionAndEvents(p.id);

      const res = await p.call('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'Asia/Tokyo' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ providerId: p.id, timeZone: 'Asia/Tokyo', weekly: before.weekly });
      expect((await p.call('GET', `/v1/providers/${p.id}/schedule`)).json()).toMatchObject({ timeZone: 'Asia/Tokyo', weekly: before.weekly });

      // One version step and one availability.changed event (what caches and the live stream follow).
      expect(await versionAndEvents(p.id)).toEqual({ v: counters.v + 1, n: counters.n + 1 });

      // 2027-06-07 is a Monday: 09:00-17:00 Tokyo is 00:00-08:00Z.
      const eff = await p.call('GET', `/v1/providers/${p.id}/availability?from=2027-06-07&to=2027-06-07`);
      expect(eff.json().windows.map((w: any) => [ms(w.start), ms(w.end)])).toEqual([[ms('2027-06-07T00:00:00Z'), ms('2027-06-07T08:00:00Z')]]);
    });

    it('a provider without hours gets an empty schedule in that zone; an admin may patch, others may not; bad zones change nothing', async () => {
      const p = await createUser(server, 'provider', { timeZone: 'UTC' });
      const res = await admin(server)('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'america/new_york' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ timeZone: 'America/New_York', weekly: [] });

      const someClient = await createUser(server, 'client');
      await expectNothingChanged(server, async () => {
        expectProblem(await someClient.call('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC' }), 403);
        expectProblem(await p.call('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'Mars/Olympus' }), 400);
        expectProblem(await p.call('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly: [] }), 400);
        expectProblem(await p.call('PATCH', `/v1/providers/${p.id}/schedule`, {}), 400);
        expectProblem(await admin(server)('PATCH', '/v1/providers/usr_nobody/schedule', { timeZone: 'UTC' }), 404);
      });
    });
  });
});
