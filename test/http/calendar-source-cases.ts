import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hold, localInstant, plusDays } from './booking-helpers.js';

/**
 * The busy-time cases every kind of connected calendar must pass, end to end
 * through the API: the source holds a fixture (test/fixtures/calendars), the
 * provider works Mon-Fri 09:00-17:00 Berlin, and the slots lose exactly the
 * busy time. calendars.test.ts runs them for ICS, calendars-caldav.test.ts
 * for CalDAV (Radicale), calendars-google.test.ts for Google (a local fake).
 * A source that needs more than the POST (Google's consent) says how in `authorize`.
 *
 *   busyTimeCases('ICS', {
 *     start: async () => { ics = await startIcsServer(); ics.serve('/c.ics', { file: 'open-ended.ics' }); },
 *     connectBody: () => ({ type: 'ics', url: ics.url('/c.ics') }),
 *     holdFixture: async (name) => ics.serve('/c.ics', { file: name }),
 *     stop: async () => ics.close(),
 *   });
 */
export interface BusySource {
  /** Before the cases: the source is up and holds open-ended.ics. */
  start(): Promise<void>;
  /** The POST body connecting it. */
  connectBody(): Record<string, unknown>;
  /** Settings the server needs to reach it (Google's endpoints). */
  serverEnv?(): Record<string, string>;
  /** Finishes a connection the POST left pending; answers the connection after. */
  authorize?(server: TestServer, created: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The source now holds only this fixture. */
  holdFixture(name: string): Promise<void>;
  stop(): Promise<void>;
}

const monday = upcomingDate(1);
const tuesday = plusDays(monday, 1);
const wednesday = plusDays(monday, 2);
const thursday = plusDays(monday, 3);

/** Every quarter hour from 09:00 to 16:00: the one-hour slots of an untouched 09:00-17:00 day. */
export const FULL_DAY = Array.from({ length: 29 }, (_, i) => {
  const minutes = 9 * 60 + i * 15;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
});

export function busyTimeCases(name: string, source: BusySource, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`connected calendars: busy time from ${name}`, () => {
    let server: TestServer;
    let provider: Awaited<ReturnType<typeof providerWithHours>>;
    let client: Awaited<ReturnType<typeof createUser>>;
    let calendarId: string;
    const calendars = () => `/v1/providers/${provider.id}/calendars`;

    async function slotTimes(date: string): Promise<string[]> {
      const res = await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${date}&to=${date}&duration=60&timeZone=Europe/Berlin`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().slots.map((s: { start: string }) => s.start.slice(11, 16));
    }
    async function sync(): Promise<Record<string, unknown>> {
      const res = await provider.call('POST', `${calendars()}/${calendarId}/sync`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    }

    beforeAll(async () => {
      await source.start();
      server = await startTestServer({ CALENDAR_ALLOW_PRIVATE_URLS: 'true', ...source.serverEnv?.() });
      provider = await providerWithHours(server, 'Europe/Berlin');
      client = await createUser(server, 'client');
    });
    afterAll(async () => {
      await server?.close();
      await source.stop();
    });

    it('connecting reads it at once: Monday loses 10:00-11:00, Wednesday (all day) is gone, a transparent Thursday lunch is free', async () => {
      expect(await slotTimes(monday)).toEqual(FULL_DAY);
      const res = await provider.call('POST', calendars(), source.connectBody());
      expect(res.statusCode, res.body).toBe(201);
      const created = source.authorize ? await source.authorize(server, res.json()) : res.json();
      expect(created).toMatchObject({ status: 'ok', lastSyncedAt: expect.stringMatching(/Z$/), writeBookings: false });
      calendarId = String(created.id);
      expect(await slotTimes(monday)).toEqual(['09:00', ...FULL_DAY.filter((t) => t >= '11:00')]);
      expect(await slotTimes(tuesday)).toEqual(FULL_DAY);
      expect(await slotTimes(wednesday)).toEqual([]);
      expect(await slotTimes(thursday)).toEqual(FULL_DAY);
    });

    it('a hold overlapping the busy time is a 409', async () => {
      expect(expectProblem(await hold(client.call, provider.id, localInstant(monday, '10:30'), 15), 409).code).toBe('slot_taken');
      expect(expectProblem(await hold(client.call, provider.id, localInstant(wednesday, '14:00'), 60), 409).code).toBe('slot_taken');
    });

    it('a sync after the source changed replaces the busy set', async () => {
      await source.holdFixture('transparent-cancelled.ics'); // nothing busy in the coming weeks
      expect(await sync()).toMatchObject({ status: 'ok' });
      expect(await slotTimes(monday)).toEqual(FULL_DAY);
      expect(await slotTimes(wednesday)).toEqual(FULL_DAY);
      await source.holdFixture('open-ended.ics');
      expect(await sync()).toMatchObject({ status: 'ok' });
      expect(await slotTimes(wednesday)).toEqual([]);
    });

    it('DELETE removes the busy time at once', async () => {
      expect((await provider.call('DELETE', `${calendars()}/${calendarId}`)).statusCode).toBe(204);
      expect(await slotTimes(monday)).toEqual(FULL_DAY);
      expect(await slotTimes(wednesday)).toEqual(FULL_DAY);
      const { rows } = await server.db.query('SELECT 1 FROM calendar_busy WHERE provider_id = $1', [provider.id]);
      expect(rows).toEqual([]);
    });
  });
}
