import { randomBytes } from 'node:crypto';
import { fixtureText } from './ics-server.js';

/**
 * A CalDAV server for tests (Radicale, started by scripts/radicale-start.sh):
 * RADICALE_URL (unset: the CalDAV suites skip), RADICALE_USER,
 * RADICALE_PASSWORD. Each suite makes its own calendars (random names) under
 * the test user's home and removes them after.
 *
 *   const dav = caldavTestServer()!;
 *   const cal = await dav.makeCalendar();       // http://127.0.0.1:5232/booking/t-1a2b.../
 *   await dav.putFixture(cal, 'open-ended.ics'); // one resource per UID
 */
export const RADICALE_URL = process.env.RADICALE_URL ?? '';

export interface CaldavTestServer {
  url: string;
  username: string;
  password: string;
  /** The test user's calendar home. */
  home: string;
  /** A server like this one for another user (same password): its home holds only what a test puts there. */
  as(username: string): CaldavTestServer;
  makeCalendar(options?: { components?: string[] }): Promise<string>;
  putFixture(calendarUrl: string, fixture: string): Promise<string[]>;
  removeObjects(calendarUrl: string, hrefs: string[]): Promise<void>;
  /** GET of one resource, as the server stores it. */
  get(href: string): Promise<{ status: number; text: string }>;
  /** The calendar data of every object in the calendar (a calendar-query REPORT). */
  objects(calendarUrl: string): Promise<string[]>;
  deleteCalendar(calendarUrl: string): Promise<void>;
}

/**
 * A fixture file as CalDAV resources: one VCALENDAR per UID (a master with its
 * RECURRENCE-ID overrides stays together), each with every VTIMEZONE of the file.
 */
export function splitByUid(text: string): Map<string, string> {
  const lines = text.replace(/\r\n[ \t]/g, '').replace(/\n[ \t]/g, '').split(/\r?\n/);
  const zones: string[] = [];
  const events = new Map<string, string[]>();
  let block: string[] | null = null;
  let kind = '';
  for (const line of lines) {
    if (block === null) {
      const begin = /^BEGIN:(VEVENT|VTIMEZONE)$/i.exec(line);
      if (begin) {
        block = [line];
        kind = begin[1]!.toUpperCase();
      }
      continue;
    }
    block.push(line);
    if (line.toUpperCase() === `END:${kind}`) {
      if (kind === 'VTIMEZONE') zones.push(...block);
      else {
        const uid = block.find((l) => /^UID[:;]/i.test(l))?.replace(/^UID[^:]*:/i, '') ?? `no-uid-${events.size}`;
        events.set(uid, [...(events.get(uid) ?? []), ...block]);
      }
      block = null; // nested blocks (STANDARD, DAYLIGHT, VALARM) stay inside their parent
    }
  }
  const out = new Map<string, string>();
  for (const [uid, lines] of events) {
    out.set(uid, ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//booking-engine//caldav tests//EN', ...zones, ...lines, 'END:VCALENDAR', ''].join('\r\n'));
  }
  return out;
}

/** The second user scripts/radicale-start.sh creates, for discovery tests. */
export const DISCOVERY_USER = process.env.RADICALE_DISCOVERY_USER ?? 'booking-discovery';

export function caldavTestServer(username = process.env.RADICALE_USER ?? 'booking'): CaldavTestServer | null {
  if (!RADICALE_URL) return null;
  const url = RADICALE_URL.endsWith('/') ? RADICALE_URL : `${RADICALE_URL}/`;
  const password = process.env.RADICALE_PASSWORD ?? 'booking-test-password';
  const home = new URL(`${encodeURIComponent(username)}/`, url).href;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const dav = async (method: string, target: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(target, {
      method,
      headers: { authorization, ...headers },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, text };
  };
  return {
    url, username, password, home,
    as: (other) => caldavTestServer(other)!,
    async makeCalendar(options = {}) {
      // Radicale makes the user's home on first contact.
      await dav('PROPFIND', home, undefined, { depth: '0' });
      const target = new URL(`t-${randomBytes(6).toString('hex')}/`, home).href;
      const components = (options.components ?? ['VEVENT']).map((c) => `<C:comp name="${c}"/>`).join('');
      const res = await dav('MKCALENDAR', target,
        '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        + `<D:set><D:prop><D:displayname>booking test</D:displayname><C:supported-calendar-component-set>${components}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
        { 'content-type': 'application/xml; charset=utf-8' });
      if (res.status !== 201) throw new Error(`MKCALENDAR ${target}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      return target;
    },
    async putFixture(calendarUrl, fixture) {
      const hrefs: string[] = [];
      for (const [uid, text] of splitByUid(fixtureText(fixture))) {
        const target = new URL(`${encodeURIComponent(uid.replace(/[^\w.-]/g, '_'))}.ics`, calendarUrl).href;
        const res = await dav('PUT', target, text, { 'content-type': 'text/calendar; charset=utf-8' });
        if (res.status !== 201 && res.status !== 204) throw new Error(`PUT ${fixture} ${uid}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
        hrefs.push(target);
      }
      return hrefs;
    },
    get: (href) => dav('GET', href),
    async objects(calendarUrl) {
      const res = await dav('REPORT', calendarUrl,
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        + '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>',
        { depth: '1', 'content-type': 'application/xml; charset=utf-8' });
      if (res.status !== 207) throw new Error(`REPORT ${calendarUrl}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      const unescape = (t: string) => t.replace(/&#13;/g, '\r').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      return [...res.text.matchAll(/<(?:[\w-]+:)?calendar-data[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?calendar-data>/g)].map((m) => unescape(m[1]!));
    },
    async removeObjects(_calendarUrl, hrefs) {
      for (const href of hrefs) await dav('DELETE', href);
    },
    async deleteCalendar(calendarUrl) {
      await dav('DELETE', calendarUrl);
    },
  };
}
