import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Google's OAuth and Calendar endpoints, as far as this server uses them, on
 * 127.0.0.1 (GOOGLE_AUTH_URL, GOOGLE_TOKEN_URL, GOOGLE_API_ROOT_URL point here):
 *
 * - GET  /o/oauth2/v2/auth: the consent screen, answered at once with a
 *   redirect to redirect_uri (?code&state, or ?error=access_denied&state when
 *   `consent` is 'deny'); client_id, redirect_uri, scope and access_type are checked.
 * - POST /token: authorization_code and refresh_token grants; checks the
 *   client's id and secret and (for a code) the redirect_uri it was issued for.
 *   Access tokens live `accessTokenTtlSeconds`; revokeRefreshTokens() makes
 *   every refresh an invalid_grant, expireAccessTokens() every current access token a 401.
 * - POST /calendar/v3/freeBusy: the busy periods of the calendar (a fixture's
 *   hand-written periods, test/fixtures/calendars/google-busy.json, plus the
 *   events inserted), clipped to [timeMin, timeMax) and merged; over 90 days is
 *   a 400 timeRangeTooLong, as at Google.
 * - POST /calendar/v3/calendars/{id}/events, PUT and DELETE .../events/{eventId}:
 *   insert (409 for an id already used), update (404 unknown; `status:
 *   "confirmed"` brings a deleted event back, as at Google) and delete (404
 *   unknown, 410 deleted before).
 *
 * Each consent is its own Google account with its own primary calendar: the
 * tokens it leads to read and write only that account's events (two
 * providers who connect are two calendars, as in life). The busy fixture is
 * shown by every account.
 *
 * `fault` answers every request but the consent screen with a 500, or never.
 *
 *   const google = await startGoogleFake();
 *   const server = await startTestServer(google.env());
 */
export interface FakeEvent {
  /** The account whose primary calendar holds it: "account-1" for the first consent, and so on. */
  account: string;
  id: string;
  start: string;
  end: string;
  summary?: string;
  transparency?: string;
  /** extendedProperties.private.bookingUid: the booking's UID, as the server writes it. */
  uid?: string;
  deleted?: boolean;
}

export interface GoogleFake {
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** The environment pointing a server at this fake. */
  env(): Record<string, string>;
  /** The calendar now shows the busy time of this fixture (and the events inserted). */
  holdFixture(name: string): void;
  consent: 'allow' | 'deny';
  accessTokenTtlSeconds: number;
  fault: null | 'status500' | 'hang';
  /** Events by `${account}/${id}`, deleted ones included (marked). */
  readonly events: Map<string, FakeEvent>;
  /** The accounts consent has made so far, oldest first ("account-1", ...). */
  accounts(): string[];
  /** Every request: "METHOD /path" plus, for /token, the grant type; and "answered 401" after one refused for its token. */
  readonly log: string[];
  expireAccessTokens(): void;
  revokeRefreshTokens(): void;
  /** Every token this fake has handed out (tests look for them where they must not be). */
  issuedTokens(): string[];
  close(): Promise<void>;
}

interface WeeklyRule { weekday: number; start: string; end: string; from: string; until?: string; except?: string[] }
interface FixtureBusy { timeZone?: string; weekly?: WeeklyRule[]; busy?: [string, string][] }

const FIXTURES = JSON.parse(readFileSync(new URL('../fixtures/calendars/google-busy.json', import.meta.url), 'utf8')) as Record<string, FixtureBusy>;
const DAY_MS = 24 * 3600 * 1000;
const MAX_SPAN_MS = 90 * DAY_MS;

/** The zone's UTC offset (ms) at an instant, from Intl: an expansion independent of the app's own zone code. */
function offsetAt(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(instant / 1000) * 1000;
}

/** Local date + "HH:MM" in the zone -> epoch ms (times in a DST gap are not used by the fixtures). */
function localToInstant(timeZone: string, date: string, time: string): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  const asUtc = Date.parse(`${date}T00:00:00Z`) + (h * 60 + m) * 60_000;
  const guess = asUtc - offsetAt(timeZone, asUtc);
  return asUtc - offsetAt(timeZone, guess);
}

function expand(fixture: FixtureBusy, from: number, to: number): [number, number][] {
  const out: [number, number][] = (fixture.busy ?? []).map(([s, e]) => [Date.parse(s), Date.parse(e)]);
  for (const rule of fixture.weekly ?? []) {
    // Local dates from a day before `from` to a day after `to`, every one on the rule's weekday.
    for (let day = Math.max(Date.parse(`${rule.from}T00:00:00Z`), from - DAY_MS); day <= to + DAY_MS; day += DAY_MS) {
      const date = new Date(day).toISOString().slice(0, 10);
      if (new Date(day).getUTCDay() !== rule.weekday || (rule.until && date > rule.until) || rule.except?.includes(date)) continue;
      const start = localToInstant(fixture.timeZone!, date, rule.start);
      const end = rule.end === '24:00'
        ? localToInstant(fixture.timeZone!, new Date(day + DAY_MS).toISOString().slice(0, 10), '00:00')
        : localToInstant(fixture.timeZone!, date, rule.end);
      out.push([start, end]);
    }
  }
  return out;
}

function merged(periods: [number, number][], from: number, to: number): { start: string; end: string }[] {
  const clipped = periods.map(([s, e]) => [Math.max(s, from), Math.min(e, to)] as [number, number]).filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const p of clipped) {
    const last = out[out.length - 1];
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else out.push([...p]);
  }
  return out.map(([s, e]) => ({ start: new Date(s).toISOString(), end: new Date(e).toISOString() }));
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
const apiError = (res: ServerResponse, status: number, reason: string, message: string) =>
  json(res, status, { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } });

export async function startGoogleFake(): Promise<GoogleFake> {
  const token = (prefix: string) => `${prefix}${randomBytes(18).toString('base64url')}`;
  const codes = new Map<string, { redirectUri: string; used: boolean; account: string }>();
  const refreshTokens = new Map<string, { revoked: boolean; account: string }>();
  const accessTokens = new Map<string, { expiresAt: number; account: string }>();
  const events = new Map<string, FakeEvent>();
  const log: string[] = [];
  let fixture: FixtureBusy = {};
  let port = 0;

  const fake: GoogleFake = {
    get port() { return port; },
    clientId: 'fake-client.apps.googleusercontent.com',
    clientSecret: 'fake-client-secret-3c1d9e',
    get redirectUri() { return 'https://booking.example.test/v1/calendars/google/callback'; },
    env: () => ({
      GOOGLE_CLIENT_ID: fake.clientId,
      GOOGLE_CLIENT_SECRET: fake.clientSecret,
      GOOGLE_REDIRECT_URI: fake.redirectUri,
      GOOGLE_AUTH_URL: `http://127.0.0.1:${port}/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `http://127.0.0.1:${port}/token`,
      GOOGLE_API_ROOT_URL: `http://127.0.0.1:${port}/`,
    }),
    holdFixture(name) {
      if (!FIXTURES[name]) throw new Error(`no Google busy periods written for ${name} in google-busy.json`);
      fixture = FIXTURES[name]!;
    },
    consent: 'allow',
    accessTokenTtlSeconds: 3600,
    fault: null,
    events,
    accounts: () => [...codes.values()].map((c) => c.account),
    log,
    expireAccessTokens: () => { for (const t of accessTokens.values()) t.expiresAt = 0; },
    revokeRefreshTokens: () => { for (const t of refreshTokens.values()) t.revoked = true; },
    issuedTokens: () => [...codes.keys(), ...refreshTokens.keys(), ...accessTokens.keys()],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function consentScreen(url: URL, res: ServerResponse) {
    const q = url.searchParams;
    const scopes = (q.get('scope') ?? '').split(' ');
    const canRead = scopes.some((s) => /auth\/calendar(\.freebusy|\.readonly)?$/.test(s));
    const canWrite = scopes.some((s) => /auth\/calendar(\.events)?$/.test(s));
    if (q.get('client_id') !== fake.clientId || q.get('redirect_uri') !== fake.redirectUri || q.get('response_type') !== 'code'
      || !canRead || !canWrite || q.get('access_type') !== 'offline' || !q.get('state')) {
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Error 400: invalid_request');
    }
    const back = new URL(fake.redirectUri);
    if (fake.consent === 'deny') back.searchParams.set('error', 'access_denied');
    else {
      const code = token('4/code-');
      codes.set(code, { redirectUri: q.get('redirect_uri')!, used: false, account: `account-${codes.size + 1}` });
      back.searchParams.set('code', code);
      back.searchParams.set('scope', q.get('scope')!);
    }
    back.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: back.href }).end();
  }

  function tokenEndpoint(form: URLSearchParams, res: ServerResponse) {
    if (form.get('client_id') !== fake.clientId || form.get('client_secret') !== fake.clientSecret) {
      return json(res, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
    }
    const grant = form.get('grant_type');
    let refreshToken: string;
    let account: string;
    if (grant === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.used || code.redirectUri !== form.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
      code.used = true;
      refreshToken = token('1//refresh-');
      account = code.account;
      refreshTokens.set(refreshToken, { revoked: false, account });
    } else if (grant === 'refresh_token') {
      refreshToken = form.get('refresh_token') ?? '';
      const known = refreshTokens.get(refreshToken);
      if (!known || known.revoked) return json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      account = known.account;
    } else {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const accessToken = token('ya29.access-');
    accessTokens.set(accessToken, { expiresAt: Date.now() + fake.accessTokenTtlSeconds * 1000, account });
    return json(res, 200, {
      access_token: accessToken,
      expires_in: fake.accessTokenTtlSeconds,
      token_type: 'Bearer',
      scope: 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy',
      ...(grant === 'authorization_code' ? { refresh_token: refreshToken } : {}),
    });
  }

  const eventsOf = (account: string) => [...events.values()].filter((e) => e.account === account);

  function freeBusy(account: string, body: { timeMin?: string; timeMax?: string; items?: { id?: string }[] }, res: ServerResponse) {
    const from = Date.parse(body.timeMin ?? '');
    const to = Date.parse(body.timeMax ?? '');
    if (!Number.isFinite(from) || !Number.isFinite(to)) return apiError(res, 400, 'required', 'Missing timeMin parameter.');
    if (to <= from) return apiError(res, 400, 'timeRangeEmpty', 'The specified time range is empty.');
    if (to - from > MAX_SPAN_MS) return apiError(res, 400, 'timeRangeTooLong', 'The requested time range is too long.');
    const periods = [
      ...expand(fixture, from, to),
      ...eventsOf(account).filter((e) => !e.deleted && e.transparency !== 'transparent').map((e) => [Date.parse(e.start), Date.parse(e.end)] as [number, number]),
    ];
    const calendars = Object.fromEntries((body.items ?? []).map(({ id }) => [id, id === 'primary'
      ? { busy: merged(periods, from, to) }
      : { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] }]));
    return json(res, 200, { kind: 'calendar#freeBusy', timeMin: body.timeMin, timeMax: body.timeMax, calendars });
  }

  type EventBody = { start?: { dateTime?: string }; end?: { dateTime?: string }; summary?: string; transparency?: string; status?: string;
    extendedProperties?: { private?: { bookingUid?: string } } };
  /** The event a body describes, or null when its times are not a range. */
  function eventFrom(account: string, id: string, body: EventBody): FakeEvent | null {
    const start = body.start?.dateTime;
    const end = body.end?.dateTime;
    if (!start || !end || !(Date.parse(end) > Date.parse(start))) return null;
    const uid = body.extendedProperties?.private?.bookingUid;
    return { account, id, start, end, ...(body.summary ? { summary: body.summary } : {}), ...(body.transparency ? { transparency: body.transparency } : {}), ...(uid ? { uid } : {}) };
  }
  const stored = (res: ServerResponse, event: FakeEvent) => {
    const { account: _, uid: __, deleted, ...shown } = event;
    return json(res, 200, { kind: 'calendar#event', status: deleted ? 'cancelled' : 'confirmed', ...shown, start: { dateTime: event.start }, end: { dateTime: event.end } });
  };

  function insertEvent(account: string, body: EventBody & { id?: string }, res: ServerResponse) {
    const id = String(body.id ?? token('ev').toLowerCase().replace(/[^a-v0-9]/g, ''));
    if (!/^[a-v0-9]{5,1024}$/.test(id)) return apiError(res, 400, 'invalid', 'Invalid resource id value.');
    if (events.has(`${account}/${id}`)) return apiError(res, 409, 'duplicate', 'The requested identifier already exists.');
    const event = eventFrom(account, id, body);
    if (!event) return apiError(res, 400, 'timeRangeEmpty', 'The specified time range is empty.');
    events.set(`${account}/${id}`, event);
    return stored(res, event);
  }

  function updateEvent(account: string, id: string, body: EventBody, res: ServerResponse) {
    const before = events.get(`${account}/${id}`);
    if (!before) return apiError(res, 404, 'notFound', 'Not Found');
    const event = eventFrom(account, id, body);
    if (!event) return apiError(res, 400, 'timeRangeEmpty', 'The specified time range is empty.');
    if (before.deleted && body.status !== 'confirmed') event.deleted = true;
    events.set(`${account}/${id}`, event);
    return stored(res, event);
  }

  function deleteEvent(account: string, id: string, res: ServerResponse) {
    const event = events.get(`${account}/${id}`);
    if (!event) return apiError(res, 404, 'notFound', 'Not Found');
    if (event.deleted) return apiError(res, 410, 'deleted', 'Resource has been deleted');
    event.deleted = true;
    return void res.writeHead(204).end();
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const method = req.method ?? 'GET';
    const text = await bodyOf(req);
    if (method === 'GET' && url.pathname === '/o/oauth2/v2/auth') {
      log.push(`${method} ${url.pathname}`);
      return consentScreen(url, res);
    }
    const form = url.pathname === '/token' ? new URLSearchParams(text) : null;
    log.push(`${method} ${url.pathname}${form ? ` ${form.get('grant_type')}` : ''}`);
    if (fake.fault === 'hang') return; // close() ends it
    if (fake.fault === 'status500') return apiError(res, 500, 'backendError', 'Backend Error');
    if (form) return tokenEndpoint(form, res);

    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const access = bearer ? accessTokens.get(bearer) : undefined;
    if (!access || access.expiresAt <= Date.now()) {
      log.push('answered 401');
      return apiError(res, 401, 'authError', 'Invalid Credentials');
    }
    const body = text ? JSON.parse(text) : {};
    if (method === 'POST' && url.pathname === '/calendar/v3/freeBusy') return freeBusy(access.account, body, res);
    const eventPath = /^\/calendar\/v3\/calendars\/primary\/events(?:\/([^/]+))?$/.exec(url.pathname);
    const eventId = eventPath?.[1] === undefined ? undefined : decodeURIComponent(eventPath[1]);
    if (eventPath && method === 'POST' && eventId === undefined) return insertEvent(access.account, body, res);
    if (eventPath && method === 'PUT' && eventId !== undefined) return updateEvent(access.account, eventId, body, res);
    if (eventPath && method === 'DELETE' && eventId !== undefined) return deleteEvent(access.account, eventId, res);
    return apiError(res, 404, 'notFound', 'Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return fake;
}
