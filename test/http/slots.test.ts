import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  DAY_MS, expireHold, holdOk, localInstant, MINUTE_MS, ms, plusDays, providerAlwaysOpen, slotStarts,
} from './booking-helpers.js';

const ZONE = 'Europe/Berlin';

describe('GET /v1/slots', () => {
  let server: TestServer;
  let provider: Awaited<ReturnType<typeof providerWithHours>>;
  let client: Awaited<ReturnType<typeof createUser>>;
  const monday = upcomingDate(1);
  const friday = plusDays(monday, 4);
  const saturday = plusDays(monday, 5);

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server, ZONE);
    client = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  const url = (query: string, providerId = provider.id) => `/v1/slots?providerId=${encodeURIComponent(providerId)}&${query}`;

  describe('duration', () => {
    it('defaults to 15 minutes: 32 slots 09:00..16:45 on a working day', async () => {
      const res = await client.call('GET', url(`from=${monday}&to=${monday}`));
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.providerId).toBe(provider.id);
      expect(body.duration).toBe(15);
      expect(body.slots).toHaveLength(32);
      expect(ms(body.slots[0].start)).toBe(ms(localInstant(monday, '09:00')));
      expect(ms(body.slots.at(-1).start)).toBe(ms(localInstant(monday, '16:45')));
      expect(ms(body.slots.at(-1).end)).toBe(ms(localInstant(monday, '17:00')));
      for (const s of body.slots) {
        expect(ms(s.end) - ms(s.start)).toBe(15 * MINUTE_MS);
        expect(s.start).toMatch(/Z$/); // UTC unless timeZone asks otherwise
      }
      // ascending, one every 15 minutes
      const starts = body.slots.map((s: { start: string }) => ms(s.start));
      starts.slice(1).forEach((t: number, i: number) => expect(t - starts[i]).toBe(15 * MINUTE_MS));
    });

    it('60 minutes: 29 slots, every 15 minutes, 09:00..16:00', async () => {
      const res = await client.call('GET', url(`from=${monday}&to=${monday}&duration=60`));
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.duration).toBe(60);
      expect(body.slots).toHaveLength(29);
      expect(ms(body.slots[0].start)).toBe(ms(localInstant(monday, '09:00')));
      expect(ms(body.slots.at(-1).start)).toBe(ms(localInstant(monday, '16:00')));
      for (const s of body.slots) expect(ms(s.end) - ms(s.start)).toBe(60 * MINUTE_MS);
    });

    it('45 minutes is a multiple of 15 and fine: 30 slots 09:00..16:15', async () => {
      const res = await client.call('GET', url(`from=${monday}&to=${monday}&duration=45`));
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.duration).toBe(45);
      expect(body.slots).toHaveLength(30);
      expect(ms(body.slots.at(-1).start)).toBe(ms(localInstant(monday, '16:15')));
    });

    it.each(['0', '10', '1445', 'abc', '-15', '15.5', '1455'])('duration=%s is a 400', async (duration) => {
      const res = await client.call('GET', url(`from=${monday}&to=${monday}&duration=${duration}`));
      expectProblem(res, 400);
    });

    it('duration=1440 (a whole day) is allowed, and finds nothing in an 8-hour day', async () => {
      const res = await client.call('GET', url(`from=${monday}&to=${monday}&duration=1440`));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().slots).toEqual([]);
    });
  });

  describe('from and to', () => {
    it('local dates: to is inclusive; weekends have nothing', async () => {
      const week = await slotStarts(client.call, provider.id, `from=${monday}&to=${friday}`);
      expect(week).toHaveLength(5 * 32);
      expect(week[0]).toBe(ms(localInstant(monday, '09:00')));
      expect(week.at(-1)).toBe(ms(localInstant(friday, '16:45')));
      const fridayOnly = await slotStarts(client.call, provider.id, `from=${friday}&to=${friday}`);
      expect(fridayOnly).toHaveLength(32);
      const weekend = await slotStarts(client.call, provider.id, `from=${saturday}&to=${plusDays(saturday, 1)}`);
      expect(weekend).toEqual([]);
    });

    it('instants: slots lie wholly inside [from, to)', async () => {
      const from = localInstant(monday, '10:05');
      const to = localInstant(monday, '11:20');
      const starts = await slotStarts(client.call, provider.id, `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      // 10:15, 10:30, 10:45, 11:00 (11:00-11:15 ends before 11:20; 11:15-11:30 does not fit)
      expect(starts).toEqual(['10:15', '10:30', '10:45', '11:00'].map((t) => ms(localInstant(monday, t))));
    });

    it('instants with an offset are read as the instants they name', async () => {
      // 09:00 Berlin written in New York time
      const fromUtc = ms(localInstant(monday, '09:00'));
      const ny = new Date(fromUtc - 6 * 3600_000).toISOString().slice(0, 19) + '-06:00';
      const starts = await slotStarts(
        client.call, provider.id,
        `from=${encodeURIComponent(ny)}&to=${encodeURIComponent(localInstant(monday, '10:00'))}`,
      );
      expect(starts).toEqual(['09:00', '09:15', '09:30', '09:45'].map((t) => ms(localInstant(monday, t))));
    });

    it('from after to is a 400', async () => {
      expectProblem(await client.call('GET', url(`from=${friday}&to=${monday}`)), 400);
      const a = encodeURIComponent(localInstant(monday, '12:00'));
      const b = encodeURIComponent(localInstant(monday, '11:00'));
      expectProblem(await client.call('GET', url(`from=${a}&to=${b}`)), 400);
    });

    it('a range of 93 days is fine, 94 days is a 400 (instants)', async () => {
      const start = ms(localInstant(monday, '00:00'));
      const from = encodeURIComponent(new Date(start).toISOString());
      const ok = encodeURIComponent(new Date(start + 93 * DAY_MS).toISOString());
      const tooLong = encodeURIComponent(new Date(start + 94 * DAY_MS).toISOString());
      const res = await client.call('GET', url(`from=${from}&to=${ok}`));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().slots.length).toBeGreaterThan(0);
      expectProblem(await client.call('GET', url(`from=${from}&to=${tooLong}`)), 400);
    });

    it('a range of 93 local days is fine, 94 is a 400 (dates, to inclusive, across a DST change)', async () => {
      // 2030-10-01 .. 2031-01-01 inclusive is 93 local days and contains Berlin's fall-back night.
      const ok = await client.call('GET', url('from=2030-10-01&to=2031-01-01'));
      expect(ok.statusCode, ok.body).toBe(200);
      expectProblem(await client.call('GET', url('from=2030-10-01&to=2031-01-02')), 400);
      // and with the dates of this test's upcoming Monday
      const res = await client.call('GET', url(`from=${monday}&to=${plusDays(monday, 92)}`));
      expect(res.statusCode, res.body).toBe(200);
      expectProblem(await client.call('GET', url(`from=${monday}&to=${plusDays(monday, 93)}`)), 400);
    });

    it.each([
      ['from=2027-02-30&to=2027-03-01', 'an impossible date'],
      ['from=yesterday&to=2027-03-01', 'a word'],
      ['from=2027-03-01T09:00:00&to=2027-03-02', 'an instant without offset'],
      ['to=2027-03-01', 'a missing from'],
      ['from=2027-03-01', 'a missing to'],
    ])('%s (%s) is a 400', async (query) => {
      expectProblem(await client.call('GET', url(query)), 400);
    });

    it('missing providerId is a 400', async () => {
      expectProblem(await client.call('GET', `/v1/slots?from=${monday}&to=${monday}`), 400);
    });
  });

  describe('provider and zone', () => {
    it('an unknown provider is a 404', async () => {
      expectProblem(await client.call('GET', url(`from=${monday}&to=${monday}`, 'usr_doesnotexist')), 404);
    });

    it('a client\'s id is not a provider: 404', async () => {
      expectProblem(await client.call('GET', url(`from=${monday}&to=${monday}`, client.id)), 404);
    });

    it('an unknown timeZone is a 400', async () => {
      expectProblem(await client.call('GET', url(`from=${monday}&to=${monday}&timeZone=Mars/Olympus_Mons`)), 400);
      expectProblem(await client.call('GET', url(`from=${monday}&to=${monday}&timeZone=%2B01:00`)), 400);
    });

    it('no key is a 401', async () => {
      const res = await server.app.inject({ method: 'GET', url: url(`from=${monday}&to=${monday}`) });
      expectProblem(res, 401);
    });

    it('timeZone=America/New_York changes only the offsets written: the same instants', async () => {
      const from = encodeURIComponent(localInstant(monday, '00:00'));
      const to = encodeURIComponent(localInstant(plusDays(monday, 1), '00:00'));
      const utc = await client.call('GET', url(`from=${from}&to=${to}&duration=30`));
      const ny = await client.call('GET', url(`from=${from}&to=${to}&duration=30&timeZone=America/New_York`));
      expect(utc.statusCode, utc.body).toBe(200);
      expect(ny.statusCode, ny.body).toBe(200);
      const u = utc.json().slots as { start: string; end: string }[];
      const n = ny.json().slots as { start: string; end: string }[];
      expect(n.length).toBe(u.length);
      expect(n.length).toBeGreaterThan(0);
      expect(n.map((s) => [ms(s.start), ms(s.end)])).toEqual(u.map((s) => [ms(s.start), ms(s.end)]));
      for (const s of u) expect(s.start).toMatch(/Z$/);
      for (const s of n) {
        expect(s.start).toMatch(/-0[45]:00$/);
        expect(s.end).toMatch(/-0[45]:00$/);
      }
      // 09:00 Berlin is 03:00 in New York (both on standard or both on summer time, except for a few weeks a year)
      expect(n[0]!.start.slice(11, 16)).toMatch(/^0[234]:00$/);
      expect(ny.json().duration).toBe(30);
    });

    it('timeZone also reads local-date from/to in that zone, but the slots stay the provider\'s', async () => {
      const ny = await client.call('GET', url(`from=${monday}&to=${monday}&timeZone=America/New_York`));
      expect(ny.statusCode, ny.body).toBe(200);
      // Monday 00:00..24:00 New York covers Monday 06:00..Tuesday 06:00 Berlin: all of Monday's hours
      const starts = (ny.json().slots as { start: string }[]).map((s) => ms(s.start));
      expect(starts).toHaveLength(32);
      expect(starts[0]).toBe(ms(localInstant(monday, '09:00')));
    });
  });

  describe('minimum notice', () => {
    it('with the default MIN_NOTICE_MINUTES nothing starts within 24 hours of now', async () => {
      const open = await providerAlwaysOpen(server, ZONE);
      const today = new Date().toISOString().slice(0, 10);
      const before = Date.now();
      const starts = await slotStarts(client.call, open.id, `from=${plusDays(today, -1)}&to=${plusDays(today, 3)}`);
      const after = Date.now();
      expect(starts.length).toBeGreaterThan(0);
      for (const t of starts) expect(t).toBeGreaterThanOrEqual(before + DAY_MS);
      // and the first slot is the first 15-minute grid point after now + 24 h, not later
      expect(starts[0]! - (after + DAY_MS)).toBeLessThan(15 * MINUTE_MS);
      expect(new Date(starts[0]!).getUTCMinutes() % 15).toBe(0);
    });

    it('the working provider shows nothing today, whatever the weekday', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const starts = await slotStarts(client.call, provider.id, `from=${today}&to=${today}`);
      expect(starts).toEqual([]);
    });

    it('MIN_NOTICE_MINUTES=0 lets slots start right after now', async () => {
      const other = await startTestServer({ MIN_NOTICE_MINUTES: '0' });
      try {
        const open = await providerAlwaysOpen(other, ZONE);
        const c = await createUser(other, 'client');
        const from = new Date().toISOString();
        const to = new Date(Date.now() + 3 * 3600_000).toISOString();
        const starts = await slotStarts(c.call, open.id, `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
        expect(starts.length).toBeGreaterThanOrEqual(10);
        expect(starts[0]! - Date.now()).toBeLessThan(15 * MINUTE_MS);
      } finally {
        await other.close();
      }
    });
  });

  describe('bookings remove slots', () => {
    it('held and confirmed bookings remove overlapping slots; cancelled and expired ones do not', async () => {
      const p = await providerWithHours(server, ZONE);
      const day = plusDays(monday, 1); // a Tuesday
      const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => createUser(server, 'client')));
      const held = await holdOk(a!.call, p.id, localInstant(day, '09:00'), 60);
      const confirmed = await holdOk(b!.call, p.id, localInstant(day, '11:00'), 60);
      expect((await b!.call('POST', `/v1/bookings/${confirmed.id}/confirm`)).statusCode).toBe(200);
      const cancelled = await holdOk(c!.call, p.id, localInstant(day, '13:00'), 60);
      expect((await c!.call('POST', `/v1/bookings/${cancelled.id}/cancel`, {})).statusCode).toBe(200);
      const expired = await holdOk(d!.call, p.id, localInstant(day, '15:00'), 60);
      await expireHold(server, expired.id);

      const at = (t: string) => ms(localInstant(day, t));
      const q15 = await slotStarts(client.call, p.id, `from=${day}&to=${day}`);
      for (const t of ['09:00', '09:15', '09:30', '09:45', '11:00', '11:15', '11:30', '11:45']) expect(q15).not.toContain(at(t));
      for (const t of ['10:00', '10:45', '12:00', '13:00', '13:30', '15:00', '15:45', '16:45']) expect(q15).toContain(at(t));
      expect(q15).toHaveLength(32 - 8);

      const q60 = await slotStarts(client.call, p.id, `from=${day}&to=${day}&duration=60`);
      // 60-minute slots overlapping 09:00-10:00 or 11:00-12:00 are gone: starts 09:00..09:45 and 10:15..11:45
      for (const t of ['09:00', '09:45', '10:15', '10:45', '11:00', '11:45']) expect(q60).not.toContain(at(t));
      for (const t of ['10:00', '12:00', '13:00', '15:00', '16:00']) expect(q60).toContain(at(t));
    });
  });

  describe('ETag', () => {
    it('is strong, gives 304 with an empty body on If-None-Match, and changes when a booking changes', async () => {
      const p = await providerWithHours(server, ZONE);
      const q = url(`from=${monday}&to=${monday}`, p.id);
      const first = await client.call('GET', q);
      expect(first.statusCode).toBe(200);
      const etag = first.headers.etag as string;
      expect(etag).toBeTruthy();
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(etag.startsWith('W/')).toBe(false);

      const again = await client.call('GET', q);
      expect(again.headers.etag).toBe(etag);

      const notModified = await client.call('GET', q, undefined, { 'if-none-match': etag });
      expect(notModified.statusCode).toBe(304);
      expect(notModified.body).toBe('');
      expect(notModified.headers.etag).toBe(etag);

      const booking = await holdOk(client.call, p.id, localInstant(monday, '10:00'), 30);
      const changed = await client.call('GET', q, undefined, { 'if-none-match': etag });
      expect(changed.statusCode).toBe(200);
      expect(changed.headers.etag).toBeTruthy();
      expect(changed.headers.etag).not.toBe(etag);
      expect(changed.json().slots.length).toBe(32 - 2);

      const newTag = changed.headers.etag as string;
      expect((await client.call('GET', q, undefined, { 'if-none-match': newTag })).statusCode).toBe(304);
      expect((await client.call('POST', `/v1/bookings/${booking.id}/cancel`, {})).statusCode).toBe(200);
      const afterCancel = await client.call('GET', q, undefined, { 'if-none-match': newTag });
      expect(afterCancel.statusCode).toBe(200);
      expect(afterCancel.json().slots.length).toBe(32);
    });

    it('an ETag of another query does not give a 304', async () => {
      const p = await providerWithHours(server, ZONE);
      const a = await client.call('GET', url(`from=${monday}&to=${monday}`, p.id));
      const b = await client.call('GET', url(`from=${monday}&to=${monday}&duration=30`, p.id), undefined, {
        'if-none-match': a.headers.etag as string,
      });
      expect(b.statusCode).toBe(200);
    });
  });
});
