import { createHash } from 'node:crypto';
import type { calendar_v3 } from '@googleapis/calendar';
import { normalizeIntervals, type Interval } from '../../domain/intervals.js';
import { deadlineOf, googleApis, googleOAuthClient, type GoogleClientSettings } from './google-auth.js';
import { describeGoogleError, fromTokenEndpoint, isInvalidGrant } from './google-errors.js';
import { CalendarSourceError, type CalendarProvider, type FetchLimits } from './provider.js';

/**
 * Google Calendar through its REST API (the `@googleapis/calendar` client, so
 * `rootUrl` can point at a local fake in tests): busy time in with
 * freebusy.query, bookings out with events.insert / events.delete.
 *
 * The stored (sealed) settings hold the OAuth tokens Google gave at consent
 * (src/features/calendars/google-oauth.ts); `client` (this server's OAuth client and Google's
 * endpoints) comes from the environment on every call and is never stored.
 *
 * Access tokens live about an hour. A token that is expired (or will be within
 * a minute) is refreshed before the call, and a call answered 401 is refreshed
 * and retried once. The refreshed token is cached in this process, keyed by the
 * refresh token (no connection id reaches a provider, and the refresh token is
 * what the access token belongs to); after a restart the first call refreshes
 * again. A refresh Google refuses with invalid_grant (revoked access, password
 * change) is an error asking the provider to connect the calendar again.
 */
export type { GoogleClientSettings } from './google-auth.js';

export interface GoogleConfig {
  /** "primary": the calendar of the account that consented. */
  calendarId: string;
  /** Set at consent; without it the calendar is not authorised (yet). */
  refreshToken?: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
  /** Added by the app when it opens the stored settings (src/features/calendars/calendar-sync.ts openConfig); never stored. */
  client?: GoogleClientSettings;
}

/** Google's free/busy query spans at most 90 days ("The requested time range is too long"): longer ranges are asked in parts. */
export const FREEBUSY_MAX_SPAN_MS = 90 * 24 * 3600 * 1000;
const MAX_CACHED_TOKENS = 10_000;

const accessTokens = new Map<string, { token: string; expiresAt: number }>();
const cacheKey = (refreshToken: string) => createHash('sha256').update(refreshToken).digest('base64url');

/**
 * Google event ids are 5-1024 characters of base32hex (a-v, 0-9). Hex is a
 * subset, so the SHA-256 of the booking uid in hex is a valid id, the same on
 * every retry: a second insert of one booking is a 409 "duplicate", not a copy.
 */
export function googleEventId(uid: string): string {
  return createHash('sha256').update(uid, 'utf8').digest('hex');
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Session {
  api: calendar_v3.Calendar;
  calendarId: string;
  /** Runs one API call; a status in `success` (409 on insert, 404 on delete) counts as done. */
  run<T>(call: () => Promise<T>, success?: number[]): Promise<T | null>;
}

async function openSession(config: GoogleConfig, limits: FetchLimits): Promise<Session> {
  const client = config.client;
  if (!client) throw new CalendarSourceError('Google Calendar is not configured on this server (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET)', 'invalid');
  const refreshToken = config.refreshToken;
  if (!refreshToken) {
    throw new CalendarSourceError('this Google calendar was never authorised: delete it and connect it again', 'invalid');
  }
  // One deadline for everything this session does, token refreshes included.
  const signal = deadlineOf(limits);
  const oauth = await googleOAuthClient(client, signal);
  const key = cacheKey(refreshToken);
  const cached = accessTokens.get(key)
    ?? (config.accessToken ? { token: config.accessToken, expiresAt: config.accessTokenExpiresAt ?? 0 } : undefined);
  oauth.setCredentials({
    refresh_token: refreshToken,
    ...(cached ? { access_token: cached.token, expiry_date: cached.expiresAt } : {}),
  });
  oauth.on('tokens', (tokens) => {
    if (!tokens.access_token) return;
    if (accessTokens.size >= MAX_CACHED_TOKENS) accessTokens.delete(accessTokens.keys().next().value!);
    accessTokens.set(key, { token: tokens.access_token, expiresAt: tokens.expiry_date ?? 0 });
  });
  const { calendar } = await googleApis();
  const api = calendar({ version: 'v3', rootUrl: client.apiRootUrl, auth: oauth, retry: false });
  return {
    api,
    calendarId: config.calendarId,
    async run(call, success = []) {
      try {
        return await call();
      } catch (error) {
        const status = (error as { response?: { status?: number } }).response?.status;
        if (status !== undefined && success.includes(status) && !fromTokenEndpoint(error, client.tokenUrl)) return null;
        if (isInvalidGrant(error, client.tokenUrl)) accessTokens.delete(key);
        throw describeGoogleError(error, { signal, limits, tokenUrl: client.tokenUrl });
      }
    },
  };
}

function busyOf(response: calendar_v3.Schema$FreeBusyResponse, calendarId: string): Interval[] {
  const entry = response.calendars?.[calendarId];
  if (!entry) throw new CalendarSourceError('Google Calendar answered without the calendar\'s free/busy times', 'invalid');
  const failure = entry.errors?.[0];
  if (failure) {
    const reason = /^[A-Za-z0-9_.-]{1,64}$/.test(failure.reason ?? '') ? `: ${failure.reason}` : '';
    throw new CalendarSourceError(`Google Calendar could not read the calendar${reason}`, failure.reason === 'notFound' ? 'http' : 'invalid');
  }
  return (entry.busy ?? []).map((period) => {
    const start = Date.parse(period.start ?? '');
    const end = Date.parse(period.end ?? '');
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw new CalendarSourceError('Google Calendar sent a busy period without valid times', 'invalid');
    return { start, end };
  });
}

export const googleProvider: CalendarProvider<GoogleConfig> = {
  type: 'google',

  // Nothing to read from the body: the account and its tokens come with the consent.
  parseConfig: () => ({ calendarId: 'primary' }),

  async fetchBusy(config, query, limits) {
    const session = await openSession(config, limits);
    const busy: Interval[] = [];
    for (let from = query.horizon.start; from < query.horizon.end; from += FREEBUSY_MAX_SPAN_MS) {
      const to = Math.min(from + FREEBUSY_MAX_SPAN_MS, query.horizon.end);
      const res = await session.run(() => session.api.freebusy.query({
        requestBody: { timeMin: iso(from), timeMax: iso(to), items: [{ id: session.calendarId }] },
      }));
      busy.push(...busyOf(res!.data, session.calendarId));
    }
    return normalizeIntervals(busy.filter((i) => i.end > i.start));
  },

  async writeEvent(config, event, limits) {
    const session = await openSession(config, limits);
    const eventId = googleEventId(event.uid);
    const requestBody = {
      summary: event.summary,
      start: { dateTime: iso(event.start) },
      end: { dateTime: iso(event.end) },
      transparency: 'opaque',
      extendedProperties: { private: { bookingUid: event.uid } },
    };
    const inserted = await session.run(() => session.api.events.insert({ calendarId: session.calendarId, requestBody: { id: eventId, ...requestBody } }), [409]);
    if (inserted !== null) return;
    // 409: the event exists (an earlier try got through, or the booking was rescheduled): it takes this state,
    // its new time included. A deleted event is brought back by "confirmed", as a PUT of the object would in CalDAV.
    await session.run(() => session.api.events.update({ calendarId: session.calendarId, eventId, requestBody: { ...requestBody, status: 'confirmed' } }));
  },

  async removeEvent(config, uid, limits) {
    const session = await openSession(config, limits);
    // 404: never written or already gone; 410: deleted before.
    await session.run(() => session.api.events.delete({ calendarId: session.calendarId, eventId: googleEventId(uid) }), [404, 410]);
  },
};
