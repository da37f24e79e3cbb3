import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startIcsServer, type IcsServer } from '../helpers/ics-server.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { hold, localInstant, plusDays } from './booking-helpers.js';
import { busyTimeCases } from './calendar-source-cases.js';

/**
 * Connected calendars end to end: the real app, a calendar host on 127.0.0.1
 * serving the fixture files (test/fixtures/calendars/open-ended.ics: every
 * Monday 10:00-11:00 Berlin, every Wednesday all day, a transparent Thursday
 * lunch), and a provider working Mon-Fri 09:00-17:00 Berlin.
 */
type User = Awaited<ReturnType<typeof createUser>>;
type Call = User['call'];

// The secret part of the feed URL: it must never come back in any answer.
const TOKEN = 'tok-7f3a9c1e5b2d4f60a8c9e1d3b5f7a9c2';
const FEED = `/feeds/${TOKEN}/basic.ics`;

const monday = upcomingDate(1);
const tuesday = plusDays(monday, 1);
const wednesday = plusDays(monday, 2);
const thursday = plusDays(monday, 3);

/** Every quarter hour from 09:00 to 16:00: the one-hour slots of an untouched 09:00-17:00 day. */
const FULL_DAY = Array.from({ length: 29 }, (_, i) => {
  const minutes = 9 * 60 + i * 15;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
});

describe('connected calendars (ICS)', () => {
  let server: TestServer;
  let ics: IcsServer;
  let provider: User;
  let otherProvider: User;
  let client: User;
  const bodies: string[] = [];

  /** A caller whose every answer (body and headers) is kept, to look for the token afterwards. */
  const recorded = (call: Call): Call => async (...args) => {
    const res = await call(...args);
    bodies.push(res.body, JSON.stringify(res.headers));
    return res;
  };
  let as: { provider: Call; other: Call; client: Call; admin: Call };
  const calendars = (providerId = provider.id) => `/v1/providers/${providerId}/calendars`;

  /** The one-hour slots of a local date, as local "HH:MM" starts. */
  async function slotTimes(date: string): Promise<string[]> {
    const res = await as.client('GET', `/v1/slots?providerId=${provider.id}&from=${date}&to=${date}&duration=60&timeZone=Europe/Berlin`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().slots.map((s: { start: string }) => s.start.slice(11, 16));
  }
  async function availabilityVersion(userId: string): Promise<number> {
    const { rows } = await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [userId]);
    return Number(rows[0]!.v);
  }

  beforeAll(async () => {
    ics = await startIcsServer();
    ics.serve(FEED, { file: 'open-ended.ics' });
    server = await startTestServer({ CALENDAR_ALLOW_PRIVATE_URLS: 'true' });
    provider = await providerWithHours(server, 'Europe/Berlin');
    otherProvider = await providerWithHours(server, 'Europe/Berlin');
    client = await createUser(server, 'client');
    as = { provider: recorded(provider.call), other: recorded(otherProvider.call), client: recorded(client.call), admin: recorded(admin(server)) };
  });
  afterAll(async () => {
    await server?.close();
    await ics?.close();
  });

  let calendarId: string;

  it('connecting reads the feed at once: Monday loses 10:00-11:00, Wednesday is gone, Tuesday and Thursday are untouched', async () => {
    expect(await slotTimes(monday)).toEqual(FULL_DAY);
    const before = await availabilityVersion(provider.id);

    const res = await as.provider('POST', calendars(), { type: 'ics', url: `${ics.url(FEED)}?token=${TOKEN}` });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created).toEqual({
      id: expect.any(String), type: 'ics', status: 'ok', lastSyncedAt: expect.stringMatching(/Z$/), writeBookings: false, writeMode: 'eventual',
    });
    calendarId = created.id;
    expect(ics.hits(FEED)).toBe(1);
    expect(await availabilityVersion(provider.id)).toBeGreaterThan(before);

    // A slot touching the busy hour (09:00-10:00) stays; every one overlapping 10:00-11:00 goes.
    expect(await slotTimes(monday)).toEqual(['09:00', ...FULL_DAY.filter((t) => t >= '11:00')]);
    expect(await slotTimes(tuesday)).toEqual(FULL_DAY);
    expect(await slotTimes(wednesday)).toEqual([]);
    expect(await slotTimes(thursday)).toEqual(FULL_DAY); // the Thursday lunch is marked free
  });

  it('a hold overlapping the calendar\'s busy time is a 409; one beside it is not blocked by it', async () => {
    const taken = await hold(as.client, provider.id, localInstant(monday, '10:30'), 15);
    expect(expectProblem(taken, 409).code).toBe('slot_taken');
    expect(taken.json().detail).toMatch(/calendar/);
    const allDay = await hold(as.client, provider.id, localInstant(wednesday, '14:00'), 60);
    expect(expectProblem(allDay, 409).code).toBe('slot_taken');
  });

  it('lists the connection without its URL; admin sees it too; a sync with the same content changes no version', async () => {
    const list = await as.provider('GET', calendars());
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toEqual({ data: [expect.objectContaining({ id: calendarId, type: 'ics', status: 'ok' })], nextCursor: null });
    expect((await as.admin('GET', calendars())).json().data).toHaveLength(1);

    const version = await availabilityVersion(provider.id);
    const synced = await as.provider('POST', `${calendars()}/${calendarId}/sync`);
    expect(synced.statusCode, synced.body).toBe(200);
    expect(synced.json()).toMatchObject({ id: calendarId, status: 'ok' });
    expect(synced.json().error).toBeUndefined();
    expect(ics.hits(FEED)).toBe(2);
    expect(await availabilityVersion(provider.id)).toBe(version);
  });

  it('a failing source shows status "error" with the reason and keeps its last good busy time; slots are still served', async () => {
    const lastGood = (await as.provider('GET', calendars())).json().data[0].lastSyncedAt;
    ics.serve(FEED, { status: 500 });
    const synced = await as.provider('POST', `${calendars()}/${calendarId}/sync`);
    expect(synced.statusCode, synced.body).toBe(200);
    expect(synced.json()).toMatchObject({ id: calendarId, status: 'error', lastSyncedAt: lastGood });
    expect(synced.json().error).toMatch(/HTTP 500/);
    expect(await slotTimes(monday)).toEqual(['09:00', ...FULL_DAY.filter((t) => t >= '11:00')]);
    expect(await slotTimes(wednesday)).toEqual([]);

    ics.serve(FEED, { text: '<html><body>Please sign in</body></html>' });
    const notIcs = (await as.provider('POST', `${calendars()}/${calendarId}/sync`)).json();
    expect(notIcs).toMatchObject({ status: 'error', error: expect.stringMatching(/not an iCalendar document/) });
    expect(await slotTimes(wednesday)).toEqual([]);
  });

  it('a recovered source with new content replaces the busy set (and bumps the version)', async () => {
    ics.serve(FEED, { file: 'open-ended.ics', gzip: true });
    const recovered = (await as.provider('POST', `${calendars()}/${calendarId}/sync`)).json();
    expect(recovered).toMatchObject({ status: 'ok' });
    expect(recovered.error).toBeUndefined();
    expect(await slotTimes(wednesday)).toEqual([]);

    const version = await availabilityVersion(provider.id);
    ics.serve(FEED, { file: 'transparent-cancelled.ics' }); // nothing in the coming weeks
    expect((await as.provider('POST', `${calendars()}/${calendarId}/sync`)).json()).toMatchObject({ status: 'ok' });
    expect(await availabilityVersion(provider.id)).toBeGreaterThan(version);
    expect(await slotTimes(monday)).toEqual(FULL_DAY);
    expect(await slotTimes(wednesday)).toEqual(FULL_DAY);
    ics.serve(FEED, { file: 'open-ended.ics' });
    await as.provider('POST', `${calendars()}/${calendarId}/sync`);
    expect(await slotTimes(wednesday)).toEqual([]);
  });

  it('DELETE removes the busy time at once; the calendar is gone after', async () => {
    const version = await availabilityVersion(provider.id);
    const res = await as.provider('DELETE', `${calendars()}/${calendarId}`);
    expect(res.statusCode, res.body).toBe(204);
    expect(await availabilityVersion(provider.id)).toBeGreaterThan(version);
    expect(await slotTimes(monday)).toEqual(FULL_DAY);
    expect(await slotTimes(wednesday)).toEqual(FULL_DAY);
    expect((await as.provider('GET', calendars())).json().data).toEqual([]);
    const { rows } = await server.db.query('SELECT 1 FROM calendar_busy WHERE provider_id = $1', [provider.id]);
    expect(rows).toEqual([]);
    expectProblem(await as.provider('DELETE', `${calendars()}/${calendarId}`), 404);
    expectProblem(await as.provider('POST', `${calendars()}/${calendarId}/sync`), 404);
  });

  it('a source that fails on connect is still connected, with status "error" and the reason', async () => {
    const missing = `/feeds/${TOKEN}/missing.ics`;
    const res = await as.provider('POST', calendars(), { type: 'ics', url: ics.url(missing), writeMode: 'strict' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'error', lastSyncedAt: null, error: expect.stringMatching(/HTTP 404/), writeMode: 'strict' });
    const closed = await as.provider('POST', calendars(), { type: 'ics', url: 'http://127.0.0.1:9/closed.ics' });
    expect(closed.statusCode, closed.body).toBe(201);
    expect(closed.json()).toMatchObject({ status: 'error', error: expect.stringMatching(/refused the connection/) });
    for (const id of [res.json().id, closed.json().id]) expect((await as.provider('DELETE', `${calendars()}/${id}`)).statusCode).toBe(204);
  });

  it('redirects are followed (at most 3) and webcal:// is read as https://', async () => {
    ics.serve('/r1', { redirect: ics.url(FEED) });
    const res = await as.provider('POST', calendars(), { type: 'ics', url: ics.url('/r1') });
    expect(res.json()).toMatchObject({ status: 'ok' });
    ics.serve('/loop', { redirect: '/loop' });
    const loop = await as.provider('POST', calendars(), { type: 'ics', url: ics.url('/loop') });
    expect(loop.json()).toMatchObject({ status: 'error', error: 'more than 3 redirects' });
    expect(ics.hits('/loop')).toBe(4);
    const webcal = await as.provider('POST', calendars(), { type: 'ics', url: `webcal://127.0.0.1:${ics.port}${FEED}` });
    expect(webcal.statusCode, webcal.body).toBe(201); // https to a plain-http port: a TLS error, recorded
    expect(webcal.json().status).toBe('error');
    for (const r of [res, loop, webcal]) expect((await as.provider('DELETE', `${calendars()}/${r.json().id}`)).statusCode).toBe(204);
  });

  it('only the provider itself or an admin: others get 403, unknown providers and calendars 404', async () => {
    const created = await as.admin('POST', calendars(), { type: 'ics', url: ics.url(FEED) });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    for (const who of [as.other, as.client]) {
      expectProblem(await who('POST', calendars(), { type: 'ics', url: ics.url(FEED) }), 403);
      expectProblem(await who('GET', calendars()), 403);
      expectProblem(await who('DELETE', `${calendars()}/${id}`), 403);
      expectProblem(await who('POST', `${calendars()}/${id}/sync`), 403);
    }
    // Another provider's calendar id under one's own path is no such calendar.
    expectProblem(await as.other('DELETE', `${calendars(otherProvider.id)}/${id}`), 404);
    expectProblem(await as.other('POST', `${calendars(otherProvider.id)}/${id}/sync`), 404);
    expectProblem(await as.admin('GET', calendars('usr_nobody')), 404);
    expectProblem(await as.admin('POST', calendars(client.id), { type: 'ics', url: ics.url(FEED) }), 404);
    expectProblem(await as.provider('POST', `${calendars()}/cal_nope/sync`), 404);
    expectProblem(await server.app.inject({ method: 'GET', url: calendars() }), 401);
    expect((await as.provider('DELETE', `${calendars()}/${id}`)).statusCode).toBe(204);
  });

  it('bad input is a 400 (422 for what is not possible) and stores nothing', async () => {
    const bad: [unknown, number, string][] = [
      [{ type: 'ics' }, 400, 'body'],
      [{ type: 'ics', url: '' }, 400, 'body'],
      [{ type: 'ics', url: 'not a url' }, 400, 'body/url'],
      [{ type: 'ics', url: 'ftp://example.test/cal.ics' }, 400, 'body/url'],
      [{ type: 'ics', url: 'file:///etc/passwd' }, 400, 'body/url'],
      [{ type: 'ics', url: ics.url(FEED), extra: 1 }, 400, 'body'],
      [{ type: 'ics', url: ics.url(FEED), writeMode: 'sometimes' }, 400, 'body'],
      [{ type: 'outlook', url: ics.url(FEED) }, 400, 'body'],
      [{ type: 'ics', url: ics.url(FEED), writeBookings: true }, 422, ''],
      [{ type: 'google', url: ics.url(FEED) }, 400, 'body'], // Google takes no URL: its calendar comes with the consent
    ];
    for (const [body, status, path] of bad) {
      const problem = expectProblem(await as.provider('POST', calendars(), body), status);
      if (status === 422) expect(problem.code).toBe('not_supported');
      if (path) expect(problem.errors?.some((e: { path: string }) => e.path.startsWith(path)), JSON.stringify(problem)).toBe(true);
    }
    expectProblem(await as.provider('GET', `${calendars()}?limit=0`), 400);
    expectProblem(await as.provider('GET', `${calendars()}?cursor=garbage`), 400);
    expect((await as.provider('GET', calendars())).json().data).toEqual([]);
  });

  it('lists page with limit and cursor, oldest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await as.provider('POST', calendars(), { type: 'ics', url: ics.url(FEED) })).json().id);
    const first = (await as.provider('GET', `${calendars()}?limit=2`)).json();
    expect(first.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(0, 2));
    const second = (await as.provider('GET', `${calendars()}?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ data: [expect.objectContaining({ id: ids[2] })], nextCursor: null });
    for (const id of ids) expect((await as.provider('DELETE', `${calendars()}/${id}`)).statusCode).toBe(204);
  });

  it('the feed URL and its token never appear in any answer, nor in the database in plain text', async () => {
    expect(bodies.length).toBeGreaterThan(50);
    for (const body of bodies) {
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain('/feeds/');
    }
    await as.provider('POST', calendars(), { type: 'ics', url: `${ics.url(FEED)}?token=${TOKEN}` });
    const { rows } = await server.db.query<{ c: string }>('SELECT config_ciphertext AS c FROM calendar_connections');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.c).toMatch(/^v1\./);
      expect(row.c).not.toContain(TOKEN);
    }
  });

  it('a server without ENCRYPTION_KEY refuses to start while calendars are stored, and one with another key too', async () => {
    const env = { ADMIN_API_KEY: ADMIN_KEY, DATA_DIR: 'memory', LOG_LEVEL: 'silent' };
    await expect(createServer(loadConfig(env), { db: server.db, logger: false })).rejects.toThrow(/^ENCRYPTION_KEY: is required/);
    const otherKey = Buffer.alloc(32, 9).toString('hex');
    await expect(createServer(loadConfig({ ...env, ENCRYPTION_KEY: otherKey }), { db: server.db, logger: false }))
      .rejects.toThrow(/^ENCRYPTION_KEY: does not open/);
  });
});

describe('connected calendars: guards', () => {
  let ics: IcsServer;
  beforeAll(async () => {
    ics = await startIcsServer();
    ics.serve('/cal.ics', { file: 'open-ended.ics' });
  });
  afterAll(async () => ics?.close());

  it('without CALENDAR_ALLOW_PRIVATE_URLS, loopback, private and link-local targets are refused with a 400, nothing stored, nothing fetched', async () => {
    const server = await startTestServer();
    try {
      const provider = await providerWithHours(server);
      for (const url of [
        ics.url('/cal.ics'),
        `http://localhost:${ics.port}/cal.ics`,
        `http://[::1]:${ics.port}/cal.ics`,
        `http://[::ffff:127.0.0.1]:${ics.port}/cal.ics`,
        'http://169.254.169.254/latest/meta-data/',
        'http://10.1.2.3/cal.ics',
        'http://0.0.0.0/cal.ics',
        'http://2130706433/cal.ics', // 127.0.0.1 as one number
      ]) {
        const problem = expectProblem(await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url }), 400);
        expect(problem.errors?.[0]?.path, url).toBe('body/url');
        expect(problem.detail, url).toMatch(/refused/);
      }
      expect(ics.hits('/cal.ics')).toBe(0);
      expect((await provider.call('GET', `/v1/providers/${provider.id}/calendars`)).json().data).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('without ENCRYPTION_KEY, connecting is a 503 naming it (bad input is still a 400 first)', async () => {
    const server = await startTestServer({ ENCRYPTION_KEY: '', CALENDAR_ALLOW_PRIVATE_URLS: 'true' });
    try {
      const provider = await providerWithHours(server);
      const problem = expectProblem(await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url: ics.url('/cal.ics') }), 503);
      expect(problem.detail).toMatch(/ENCRYPTION_KEY/);
      expectProblem(await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url: 'gopher://x' }), 400);
      expect(ics.hits('/cal.ics')).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('the background sync refreshes every CALENDAR_SYNC_SECONDS and keeps the last good set when the source fails', async () => {
    const server = await startTestServer({ CALENDAR_ALLOW_PRIVATE_URLS: 'true', CALENDAR_SYNC_SECONDS: '1' });
    try {
      const provider = await providerWithHours(server);
      ics.serve('/bg.ics', { file: 'open-ended.ics' });
      const created = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url: ics.url('/bg.ics') });
      expect(created.json().status).toBe('ok');
      ics.serve('/bg.ics', { status: 503 });
      // Bounded wait: the sweeper ticks every second; give it up to 15 s.
      let calendar: { status: string; error?: string } | undefined;
      for (let i = 0; i < 60 && calendar?.status !== 'error'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        calendar = (await provider.call('GET', `/v1/providers/${provider.id}/calendars`)).json().data[0];
      }
      expect(calendar).toMatchObject({ status: 'error', error: expect.stringMatching(/HTTP 503/) });
      expect(ics.hits('/bg.ics')).toBeGreaterThanOrEqual(2);
      const slots = await provider.call('GET', `/v1/slots?providerId=${provider.id}&from=${wednesday}&to=${wednesday}`);
      expect(slots.statusCode).toBe(200);
      expect(slots.json().slots).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

// The busy-time cases every source runs (calendars-caldav.test.ts runs them for CalDAV).
let sharedFeed: IcsServer;
busyTimeCases('ICS', {
  async start() {
    sharedFeed = await startIcsServer();
    sharedFeed.serve('/shared.ics', { file: 'open-ended.ics' });
  },
  connectBody: () => ({ type: 'ics', url: sharedFeed.url('/shared.ics') }),
  holdFixture: async (name) => sharedFeed.serve('/shared.ics', { file: name }),
  stop: async () => sharedFeed?.close(),
});
