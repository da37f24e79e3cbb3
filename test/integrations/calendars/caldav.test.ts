import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIcsBusy } from '../../../src/integrations/calendars/ics-busy.js';
import { caldavProvider, fetchCaldavBusy, type CaldavConfig } from '../../../src/integrations/calendars/caldav-provider.js';
import { CalendarInputError, CalendarSourceError, type BusyQuery } from '../../../src/integrations/calendars/provider.js';
import { caldavTestServer, DISCOVERY_USER, RADICALE_URL } from '../../helpers/caldav.js';
import { fixtureText } from '../../helpers/ics-server.js';

/**
 * The CalDAV provider against a real Radicale (scripts/radicale-start.sh;
 * skipped without RADICALE_URL): every fixture, stored in Radicale one
 * resource per UID, gives exactly the busy time the same file gives as an
 * ICS feed.
 */
const DAY = 86_400_000;
const now = Date.now();
const query: BusyQuery = { timeZone: 'Europe/Berlin', horizon: { start: now - DAY, end: now + 400 * DAY } };
const limits = { allowPrivateAddresses: true, timeoutMs: 10_000 };
const FIXTURES = ['open-ended.ics', 'recurring-weekly.ics', 'all-day.ics', 'floating.ics', 'tzid.ics', 'transparent-cancelled.ics'];

describe('CalDAV provider: config (no network)', () => {
  it('needs url, username and password; refuses credentials in the URL', () => {
    const ok = caldavProvider.parseConfig({ url: 'https://dav.example.test/', username: 'ada', password: 'pw' });
    expect(ok).toEqual({ url: 'https://dav.example.test/', username: 'ada', password: 'pw' });
    expect(caldavProvider.parseConfig({ url: 'https://dav.example.test/', username: 'ada', password: 'pw', calendarUrl: 'webcal://dav.example.test/ada/cal/' }))
      .toMatchObject({ calendarUrl: 'https://dav.example.test/ada/cal/' });
    const field = (input: Record<string, unknown>) => {
      try {
        caldavProvider.parseConfig(input);
      } catch (error) {
        expect(error).toBeInstanceOf(CalendarInputError);
        return (error as CalendarInputError).field;
      }
      return null;
    };
    expect(field({ username: 'ada', password: 'pw' })).toBe('body/url');
    expect(field({ url: 'ftp://x/', username: 'ada', password: 'pw' })).toBe('body/url');
    expect(field({ url: 'https://ada:pw@dav.example.test/', username: 'ada', password: 'pw' })).toBe('body/url');
    expect(field({ url: 'https://dav.example.test/', username: '', password: 'pw' })).toBe('body/username');
    expect(field({ url: 'https://dav.example.test/', username: 'a:b', password: 'pw' })).toBe('body/username');
    expect(field({ url: 'https://dav.example.test/', username: 'ada', password: '' })).toBe('body/password');
    expect(field({ url: 'https://dav.example.test/', username: 'ada', password: 'pw', calendarUrl: 'nope' })).toBe('body/calendarUrl');
  });
});

describe.skipIf(!RADICALE_URL)('CalDAV provider against Radicale', () => {
  const dav = caldavTestServer()!;
  const made: string[] = [];
  const config = (calendarUrl: string, extra: Partial<CaldavConfig> = {}): CaldavConfig =>
    ({ url: dav.url, username: dav.username, password: dav.password, calendarUrl, ...extra });

  beforeAll(async () => {
    made.push(await dav.makeCalendar());
  });
  afterAll(async () => {
    for (const url of made) await dav?.deleteCalendar(url);
  });

  it.each(FIXTURES)('%s: the same busy time as the ICS file', async (fixture) => {
    const calendar = await dav.makeCalendar();
    made.push(calendar);
    await dav.putFixture(calendar, fixture);
    const expected = parseIcsBusy(fixtureText(fixture), query).busy;
    expect(await fetchCaldavBusy(config(calendar), query, limits)).toEqual(expected);
  });

  it('an empty calendar is no busy time', async () => {
    expect(await fetchCaldavBusy(config(made[0]!), query, limits)).toEqual([]);
  });

  it('a wrong password is a CalendarSourceError that says so (and names no credential)', async () => {
    const error = await fetchCaldavBusy(config(made[0]!, { password: 'wrong-password' }), query, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CalendarSourceError);
    expect((error as Error).message).toMatch(/HTTP 401: the CalDAV server refused the username or password/);
    expect((error as Error).message).not.toContain('wrong-password');
  });

  it('a URL that is not a calendar is a clear error', async () => {
    const error = await fetchCaldavBusy(config(`${dav.home}no-such-calendar/`), query, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CalendarSourceError);
    expect((error as Error).message).toMatch(/HTTP 404/);
  });

  it('without calendarUrl, discovers the first calendar with events (a task list is passed over)', async () => {
    const other = dav.as(DISCOVERY_USER);
    const tasks = await other.makeCalendar({ components: ['VTODO'] });
    const events = await other.makeCalendar({ components: ['VEVENT'] });
    try {
      await other.putFixture(events, 'open-ended.ics');
      const discovered = { url: other.url, username: other.username, password: other.password };
      const expected = parseIcsBusy(fixtureText('open-ended.ics'), query).busy;
      expect(expected.length).toBeGreaterThan(50);
      expect(await fetchCaldavBusy(discovered, query, limits)).toEqual(expected);
      // The URL given may also be the calendar itself, or the user's home.
      expect(await fetchCaldavBusy({ ...discovered, url: events }, query, limits)).toEqual(expected);
      expect(await fetchCaldavBusy({ ...discovered, url: other.home }, query, limits)).toEqual(expected);
    } finally {
      await other.deleteCalendar(tasks);
      await other.deleteCalendar(events);
    }
    const empty = await fetchCaldavBusy({ url: other.url, username: other.username, password: other.password }, query, limits).catch((e: unknown) => e);
    expect((empty as Error).message).toMatch(/could not find a calendar.*give its address as calendarUrl/);
  });

  it('a loopback Radicale is refused without allowPrivateAddresses', async () => {
    const error = await fetchCaldavBusy(config(made[0]!), query, { ...limits, allowPrivateAddresses: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'refused' });
  });
});
