import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expireHold, holdOk, localInstant, ms, plusDays } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

/** Undoes RFC 5545 folding: a CRLF followed by one space or tab joins the lines. */
function unfold(ics: string): string[] {
  return ics.replace(/\r\n[ \t]/g, '').split('\r\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
}

interface VEvent {
  [name: string]: string;
}

function events(ics: string): VEvent[] {
  const out: VEvent[] = [];
  let current: VEvent | null = null;
  for (const line of unfold(ics)) {
    if (line === 'BEGIN:VEVENT') current = {};
    else if (line === 'END:VEVENT') {
      out.push(current!);
      current = null;
    } else if (current) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).split(';')[0]!;
      current[name] = line.slice(colon + 1);
    }
  }
  return out;
}

/** 20270301T090000Z -> epoch ms */
function icsTime(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error(`not a UTC ICS time: ${value}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** RFC 5545 TEXT unescaping. */
function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

describe('calendar feed', () => {
  let server: TestServer;
  let provider: User;
  let client: User;
  const monday = upcomingDate(1);
  const tuesday = plusDays(monday, 1);

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server, 'Europe/Berlin');
    client = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  const feedPath = (providerId: string) => `/v1/providers/${providerId}/calendar-feed`;
  const icsPath = (providerId: string, token?: string) =>
    `/v1/providers/${providerId}/calendar.ics${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`;
  const anonymous = (url: string) => server.app.inject({ method: 'GET', url });

  describe('GET calendar-feed', () => {
    it('the provider gets { url, token }; the same token on every call', async () => {
      const res = await provider.call('GET', feedPath(provider.id));
      expect(res.statusCode, res.body).toBe(200);
      const { url, token } = res.json();
      expect(typeof token).toBe('string');
      expect(token.length).toBeGreaterThanOrEqual(16);
      expect(typeof url).toBe('string');
      const parsed = new URL(url);
      expect(parsed.pathname).toBe(`/v1/providers/${provider.id}/calendar.ics`);
      expect(parsed.searchParams.get('token')).toBe(token);
      const again = await provider.call('GET', feedPath(provider.id));
      expect(again.json()).toEqual({ url, token });
      const byAdmin = await admin(server)('GET', feedPath(provider.id));
      expect(byAdmin.statusCode, byAdmin.body).toBe(200);
      expect(byAdmin.json().token).toBe(token);
    });

    it('the url works as given', async () => {
      const { url } = (await provider.call('GET', feedPath(provider.id))).json();
      const parsed = new URL(url);
      const res = await anonymous(parsed.pathname + parsed.search);
      expect(res.statusCode, res.body).toBe(200);
    });

    it('a client is a 403; another provider is a 403; no key is a 401; unknown provider 404', async () => {
      expectProblem(await client.call('GET', feedPath(provider.id)), 403);
      const other = await providerWithHours(server);
      expectProblem(await other.call('GET', feedPath(provider.id)), 403);
      expectProblem(await anonymous(feedPath(provider.id)), 401);
      expectProblem(await admin(server)('GET', feedPath('usr_nope')), 404);
    });

    it('each provider has its own token', async () => {
      const other = await providerWithHours(server);
      const a = (await provider.call('GET', feedPath(provider.id))).json().token;
      const b = (await other.call('GET', feedPath(other.id))).json().token;
      expect(a).not.toBe(b);
      // one provider's token does not open another's feed
      expectProblem(await anonymous(icsPath(other.id, a)), 404);
    });
  });

  describe('GET calendar.ics', () => {
    it('renders held and confirmed bookings as RFC 5545, leaving out cancelled and expired ones', async () => {
      const p = await providerWithHours(server, 'Europe/Berlin');
      const [c1, c2, c3, c4] = await Promise.all([1, 2, 3, 4].map(() => createUser(server, 'client')));
      const longNotes = `Bring: apples, pears; and "tea"\nSecond line\\ with a backslash. ${'Lorem ipsum dolor sit amet, '.repeat(8)}Ünïcödé ✓ 日本語 end`;
      const held = await holdOk(c1!.call, p.id, localInstant(monday, '09:00'), 60, { notes: longNotes });
      const confirmed = await holdOk(c2!.call, p.id, localInstant(monday, '11:00'), 30);
      expect((await c2!.call('POST', `/v1/bookings/${confirmed.id}/confirm`)).statusCode).toBe(200);
      const cancelled = await holdOk(c3!.call, p.id, localInstant(monday, '13:00'), 30);
      expect((await c3!.call('POST', `/v1/bookings/${cancelled.id}/cancel`, {})).statusCode).toBe(200);
      const expired = await holdOk(c4!.call, p.id, localInstant(monday, '15:00'), 30);
      await expireHold(server, expired.id);

      const { token } = (await p.call('GET', feedPath(p.id))).json();
      const res = await anonymous(icsPath(p.id, token));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/calendar/);
      const ics = res.body;

      // CRLF only, every line at most 75 octets
      expect(ics.endsWith('\r\n')).toBe(true);
      expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      const physical = ics.split('\r\n').slice(0, -1);
      for (const line of physical) expect(Buffer.byteLength(line, 'utf8'), line).toBeLessThanOrEqual(75);
      // folding never splits a UTF-8 character: each physical line is valid UTF-8 on its own
      for (const line of physical) expect(Buffer.from(Buffer.from(line, 'utf8').toString('utf8')).equals(Buffer.from(line, 'utf8'))).toBe(true);
      expect(physical.some((l) => l.startsWith(' '))).toBe(true); // the long notes were folded

      const lines = unfold(ics);
      expect(lines[0]).toBe('BEGIN:VCALENDAR');
      expect(lines.at(-1)).toBe('END:VCALENDAR');
      expect(lines).toContain('VERSION:2.0');
      expect(lines.some((l) => l.startsWith('PRODID:'))).toBe(true);
      expect(lines.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(2);
      expect(lines.filter((l) => l === 'END:VEVENT')).toHaveLength(2);

      const evs = events(ics);
      expect(evs).toHaveLength(2);
      const [e1, e2] = evs as [VEvent, VEvent];
      expect(e1.STATUS).toBe('TENTATIVE');
      expect(e2.STATUS).toBe('CONFIRMED');
      for (const [e, b] of [[e1, held], [e2, confirmed]] as const) {
        expect(e.UID).toBeTruthy();
        expect(e.UID).toContain(b.id);
        expect(e.DTSTART).toMatch(/^\d{8}T\d{6}Z$/);
        expect(e.DTEND).toMatch(/^\d{8}T\d{6}Z$/);
        expect(icsTime(e.DTSTART!)).toBe(ms(b.start));
        expect(icsTime(e.DTEND!)).toBe(ms(b.end));
        expect(e.DTSTAMP).toMatch(/^\d{8}T\d{6}Z$/);
        expect(e.SUMMARY).toBeTruthy();
      }
      // no event for the cancelled or expired ones
      expect(ics).not.toContain(cancelled.id);
      expect(ics).not.toContain(expired.id);

      // notes: commas, semicolons, backslashes and newlines escaped, and the whole text survives
      const description = e1.DESCRIPTION!;
      expect(description).toBeDefined();
      expect(description).toContain('apples\\, pears\\; and "tea"\\nSecond line\\\\ with');
      expect(description).not.toMatch(/(^|[^\\])[,;]/); // no bare comma or semicolon
      expect(unescapeText(description)).toBe(longNotes);
      expect(e2.DESCRIPTION).toBeUndefined();

      // UIDs are stable across fetches, and a confirm keeps the UID
      const again = events((await anonymous(icsPath(p.id, token))).body);
      expect(again.map((e) => e.UID)).toEqual(evs.map((e) => e.UID));
      expect((await c1!.call('POST', `/v1/bookings/${held.id}/confirm`)).statusCode).toBe(200);
      const afterConfirm = events((await anonymous(icsPath(p.id, token))).body);
      expect(afterConfirm.map((e) => e.UID)).toEqual(evs.map((e) => e.UID));
      expect(afterConfirm.map((e) => e.STATUS)).toEqual(['CONFIRMED', 'CONFIRMED']);

      // a cancel removes the event
      expect((await c2!.call('POST', `/v1/bookings/${confirmed.id}/cancel`, {})).statusCode).toBe(200);
      const afterCancel = events((await anonymous(icsPath(p.id, token))).body);
      expect(afterCancel.map((e) => e.UID)).toEqual([evs[0]!.UID]);
    });

    it('a provider with no bookings gets an empty, valid calendar', async () => {
      const p = await providerWithHours(server);
      const res = await p.call('GET', icsPath(p.id));
      expect(res.statusCode, res.body).toBe(200);
      const lines = unfold(res.body);
      expect(lines[0]).toBe('BEGIN:VCALENDAR');
      expect(lines.at(-1)).toBe('END:VCALENDAR');
      expect(lines).not.toContain('BEGIN:VEVENT');
    });

    it('a booking of another provider does not show', async () => {
      const p = await providerWithHours(server);
      const other = await providerWithHours(server);
      const c = await createUser(server, 'client');
      const b = await holdOk(c.call, other.id, localInstant(tuesday, '10:00'), 30);
      const res = await p.call('GET', icsPath(p.id));
      expect(res.body).not.toContain(b.id);
    });

    it('a wrong token is a 404; no token and no key is a 401', async () => {
      await provider.call('GET', feedPath(provider.id)); // make sure a token exists
      expectProblem(await anonymous(icsPath(provider.id, 'wrong-token')), 404);
      expectProblem(await anonymous(icsPath(provider.id, '')), 401);
      expectProblem(await anonymous(icsPath(provider.id)), 401);
      // a provider that never asked for a feed has no token at all
      const fresh = await providerWithHours(server);
      expectProblem(await anonymous(icsPath(fresh.id, 'anything')), 404);
      // an unknown provider with a token is a 404 too
      expectProblem(await anonymous(icsPath('usr_nope', 'anything')), 404);
    });

    it('with the provider\'s API key instead of a token: 200; the admin too; a client key 403', async () => {
      const viaHeader = await provider.call('GET', icsPath(provider.id));
      expect(viaHeader.statusCode, viaHeader.body).toBe(200);
      expect(viaHeader.headers['content-type']).toMatch(/^text\/calendar/);
      const viaQuery = await anonymous(`/v1/providers/${provider.id}/calendar.ics?apiKey=${encodeURIComponent(provider.apiKey)}`);
      expect(viaQuery.statusCode, viaQuery.body).toBe(200);
      expect((await admin(server)('GET', icsPath(provider.id))).statusCode).toBe(200);
      expectProblem(await client.call('GET', icsPath(provider.id)), 403);
      // an unknown key is a 401 even with a good token
      const { token } = (await provider.call('GET', feedPath(provider.id))).json();
      const bad = await server.app.inject({
        method: 'GET', url: icsPath(provider.id, token), headers: { authorization: 'Bearer bk_unknown' },
      });
      expectProblem(bad, 401);
    });
  });
});
