import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueCalendarWrites } from '../../src/features/calendars/calendar-write-worker.js';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startFakeCaldav, type FakeCaldav } from '../helpers/fake-caldav-write.js';
import { startIcsServer, type IcsServer } from '../helpers/ics-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expireHold, holdOk, localInstant, plusDays } from './booking-helpers.js';
import { collectiveWriteBackCases, eventsInIcs } from './calendar-write-cases.js';

/**
 * Bookings out (writeBookings): confirmed bookings written to a CalDAV-ish
 * server on 127.0.0.1 (test/helpers/fake-caldav-write.ts) that records every
 * PUT and DELETE and can fail, hang or hold its answers. The background worker
 * never fires here (CALENDAR_WRITE_POLL_MS is an hour): each test drives it
 * with runDueCalendarWrites, so what was written and when is deterministic.
 * Backoff base 300 ms: retries after 300 ms, 1.8 s, 7.2 s, ...; tests move
 * next_attempt_at instead of sleeping through them.
 */
type User = Awaited<ReturnType<typeof createUser>>;

const USER = 'ada';
const PASSWORD = 'dav-password-1';
const monday = upcomingDate(1);

describe('calendar write-back (CalDAV)', () => {
  let server: TestServer;
  let dav: FakeCaldav;
  let ics: IcsServer;
  let client: User;
  let day = 0;

  const drain = () => runDueCalendarWrites(server.ctx);
  const calendars = (p: User) => `/v1/providers/${p.id}/calendars`;
  const caldavBody = (extra: Record<string, unknown> = {}) => ({
    type: 'caldav', url: dav.url, username: USER, password: PASSWORD, calendarUrl: dav.calendarUrl, writeBookings: true, ...extra,
  });
  const objectPath = (bookingId: string) => `/cal/${bookingId}_booking-engine.ics`;
  const writesOf = (bookingId: string) => dav.writes.filter((w) => w.path === objectPath(bookingId)).map((w) => `${w.method} ${w.status}`);

  /** A provider (Mon-Fri 09-17 Berlin) whose write calendar is the fake server. */
  async function writingProvider(writeMode: 'eventual' | 'strict' = 'eventual'): Promise<User> {
    const provider = await providerWithHours(server, 'Europe/Berlin');
    const res = await provider.call('POST', calendars(provider), caldavBody({ writeMode }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ type: 'caldav', status: 'ok', writeBookings: true, writeMode });
    return provider;
  }
  /** A held booking at 10:00 Berlin on a new weekday each time. */
  async function held(provider: User) {
    day += 7;
    return holdOk(client.call, provider.id, localInstant(plusDays(monday, day), '10:00'), 60);
  }
  const confirm = (id: string) => client.call('POST', `/v1/bookings/${id}/confirm`);
  /** A booking confirmed (eventual mode) with a provider writing to the fake server; nothing sent yet. */
  async function confirmedBooking() {
    const provider = await writingProvider();
    const booking = await held(provider);
    expect((await confirm(booking.id)).statusCode).toBe(200);
    return { provider, booking };
  }
  const cancel = (id: string) => client.call('POST', `/v1/bookings/${id}/cancel`, {});
  const get = async (id: string, as: User = client) => {
    const res = await as.call('GET', `/v1/bookings/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const outboxRow = async (bookingId: string) => (await server.db.query<{ attempts: number; status: string; action: string; delay_ms: number }>(
    `SELECT attempts, status, action, round(extract(epoch FROM next_attempt_at - updated_at) * 1000)::int AS delay_ms
       FROM calendar_writes WHERE booking_id = $1`, [bookingId])).rows;

  /** Time passes: the booking's write is due now. */
  const makeDue = async (bookingId: string) => {
    await server.db.query('UPDATE calendar_writes SET next_attempt_at = now() WHERE booking_id = $1', [bookingId]);
  };

  beforeAll(async () => {
    dav = await startFakeCaldav();
    ics = await startIcsServer();
    ics.serve('/feed.ics', { file: 'open-ended.ics' });
    server = await startTestServer({
      CALENDAR_ALLOW_PRIVATE_URLS: 'true',
      CALENDAR_WRITE_POLL_MS: '3600000',
      CALENDAR_WRITE_RETRY_BASE_MS: '300',
      CALENDAR_WRITE_TIMEOUT_MS: '1000',
      MAX_HOLDS_PER_CLIENT: '100',
    });
    client = await createUser(server, 'client');
  });
  afterAll(async () => {
    await server?.close();
    await dav?.close();
    await ics?.close();
  });

  it('confirm queues a PUT of the event (UTC times, stable UID, CRLF); calendarSync goes pending -> synced; cancel DELETEs it -> removed', async () => {
    const provider = await writingProvider();
    const booking = await held(provider);
    expect(booking.calendarSync).toBeUndefined();

    const confirmed = await confirm(booking.id);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({ status: 'confirmed', calendarSync: { status: 'pending' } });
    expect(writesOf(booking.id)).toEqual([]); // eventual: nothing is sent inside the request
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'pending' });

    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 201']);
    const put = dav.writes.find((w) => w.path === objectPath(booking.id))!;
    expect(put.contentType).toMatch(/^text\/calendar/);
    expect(put.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    const lines = put.body.split('\r\n');
    expect(put.body.endsWith('\r\n')).toBe(true);
    expect(put.body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // CRLF only
    const start = booking.start.replace(/[-:]/g, '');
    const end = booking.end.replace(/[-:]/g, '');
    expect(lines).toEqual(expect.arrayContaining([
      'BEGIN:VCALENDAR', 'BEGIN:VEVENT', `UID:${booking.id}@booking-engine`, `DTSTART:${start}`, `DTEND:${end}`,
      'STATUS:CONFIRMED', 'SUMMARY:Booking with A client', 'END:VEVENT', 'END:VCALENDAR',
    ]));
    expect(start).toMatch(/^\d{8}T\d{6}Z$/);
    expect(lines.some((l) => l.startsWith('METHOD:'))).toBe(false); // not allowed in a stored CalDAV object
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'synced' });
    const list = await provider.call('GET', '/v1/bookings');
    expect(list.json().data).toEqual([expect.objectContaining({ id: booking.id, calendarSync: { status: 'synced' } })]);

    // A second round has nothing to do for it.
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 201']);

    const cancelled = await cancel(booking.id);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', calendarSync: { status: 'pending' } });
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 201', 'DELETE 204']);
    expect(dav.objects.has(objectPath(booking.id))).toBe(false);
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'removed' });

    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/calendar_writes_total\{outcome="written"\} [1-9]/);
    expect(metrics).toMatch(/calendar_writes_total\{outcome="removed"\} [1-9]/);
  });

  it('an outage leaves the booking confirmed with the error shown, retries with growing backoff, and succeeds once the calendar is back', async () => {
    const provider = await writingProvider();
    const booking = await held(provider);
    dav.failWrites(500);
    try {
      expect((await confirm(booking.id)).json().status).toBe('confirmed');
      await drain();
      await drain(); // not due yet: the backoff holds it back
      expect(writesOf(booking.id)).toEqual(['PUT 500']);
      const view = await get(booking.id, provider);
      expect(view.status).toBe('confirmed');
      expect(view.calendarSync).toEqual({ status: 'pending', error: '127.0.0.1 answered HTTP 500' });
      // The client sees the state, not the provider's calendar server.
      expect((await get(booking.id)).calendarSync).toEqual({ status: 'pending' });
      expect(await outboxRow(booking.id)).toEqual([{ attempts: 1, status: 'pending', action: 'put', delay_ms: 300 }]);

      await makeDue(booking.id);
      await drain();
      expect(writesOf(booking.id)).toEqual(['PUT 500', 'PUT 500']);
      expect(await outboxRow(booking.id)).toEqual([{ attempts: 2, status: 'pending', action: 'put', delay_ms: 1800 }]);
    } finally {
      dav.recover();
    }
    await makeDue(booking.id);
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 500', 'PUT 500', 'PUT 201']);
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'synced' });
    expect(dav.objects.has(objectPath(booking.id))).toBe(true);
  });

  it('without calendarUrl the event goes to the calendar discovered from url', async () => {
    const provider = await providerWithHours(server, 'Europe/Berlin');
    const { calendarUrl: _, ...body } = caldavBody({ url: dav.calendarUrl });
    expect((await provider.call('POST', calendars(provider), body)).json()).toMatchObject({ status: 'ok', writeBookings: true });
    const booking = await held(provider);
    await confirm(booking.id);
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 201']);
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'synced' });
  });

  it('after the last attempt the write is failed for good, with the error', async () => {
    const { provider, booking } = await confirmedBooking();
    await server.db.query('UPDATE calendar_writes SET attempts = 7 WHERE booking_id = $1', [booking.id]);
    dav.failWrites(503);
    try {
      await drain();
    } finally {
      dav.recover();
    }
    expect((await get(booking.id, provider)).calendarSync).toEqual({ status: 'failed', error: expect.stringMatching(/HTTP 503/) });
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'failed' });
    expect(await outboxRow(booking.id)).toMatchObject([{ attempts: 8, status: 'failed' }]);
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 503']);
  });

  it('a cancel before the PUT was ever sent settles at once: no request at all, calendarSync "removed"', async () => {
    const { booking } = await confirmedBooking();
    expect((await cancel(booking.id)).json().calendarSync).toEqual({ status: 'removed' });
    await drain();
    expect(writesOf(booking.id)).toEqual([]);
  });

  it('put then cancel while the put is being retried: the late retry is a DELETE, and no event stays', async () => {
    const provider = await writingProvider();
    const booking = await held(provider);
    dav.failWrites(500);
    try {
      await confirm(booking.id);
      await drain();
    } finally {
      dav.recover();
    }
    expect((await cancel(booking.id)).json().calendarSync).toEqual({ status: 'pending' });
    await drain();
    // The failed PUT might have been stored (an unknown outcome): a DELETE is sent; 404 counts as gone.
    expect(writesOf(booking.id)).toEqual(['PUT 500', 'DELETE 404']);
    expect(dav.objects.has(objectPath(booking.id))).toBe(false);
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'removed' });
  });

  it('a cancel while the PUT is in flight: the DELETE waits for the PUT to finish (lease), then removes the event', async () => {
    const { booking } = await confirmedBooking();
    dav.holdWrites();
    const sent = dav.writes.length;
    const firstRound = drain();
    try {
      await dav.waitForWrites(sent + 1);
      expect((await cancel(booking.id)).statusCode).toBe(200);
      await drain(); // another worker: the row is leased, nothing may overtake the PUT
      expect(writesOf(booking.id)).toEqual(['PUT 0']);
    } finally {
      dav.release();
    }
    await firstRound;
    expect(dav.objects.has(objectPath(booking.id))).toBe(true); // the PUT landed after the cancel...
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'pending' });
    await drain();
    expect(writesOf(booking.id)).toEqual(['PUT 201', 'DELETE 204']); // ...and the DELETE comes after it
    expect(dav.objects.has(objectPath(booking.id))).toBe(false);
    expect((await get(booking.id)).calendarSync).toEqual({ status: 'removed' });
  });

  it('the events it wrote are not read back as busy time: a cancelled booking\'s time is free at once, before its DELETE', async () => {
    const { provider, booking } = await confirmedBooking();
    await drain();
    expect(dav.objects.has(objectPath(booking.id))).toBe(true);
    const [connection] = (await provider.call('GET', calendars(provider))).json().data;
    const date = booking.start.slice(0, 10);
    const slots = async () => (await client.call('GET', `/v1/slots?providerId=${provider.id}&from=${date}&to=${date}&duration=60`))
      .json().slots.map((s: { start: string }) => s.start);
    // A busy event of someone else in the same calendar still counts.
    dav.objects.set('/cal/other.ics', ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:dentist@example.test',
      'DTSTAMP:20260101T000000Z', `DTSTART:${booking.end.replace(/[-:]/g, '')}`, 'DURATION:PT1H', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'));
    try {
      expect((await provider.call('POST', `${calendars(provider)}/${connection.id}/sync`)).json().status).toBe('ok');
      expect(await cancel(booking.id)).toMatchObject({ statusCode: 200 });
      const free = await slots();
      expect(free).toContain(booking.start);
      expect(free).not.toContain(booking.end);
    } finally {
      dav.objects.delete('/cal/other.ics');
    }
    await drain();
  });

  it('at most one write calendar per provider (409); an ICS feed cannot be one (422); read calendars beside it are fine', async () => {
    const provider = await writingProvider();
    const second = expectProblem(await provider.call('POST', calendars(provider), caldavBody()), 409);
    expect(second.code).toBe('state_conflict');
    expect(second.detail).toMatch(/already has a calendar that bookings are written into/);
    const icsWrite = expectProblem(await provider.call('POST', calendars(provider), { type: 'ics', url: ics.url('/feed.ics'), writeBookings: true }), 422);
    expect(icsWrite.code).toBe('not_supported');
    expect(icsWrite.detail).toMatch(/read-only/);
    const readOnly = await provider.call('POST', calendars(provider), caldavBody({ writeBookings: false }));
    expect(readOnly.statusCode, readOnly.body).toBe(201);
    const list = (await provider.call('GET', calendars(provider))).json().data;
    expect(list.map((c: { writeBookings: boolean }) => c.writeBookings)).toEqual([true, false]);

    // The database keeps the rule even past the check (two connects racing).
    await expect(server.db.query('UPDATE calendar_connections SET write_bookings = true WHERE id = $1', [readOnly.json().id]))
      .rejects.toMatchObject({ code: '23505' });

    // Disconnecting the write calendar frees the place.
    expect((await provider.call('DELETE', `${calendars(provider)}/${list[0].id}`)).statusCode).toBe(204);
    expect((await provider.call('POST', calendars(provider), caldavBody())).statusCode).toBe(201);
  });

  it('disconnecting the write calendar drops its pending writes; the booking no longer shows calendarSync', async () => {
    const { provider, booking } = await confirmedBooking();
    const [connection] = (await provider.call('GET', calendars(provider))).json().data;
    expect((await provider.call('DELETE', `${calendars(provider)}/${connection.id}`)).statusCode).toBe(204);
    expect(await outboxRow(booking.id)).toEqual([]);
    expect((await get(booking.id)).calendarSync).toBeUndefined();
    await drain();
    expect(writesOf(booking.id)).toEqual([]);
  });

  it('cancelling a hold that was never confirmed writes nothing; a provider without a write calendar shows no calendarSync', async () => {
    const provider = await writingProvider();
    const booking = await held(provider);
    const cancelled = await cancel(booking.id);
    expect(cancelled.json().status).toBe('cancelled');
    expect(cancelled.json().calendarSync).toBeUndefined();
    await drain();
    expect(writesOf(booking.id)).toEqual([]);
    expect(await outboxRow(booking.id)).toEqual([]);

    const plain = await providerWithHours(server, 'Europe/Berlin');
    const other = await held(plain);
    const confirmed = await confirm(other.id);
    expect(confirmed.json().status).toBe('confirmed');
    expect(confirmed.json().calendarSync).toBeUndefined();
  });

  describe('writeMode "strict"', () => {
    it('the event is in the calendar before the confirm answers 200', async () => {
      const provider = await writingProvider('strict');
      const booking = await held(provider);
      const confirmed = await confirm(booking.id);
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      expect(confirmed.json()).toMatchObject({ status: 'confirmed', calendarSync: { status: 'synced' } });
      expect(writesOf(booking.id)).toEqual(['PUT 201']);
      expect(dav.objects.get(objectPath(booking.id))).toContain(`UID:${booking.id}@booking-engine`);
      await drain(); // nothing left for the worker
      expect(writesOf(booking.id)).toEqual(['PUT 201']);
      // Confirming again is unchanged and writes nothing.
      expect((await confirm(booking.id)).json().calendarSync).toEqual({ status: 'synced' });
      expect(writesOf(booking.id)).toEqual(['PUT 201']);
    });

    it('a failing or hanging calendar is a 502 problem+json and the booking stays held; a later confirm succeeds', async () => {
      const provider = await writingProvider('strict');
      const booking = await held(provider);
      dav.failWrites(500);
      let problem;
      try {
        problem = expectProblem(await confirm(booking.id), 502);
      } finally {
        dav.recover();
      }
      expect(problem.code).toBe('calendar_write_failed');
      expect(problem.detail).toMatch(/the calendar answered with an error.*still held/);
      expect(problem.detail).not.toContain('127.0.0.1');
      let view = await get(booking.id);
      expect(view.status).toBe('held');
      expect(view.calendarSync).toBeUndefined();

      dav.hangWrites();
      const started = Date.now();
      try {
        problem = expectProblem(await confirm(booking.id), 502);
      } finally {
        dav.recover();
      }
      expect(Date.now() - started).toBeLessThan(5000); // CALENDAR_WRITE_TIMEOUT_MS bounds the wait
      expect(problem.detail).toMatch(/did not answer in time/);
      expect((await get(booking.id)).status).toBe('held');

      // Whatever the failed attempts may have stored is removed by the worker (404: nothing was there).
      await drain();
      expect(writesOf(booking.id)).toEqual(['PUT 500', 'PUT 0', 'DELETE 404']);

      const ok = await confirm(booking.id);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ status: 'confirmed', calendarSync: { status: 'synced' } });
      expect(dav.objects.has(objectPath(booking.id))).toBe(true);
      view = await get(booking.id);
      expect(view.calendarSync).toEqual({ status: 'synced' });
    });

    it('a hold that expires while its event is being written: 410, and the event written for it is removed', async () => {
      const provider = await writingProvider('strict');
      const booking = await held(provider);
      dav.holdWrites();
      const sent = dav.writes.length;
      const answer = confirm(booking.id);
      try {
        await dav.waitForWrites(sent + 1);
        await expireHold(server, booking.id);
      } finally {
        dav.release();
      }
      expect(expectProblem(await answer, 410).code).toBe('hold_expired');
      expect(dav.objects.has(objectPath(booking.id))).toBe(true);
      await drain();
      expect(writesOf(booking.id)).toEqual(['PUT 201', 'DELETE 204']);
      expect(dav.objects.has(objectPath(booking.id))).toBe(false);
    });
  });
});

// Each host's write calendar is a fake server of its own: two calendars, and the one UID in both.
const perCalendar = new Map<string, FakeCaldav>();
collectiveWriteBackCases('CalDAV (local fake)', {
  async connect(_server, provider) {
    const calendar = await startFakeCaldav();
    const res = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, {
      type: 'caldav', url: calendar.url, username: USER, password: PASSWORD, calendarUrl: calendar.calendarUrl, writeBookings: true,
    });
    expect(res.statusCode, res.body).toBe(201);
    perCalendar.set(calendar.calendarUrl, calendar);
    return calendar.calendarUrl;
  },
  events: async (handle) => [...perCalendar.get(handle)!.objects.values()].flatMap(eventsInIcs),
  async stop() {
    await Promise.all([...perCalendar.values()].map((c) => c.close()));
  },
});
