import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueCalendarWrites } from '../../src/features/calendars/calendar-write-worker.js';
import { admin, createUser, providerWithHours } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The write-back cases every kind of write calendar must pass, end to end
 * through the API: a collective booking with two hosts, each host with a write
 * calendar of its own, appears in both calendars under one UID; a reschedule
 * moves it in both (not a second event); a cancel removes it from both.
 * calendar-writes.test.ts runs them for CalDAV (its local fake, one fake
 * server per calendar), calendars-caldav.test.ts for CalDAV (Radicale),
 * calendars-google.test.ts for Google (a local fake, one account per consent).
 * The background writer never fires (CALENDAR_WRITE_POLL_MS is an hour): the
 * cases drive it, so what is in each calendar at each step is deterministic.
 *
 *   collectiveWriteBackCases('CalDAV (local fake)', {
 *     connect: async (server, provider) => { ...POST a caldav calendar with writeBookings...; return handle; },
 *     events: async (handle) => eventsInIcs(...the calendar's objects...),
 *     stop: async () => ...,
 *   });
 */
export interface WrittenEvent {
  uid: string;
  start: number;
  end: number;
}

type Provider = Awaited<ReturnType<typeof providerWithHours>>;

export interface WriteCalendarKind {
  start?(): Promise<void>;
  /** Settings the server needs to reach it (Google's endpoints). */
  serverEnv?(): Record<string, string>;
  /** Connects a write calendar of the provider's own (a new collection or account), consent included; answers a handle to it. */
  connect(server: TestServer, provider: Provider): Promise<string>;
  /** The events in that calendar now (deleted ones left out). */
  events(handle: string): Promise<WrittenEvent[]>;
  stop(): Promise<void>;
}

/** The VEVENTs of iCalendar text (as our writer writes them: UTC DTSTART/DTEND). */
export function eventsInIcs(text: string): WrittenEvent[] {
  const lines = text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  const out: WrittenEvent[] = [];
  let event: Record<string, string> | null = null;
  const utc = (v: string) => Date.parse(v.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  for (const line of lines) {
    if (line === 'BEGIN:VEVENT') event = {};
    else if (line === 'END:VEVENT' && event) {
      out.push({ uid: event.UID!, start: utc(event.DTSTART!), end: utc(event.DTEND!) });
      event = null;
    } else if (event) {
      const m = /^([A-Z-]+)(?:;[^:]*)?:(.*)$/.exec(line);
      if (m) event[m[1]!] = m[2]!;
    }
  }
  return out;
}

// Pinned "now": Monday 2035-01-01 00:00 UTC. Berlin is UTC+1 in January.
const NOW = Date.parse('2035-01-01T00:00:00Z');
const FIRST = '2035-01-08T10:00:00+01:00';
const MOVED = '2035-01-08T14:00:00+01:00';
const HOUR_MS = 3600_000;

export function collectiveWriteBackCases(name: string, kind: WriteCalendarKind, options: { skip?: boolean } = {}): void {
  describe.skipIf(options.skip ?? false)(`calendar write-back: a collective booking in two hosts' ${name} calendars`, () => {
    let server: TestServer;
    let calendars: string[] = [];
    let bookingId = '';
    let client: Awaited<ReturnType<typeof createUser>>;

    /** Runs the writer until the booking has no write left to do (bounded). */
    const drain = async () => {
      for (let round = 0; round < 5; round++) {
        await runDueCalendarWrites(server.ctx);
        const { rows } = await server.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM calendar_writes WHERE booking_id = $1 AND status = 'pending'`, [bookingId]);
        if (rows[0]!.n === 0) return;
      }
      throw new Error('the writes of the booking were still pending after five rounds of the writer');
    };
    const inBoth = async () => Promise.all(calendars.map((c) => kind.events(c)));
    const syncStatus = async () => (await client.call('GET', `/v1/bookings/${bookingId}`)).json().calendarSync?.status;

    beforeAll(async () => {
      await kind.start?.();
      server = await startTestServer({
        CALENDAR_ALLOW_PRIVATE_URLS: 'true',
        CALENDAR_WRITE_POLL_MS: '3600000',
        CALENDAR_WRITE_RETRY_BASE_MS: '300',
        ...kind.serverEnv?.(),
      }, { clock: { now: () => NOW } });
      client = await createUser(server, 'client');
    });
    afterAll(async () => {
      await server?.close();
      await kind.stop();
    });

    it('confirmed: the event is in both hosts\' calendars, with the same UID and times', async () => {
      const hosts = [await providerWithHours(server), await providerWithHours(server)];
      calendars = [];
      for (const host of hosts) calendars.push(await kind.connect(server, host));
      expect(new Set(calendars).size).toBe(2);
      const type = await admin(server)('POST', '/v1/event-types', {
        slug: 'collective-write-back', title: 'Two hosts', durations: [60], minimumNotice: 0,
        hosts: hosts.map((h) => ({ providerId: h.id })), assignment: 'collective',
      });
      expect(type.statusCode, type.body).toBe(201);
      const held = await client.call('POST', '/v1/bookings', { eventTypeId: type.json().id, start: FIRST });
      expect(held.statusCode, held.body).toBe(201);
      expect([...held.json().hosts].sort()).toEqual(hosts.map((h) => h.id).sort());
      bookingId = held.json().id;
      expect(await inBoth()).toEqual([[], []]); // a hold writes nothing

      const confirmed = await client.call('POST', `/v1/bookings/${bookingId}/confirm`);
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      await drain();
      const event = { uid: `${bookingId}@booking-engine`, start: Date.parse(FIRST), end: Date.parse(FIRST) + HOUR_MS };
      expect(await inBoth()).toEqual([[event], [event]]);
      expect(await syncStatus()).toBe('synced');
    });

    it('rescheduled: the event moves in both calendars (still one event each, same UID)', async () => {
      const moved = await client.call('POST', `/v1/bookings/${bookingId}/reschedule`, { start: MOVED });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({ id: bookingId, status: 'confirmed' });
      await drain();
      const event = { uid: `${bookingId}@booking-engine`, start: Date.parse(MOVED), end: Date.parse(MOVED) + HOUR_MS };
      expect(await inBoth()).toEqual([[event], [event]]);
      expect(await syncStatus()).toBe('synced');
    });

    it('cancelled: the event is gone from both calendars', async () => {
      const cancelled = await client.call('POST', `/v1/bookings/${bookingId}/cancel`, {});
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      await drain();
      expect(await inBoth()).toEqual([[], []]);
      expect(await syncStatus()).toBe('removed');
    });
  });
}
