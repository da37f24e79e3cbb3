import { renderCalendarObject } from '../../domain/ics.js';
import type { Interval } from '../../domain/intervals.js';
import { IcsError, parseIcsBusy } from './ics-busy.js';
import {
  CalendarInputError,
  CalendarSourceError,
  type BusyQuery,
  type CalendarEvent,
  type CalendarProvider,
  type FetchLimits,
} from './provider.js';
import { parseSourceUrl, safeGet } from './safe-fetch.js';

/**
 * A CalDAV (RFC 4791) calendar, read and written with basic auth.
 *
 * Sync is one REPORT calendar-query (Depth: 1) for the VEVENTs overlapping
 * the horizon, asking for the raw objects (no server-side expand): they are
 * concatenated and read by parseIcsBusy, so recurrences, time zones, all-day
 * and floating times follow exactly the rules of an ICS feed.
 *
 * Bookings out: each booking is one calendar object resource,
 * `<calendar>/<uid>.ics`, written with PUT (the same URL and UID every time,
 * so a retry replaces the event instead of adding a second one) and removed
 * with DELETE (404/410: already gone, which is success).
 *
 * Without calendarUrl, each sync or write discovers the calendar from `url`:
 * current-user-principal -> calendar-home-set -> the first calendar that holds
 * VEVENTs. When that fails the sync fails with a reason asking for calendarUrl.
 * Every request goes through safeGet (SSRF guard, timeouts, size limit), and
 * the Authorization header is dropped on a redirect to another origin.
 */
export interface CaldavConfig {
  url: string;
  username: string;
  password: string;
  calendarUrl?: string;
}

const MAX_URL_LENGTH = 2048;

function parseUrlField(raw: unknown, field: string, required: boolean): string | undefined {
  if (raw === undefined && !required) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') throw new CalendarInputError(field, 'is required for a CalDAV calendar');
  if (raw.length > MAX_URL_LENGTH) throw new CalendarInputError(field, `must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = parseSourceUrl(raw);
  } catch (error) {
    throw new CalendarInputError(field, (error as Error).message);
  }
  if (url.username || url.password) throw new CalendarInputError(field, 'must not carry credentials: use username and password');
  return url.href;
}

/** "20261122T051500Z" for a CalDAV time-range. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function xmlText(raw: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(raw);
  if (cdata) return cdata[1]!;
  return raw.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return XML_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Contents of every element with this local name, whatever its namespace prefix. */
function elements(xml: string, localName: string): string[] {
  const re = new RegExp(`<(?:[A-Za-z][\\w.-]*:)?${localName}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</(?:[A-Za-z][\\w.-]*:)?${localName}\\s*>)`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1] ?? '');
}

const firstHref = (xml: string) => {
  const href = elements(xml, 'href')[0];
  return href === undefined ? undefined : xmlText(href).trim();
};

function dav(config: CaldavConfig, limits: FetchLimits, deadline: number) {
  const authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`, 'utf8').toString('base64')}`;
  return async (
    method: 'PROPFIND' | 'REPORT' | 'PUT' | 'DELETE',
    url: URL,
    depth: '0' | '1' | null,
    body?: string,
    contentType = 'application/xml; charset=utf-8',
  ): Promise<string> => {
    const left = deadline - Date.now();
    if (left <= 0) throw new CalendarSourceError(`${url.hostname} did not finish within ${limits.timeoutMs / 1000} s`, 'timeout');
    try {
      return await safeGet(url, {
        allowPrivateAddresses: limits.allowPrivateAddresses,
        timeoutMs: left,
        method,
        accept: 'application/xml, text/xml;q=0.9, */*;q=0.5',
        headers: {
          authorization,
          ...(depth !== null ? { depth } : {}),
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        ...(limits.signal ? { signal: limits.signal } : {}),
      });
    } catch (error) {
      if (error instanceof CalendarSourceError && error.kind === 'http' && /HTTP 40[13]$/.test(error.message)) {
        throw new CalendarSourceError(`${error.message}: the CalDAV server refused the username or password`, 'http');
      }
      throw error;
    }
  };
}

const PROPFIND = (props: string) =>
  `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>${props}</d:prop></d:propfind>`;

/** principal -> calendar-home-set -> first VEVENT calendar, or a CalendarSourceError asking for calendarUrl. */
async function discoverCalendar(request: ReturnType<typeof dav>, start: URL): Promise<URL> {
  const notFound = (why: string) =>
    new CalendarSourceError(`could not find a calendar at this URL (${why}); give its address as calendarUrl`, 'invalid');
  const resolve = (href: string | undefined, base: URL) => {
    if (!href) return undefined;
    try {
      return new URL(href, base);
    } catch {
      return undefined;
    }
  };
  const principalXml = await request('PROPFIND', start, '0', PROPFIND('<d:current-user-principal/><c:calendar-home-set/><d:resourcetype/>'));
  // The URL may already be a calendar.
  const self = elements(principalXml, 'response')[0] ?? '';
  if (elements(elements(self, 'resourcetype')[0] ?? '', 'calendar').length > 0) return start;
  let home = resolve(firstHref(elements(principalXml, 'calendar-home-set')[0] ?? ''), start);
  if (!home) {
    const principal = resolve(firstHref(elements(principalXml, 'current-user-principal')[0] ?? ''), start);
    if (!principal) throw notFound('no current-user-principal');
    const homeXml = await request('PROPFIND', principal, '0', PROPFIND('<c:calendar-home-set/>'));
    home = resolve(firstHref(elements(homeXml, 'calendar-home-set')[0] ?? ''), principal);
    if (!home) throw notFound('no calendar-home-set');
  }
  const listXml = await request('PROPFIND', home, '1', PROPFIND('<d:resourcetype/><c:supported-calendar-component-set/>'));
  for (const response of elements(listXml, 'response')) {
    const isCalendar = elements(elements(response, 'resourcetype')[0] ?? '', 'calendar').length > 0;
    const components = elements(response, 'supported-calendar-component-set')[0];
    // No component set means every kind is allowed (RFC 4791 5.2.3).
    const holdsEvents = components === undefined || components.trim() === '' || /name\s*=\s*["']VEVENT["']/i.test(components);
    const href = resolve(firstHref(response), home);
    if (isCalendar && holdsEvents && href) return href;
  }
  throw notFound('no calendar with events in the calendar home');
}

/**
 * Events this server wrote (writeBookings) are not busy time: their bookings
 * already hold the time while live, and a cancelled booking's time must be
 * free at once, not only after the next sync has seen its event removed.
 */
const OWN_EVENT = /^UID:[^\r\n]*@booking-engine\r?$/m;

export async function fetchCaldavBusy(config: CaldavConfig, query: BusyQuery, limits: FetchLimits): Promise<Interval[]> {
  const request = dav(config, limits, Date.now() + limits.timeoutMs);
  const calendar = config.calendarUrl ? new URL(config.calendarUrl) : await discoverCalendar(request, new URL(config.url));
  const body = '<?xml version="1.0" encoding="utf-8"?>'
    + '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    + '<d:prop><c:calendar-data/></d:prop>'
    + '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
    + `<c:time-range start="${utcStamp(query.horizon.start)}" end="${utcStamp(query.horizon.end)}"/>`
    + '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>';
  const xml = await request('REPORT', calendar, '1', body);
  if (!/<(?:[A-Za-z][\w.-]*:)?multistatus[\s>]/.test(xml)) {
    throw new CalendarSourceError('the CalDAV server did not answer with a multistatus document (is this a CalDAV calendar URL?)', 'invalid');
  }
  const objects = elements(xml, 'calendar-data').map(xmlText).filter((text) => text.trim() !== '' && !OWN_EVENT.test(text));
  if (objects.length === 0) return [];
  try {
    return parseIcsBusy(objects.join('\r\n'), query).busy;
  } catch (error) {
    if (error instanceof IcsError) throw new CalendarSourceError(error.message, 'invalid');
    throw error;
  }
}

/** The resource of one event: `<calendar collection>/<uid>.ics` (the collection given, or discovered). */
async function eventUrl(config: CaldavConfig, request: ReturnType<typeof dav>, uid: string): Promise<URL> {
  const collection = config.calendarUrl ? new URL(config.calendarUrl) : await discoverCalendar(request, new URL(config.url));
  if (!collection.pathname.endsWith('/')) collection.pathname += '/';
  // Our UIDs are "<booking id>@booking-engine": only the '@' needs a stand-in.
  return new URL(`${encodeURIComponent(uid.replace(/[^\w.-]/g, '_'))}.ics`, collection);
}

export async function writeCaldavEvent(config: CaldavConfig, event: CalendarEvent, limits: FetchLimits): Promise<void> {
  const request = dav(config, limits, Date.now() + limits.timeoutMs);
  const now = Date.now();
  const body = renderCalendarObject({ ...event, status: 'CONFIRMED', created: now, lastModified: now }, now);
  await request('PUT', await eventUrl(config, request, event.uid), null, body, 'text/calendar; charset=utf-8');
}

export async function removeCaldavEvent(config: CaldavConfig, uid: string, limits: FetchLimits): Promise<void> {
  const request = dav(config, limits, Date.now() + limits.timeoutMs);
  try {
    await request('DELETE', await eventUrl(config, request, uid), null);
  } catch (error) {
    if (error instanceof CalendarSourceError && (error.status === 404 || error.status === 410)) return; // already gone
    throw error;
  }
}

export const caldavProvider: CalendarProvider<CaldavConfig> = {
  type: 'caldav',

  parseConfig(input) {
    const url = parseUrlField(input.url, 'body/url', true)!;
    const calendarUrl = parseUrlField(input.calendarUrl, 'body/calendarUrl', false);
    const { username, password } = input;
    if (typeof username !== 'string' || username === '') throw new CalendarInputError('body/username', 'is required for a CalDAV calendar');
    if (username.includes(':')) throw new CalendarInputError('body/username', 'must not contain ":" (HTTP basic auth)');
    if (typeof password !== 'string' || password === '') throw new CalendarInputError('body/password', 'is required for a CalDAV calendar');
    return { url, username, password, ...(calendarUrl ? { calendarUrl } : {}) };
  },

  fetchBusy: fetchCaldavBusy,
  writeEvent: writeCaldavEvent,
  removeEvent: removeCaldavEvent,
};
