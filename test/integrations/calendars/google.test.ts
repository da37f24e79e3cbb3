import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeAuthorizationCode } from '../../../src/integrations/calendars/google-auth.js';
import { googleEventId, googleProvider, type GoogleConfig } from '../../../src/integrations/calendars/google-provider.js';
import { parseIcsBusy } from '../../../src/integrations/calendars/ics-busy.js';
import { CalendarSourceError, type BusyQuery, type FetchLimits } from '../../../src/integrations/calendars/provider.js';
import { startGoogleFake, type GoogleFake } from '../../helpers/google-fake.js';
import { fixtureText } from '../../helpers/ics-server.js';

/**
 * The Google provider called directly, against test/helpers/google-fake.ts on
 * 127.0.0.1, through the real client library: the write path (the outbox
 * worker's calls) and its errors, and every fixture's busy time.
 */
const DAY = 86_400_000;
const now = Date.now();
const query: BusyQuery = { timeZone: 'Europe/Berlin', horizon: { start: now - DAY, end: now + 400 * DAY } };
const limits: FetchLimits = { allowPrivateAddresses: false, timeoutMs: 5_000 };
const FIXTURES = ['open-ended.ics', 'recurring-weekly.ics', 'all-day.ics', 'floating.ics', 'tzid.ics', 'transparent-cancelled.ics'];

/** Consent at the fake and the code traded for tokens, as the callback does. */
async function authorisedConfig(google: GoogleFake): Promise<GoogleConfig> {
  const env = google.env();
  const consent = new URL(env.GOOGLE_AUTH_URL!);
  for (const [name, value] of Object.entries({
    client_id: google.clientId, redirect_uri: google.redirectUri, response_type: 'code', access_type: 'offline', state: 'test',
    scope: 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy',
  })) consent.searchParams.set(name, value);
  const redirect = await fetch(consent, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
  const client = { clientId: google.clientId, clientSecret: google.clientSecret, tokenUrl: env.GOOGLE_TOKEN_URL!, apiRootUrl: env.GOOGLE_API_ROOT_URL! };
  const tokens = await exchangeAuthorizationCode(client, google.redirectUri, code, limits);
  return { calendarId: 'primary', ...tokens, client };
}

async function sourceError(promise: Promise<unknown>): Promise<CalendarSourceError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(CalendarSourceError);
  return error as CalendarSourceError;
}

describe('Google provider: busy time of every fixture', () => {
  let google: GoogleFake;
  let config: GoogleConfig;
  beforeAll(async () => {
    google = await startGoogleFake();
    config = await authorisedConfig(google);
  });
  afterAll(async () => google?.close());

  // google-busy.json was written by hand; our ICS reader, for a provider in the fake calendar's zone, must agree with
  // it, and the Google provider must relay it whole across its 90-day freeBusy parts.
  it.each(FIXTURES)('%s: the busy time Google reports is the busy time of the same file read as ICS', async (name) => {
    google.holdFixture(name);
    const busy = await googleProvider.fetchBusy(config, query, limits);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy).toEqual(parseIcsBusy(fixtureText(name), query).busy);
  });
});

describe('Google provider: writing bookings', () => {
  let google: GoogleFake;
  let config: GoogleConfig;
  const uid = 'bkg_4Tq9x2@booking-engine.example';
  const start = Date.parse('2027-03-08T09:00:00Z');
  const end = Date.parse('2027-03-08T10:00:00Z');
  const inserts = () => google.log.filter((l) => l === 'POST /calendar/v3/calendars/primary/events').length;

  beforeAll(async () => {
    google = await startGoogleFake();
    config = await authorisedConfig(google);
  });
  afterAll(async () => google?.close());

  it('the event id is valid for Google (base32hex, 5-1024) and the same for the same uid', () => {
    expect(googleEventId(uid)).toMatch(/^[a-v0-9]{5,1024}$/);
    expect(googleEventId(uid)).toBe(googleEventId(uid));
    expect(googleEventId(`${uid}x`)).not.toBe(googleEventId(uid));
  });

  it('writeEvent inserts the event at its time; a retry of the same uid (409 duplicate) is a success and leaves one event', async () => {
    await googleProvider.writeEvent!(config, { uid, start, end, summary: 'Booking with Ada' }, limits);
    expect([...google.events.values()]).toEqual([
      {
        account: 'account-1', id: googleEventId(uid), start: '2027-03-08T09:00:00.000Z', end: '2027-03-08T10:00:00.000Z',
        summary: 'Booking with Ada', transparency: 'opaque', uid,
      },
    ]);
    await googleProvider.writeEvent!(config, { uid, start, end, summary: 'Booking with Ada' }, limits);
    expect(inserts()).toBe(2);
    expect(google.events.size).toBe(1);
    // The event is busy time in the calendar.
    const busy = await googleProvider.fetchBusy(config, query, limits);
    expect(busy).toContainEqual({ start, end });
  });

  it('writeEvent of a uid already written, at another time (a reschedule), moves that event: still one event', async () => {
    const later = { start: start + 2 * 3600_000, end: end + 2 * 3600_000 };
    await googleProvider.writeEvent!(config, { uid, ...later, summary: 'Booking with Ada' }, limits);
    const events = [...google.events.values()];
    expect(events).toEqual([expect.objectContaining({ id: googleEventId(uid), start: '2027-03-08T11:00:00.000Z', end: '2027-03-08T12:00:00.000Z' })]);
    expect(google.log.filter((l) => l.startsWith('PUT /calendar/v3/calendars/primary/events/'))).toHaveLength(2); // the retry above, and this
    const busy = await googleProvider.fetchBusy(config, query, limits);
    expect(busy).toContainEqual(later);
    expect(busy).not.toContainEqual({ start, end });
    await googleProvider.writeEvent!(config, { uid, start, end, summary: 'Booking with Ada' }, limits); // back, for the next case
  });

  it('removeEvent deletes it; again (410) and for a uid never written (404) is a success', async () => {
    await googleProvider.removeEvent!(config, uid, limits);
    expect(google.events.get(`account-1/${googleEventId(uid)}`)?.deleted).toBe(true);
    await googleProvider.removeEvent!(config, uid, limits);
    await googleProvider.removeEvent!(config, 'bkg_never@booking-engine.example', limits);
    expect(await googleProvider.fetchBusy(config, query, limits)).not.toContainEqual({ start, end });
  });

  it('Google answering 500 is an "http" error naming the status and no token; nothing is retried inside the call', async () => {
    const before = inserts();
    google.fault = 'status500';
    try {
      for (const attempt of [
        googleProvider.writeEvent!(config, { uid: 'bkg_2@x', start, end, summary: 'x' }, limits),
        googleProvider.removeEvent!(config, 'bkg_2@x', limits),
        googleProvider.fetchBusy(config, query, limits),
      ]) {
        const error = await sourceError(attempt);
        expect(error.kind).toBe('http');
        expect(error.message).toMatch(/HTTP 500/);
        for (const token of google.issuedTokens()) expect(error.message).not.toContain(token);
      }
    } finally {
      google.fault = null;
    }
    expect(inserts()).toBe(before + 1);
  });

  it('a Google that never answers is a "timeout" within the limit; a stopping server is one too', async () => {
    google.fault = 'hang';
    try {
      const started = Date.now();
      const error = await sourceError(googleProvider.writeEvent!(config, { uid: 'bkg_3@x', start, end, summary: 'x' }, { ...limits, timeoutMs: 300 }));
      expect(error.kind).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3_000);
      const stop = new AbortController();
      const pending = googleProvider.fetchBusy(config, query, { ...limits, signal: stop.signal });
      setTimeout(() => stop.abort(), 50);
      expect(await sourceError(pending)).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/shutting down/) });
    } finally {
      google.fault = null;
    }
  });

  it('an unreachable Google is "unreachable"; a calendar never authorised is "invalid"; a revoked grant asks to reconnect', async () => {
    const closed = { ...config, client: { ...config.client!, apiRootUrl: 'http://127.0.0.1:9/' } };
    expect((await sourceError(googleProvider.removeEvent!(closed, uid, limits))).kind).toBe('unreachable');
    const pending: GoogleConfig = { calendarId: 'primary', client: config.client! };
    expect((await sourceError(googleProvider.fetchBusy(pending, query, limits))).kind).toBe('invalid');
    google.revokeRefreshTokens();
    google.expireAccessTokens();
    const revoked = await sourceError(googleProvider.writeEvent!(config, { uid: 'bkg_4@x', start, end, summary: 'x' }, limits));
    expect(revoked).toMatchObject({ kind: 'http', message: expect.stringMatching(/invalid_grant.*connect it again/) });
  });
});
