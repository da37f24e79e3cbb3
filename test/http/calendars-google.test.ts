import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueCalendarWrites } from '../../src/features/calendars/calendar-write-worker.js';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startGoogleFake, type GoogleFake } from '../helpers/google-fake.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { holdOk, localInstant, plusDays } from './booking-helpers.js';
import { busyTimeCases, FULL_DAY } from './calendar-source-cases.js';
import { collectiveWriteBackCases } from './calendar-write-cases.js';

/**
 * Google Calendar end to end: the real app, the real client library
 * (@googleapis/calendar, google-auth-library), and test/helpers/google-fake.ts
 * on 127.0.0.1 in place of Google's OAuth and Calendar endpoints. The fake's
 * calendar holds the busy periods Google would report for a fixture
 * (test/fixtures/calendars/google-busy.json).
 */
type Json = Record<string, any>;

/** The browser's part: opens the authorization URL (the fake consents or not) and follows Google's redirect to our callback. */
async function consent(server: TestServer, authorizationUrl: string): Promise<LightMyRequestResponse> {
  const screen = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(screen.status, await screen.clone().text()).toBe(302);
  const back = new URL(screen.headers.get('location')!);
  expect(back.pathname).toBe('/v1/calendars/google/callback');
  return callback(server, back.search);
}
const callback = (server: TestServer, search: string) => server.app.inject({ method: 'GET', url: `/v1/calendars/google/callback${search}` });

// The busy-time cases every source passes. Which apply to Google and why: all of them, through busy periods, since
// freeBusy already answers instants. Expanding recurrences, dropping transparent and cancelled events, and reading
// all-day and floating times in the calendar's zone are Google's work; the fake reports what Google would
// (google-busy.json, written by hand), and what is checked here is that our side asks for the whole horizon and puts
// every period where it belongs.
let shared: GoogleFake;
busyTimeCases('Google Calendar (local fake)', {
  async start() {
    shared = await startGoogleFake();
    shared.holdFixture('open-ended.ics');
  },
  serverEnv: () => shared.env(),
  connectBody: () => ({ type: 'google' }),
  async authorize(server, created) {
    expect(created).toMatchObject({ status: 'pending' });
    const res = await consent(server, String(created.authorizationUrl));
    expect(res.statusCode, res.body).toBe(200);
    return res.json().calendar;
  },
  holdFixture: async (name) => shared.holdFixture(name),
  stop: async () => shared?.close(),
});

// Each host consents with an account of its own: two Google calendars, and the one booking in both.
let writes: GoogleFake;
collectiveWriteBackCases('Google Calendar (local fake)', {
  async start() {
    writes = await startGoogleFake();
    writes.holdFixture('transparent-cancelled.ics'); // nothing busy in the coming weeks
  },
  serverEnv: () => writes.env(),
  async connect(server, provider) {
    const created = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'google', writeBookings: true });
    expect(created.statusCode, created.body).toBe(201);
    expect((await consent(server, created.json().authorizationUrl)).json()).toMatchObject({ connected: true, calendar: { status: 'ok' } });
    return writes.accounts().at(-1)!;
  },
  events: async (account) => [...writes.events.values()]
    .filter((e) => e.account === account && !e.deleted)
    .map((e) => ({ uid: e.uid!, start: Date.parse(e.start), end: Date.parse(e.end) })),
  stop: async () => writes?.close(),
});

describe('connected calendars: Google', () => {
  let google: GoogleFake;
  let server: TestServer;
  let provider: Awaited<ReturnType<typeof providerWithHours>>;
  let client: Awaited<ReturnType<typeof createUser>>;
  const answers: string[] = [];
  const monday = upcomingDate(1);
  const wednesday = plusDays(monday, 2);
  const mondayAfterMeeting = ['09:00', ...FULL_DAY.filter((t) => t >= '11:00')];
  const calendars = () => `/v1/providers/${provider.id}/calendars`;

  const keep = (res: LightMyRequestResponse) => {
    answers.push(res.body, JSON.stringify(res.headers));
    return res;
  };
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => keep(await provider.call(method, url, body));
  const follow = async (authorizationUrl: string) => keep(await consent(server, authorizationUrl));
  const connect = async (): Promise<Json> => {
    const res = await call('POST', calendars(), { type: 'google' });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const sync = async (id: string): Promise<Json> => {
    const res = await call('POST', `${calendars()}/${id}/sync`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  async function slotTimes(date: string): Promise<string[]> {
    const res = await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${date}&to=${date}&duration=60&timeZone=Europe/Berlin`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().slots.map((s: { start: string }) => s.start.slice(11, 16));
  }
  async function row(id: string): Promise<Json> {
    const { rows } = await server.db.query<Json>('SELECT * FROM calendar_connections WHERE id = $1', [id]);
    return rows[0]!;
  }
  const grants = (type: string) => google.log.filter((line) => line === `POST /token ${type}`).length;

  beforeAll(async () => {
    google = await startGoogleFake();
    google.holdFixture('open-ended.ics');
    server = await startTestServer(google.env());
    provider = await providerWithHours(server, 'Europe/Berlin');
    client = await createUser(server, 'client');
  });
  afterAll(async () => {
    await server?.close();
    await google?.close();
  });

  let calendarId: string;
  let firstCallback: string;

  it('connecting answers "pending" with the URL of Google\'s consent screen; nothing is read before consent', async () => {
    const created = await connect();
    expect(created).toEqual({
      id: expect.any(String), type: 'google', status: 'pending', lastSyncedAt: null, writeBookings: false, writeMode: 'eventual',
      authorizationUrl: expect.any(String),
    });
    calendarId = created.id;
    const url = new URL(created.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(google.env().GOOGLE_AUTH_URL);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      client_id: google.clientId, redirect_uri: google.redirectUri, response_type: 'code', access_type: 'offline', prompt: 'consent',
    });
    expect(q.scope!.split(' ').sort()).toEqual([
      'https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/calendar.freebusy',
    ]);
    expect(q.state).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    // Only a hash of the state is stored.
    const { rows } = await server.db.query<Json>('SELECT * FROM google_oauth_states WHERE connection_id = $1', [calendarId]);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(q.state);

    expect(google.log).toEqual([]);
    expect(await sync(calendarId)).toMatchObject({ status: 'pending' }); // nothing to read yet, and not an error
    expect(google.log).toEqual([]);
    expect(await slotTimes(monday)).toEqual(FULL_DAY);
    const listed = (await call('GET', calendars())).json().data;
    expect(listed).toEqual([expect.objectContaining({ id: calendarId, status: 'pending' })]);
    expect(listed[0].authorizationUrl).toBeUndefined();
    firstCallback = created.authorizationUrl;
  });

  it('the callback trades the code for tokens and reads the busy time: Monday loses 10:00-11:00, Wednesday is gone', async () => {
    const res = await follow(firstCallback);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      connected: true,
      message: expect.stringMatching(/connected/),
      calendar: expect.objectContaining({ id: calendarId, type: 'google', status: 'ok', lastSyncedAt: expect.stringMatching(/Z$/) }),
    });
    expect(grants('authorization_code')).toBe(1);
    // 401 days of busy time in parts of at most 90 days (the fake refuses longer ones, as Google does).
    expect(google.log.filter((l) => l === 'POST /calendar/v3/freeBusy')).toHaveLength(5);
    expect(await slotTimes(monday)).toEqual(mondayAfterMeeting);
    expect(await slotTimes(wednesday)).toEqual([]);
    expect(await slotTimes(plusDays(monday, 1))).toEqual(FULL_DAY);
    const { rows } = await server.db.query('SELECT 1 FROM google_oauth_states WHERE connection_id = $1', [calendarId]);
    expect(rows).toEqual([]);
  });

  it('the state is single use: the same redirect again is a 400 and changes nothing', async () => {
    const before = await row(calendarId);
    const tokenCalls = grants('authorization_code');
    const again = await follow(firstCallback);
    expect(expectProblem(again, 400).errors).toEqual([expect.objectContaining({ path: 'querystring/state' })]);
    expect(await row(calendarId)).toEqual(before);
    expect(grants('authorization_code')).toBe(tokenCalls);
  });

  it('an unknown, missing or expired state is a 400 and changes nothing; a redirect without code or error too', async () => {
    const pending = await connect();
    const state = new URL(pending.authorizationUrl).searchParams.get('state')!;
    const before = await row(pending.id);
    const tokenCalls = grants('authorization_code');
    expectProblem(keep(await callback(server, `?code=4/anything&state=${'A'.repeat(43)}`)), 400);
    expectProblem(keep(await callback(server, '?code=4/anything')), 400);
    expectProblem(keep(await callback(server, `?state=${state}`)), 400);
    expectProblem(keep(await callback(server, `?code=4/anything&state=${state}&code=again`)), 400);
    // Past its 10 minutes, the right state with a code Google would accept is refused all the same.
    await server.db.query("UPDATE google_oauth_states SET expires_at = now() - interval '1 second' WHERE connection_id = $1", [pending.id]);
    const expired = await follow(pending.authorizationUrl);
    expect(expectProblem(expired, 400).detail).toMatch(/unknown, already used or expired/);
    expect(await row(pending.id)).toEqual(before);
    expect(grants('authorization_code')).toBe(tokenCalls);
    expect((await call('DELETE', `${calendars()}/${pending.id}`)).statusCode).toBe(204);
  });

  it('access_denied on the consent screen marks the connection "error"; its state is used up', async () => {
    google.consent = 'deny';
    try {
      const denied = await connect();
      const res = await follow(denied.authorizationUrl);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        connected: false,
        calendar: { id: denied.id, status: 'error', lastSyncedAt: null, error: expect.stringMatching(/access was denied/) },
      });
      expectProblem(await follow(denied.authorizationUrl), 400);
      expect((await call('GET', calendars())).json().data.find((c: Json) => c.id === denied.id)).toMatchObject({ status: 'error' });
      expect((await call('DELETE', `${calendars()}/${denied.id}`)).statusCode).toBe(204);
    } finally {
      google.consent = 'allow';
    }
  });

  it('an expired access token is refreshed transparently: after a 401, or before the call when it is about to expire', async () => {
    const refreshes = grants('refresh_token');
    const FREEBUSY = 'POST /calendar/v3/freeBusy';
    google.expireAccessTokens(); // Google refuses a token this server still thinks good
    let from = google.log.length;
    expect(await sync(calendarId)).toMatchObject({ status: 'ok' });
    expect(google.log.slice(from)).toEqual([FREEBUSY, 'answered 401', 'POST /token refresh_token', ...Array(5).fill(FREEBUSY)]);
    from = google.log.length;
    expect(await sync(calendarId)).toMatchObject({ status: 'ok' }); // the new token is kept
    expect(google.log.slice(from)).toEqual(Array(5).fill(FREEBUSY));

    google.accessTokenTtlSeconds = 30; // under the minute of margin: a token that is about to expire is refreshed before use
    try {
      google.expireAccessTokens();
      await sync(calendarId);
      from = google.log.length;
      expect(await sync(calendarId)).toMatchObject({ status: 'ok' });
      const log = google.log.slice(from);
      expect(log).not.toContain('answered 401');
      expect(log.slice(0, 2)).toEqual(['POST /token refresh_token', FREEBUSY]);
      expect(log.filter((line) => line === FREEBUSY)).toHaveLength(5);
    } finally {
      google.accessTokenTtlSeconds = 3600;
    }
    expect(grants('refresh_token')).toBeGreaterThan(refreshes + 2);
    expect(await slotTimes(wednesday)).toEqual([]);
  });

  it('Google failing (HTTP 500) shows status "error" with the reason; the last good busy time still counts and slots are served', async () => {
    const lastGood = (await sync(calendarId)).lastSyncedAt;
    google.fault = 'status500';
    try {
      const failed = await sync(calendarId);
      expect(failed).toMatchObject({ status: 'error', lastSyncedAt: lastGood, error: expect.stringMatching(/HTTP 500/) });
      expect(await slotTimes(monday)).toEqual(mondayAfterMeeting);
      expect(await slotTimes(wednesday)).toEqual([]);
    } finally {
      google.fault = null;
    }
    expect(await sync(calendarId)).toMatchObject({ status: 'ok' });
  });

  it('a revoked refresh token: status "error" asking to connect again; the last good busy time keeps counting', async () => {
    google.revokeRefreshTokens();
    google.expireAccessTokens();
    const revoked = await sync(calendarId);
    expect(revoked).toMatchObject({ status: 'error', error: expect.stringMatching(/invalid_grant.*connect it again/) });
    expect(await slotTimes(monday)).toEqual(mondayAfterMeeting);
    expect(await slotTimes(wednesday)).toEqual([]);
    expect(await sync(calendarId)).toMatchObject({ status: 'error' }); // still refused: nothing cached lets it through
  });

  it('no token (nor the client secret) appears in any answer, nor in the database in plain text', async () => {
    const tokens = google.issuedTokens();
    expect(tokens.length).toBeGreaterThan(5);
    expect(answers.length).toBeGreaterThan(30);
    for (const body of answers) {
      for (const token of [...tokens, google.clientSecret]) expect(body).not.toContain(token);
    }
    const { rows } = await server.db.query<Json>('SELECT * FROM calendar_connections');
    const { rows: states } = await server.db.query<Json>('SELECT * FROM google_oauth_states');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.config_ciphertext).toMatch(/^v1\./);
    const stored = JSON.stringify([rows, states]);
    for (const token of [...tokens, google.clientSecret]) expect(stored).not.toContain(token);
  });

  it('without GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET or GOOGLE_REDIRECT_URI, connecting and the callback are a 503 naming what is missing', async () => {
    const bare = await startTestServer({ GOOGLE_CLIENT_ID: '', GOOGLE_CLIENT_SECRET: '', GOOGLE_REDIRECT_URI: '' });
    const half = await startTestServer({ GOOGLE_CLIENT_SECRET: '' });
    try {
      for (const [s, names] of [[bare, ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REDIRECT_URI']], [half, ['GOOGLE_CLIENT_SECRET']]] as const) {
        const p = await providerWithHours(s);
        const problem = expectProblem(await p.call('POST', `/v1/providers/${p.id}/calendars`, { type: 'google' }), 503);
        expect(problem.code).toBe('unavailable');
        for (const name of ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REDIRECT_URI']) {
          expect(problem.detail.includes(name), `${name} in ${problem.detail}`).toBe((names as readonly string[]).includes(name));
        }
        expectProblem(await s.app.inject({ method: 'GET', url: '/v1/calendars/google/callback?code=x&state=y' }), 503);
        expect((await p.call('GET', `/v1/providers/${p.id}/calendars`)).json().data).toEqual([]);
      }
    } finally {
      await bare.close();
      await half.close();
    }
  });
});

describe('connected calendars: Google with writeBookings', () => {
  let google: GoogleFake;
  let server: TestServer;

  beforeAll(async () => {
    google = await startGoogleFake();
    google.holdFixture('transparent-cancelled.ics'); // nothing busy in the coming weeks
    // The background writer never fires here: the test drives it (see calendar-writes.test.ts).
    server = await startTestServer({ ...google.env(), CALENDAR_WRITE_POLL_MS: '3600000', CALENDAR_WRITE_RETRY_BASE_MS: '300' });
  });
  afterAll(async () => {
    await server?.close();
    await google?.close();
  });

  it('a confirmed booking appears in the Google calendar at its time; cancelled, it is gone', async () => {
    const provider = await providerWithHours(server, 'Europe/Berlin');
    const client = await createUser(server, 'client');
    const created = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'google', writeBookings: true });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ status: 'pending', writeBookings: true });
    expect((await consent(server, created.json().authorizationUrl)).json()).toMatchObject({ connected: true, calendar: { status: 'ok' } });

    const start = localInstant(plusDays(upcomingDate(1), 7), '10:00');
    const booking = await holdOk(client.call, provider.id, start, 60);
    const confirmed = await client.call('POST', `/v1/bookings/${booking.id}/confirm`);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    await runDueCalendarWrites(server.ctx);
    const written = [...google.events.values()];
    expect(written).toEqual([expect.objectContaining({
      start: new Date(Date.parse(start)).toISOString(),
      end: new Date(Date.parse(start) + 3600_000).toISOString(),
      transparency: 'opaque',
    })]);
    expect(written[0]!.deleted).toBeUndefined();

    // A sync now reads our own event back from free/busy (Google cannot tell it apart).
    const calendarId = created.json().id;
    const synced = await provider.call('POST', `/v1/providers/${provider.id}/calendars/${calendarId}/sync`);
    expect(synced.statusCode, synced.body).toBe(200);

    const cancelled = await client.call('POST', `/v1/bookings/${booking.id}/cancel`, {});
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await runDueCalendarWrites(server.ctx);
    expect(google.events.get(`${written[0]!.account}/${written[0]!.id}`)?.deleted).toBe(true);
    expect(google.events.size).toBe(1);
    // The delete re-reads the calendar at once, so the cancelled time is offered again without waiting for the next sync.
    const day = start.slice(0, 10);
    const slots = await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}&duration=60`);
    expect(slots.statusCode, slots.body).toBe(200);
    expect(slots.json().slots.map((s: { start: string }) => s.start)).toContain(new Date(Date.parse(start)).toISOString().replace('.000Z', 'Z'));
  });

  async function connectWriter(writeMode: 'eventual' | 'strict') {
    const provider = await providerWithHours(server, 'Europe/Berlin');
    const client = await createUser(server, 'client');
    const created = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'google', writeBookings: true, writeMode });
    expect(created.statusCode, created.body).toBe(201);
    expect((await consent(server, created.json().authorizationUrl)).json()).toMatchObject({ connected: true });
    return { provider, client };
  }
  const eventsAt = (start: string) => [...google.events.values()].filter((e) => !e.deleted && e.start === new Date(Date.parse(start)).toISOString());

  it('a Google outage (500s) leaves the booking confirmed; the write is retried after its backoff and lands once Google is back', async () => {
    const { provider, client } = await connectWriter('eventual');
    const start = localInstant(plusDays(upcomingDate(1), 14), '11:00');
    const booking = await holdOk(client.call, provider.id, start, 60);
    google.fault = 'status500';
    try {
      const confirmed = await client.call('POST', `/v1/bookings/${booking.id}/confirm`);
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      await runDueCalendarWrites(server.ctx);
      const failedOnce = (await provider.call('GET', `/v1/bookings/${booking.id}`)).json();
      expect(failedOnce).toMatchObject({ status: 'confirmed', calendarSync: { status: 'pending', error: expect.any(String) } });
      expect(eventsAt(start)).toEqual([]);
    } finally {
      google.fault = null;
    }
    await runDueCalendarWrites(server.ctx); // still inside its backoff: nothing is sent
    expect(eventsAt(start)).toEqual([]);
    await server.db.query('UPDATE calendar_writes SET next_attempt_at = now() WHERE booking_id = $1', [booking.id]);
    await runDueCalendarWrites(server.ctx);
    expect(eventsAt(start)).toHaveLength(1);
    expect((await client.call('GET', `/v1/bookings/${booking.id}`)).json().calendarSync).toEqual({ status: 'synced' });
  });

  it('writeMode strict: Google failing makes the confirm a 502 and the booking stays held; once Google answers, the confirm succeeds with the event written', async () => {
    const { provider, client } = await connectWriter('strict');
    const start = localInstant(plusDays(upcomingDate(1), 14), '14:00');
    const booking = await holdOk(client.call, provider.id, start, 60);
    google.fault = 'status500';
    try {
      const refused = expectProblem(await client.call('POST', `/v1/bookings/${booking.id}/confirm`), 502);
      expect(refused.code).toBe('calendar_write_failed');
    } finally {
      google.fault = null;
    }
    expect((await client.call('GET', `/v1/bookings/${booking.id}`)).json().status).toBe('held');
    expect(eventsAt(start)).toEqual([]);
    const confirmed = await client.call('POST', `/v1/bookings/${booking.id}/confirm`);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(eventsAt(start)).toHaveLength(1); // written before the 200, not by the worker
  });
});
