import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem, providerWithHours } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectNothingChanged, ms, offsetOf, spans, type WindowOut } from './users-availability-helpers.js';

// Availability has no minimum notice, so fixed dates never go stale.
// 2027-06-04 is a Friday, 2027-06-07 a Monday; Berlin is +02:00 in June.
const FRIDAY = '2027-06-04';
const SATURDAY = '2027-06-05';
const SUNDAY = '2027-06-06';
const MONDAY = '2027-06-07';
const TUESDAY = '2027-06-08';

type Call = ReturnType<typeof client>;
const z = (s: string) => ms(s);

describe('availability', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  async function availability(call: Call, providerId: string, query: string): Promise<WindowOut[]> {
    const res = await call('GET', `/v1/providers/${providerId}/availability?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().providerId).toBe(providerId);
    return res.json().windows;
  }

  async function schedule(call: Call, providerId: string) {
    const res = await call('GET', `/v1/providers/${providerId}/schedule`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  describe('weekly schedule', () => {
    const weekly = [
      { day: 'monday', start: '09:00', end: '12:00' },
      { day: 'monday', start: '13:00', end: '17:30' },
      { day: 'wednesday', start: '18:00', end: '24:00' },
    ];

    it('the provider itself puts and gets its schedule', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const empty = await schedule(provider.call, provider.id);
      expect(empty.weekly).toEqual([]);

      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'Europe/Berlin', weekly });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json()).toMatchObject({ providerId: provider.id, timeZone: 'Europe/Berlin', weekly });
      const got = await schedule(provider.call, provider.id);
      expect(got).toMatchObject({ providerId: provider.id, timeZone: 'Europe/Berlin', weekly });

      // PUT replaces: the old windows are gone.
      const replaced = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Lisbon', weekly: [{ day: 'tuesday', start: '10:00', end: '11:00' }],
      });
      expect(replaced.statusCode, replaced.body).toBe(200);
      expect((await schedule(provider.call, provider.id)).weekly).toEqual([{ day: 'tuesday', start: '10:00', end: '11:00' }]);
      expect((await schedule(provider.call, provider.id)).timeZone).toBe('Europe/Lisbon');
    });

    it('the admin puts and gets anyone\'s schedule', async () => {
      const provider = await createUser(server, 'provider');
      const put = await admin(server)('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'Asia/Tokyo', weekly });
      expect(put.statusCode, put.body).toBe(200);
      expect(await schedule(admin(server), provider.id)).toMatchObject({ timeZone: 'Asia/Tokyo', weekly });
      expect(await schedule(provider.call, provider.id)).toMatchObject({ timeZone: 'Asia/Tokyo', weekly });
    });

    it('a client gets 403, another provider 403, an unknown provider 404, no key 401; nothing changes', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const before = await schedule(provider.call, provider.id);
      const someClient = await createUser(server, 'client');
      const otherProvider = await createUser(server, 'provider');
      const body = { timeZone: 'UTC', weekly: [{ day: 'sunday', start: '00:00', end: '24:00' }] };

      for (const [caller, status] of [[someClient.call, 403], [otherProvider.call, 403], [client(server, null), 401]] as const) {
        expectProblem(await expectNothingChanged(server, () => caller('PUT', `/v1/providers/${provider.id}/schedule`, body)), status);
        expectProblem(await caller('GET', `/v1/providers/${provider.id}/schedule`), status);
      }
      for (const id of ['usr_doesnotexist', someClient.id]) {
        expectProblem(await expectNothingChanged(server, () => admin(server)('PUT', `/v1/providers/${id}/schedule`, body)), 404);
        expectProblem(await admin(server)('GET', `/v1/providers/${id}/schedule`), 404);
      }
      expect(await schedule(provider.call, provider.id)).toEqual(before);
    });

    it('bad windows and zones are 400 and leave the stored schedule unchanged', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const before = await schedule(provider.call, provider.id);
      const good = { day: 'monday', start: '09:00', end: '17:00' };
      const bodies: unknown[] = [
        { timeZone: 'Europe/Berlin', weekly: [good, { day: 'tuesday', start: '10:00', end: '10:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '25:00', end: '26:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '25:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '9:00', end: '17:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '17:0' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:60', end: '17:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '24:00', end: '02:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '24:01' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'funday', start: '09:00', end: '17:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'Monday', start: '09:00', end: '17:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 1, start: '09:00', end: '17:00' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ ...good, note: 'extra' }] },
        { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00' }] },
        { timeZone: 'Europe/Berlin', weekly: good },
        { timeZone: 'Mars/Olympus', weekly: [good] },
        { timeZone: '+02:00', weekly: [good] },
        { timeZone: '', weekly: [good] },
        { timeZone: 7200, weekly: [good] },
        { weekly: [good] },
        { timeZone: 'Europe/Berlin' },
        { timeZone: 'Europe/Berlin', weekly: [good], extra: true },
        '{"timeZone": "Europe/Berlin", "weekly": [',
      ];
      for (const body of bodies) {
        const res = await expectNothingChanged(server, () => provider.call('PUT', `/v1/providers/${provider.id}/schedule`, body));
        expectProblem(res, 400);
      }
      expect(await schedule(provider.call, provider.id)).toEqual(before);
    });

    it('allows 24:00 as an end, and shows it in the availability as the next midnight', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '18:00', end: '24:00' }],
      });
      expect(put.statusCode, put.body).toBe(200);
      const windows = await availability(provider.call, provider.id, `from=${MONDAY}&to=${TUESDAY}`);
      expect(spans(windows)).toEqual([[z('2027-06-07T16:00:00Z'), z('2027-06-07T22:00:00Z')]]);
    });

    it('an overnight window (friday 22:00-02:00) is one window into saturday', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'Europe/Berlin', weekly: [{ day: 'friday', start: '22:00', end: '02:00' }],
      });
      expect(put.statusCode, put.body).toBe(200);

      const both = await availability(provider.call, provider.id, `from=${FRIDAY}&to=${SATURDAY}`);
      expect(spans(both)).toEqual([[z('2027-06-04T20:00:00Z'), z('2027-06-05T00:00:00Z')]]);

      // Saturday alone still sees the tail that began on Friday.
      const saturday = await availability(provider.call, provider.id, `from=${SATURDAY}&to=${SATURDAY}`);
      expect(spans(saturday)).toEqual([[z('2027-06-04T22:00:00Z'), z('2027-06-05T00:00:00Z')]]);

      const sunday = await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`);
      expect(sunday).toEqual([]);
    });
  });

  describe('one-off windows', () => {
    it('local form rounds 08:07-15:05 inwards to 08:15-15:00 in the provider\'s zone', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const res = await provider.call('POST', `/v1/providers/${provider.id}/availability`, { date: SUNDAY, start: '08:07', end: '15:05' });
      expect(res.statusCode, res.body).toBe(201);
      const w = res.json();
      expect(typeof w.id).toBe('string');
      expect(z(w.start)).toBe(z('2027-06-06T08:15:00+02:00'));
      expect(z(w.end)).toBe(z('2027-06-06T15:00:00+02:00'));

      const windows = await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`);
      expect(spans(windows)).toEqual([[z(w.start), z(w.end)]]);
    });

    it('instant form rounds inwards the same way', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const res = await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        start: '2027-06-06T08:07:00+02:00', end: '2027-06-06T13:05:00Z',
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(z(res.json().start)).toBe(z('2027-06-06T06:15:00Z'));
      expect(z(res.json().end)).toBe(z('2027-06-06T13:00:00Z'));
      const windows = await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`);
      expect(spans(windows)).toEqual([[z('2027-06-06T06:15:00Z'), z('2027-06-06T13:00:00Z')]]);
    });

    it('rounds to the local grid of a zone with a 45-minute offset', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Asia/Kathmandu' });
      // 03:20Z is 09:05 in Kathmandu (+05:45): the next local quarter is 09:15 = 03:30Z.
      const res = await provider.call('POST', `/v1/providers/${provider.id}/availability`, {
        start: '2027-06-06T03:20:00Z', end: '2027-06-06T06:20:00Z',
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(z(res.json().start)).toBe(z('2027-06-06T03:30:00Z'));
      expect(z(res.json().end)).toBe(z('2027-06-06T06:15:00Z'));
    });

    it('the local form uses the schedule\'s zone, then the user\'s, unless timeZone is given', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Asia/Tokyo' });
      const url = `/v1/providers/${provider.id}/availability`;
      const userZone = await provider.call('POST', url, { date: SUNDAY, start: '09:00', end: '10:00' });
      expect(userZone.statusCode, userZone.body).toBe(201);
      expect(z(userZone.json().start)).toBe(z('2027-06-06T09:00:00+09:00'));

      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'Europe/Berlin', weekly: [] });
      expect(put.statusCode, put.body).toBe(200);
      const scheduleZone = await provider.call('POST', url, { date: SUNDAY, start: '09:00', end: '10:00' });
      expect(scheduleZone.statusCode, scheduleZone.body).toBe(201);
      expect(z(scheduleZone.json().start)).toBe(z('2027-06-06T09:00:00+02:00'));

      const explicit = await provider.call('POST', url, { date: SUNDAY, start: '09:00', end: '10:00', timeZone: 'America/New_York' });
      expect(explicit.statusCode, explicit.body).toBe(201);
      expect(z(explicit.json().start)).toBe(z('2027-06-06T09:00:00-04:00'));
    });

    it('a local window past midnight ends on the next date', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const res = await provider.call('POST', `/v1/providers/${provider.id}/availability`, { date: SATURDAY, start: '22:00', end: '01:00' });
      expect(res.statusCode, res.body).toBe(201);
      expect(z(res.json().start)).toBe(z('2027-06-05T22:00:00+02:00'));
      expect(z(res.json().end)).toBe(z('2027-06-06T01:00:00+02:00'));
    });

    it('nothing left after rounding is a 422 and stores nothing', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const url = `/v1/providers/${provider.id}/availability`;
      for (const body of [
        { date: SUNDAY, start: '08:01', end: '08:14' },
        { date: SUNDAY, start: '08:16', end: '08:29' },
        { start: '2027-06-06T06:01:00Z', end: '2027-06-06T06:14:59Z' },
      ]) {
        expectProblem(await expectNothingChanged(server, () => provider.call('POST', url, body)), 422);
      }
      expect(await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`)).toEqual([]);
    });

    it('bad one-off windows are 400 and store nothing', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const url = `/v1/providers/${provider.id}/availability`;
      const bodies: unknown[] = [
        { date: SUNDAY, start: '09:00', end: '09:00' },
        { date: '2027-02-30', start: '09:00', end: '10:00' },
        { date: '2027-6-6', start: '09:00', end: '10:00' },
        { date: SUNDAY, start: '9:00', end: '10:00' },
        { date: SUNDAY, start: '25:00', end: '26:00' },
        { date: SUNDAY, start: '09:00', end: '10:00', timeZone: 'Nowhere/City' },
        { date: SUNDAY, start: '09:00', end: '10:00', extra: 1 },
        { date: SUNDAY, start: '2027-06-06T09:00:00Z', end: '2027-06-06T10:00:00Z' },
        { start: '2027-06-06T10:00:00Z', end: '2027-06-06T09:00:00Z' },
        { start: '2027-06-06T10:00:00Z', end: '2027-06-06T10:00:00Z' },
        { start: '2027-06-06T09:00:00', end: '2027-06-06T10:00:00' },
        { start: '09:00', end: '10:00' },
        { start: 1, end: 2 },
        {},
      ];
      for (const body of bodies) {
        expectProblem(await expectNothingChanged(server, () => provider.call('POST', url, body)), 400);
      }
    });

    it('DELETE removes it (204), then 404; other callers cannot touch it', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      const otherProvider = await createUser(server, 'provider');
      const someClient = await createUser(server, 'client');
      const created = await provider.call('POST', `/v1/providers/${provider.id}/availability`, { date: SUNDAY, start: '10:00', end: '12:00' });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json().id as string;

      expectProblem(await expectNothingChanged(server, () => someClient.call('DELETE', `/v1/providers/${provider.id}/availability/${id}`)), 403);
      expectProblem(await expectNothingChanged(server, () => otherProvider.call('DELETE', `/v1/providers/${provider.id}/availability/${id}`)), 403);
      // Under its own id, another provider's window simply does not exist.
      expectProblem(await expectNothingChanged(server, () => otherProvider.call('DELETE', `/v1/providers/${otherProvider.id}/availability/${id}`)), 404);
      expect(await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`)).toHaveLength(1);

      const del = await provider.call('DELETE', `/v1/providers/${provider.id}/availability/${id}`);
      expect(del.statusCode, del.body).toBe(204);
      expect(await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`)).toEqual([]);
      expectProblem(await provider.call('DELETE', `/v1/providers/${provider.id}/availability/${id}`), 404);
    });

    it('a client cannot add one (403), nor for an unknown provider (404)', async () => {
      const provider = await createUser(server, 'provider');
      const someClient = await createUser(server, 'client');
      const body = { date: SUNDAY, start: '10:00', end: '12:00' };
      expectProblem(await expectNothingChanged(server, () => someClient.call('POST', `/v1/providers/${provider.id}/availability`, body)), 403);
      expectProblem(await expectNothingChanged(server, () => admin(server)('POST', '/v1/providers/usr_nope/availability', body)), 404);
    });

    it('a one-off window unites with the weekly hours', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const res = await provider.call('POST', `/v1/providers/${provider.id}/availability`, { date: MONDAY, start: '16:00', end: '19:00' });
      expect(res.statusCode, res.body).toBe(201);
      const windows = await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`);
      expect(spans(windows)).toEqual([[z('2027-06-07T07:00:00Z'), z('2027-06-07T17:00:00Z')]]);
    });
  });

  describe('date overrides', () => {
    it('PUT replaces the weekly hours on that date, [] is a day off, DELETE goes back', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const url = `/v1/providers/${provider.id}/overrides/${MONDAY}`;
      const weeklyMonday = [[z('2027-06-07T07:00:00Z'), z('2027-06-07T15:00:00Z')]];
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual(weeklyMonday);

      const put = await provider.call('PUT', url, { windows: [{ start: '10:00', end: '12:00' }, { start: '14:00', end: '15:00' }] });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json()).toMatchObject({ date: MONDAY, windows: [{ start: '10:00', end: '12:00' }, { start: '14:00', end: '15:00' }] });
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual([
        [z('2027-06-07T08:00:00Z'), z('2027-06-07T10:00:00Z')],
        [z('2027-06-07T12:00:00Z'), z('2027-06-07T13:00:00Z')],
      ]);
      // The next day keeps its weekly hours.
      expect(spans(await availability(provider.call, provider.id, `from=${TUESDAY}&to=${TUESDAY}`))).toEqual([
        [z('2027-06-08T07:00:00Z'), z('2027-06-08T15:00:00Z')],
      ]);

      const off = await provider.call('PUT', url, { windows: [] });
      expect(off.statusCode, off.body).toBe(200);
      expect(off.json().windows).toEqual([]);
      expect(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`)).toEqual([]);

      const del = await provider.call('DELETE', url);
      expect(del.statusCode, del.body).toBe(204);
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual(weeklyMonday);
      expectProblem(await expectNothingChanged(server, () => provider.call('DELETE', url)), 404);
    });

    it('an override can open a day the weekly hours leave closed, and the admin may set it', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const put = await admin(server)('PUT', `/v1/providers/${provider.id}/overrides/${SUNDAY}`, { windows: [{ start: '11:00', end: '13:00' }] });
      expect(put.statusCode, put.body).toBe(200);
      expect(spans(await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`))).toEqual([
        [z('2027-06-06T09:00:00Z'), z('2027-06-06T11:00:00Z')],
      ]);
    });

    it('bad overrides are 400 and change nothing; others get 403/404', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const someClient = await createUser(server, 'client');
      const url = `/v1/providers/${provider.id}/overrides/${MONDAY}`;
      for (const body of [
        { windows: [{ start: '10:00', end: '10:00' }] },
        { windows: [{ start: '25:00', end: '26:00' }] },
        { windows: [{ start: '9:00', end: '10:00' }] },
        { windows: [{ start: '09:00', end: '10:00', day: 'monday' }] },
        { windows: [], timeZone: 'Atlantis/Capital' },
        { windows: 'none' },
        {},
      ]) {
        expectProblem(await expectNothingChanged(server, () => provider.call('PUT', url, body)), 400);
      }
      for (const date of ['2027-02-30', '2027-13-01', 'monday', '20270607']) {
        const bad = `/v1/providers/${provider.id}/overrides/${date}`;
        expectProblem(await expectNothingChanged(server, () => provider.call('PUT', bad, { windows: [] })), 400);
        expectProblem(await expectNothingChanged(server, () => provider.call('DELETE', bad)), 400);
      }
      expectProblem(await expectNothingChanged(server, () => someClient.call('PUT', url, { windows: [] })), 403);
      expectProblem(await expectNothingChanged(server, () => admin(server)('PUT', `/v1/providers/usr_nope/overrides/${MONDAY}`, { windows: [] })), 404);
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual([
        [z('2027-06-07T07:00:00Z'), z('2027-06-07T15:00:00Z')],
      ]);
    });
  });

  describe('time off', () => {
    it('subtracts from the working time; POST 201, DELETE 204, again 404', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const url = `/v1/providers/${provider.id}/time-off`;
      const res = await provider.call('POST', url, { start: '2027-06-07T12:00:00+02:00', end: '2027-06-07T13:30:00+02:00', reason: 'lunch' });
      expect(res.statusCode, res.body).toBe(201);
      const off = res.json();
      expect(typeof off.id).toBe('string');
      expect(off.reason).toBe('lunch');
      expect(z(off.start)).toBe(z('2027-06-07T10:00:00Z'));
      expect(z(off.end)).toBe(z('2027-06-07T11:30:00Z'));
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual([
        [z('2027-06-07T07:00:00Z'), z('2027-06-07T10:00:00Z')],
        [z('2027-06-07T11:30:00Z'), z('2027-06-07T15:00:00Z')],
      ]);

      const noReason = await provider.call('POST', url, { start: '2027-06-08T00:00:00Z', end: '2027-06-09T00:00:00Z' });
      expect(noReason.statusCode, noReason.body).toBe(201);
      expect(noReason.json().reason).toBeNull();
      expect(await availability(provider.call, provider.id, `from=${TUESDAY}&to=${TUESDAY}`)).toEqual([]);

      const del = await provider.call('DELETE', `${url}/${off.id}`);
      expect(del.statusCode, del.body).toBe(204);
      expect(spans(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`))).toEqual([
        [z('2027-06-07T07:00:00Z'), z('2027-06-07T15:00:00Z')],
      ]);
      expectProblem(await expectNothingChanged(server, () => provider.call('DELETE', `${url}/${off.id}`)), 404);
    });

    it('time off also removes one-off windows', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      await provider.call('POST', `/v1/providers/${provider.id}/availability`, { date: SUNDAY, start: '10:00', end: '12:00' });
      const res = await provider.call('POST', `/v1/providers/${provider.id}/time-off`, { start: '2027-06-06T07:00:00Z', end: '2027-06-06T11:00:00Z' });
      expect(res.statusCode, res.body).toBe(201);
      expect(await availability(provider.call, provider.id, `from=${SUNDAY}&to=${SUNDAY}`)).toEqual([]);
    });

    it('bad time off is 400 and stores nothing; others get 403/404', async () => {
      const provider = await providerWithHours(server, 'Europe/Berlin');
      const otherProvider = await createUser(server, 'provider');
      const url = `/v1/providers/${provider.id}/time-off`;
      for (const body of [
        { start: '2027-06-07T13:00:00Z', end: '2027-06-07T12:00:00Z' },
        { start: '2027-06-07T12:00:00Z', end: '2027-06-07T12:00:00Z' },
        { start: '2027-06-07T12:00:00', end: '2027-06-07T13:00:00' },
        { start: MONDAY, end: TUESDAY },
        { start: '2027-06-07T12:00:00Z', end: '2027-06-07T13:00:00Z', reason: 5 },
        { start: '2027-06-07T12:00:00Z', end: '2027-06-07T13:00:00Z', kind: 'vacation' },
        { start: '2027-06-07T12:00:00Z' },
      ]) {
        expectProblem(await expectNothingChanged(server, () => provider.call('POST', url, body)), 400);
      }
      const ok = { start: '2027-06-07T12:00:00Z', end: '2027-06-07T13:00:00Z' };
      expectProblem(await expectNothingChanged(server, () => otherProvider.call('POST', url, ok)), 403);
      expectProblem(await expectNothingChanged(server, () => admin(server)('POST', '/v1/providers/usr_nope/time-off', ok)), 404);

      const created = await provider.call('POST', url, ok);
      expect(created.statusCode, created.body).toBe(201);
      expectProblem(await expectNothingChanged(server, () => otherProvider.call('DELETE', `/v1/providers/${otherProvider.id}/time-off/${created.json().id}`)), 404);
      expectProblem(await expectNothingChanged(server, () => otherProvider.call('DELETE', `${url}/${created.json().id}`)), 403);
      // A time-off id is not an availability-window id.
      expectProblem(await expectNothingChanged(server, () => provider.call('DELETE', `/v1/providers/${provider.id}/availability/${created.json().id}`)), 404);
    });
  });

  describe('GET /providers/{id}/availability', () => {
    let provider: Awaited<ReturnType<typeof providerWithHours>>;
    beforeAll(async () => {
      provider = await providerWithHours(server, 'Europe/Berlin');
    });

    it('reads from/to as local dates, to inclusive', async () => {
      const week = await availability(provider.call, provider.id, `from=${MONDAY}&to=2027-06-11`);
      expect(week).toHaveLength(5);
      expect(spans(week)[0]).toEqual([z('2027-06-07T07:00:00Z'), z('2027-06-07T15:00:00Z')]);
      expect(spans(week)[4]).toEqual([z('2027-06-11T07:00:00Z'), z('2027-06-11T15:00:00Z')]);
      for (const w of week) expect(offsetOf(w.start)).toBe('Z');
      expect(await availability(provider.call, provider.id, `from=${MONDAY}&to=${MONDAY}`)).toHaveLength(1);
      expect(await availability(provider.call, provider.id, `from=${SATURDAY}&to=${SUNDAY}`)).toEqual([]);
    });

    it('reads from/to as instants and clips to them', async () => {
      const windows = await availability(provider.call, provider.id, `from=2027-06-07T10:00:00Z&to=${encodeURIComponent('2027-06-07T14:00:00+02:00')}`);
      expect(spans(windows)).toEqual([[z('2027-06-07T10:00:00Z'), z('2027-06-07T12:00:00Z')]]);
      // Mixed: a date and an instant.
      const mixed = await availability(provider.call, provider.id, `from=${MONDAY}&to=2027-06-07T08:00:00Z`);
      expect(spans(mixed)).toEqual([[z('2027-06-07T07:00:00Z'), z('2027-06-07T08:00:00Z')]]);
    });

    it('timeZone changes only the offsets in which the times are written', async () => {
      const q = `from=2027-06-07T00:00:00Z&to=2027-06-12T00:00:00Z`;
      const utc = await availability(provider.call, provider.id, q);
      for (const zone of ['America/New_York', 'Asia/Kathmandu', 'Europe/Berlin']) {
        const local = await availability(provider.call, provider.id, `${q}&timeZone=${encodeURIComponent(zone)}`);
        expect(spans(local)).toEqual(spans(utc));
        const expected = { 'America/New_York': '-04:00', 'Asia/Kathmandu': '+05:45', 'Europe/Berlin': '+02:00' }[zone];
        for (const w of local) {
          expect(offsetOf(w.start)).toBe(expected);
          expect(offsetOf(w.end)).toBe(expected);
        }
      }
      const berlin = await availability(provider.call, provider.id, `${q}&timeZone=Europe/Berlin`);
      expect(berlin[0]).toEqual({ start: '2027-06-07T09:00:00+02:00', end: '2027-06-07T17:00:00+02:00' });
    });

    it('from after to, more than 93 days, bad values and unknown zones are 400', async () => {
      const url = `/v1/providers/${provider.id}/availability`;
      for (const q of [
        `from=${TUESDAY}&to=${MONDAY}`,
        'from=2027-06-07T10:00:00Z&to=2027-06-07T09:59:59Z',
        'from=2027-01-01&to=2027-04-04', // 94 days, to inclusive
        'from=2027-01-01T00:00:00Z&to=2027-04-04T00:00:01Z',
        'from=2027-01-01&to=2028-01-01',
        `from=${MONDAY}&to=2027-02-30`,
        `from=yesterday&to=${MONDAY}`,
        `from=2027-06-07T10:00:00&to=${TUESDAY}`,
        `from=${MONDAY}`,
        `to=${MONDAY}`,
        '',
        `from=${MONDAY}&to=${MONDAY}&timeZone=Nowhere/Town`,
        `from=${MONDAY}&to=${MONDAY}&timeZone=%2B02:00`,
      ]) {
        const res = await provider.call('GET', `${url}?${q}`);
        expect(res.statusCode, `${q}: ${res.body}`).toBe(400);
        expectProblem(res, 400);
      }
      // 93 days is the most allowed, by dates (to inclusive) and by instants.
      expect((await provider.call('GET', `${url}?from=2027-01-01&to=2027-04-03`)).statusCode).toBe(200);
      expect((await provider.call('GET', `${url}?from=2027-01-01T00:00:00Z&to=2027-04-04T00:00:00Z`)).statusCode).toBe(200);
      // An empty range (from = to as instants) is allowed and empty.
      expect(await availability(provider.call, provider.id, 'from=2027-06-07T10:00:00Z&to=2027-06-07T10:00:00Z')).toEqual([]);
    });

    it('a client 403, another provider 403, unknown provider 404, no key 401', async () => {
      const someClient = await createUser(server, 'client');
      const otherProvider = await createUser(server, 'provider');
      const q = `from=${MONDAY}&to=${MONDAY}`;
      expectProblem(await someClient.call('GET', `/v1/providers/${provider.id}/availability?${q}`), 403);
      expectProblem(await otherProvider.call('GET', `/v1/providers/${provider.id}/availability?${q}`), 403);
      expectProblem(await admin(server)('GET', `/v1/providers/usr_nope/availability?${q}`), 404);
      expectProblem(await admin(server)('GET', `/v1/providers/${someClient.id}/availability?${q}`), 404);
      expectProblem(await client(server, null)('GET', `/v1/providers/${provider.id}/availability?${q}`), 401);
      const byAdmin = await availability(admin(server), provider.id, q);
      expect(byAdmin).toHaveLength(1);
    });
  });

  describe('daylight saving time', () => {
    it('spring forward: NY sunday 01:00-05:00 on 2027-03-14 is one 3-hour window 06:00Z-09:00Z', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'America/New_York' });
      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'America/New_York', weekly: [{ day: 'sunday', start: '01:00', end: '05:00' }],
      });
      expect(put.statusCode, put.body).toBe(200);
      const windows = await availability(provider.call, provider.id, 'from=2027-03-14&to=2027-03-14');
      expect(spans(windows)).toEqual([[z('2027-03-14T06:00:00Z'), z('2027-03-14T09:00:00Z')]]);
      expect(z(windows[0]!.end) - z(windows[0]!.start)).toBe(3 * 3600_000);
    });

    it('fall back: the same window on 2027-11-07 is 5 hours, from the first 01:00', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'America/New_York' });
      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'America/New_York', weekly: [{ day: 'sunday', start: '01:00', end: '05:00' }],
      });
      expect(put.statusCode, put.body).toBe(200);
      const windows = await availability(provider.call, provider.id, 'from=2027-11-07&to=2027-11-07');
      expect(spans(windows)).toEqual([[z('2027-11-07T05:00:00Z'), z('2027-11-07T10:00:00Z')]]);
    });

    it('a window starting in the spring gap starts when the clocks jump', async () => {
      const provider = await createUser(server, 'provider', { timeZone: 'America/New_York' });
      const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, {
        timeZone: 'America/New_York', weekly: [{ day: 'sunday', start: '02:30', end: '04:00' }],
      });
      expect(put.statusCode, put.body).toBe(200);
      const windows = await availability(provider.call, provider.id, 'from=2027-03-14&to=2027-03-14');
      // 02:30 does not exist; it resolves forward to 03:30 EDT = 07:30Z; 04:00 EDT = 08:00Z.
      expect(spans(windows)).toEqual([[z('2027-03-14T07:30:00Z'), z('2027-03-14T08:00:00Z')]]);
    });
  });
});

describe('time zone names', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('stores and echoes the canonical IANA spelling', async () => {
    const provider = await createUser(server, 'provider', { timeZone: 'europe/berlin' });
    const me = await provider.call('GET', '/v1/users/me');
    expect(me.json().timeZone).toBe('Europe/Berlin');
    const put = await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: 'US/Eastern', weekly: [] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().timeZone).toBe('America/New_York');
  });
});
