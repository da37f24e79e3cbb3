import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueCalendarWrites } from '../../src/features/calendars/calendar-write-worker.js';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { startFakeCaldav, type FakeCaldav } from '../helpers/fake-caldav-write.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, startReceiver } from '../helpers/webhook-receiver.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';
import { expireHold, ms } from './booking-helpers.js';

/**
 * The life of a booking of an event type over HTTP, on the real app: approval
 * (pending / accept / decline), cancellation notice and cancelledBy, reschedule
 * in place, and what a move does to the ICS feed, webhooks, a write calendar
 * and the live stream; then closures. The clock is pinned: now is Monday
 * 2035-01-01 00:00 UTC (the app's rules: notice, cancellation notice, "has
 * started"). Holds lapse and pending requests expire by the database's own
 * clock (the real one), so "in the past" below means before both.
 * Berlin is +01:00 all January: expected instants are written out by hand.
 */
type User = Awaited<ReturnType<typeof createUser>>;

const NOW = Date.parse('2035-01-01T00:00:00Z');
const MON = '2035-01-08';
const TUE = '2035-01-09';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const EVERY_DAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

describe('booking lifecycle of event types', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dav: FakeCaldav;
  let wsBase: string;
  let client: User;
  const streams: StreamClient[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    dav = await startFakeCaldav();
    server = await startTestServer({
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '20', WEBHOOK_RETRY_BASE_MS: '30',
      CALENDAR_ALLOW_PRIVATE_URLS: 'true', CALENDAR_WRITE_POLL_MS: '3600000', CALENDAR_WRITE_RETRY_BASE_MS: '300',
      CALENDAR_WRITE_TIMEOUT_MS: '1000', MAX_HOLDS_PER_CLIENT: '100',
    }, { clock: { now: () => NOW } });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    wsBase = `ws://127.0.0.1:${address.port}`;
    client = await createUser(server, 'client');
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await server?.close();
    await receiver?.close();
    await dav?.close();
  });

  let slugCounter = 0;

  /** A fresh provider (a host of nothing yet): Mon-Fri 09:00-17:00 Berlin unless told otherwise. */
  async function newHost(timeZone = 'Europe/Berlin', weekly = WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' }))) {
    const host = await createUser(server, 'provider', { timeZone });
    const res = await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone, weekly });
    expect(res.statusCode, res.body).toBe(200);
    return host;
  }

  /**
   * An event type of `owner`: 60 minutes, no notice, unless the body says otherwise.
   * clientMayOverlap: this suite's one client books many hosts at the same hours;
   * the client's own overlap rule has its suite (client-overlap.test.ts).
   */
  async function createType(owner: User, body: Record<string, unknown> = {}) {
    const res = await owner.call('POST', '/v1/event-types', {
      slug: `lifecycle-${++slugCounter}`, title: 'Consultation', durations: [60], minimumNotice: 0, clientMayOverlap: true, ...body,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; slug: string };
  }

  const hold = (who: User, eventTypeId: string, start: string, extra: Record<string, unknown> = {}) =>
    who.call('POST', '/v1/bookings', { eventTypeId, start, ...extra });

  async function held(who: User, eventTypeId: string, start: string, extra: Record<string, unknown> = {}) {
    const res = await hold(who, eventTypeId, start, extra);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  const act = (who: User, id: string, action: 'confirm' | 'accept', headers: Record<string, string> = {}) =>
    who.call('POST', `/v1/bookings/${id}/${action}`, undefined, headers);
  const decline = (who: User, id: string, reason?: string) =>
    who.call('POST', `/v1/bookings/${id}/decline`, reason === undefined ? {} : { reason });
  const cancel = (who: User, id: string, reason?: string) =>
    who.call('POST', `/v1/bookings/${id}/cancel`, reason === undefined ? {} : { reason });
  const reschedule = (who: User, id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    who.call('POST', `/v1/bookings/${id}/reschedule`, body, headers);

  async function get(id: string, as: User = client) {
    const res = await as.call('GET', `/v1/bookings/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function expectStatus(res: { statusCode: number; body: string; json(): any }, status: string) {
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe(status);
    return res.json();
  }

  async function typeSlots(eventTypeId: string, date: string) {
    const res = await client.call('GET', `/v1/slots?eventTypeId=${eventTypeId}&from=${date}&to=${date}&timeZone=Europe/Berlin`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().slots as { start: string }[]).map((s) => s.start);
  }

  /** A booking that asks for approval: held, then confirmed by its client -> pending. */
  async function pendingBooking(who: User, eventTypeId: string, start: string) {
    const b = await held(who, eventTypeId, start);
    await expectStatus(await act(who, b.id, 'confirm'), 'pending');
    return b;
  }

  /** Moves a booking (and its blocked range) in SQL, e.g. into the past, where no API would put it. */
  async function moveInSql(id: string, start: string, end: string) {
    const { rowCount } = await server.db.query(
      'UPDATE bookings SET start_at = $2, end_at = $3, blocked_start = $2, blocked_end = $3 WHERE id = $1',
      [id, start, end],
    );
    expect(rowCount).toBe(1);
  }

  describe('approval (requiresConfirmation)', () => {
    it('the client\'s confirm makes it pending: it no longer lapses as a hold and keeps its time', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const b = await held(client, t.id, '2035-01-08T10:00:00+01:00');
      const pending = await expectStatus(await act(client, b.id, 'confirm'), 'pending');
      expect(pending.confirmedAt).toBeUndefined();
      // Again: unchanged.
      expect(await expectStatus(await act(client, b.id, 'confirm'), 'pending')).toEqual(pending);

      // The hold's expiry no longer matters.
      await expireHold(server, b.id);
      expect((await get(b.id)).status).toBe('pending');

      // It still takes its time: not offered, and another hold on it is a 409.
      expect(await typeSlots(t.id, MON)).not.toContain('2035-01-08T10:00:00+01:00');
      const other = await createUser(server, 'client');
      expect(expectProblem(await hold(other, t.id, '2035-01-08T10:00:00+01:00'), 409).code).toBe('slot_taken');
      expect(expectProblem(await hold(other, t.id, '2035-01-08T10:30:00+01:00'), 409).code).toBe('slot_taken');
    });

    it('the client may not accept (403); the host accepts -> confirmed, again -> unchanged; declining it then is a 409', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const b = await pendingBooking(client, t.id, '2035-01-08T11:00:00+01:00');

      expectProblem(await act(client, b.id, 'accept'), 403);
      expectProblem(await decline(client, b.id), 403);
      expect((await get(b.id)).status).toBe('pending');

      const accepted = await expectStatus(await act(host, b.id, 'accept'), 'confirmed');
      expect(typeof accepted.confirmedAt).toBe('string');
      const again = await expectStatus(await act(host, b.id, 'accept'), 'confirmed');
      expect(again.confirmedAt).toBe(accepted.confirmedAt);

      expect(expectProblem(await decline(host, b.id, 'too late'), 409).code).toBe('state_conflict');
      expect((await get(b.id)).status).toBe('confirmed');
    });

    it('an admin may accept too; another provider cannot see the booking (404)', async () => {
      const host = await newHost();
      const stranger = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const b = await pendingBooking(client, t.id, '2035-01-09T11:00:00+01:00');
      expectProblem(await act(stranger, b.id, 'accept'), 404);
      const res = await admin(server)('POST', `/v1/bookings/${b.id}/accept`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('confirmed');
    });

    it('decline: 200 declined with declineReason, its time free at once; accepting a declined or a cancelled booking is a 409 state_conflict', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const first = await pendingBooking(client, t.id, '2035-01-08T09:00:00+01:00');
      await expectStatus(await act(host, first.id, 'accept'), 'confirmed');
      const second = await pendingBooking(client, t.id, '2035-01-08T13:00:00+01:00');

      const declined = await expectStatus(await decline(host, second.id, 'Fully booked that day'), 'declined');
      expect(declined).toMatchObject({ id: second.id, declineReason: 'Fully booked that day' });
      // Again: unchanged.
      expect((await decline(host, second.id, 'Fully booked that day')).json().status).toBe('declined');

      expect(await typeSlots(t.id, MON)).toContain('2035-01-08T13:00:00+01:00');
      const other = await createUser(server, 'client');
      expect((await hold(other, t.id, '2035-01-08T13:00:00+01:00')).statusCode).toBe(201);

      expect(expectProblem(await act(host, second.id, 'accept'), 409).code).toBe('state_conflict');
      expect((await get(second.id)).status).toBe('declined');

      // reason is optional: a decline without any body is fine.
      const fourth = await pendingBooking(client, t.id, '2035-01-08T11:00:00+01:00');
      const bare = await host.call('POST', `/v1/bookings/${fourth.id}/decline`);
      expect(bare.statusCode, bare.body).toBe(200);
      expect(bare.json().status).toBe('declined');
      expect(bare.json().declineReason).toBeUndefined();
      // A declined booking cannot be confirmed by its client either.
      expect(expectProblem(await act(client, fourth.id, 'confirm'), 409).code).toBe('state_conflict');

      const third = await pendingBooking(client, t.id, '2035-01-08T15:00:00+01:00');
      expect((await expectStatus(await cancel(client, third.id), 'cancelled')).cancelledBy).toBe('client');
      expect(expectProblem(await act(host, third.id, 'accept'), 409).code).toBe('state_conflict');
      expect(expectProblem(await decline(host, third.id), 409).code).toBe('state_conflict');
      expect((await get(third.id)).status).toBe('cancelled');
    });

    it('a pending booking not answered before its start reads expired; accepting or declining it is a 409', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const b = await pendingBooking(client, t.id, '2035-01-10T10:00:00+01:00');
      // Into the past of both clocks (the app's pinned one and the database's).
      await moveInSql(b.id, '2020-01-06T09:00:00Z', '2020-01-06T10:00:00Z');
      expect((await get(b.id)).status).toBe('expired');
      expect(expectProblem(await act(host, b.id, 'accept'), 409).code).toBe('state_conflict');
      expect(expectProblem(await decline(host, b.id), 409).code).toBe('state_conflict');
      expect((await get(b.id)).status).toBe('expired');
    });

    it('the host hears of the request: booking.pending, then booking.declined, with the booking as data', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const hook = await host.call('POST', '/v1/webhooks', {
        url: `${receiver.base}/approval`, events: ['booking.pending', 'booking.declined', 'booking.rescheduled'],
      });
      expect(hook.statusCode, hook.body).toBe(201);

      const b = await pendingBooking(client, t.id, '2035-01-08T10:00:00+01:00');
      await expectStatus(await decline(host, b.id, 'Not this week'), 'declined');

      expect(await eventually(() => receiver.at('/approval').length >= 2)).toBe(true);
      const received = receiver.at('/approval').map((r) => r.json);
      expect(received.map((e) => e.type).sort()).toEqual(['booking.declined', 'booking.pending']);
      expect(received.find((e) => e.type === 'booking.pending')!.data).toMatchObject({ id: b.id, status: 'pending', eventTypeId: t.id });
      expect(received.find((e) => e.type === 'booking.declined')!.data).toMatchObject({
        id: b.id, status: 'declined', declineReason: 'Not this week',
      });
    });
  });

  describe('cancellation notice and cancelledBy', () => {
    // A host in UTC working around the clock, so that times right after the pinned now are bookable.
    const alwaysOpen = () => newHost('UTC', EVERY_DAY.map((day) => ({ day, start: '00:00', end: '24:00' })));

    it('cancel says who cancelled: client, host or admin', async () => {
      const host = await newHost();
      const t = await createType(host);
      const byClient = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const byHost = await held(client, t.id, '2035-01-08T11:00:00+01:00');
      const byAdmin = await held(client, t.id, '2035-01-08T13:00:00+01:00');
      await expectStatus(await act(client, byAdmin.id, 'confirm'), 'confirmed');

      expect((await expectStatus(await cancel(client, byClient.id, 'changed plans'), 'cancelled'))).toMatchObject({
        cancelledBy: 'client', cancelReason: 'changed plans',
      });
      expect((await expectStatus(await cancel(host, byHost.id), 'cancelled')).cancelledBy).toBe('host');
      const res = await admin(server)('POST', `/v1/bookings/${byAdmin.id}/cancel`, {});
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'admin' });
      expect((await get(byAdmin.id)).cancelledBy).toBe('admin');
    });

    it('cancellationNotice 1440: the client is refused 23 h before the start (422 too_late_to_change, nothing changes); 24 h before is fine', async () => {
      const host = await alwaysOpen();
      const t = await createType(host, { cancellationNotice: 1440 });
      const soon = await held(client, t.id, '2035-01-01T23:00:00Z');
      await expectStatus(await act(client, soon.id, 'confirm'), 'confirmed');
      const before = await get(soon.id);

      expect(expectProblem(await cancel(client, soon.id), 422).code).toBe('too_late_to_change');
      expect(expectProblem(await reschedule(client, soon.id, { start: '2035-01-05T10:00:00Z' }), 422).code).toBe('too_late_to_change');
      expect(await get(soon.id)).toEqual(before);

      // Exactly the notice ahead: allowed.
      const later = await held(client, t.id, '2035-01-02T00:00:00Z');
      expect((await expectStatus(await cancel(client, later.id), 'cancelled')).cancelledBy).toBe('client');
      const movable = await held(client, t.id, '2035-01-02T02:00:00Z');
      expect((await reschedule(client, movable.id, { start: '2035-01-06T10:00:00Z' })).statusCode).toBe(200);
    });

    it('within the notice the host may reschedule and cancel, and so may an admin', async () => {
      const host = await alwaysOpen();
      const t = await createType(host, { cancellationNotice: 1440 });
      const a = await held(client, t.id, '2035-01-01T20:00:00Z');
      const b = await held(client, t.id, '2035-01-01T22:00:00Z');
      const c = await held(client, t.id, '2035-01-01T18:00:00Z');

      const moved = await reschedule(host, a.id, { start: '2035-01-01T21:00:00Z' });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(ms(moved.json().start)).toBe(ms('2035-01-01T21:00:00Z'));
      expect((await expectStatus(await cancel(host, a.id), 'cancelled')).cancelledBy).toBe('host');

      const byAdmin = await admin(server)('POST', `/v1/bookings/${b.id}/reschedule`, { start: '2035-01-01T23:00:00Z' });
      expect(byAdmin.statusCode, byAdmin.body).toBe(200);
      const cancelled = await admin(server)('POST', `/v1/bookings/${b.id}/cancel`, {});
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'admin' });

      expect((await expectStatus(await cancel(host, c.id), 'cancelled')).cancelledBy).toBe('host');
    });

    it('a booking that has started (by the app\'s clock) cannot be rescheduled by anyone: 422 too_late_to_change', async () => {
      const host = await alwaysOpen();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-03T10:00:00Z');
      // Started an hour before the pinned now (still ahead of the database's real clock, so the hold stays live).
      await moveInSql(b.id, '2034-12-31T23:00:00Z', '2035-01-01T00:00:00Z');
      const before = await get(b.id);
      expect(before.status).toBe('held');
      for (const who of [client, host]) {
        expect(expectProblem(await reschedule(who, b.id, { start: '2035-01-04T10:00:00Z' }), 422).code).toBe('too_late_to_change');
      }
      const byAdmin = await admin(server)('POST', `/v1/bookings/${b.id}/reschedule`, { start: '2035-01-04T10:00:00Z' });
      expect(expectProblem(byAdmin, 422).code).toBe('too_late_to_change');
      expect(await get(b.id)).toEqual(before);
    });
  });

  describe('edits of the type apply to bookings made afterwards', () => {
    it('requiresConfirmation switched on after a hold: that hold confirms straight to confirmed; a later one goes pending', async () => {
      const host = await newHost();
      const t = await createType(host);
      const before = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      expect((await host.call('PATCH', `/v1/event-types/${t.id}`, { requiresConfirmation: true })).statusCode).toBe(200);
      const after = await held(client, t.id, '2035-01-08T11:00:00+01:00');
      await expectStatus(await act(client, after.id, 'confirm'), 'pending');
      await expectStatus(await act(client, before.id, 'confirm'), 'confirmed');
    });

    it('a cancellationNotice added after a booking was made does not bind that booking\'s client; a later booking\'s it does', async () => {
      const host = await newHost('UTC', EVERY_DAY.map((day) => ({ day, start: '00:00', end: '24:00' })));
      const t = await createType(host);
      const before = await held(client, t.id, '2035-01-01T20:00:00Z');
      expect((await host.call('PATCH', `/v1/event-types/${t.id}`, { cancellationNotice: 1440 })).statusCode).toBe(200);
      const after = await held(client, t.id, '2035-01-01T22:00:00Z');
      expect(expectProblem(await cancel(client, after.id), 422).code).toBe('too_late_to_change');
      expect((await expectStatus(await cancel(client, before.id), 'cancelled')).cancelledBy).toBe('client');
    });

    it('a deleted type\'s bookings stay as they are: they can still be confirmed, accepted and cancelled', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const a = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const b = await pendingBooking(client, t.id, '2035-01-08T11:00:00+01:00');
      expect((await host.call('DELETE', `/v1/event-types/${t.id}`)).statusCode).toBe(204);
      await expectStatus(await act(client, a.id, 'confirm'), 'pending');
      await expectStatus(await act(host, b.id, 'accept'), 'confirmed');
      await expectStatus(await cancel(client, a.id), 'cancelled');
      expect((await get(b.id)).eventTypeId).toBe(t.id);
    });
  });

  describe('reschedule', () => {
    it('the same booking at the new time, with rescheduledAt and previousStart/End; the old time is free at once, the new one taken', async () => {
      const host = await newHost();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-08T10:00:00+01:00');
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');

      const res = await reschedule(client, b.id, { start: '2035-01-08T14:00:00+01:00', reason: 'dentist' });
      expect(res.statusCode, res.body).toBe(200);
      const moved = res.json();
      expect(moved).toMatchObject({ id: b.id, status: 'confirmed', eventTypeId: t.id, providerId: host.id, clientId: client.id });
      expect(ms(moved.start)).toBe(ms('2035-01-08T14:00:00+01:00'));
      expect(ms(moved.end)).toBe(ms('2035-01-08T15:00:00+01:00'));
      expect(ms(moved.previousStart)).toBe(ms('2035-01-08T10:00:00+01:00'));
      expect(ms(moved.previousEnd)).toBe(ms('2035-01-08T11:00:00+01:00'));
      expect(Number.isNaN(Date.parse(moved.rescheduledAt))).toBe(false);
      expect(await get(b.id)).toEqual(moved);

      const starts = await typeSlots(t.id, MON);
      expect(starts).toContain('2035-01-08T10:00:00+01:00');
      expect(starts).not.toContain('2035-01-08T14:00:00+01:00');
      const other = await createUser(server, 'client');
      expect(expectProblem(await hold(other, t.id, '2035-01-08T14:00:00+01:00'), 409).code).toBe('slot_taken');
      expect((await hold(other, t.id, '2035-01-08T10:00:00+01:00')).statusCode).toBe(201);

      const list = await client.call('GET', `/v1/bookings?from=2035-01-08T00:00:00Z&to=2035-01-09T00:00:00Z`);
      expect(list.json().data.filter((x: { id: string }) => x.id === b.id)).toHaveLength(1);
    });

    it('a held booking stays held with the same expiresAt', async () => {
      const host = await newHost();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const moved = await expectStatus(await reschedule(client, b.id, { start: '2035-01-09T09:00:00+01:00' }), 'held');
      expect(moved.expiresAt).toBe(b.expiresAt);
      expect(ms(moved.start)).toBe(ms('2035-01-09T09:00:00+01:00'));
      // Still a hold: the client confirms it as usual.
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');
    });

    it('on a requiresConfirmation type a client moving a confirmed booking makes it pending; a host moving it keeps it confirmed', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const a = await pendingBooking(client, t.id, '2035-01-08T10:00:00+01:00');
      await expectStatus(await act(host, a.id, 'accept'), 'confirmed');
      const b = await pendingBooking(client, t.id, '2035-01-09T10:00:00+01:00');
      await expectStatus(await act(host, b.id, 'accept'), 'confirmed');

      await expectStatus(await reschedule(client, a.id, { start: '2035-01-08T12:00:00+01:00' }), 'pending');
      await expectStatus(await reschedule(host, b.id, { start: '2035-01-09T12:00:00+01:00' }), 'confirmed');
      // The moved request is answered like any other.
      await expectStatus(await act(host, a.id, 'accept'), 'confirmed');
    });

    it('a confirmed booking of a type without approval stays confirmed, moved by the client or the host', async () => {
      const host = await newHost();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-10T10:00:00+01:00');
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');
      await expectStatus(await reschedule(client, b.id, { start: '2035-01-10T12:00:00+01:00' }), 'confirmed');
      await expectStatus(await reschedule(host, b.id, { start: '2035-01-10T14:00:00+01:00' }), 'confirmed');
    });

    it('onto a taken time: 409 slot_taken, and the booking reads exactly as before', async () => {
      const host = await newHost();
      const t = await createType(host);
      const mine = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      await expectStatus(await act(client, mine.id, 'confirm'), 'confirmed');
      const other = await createUser(server, 'client');
      await held(other, t.id, '2035-01-08T12:00:00+01:00');
      const before = await get(mine.id);

      expect(expectProblem(await reschedule(client, mine.id, { start: '2035-01-08T12:00:00+01:00' }), 409).code).toBe('slot_taken');
      expect(expectProblem(await reschedule(client, mine.id, { start: '2035-01-08T11:30:00+01:00' }), 409).code).toBe('slot_taken');
      expect(await get(mine.id)).toEqual(before);
      // Its own time is still its own.
      expect(expectProblem(await hold(other, t.id, '2035-01-08T09:00:00+01:00'), 409).code).toBe('slot_taken');
    });

    // Minimum notice 8 days: starts from 2035-01-09 00:00 UTC; the booking is on Wednesday 10 January.
    it.each([
      ['off the grid', '2035-01-10T10:05:00+01:00'],
      ['outside working hours', '2035-01-10T17:00:00+01:00'],
      ['partly outside working hours', '2035-01-10T16:30:00+01:00'],
      ['on a day off', '2035-01-13T10:00:00+01:00'],
      ['under the minimum notice', '2035-01-08T10:00:00+01:00'],
    ])('%s (%s): 422 not_bookable and unchanged', async (_what, start) => {
      const host = await newHost();
      const t = await createType(host, { minimumNotice: 60 * 24 * 8 });
      const b = await held(client, t.id, '2035-01-10T10:00:00+01:00');
      const before = await get(b.id);
      expect(expectProblem(await reschedule(client, b.id, { start }), 422).code).toBe('not_bookable');
      expect(await get(b.id)).toEqual(before);
    });

    it('a duration the type does not offer is a 400 naming body/duration; another of its durations is fine', async () => {
      const host = await newHost();
      const t = await createType(host, { durations: [30, 60] });
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00', { duration: 30 });
      const bad = expectProblem(await reschedule(client, b.id, { start: '2035-01-08T10:00:00+01:00', duration: 45 }), 400);
      expect(bad.errors.map((e: { path: string }) => e.path)).toContain('body/duration');
      const moved = await reschedule(client, b.id, { start: '2035-01-08T10:00:00+01:00', duration: 60 });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(ms(moved.json().end)).toBe(ms('2035-01-08T11:00:00+01:00'));
      // Without duration, the booking keeps its length.
      const again = await reschedule(client, b.id, { start: '2035-01-08T13:00:00+01:00' });
      expect(ms(again.json().end)).toBe(ms('2035-01-08T14:00:00+01:00'));
    });

    it('cancelled, declined and expired bookings cannot move: 409 state_conflict', async () => {
      const host = await newHost();
      const plain = await createType(host);
      const approval = await createType(host, { requiresConfirmation: true });
      const cancelled = await held(client, plain.id, '2035-01-08T09:00:00+01:00');
      await expectStatus(await cancel(client, cancelled.id), 'cancelled');
      const declined = await pendingBooking(client, approval.id, '2035-01-08T11:00:00+01:00');
      await expectStatus(await decline(host, declined.id), 'declined');
      const expired = await held(client, plain.id, '2035-01-08T13:00:00+01:00');
      await expireHold(server, expired.id);
      expect((await get(expired.id)).status).toBe('expired');

      for (const b of [cancelled, declined, expired]) {
        const before = await get(b.id);
        expect(expectProblem(await reschedule(client, b.id, { start: '2035-01-09T15:00:00+01:00' }), 409).code).toBe('state_conflict');
        expect(expectProblem(await reschedule(host, b.id, { start: '2035-01-09T15:00:00+01:00' }), 409).code).toBe('state_conflict');
        expect(await get(b.id)).toEqual(before);
      }
      expect(await typeSlots(plain.id, TUE)).toContain('2035-01-09T15:00:00+01:00');
    });

    it('the new time may overlap the booking\'s own current time: 09:00-10:00 moves to 09:30-10:30', async () => {
      const host = await newHost();
      const t = await createType(host, { slotInterval: 30 });
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const res = await reschedule(client, b.id, { start: '2035-01-08T09:30:00+01:00' });
      expect(res.statusCode, res.body).toBe(200);
      expect(ms(res.json().start)).toBe(ms('2035-01-08T09:30:00+01:00'));
      expect(ms(res.json().end)).toBe(ms('2035-01-08T10:30:00+01:00'));
      // And back again.
      const back = await reschedule(client, b.id, { start: '2035-01-08T09:00:00+01:00' });
      expect(back.statusCode, back.body).toBe(200);
      expect(ms(back.json().start)).toBe(ms('2035-01-08T09:00:00+01:00'));
    });

    it('limits count without the booking itself: with perDay 1 the day\'s only booking moves within its day, not onto a full day', async () => {
      const host = await newHost();
      const t = await createType(host, { limits: { perDay: 1 } });
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const moved = await reschedule(client, b.id, { start: '2035-01-08T14:00:00+01:00' });
      expect(moved.statusCode, moved.body).toBe(200);

      const other = await createUser(server, 'client');
      await held(other, t.id, '2035-01-09T09:00:00+01:00');
      const before = await get(b.id);
      expect(expectProblem(await reschedule(client, b.id, { start: '2035-01-09T14:00:00+01:00' }), 422).code).toBe('limit_reached');
      expect(await get(b.id)).toEqual(before);
      // Another free day is fine.
      expect((await reschedule(client, b.id, { start: '2035-01-10T14:00:00+01:00' })).statusCode).toBe(200);
    });

    it('the buffers in force when the booking was made go with it, even after the type changed', async () => {
      const host = await newHost();
      const t = await createType(host, { durations: [30], slotInterval: 5, bufferBefore: 10, bufferAfter: 5 });
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const patched = await host.call('PATCH', `/v1/event-types/${t.id}`, { bufferBefore: 0, bufferAfter: 0 });
      expect(patched.statusCode, patched.body).toBe(200);

      expect((await reschedule(client, b.id, { start: '2035-01-08T11:00:00+01:00' })).statusCode).toBe(200);
      const { rows } = await server.db.query<{ blocked_start: Date; blocked_end: Date }>(
        'SELECT blocked_start, blocked_end FROM bookings WHERE id = $1', [b.id],
      );
      expect(new Date(rows[0]!.blocked_start).getTime()).toBe(ms('2035-01-08T10:50:00+01:00'));
      expect(new Date(rows[0]!.blocked_end).getTime()).toBe(ms('2035-01-08T11:35:00+01:00'));

      // New bookings (no buffers now) must keep clear of 10:50-11:35; the old 08:50-09:35 is free.
      const other = await createUser(server, 'client');
      expect((await hold(other, t.id, '2035-01-08T09:00:00+01:00')).statusCode).toBe(201);
      expect(expectProblem(await hold(other, t.id, '2035-01-08T10:25:00+01:00'), 409).code).toBe('slot_taken');
      expect(expectProblem(await hold(other, t.id, '2035-01-08T11:30:00+01:00'), 409).code).toBe('slot_taken');
      expect((await hold(other, t.id, '2035-01-08T10:20:00+01:00')).statusCode).toBe(201);
      expect((await hold(other, t.id, '2035-01-08T11:35:00+01:00')).statusCode).toBe(201);
    });

    it('a v1 booking (providerId, no event type) can be rescheduled too, on the v1 rules', async () => {
      const host = await newHost();
      const res = await client.call('POST', '/v1/bookings', { providerId: host.id, start: '2035-01-08T10:00:00+01:00', duration: 30 });
      expect(res.statusCode, res.body).toBe(201);
      const b = res.json();
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');

      const moved = await reschedule(client, b.id, { start: '2035-01-08T11:00:00+01:00' });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({ id: b.id, status: 'confirmed', providerId: host.id });
      expect(moved.json().eventTypeId).toBeUndefined();
      expect(ms(moved.json().start)).toBe(ms('2035-01-08T11:00:00+01:00'));
      expect(ms(moved.json().end)).toBe(ms('2035-01-08T11:30:00+01:00'));
      expect(ms(moved.json().previousStart)).toBe(ms('2035-01-08T10:00:00+01:00'));

      const before = await get(b.id);
      expect(expectProblem(await reschedule(client, b.id, { start: '2035-01-08T11:10:00+01:00' }), 422).code).toBe('not_bookable');
      expect(expectProblem(await reschedule(client, b.id, { start: '2035-01-08T18:00:00+01:00' }), 422).code).toBe('not_bookable');
      expect(await get(b.id)).toEqual(before);

      const other = await createUser(server, 'client');
      const free = await other.call('POST', '/v1/bookings', { providerId: host.id, start: '2035-01-08T10:00:00+01:00', duration: 30 });
      expect(free.statusCode, free.body).toBe(201);
    });

    it('Idempotency-Key replays the first answer (Idempotent-Replayed: true); another body with the same key is a 422', async () => {
      const host = await newHost();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      const key = { 'idempotency-key': `reschedule-${b.id}` };
      const first = await reschedule(client, b.id, { start: '2035-01-08T11:00:00+01:00' }, key);
      expect(first.statusCode, first.body).toBe(200);
      const replay = await reschedule(client, b.id, { start: '2035-01-08T11:00:00+01:00' }, key);
      expect(replay.statusCode).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(first.json());

      const reused = await reschedule(client, b.id, { start: '2035-01-08T13:00:00+01:00' }, key);
      expect(expectProblem(reused, 422).code).toBe('idempotency_key_reused');
      const now = await get(b.id);
      expect(ms(now.start)).toBe(ms('2035-01-08T11:00:00+01:00'));
      expect(ms(now.previousStart)).toBe(ms('2035-01-08T09:00:00+01:00'));
      const { rows } = await server.db.query<{ sequence: number }>('SELECT sequence FROM bookings WHERE id = $1', [b.id]);
      expect(Number(rows[0]!.sequence)).toBe(1); // moved once, not once per request
    });

    it('the host\'s webhook gets booking.rescheduled with previousStart and previousEnd', async () => {
      const host = await newHost();
      const t = await createType(host);
      const hook = await host.call('POST', '/v1/webhooks', {
        url: `${receiver.base}/rescheduled`, events: ['booking.pending', 'booking.declined', 'booking.rescheduled'],
      });
      expect(hook.statusCode, hook.body).toBe(201);
      const b = await held(client, t.id, '2035-01-08T09:00:00+01:00');
      expect((await reschedule(client, b.id, { start: '2035-01-08T15:00:00+01:00' })).statusCode).toBe(200);

      expect(await eventually(() => receiver.at('/rescheduled').length >= 1)).toBe(true);
      const received = receiver.at('/rescheduled').map((r) => r.json);
      expect(received.map((e) => e.type)).toEqual(['booking.rescheduled']);
      const data = received[0]!.data;
      expect(data).toMatchObject({ id: b.id, status: 'held' });
      expect(ms(data.start)).toBe(ms('2035-01-08T15:00:00+01:00'));
      expect(ms(data.previousStart)).toBe(ms('2035-01-08T09:00:00+01:00'));
      expect(ms(data.previousEnd)).toBe(ms('2035-01-08T10:00:00+01:00'));
    });
  });

  describe('ICS feed', () => {
    /** The lines of the booking's one VEVENT in the host's feed (unfolded). */
    async function feedEvent(host: User, bookingId: string): Promise<string[]> {
      const res = await host.call('GET', `/v1/providers/${host.id}/calendar.ics`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/calendar/);
      const unfolded = res.body.replace(/\r\n[ \t]/g, '');
      const events = unfolded.split('BEGIN:VEVENT\r\n').slice(1).map((e) => e.split('END:VEVENT')[0]!.split('\r\n').filter(Boolean));
      const mine = events.filter((lines) => lines.includes(`UID:${bookingId}@booking-engine`));
      expect(mine).toHaveLength(1);
      return mine[0]!;
    }

    it('a moved booking keeps its UID and raises SEQUENCE (1, then 2); answers are in DESCRIPTION under their labels', async () => {
      const host = await newHost();
      const t = await createType(host, {
        questions: [
          { id: 'reason', label: 'Reason for visit', type: 'text', required: true },
          { id: 'first_visit', label: 'First visit', type: 'boolean' },
        ],
      });
      const b = await held(client, t.id, '2035-01-08T10:00:00+01:00', { answers: { reason: 'Back pain', first_visit: true } });
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');

      const first = await feedEvent(host, b.id);
      expect(first).toContain('DTSTART:20350108T090000Z');
      expect(first).toContain('STATUS:CONFIRMED');
      expect(first.filter((l) => l.startsWith('SEQUENCE:') && l !== 'SEQUENCE:0')).toEqual([]);
      const description = first.find((l) => l.startsWith('DESCRIPTION:'));
      expect(description).toBeDefined();
      expect(description).toContain('Reason for visit: Back pain');
      expect(description).toContain('First visit: true');

      expect((await reschedule(client, b.id, { start: '2035-01-09T10:00:00+01:00' })).statusCode).toBe(200);
      const second = await feedEvent(host, b.id);
      expect(second).toContain('DTSTART:20350109T090000Z');
      expect(second).toContain('DTEND:20350109T100000Z');
      expect(second).toContain('SEQUENCE:1');
      expect(second.find((l) => l.startsWith('DESCRIPTION:'))).toContain('Reason for visit: Back pain');

      expect((await reschedule(host, b.id, { start: '2035-01-10T10:00:00+01:00' })).statusCode).toBe(200);
      const third = await feedEvent(host, b.id);
      expect(third).toContain('DTSTART:20350110T090000Z');
      expect(third).toContain('SEQUENCE:2');
    });

    it('a pending booking is TENTATIVE; accepted, CONFIRMED', async () => {
      const host = await newHost();
      const t = await createType(host, { requiresConfirmation: true });
      const b = await pendingBooking(client, t.id, '2035-01-08T13:00:00+01:00');
      expect(await feedEvent(host, b.id)).toContain('STATUS:TENTATIVE');
      await expectStatus(await act(host, b.id, 'accept'), 'confirmed');
      expect(await feedEvent(host, b.id)).toContain('STATUS:CONFIRMED');
    });
  });

  describe('calendar write-back', () => {
    const objectPath = (bookingId: string) => `/cal/${bookingId}_booking-engine.ics`;

    it('confirm PUTs the event; a reschedule PUTs the same resource again with the new DTSTART and the same UID: no second event', async () => {
      const host = await newHost();
      const connected = await host.call('POST', `/v1/providers/${host.id}/calendars`, {
        type: 'caldav', url: dav.url, username: 'ada', password: 'dav-password-1', calendarUrl: dav.calendarUrl, writeBookings: true,
      });
      expect(connected.statusCode, connected.body).toBe(201);
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-08T10:00:00+01:00');
      await expectStatus(await act(client, b.id, 'confirm'), 'confirmed');
      await runDueCalendarWrites(server.ctx);
      const mine = () => dav.writes.filter((w) => w.path.includes(b.id));
      expect(mine().map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([`PUT ${objectPath(b.id)} 201`]);
      expect(mine()[0]!.body.split('\r\n')).toContain('DTSTART:20350108T090000Z');

      const moved = await reschedule(client, b.id, { start: '2035-01-09T14:00:00+01:00' });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json().status).toBe('confirmed');
      await runDueCalendarWrites(server.ctx);
      expect(mine().map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([
        `PUT ${objectPath(b.id)} 201`, `PUT ${objectPath(b.id)} 204`,
      ]);
      const lines = mine()[1]!.body.split('\r\n');
      expect(lines).toContain('DTSTART:20350109T130000Z');
      expect(lines).toContain('DTEND:20350109T140000Z');
      expect(lines).toContain(`UID:${b.id}@booking-engine`);
      expect([...dav.objects.keys()].filter((path) => path.includes(b.id))).toEqual([objectPath(b.id)]);
      expect((await get(b.id)).calendarSync).toEqual({ status: 'synced' });

      // Read back by a sync, the booking's own event is not busy time: it may still move onto part of its own time.
      const calendarId = connected.json().id as string;
      const synced = await host.call('POST', `/v1/providers/${host.id}/calendars/${calendarId}/sync`);
      expect([200, 202], synced.body).toContain(synced.statusCode);
      const overlapping = await reschedule(client, b.id, { start: '2035-01-09T14:30:00+01:00' });
      expect(overlapping.statusCode, overlapping.body).toBe(200);
      await runDueCalendarWrites(server.ctx);
      expect(mine().map((w) => `${w.method} ${w.status}`)).toEqual(['PUT 201', 'PUT 204', 'PUT 204']);
      expect(mine()[2]!.body.split('\r\n')).toContain('DTSTART:20350109T133000Z');
    });
  });

  describe('live stream', () => {
    it('a PATCH of an event type reaches its host\'s subscribers as availability.changed', async () => {
      const host = await newHost();
      const t = await createType(host);
      const watcher = await createUser(server, 'client');
      const stream = await openStream(`${wsBase}/v1/stream?apiKey=${encodeURIComponent(watcher.apiKey)}`);
      streams.push(stream);
      stream.send({ type: 'subscribe', providerIds: [host.id] });
      await stream.next((m) => m.type === 'subscribed');

      const patched = await host.call('PATCH', `/v1/event-types/${t.id}`, { slotInterval: 30 });
      expect(patched.statusCode, patched.body).toBe(200);
      const { rows } = await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [host.id]);
      const version = Number(rows[0]!.v);
      // The version the PATCH made (earlier set-up changes may arrive first).
      await stream.next((m) => m.type === 'availability.changed' && m.providerId === host.id && m.version === version, 2_000);
    });

    it('a reschedule announces the host', async () => {
      const host = await newHost();
      const t = await createType(host);
      const b = await held(client, t.id, '2035-01-08T10:00:00+01:00');
      const watcher = await createUser(server, 'client');
      const stream = await openStream(`${wsBase}/v1/stream?apiKey=${encodeURIComponent(watcher.apiKey)}`);
      streams.push(stream);
      stream.send({ type: 'subscribe', providerIds: [host.id] });
      await stream.next((m) => m.type === 'subscribed');
      expect((await reschedule(client, b.id, { start: '2035-01-08T12:00:00+01:00' })).statusCode).toBe(200);
      await stream.next((m) => m.type === 'availability.changed' && m.providerId === host.id, 2_000);
    });
  });
});

describe('closures', () => {
  let server: TestServer;
  let client: User;
  let slugCounter = 0;

  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => NOW } });
    client = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  const asAdmin = () => admin(server);

  async function newHost() {
    const host = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
    const weekly = WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' }));
    const res = await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'Europe/Berlin', weekly });
    expect(res.statusCode, res.body).toBe(200);
    const type = await host.call('POST', '/v1/event-types', { slug: `closure-${++slugCounter}`, title: 'Visit', durations: [30], minimumNotice: 0 });
    expect(type.statusCode, type.body).toBe(201);
    return { ...host, typeId: type.json().id as string };
  }

  async function close(body: Record<string, unknown>, as = asAdmin()) {
    const res = await as('POST', '/v1/closures', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  /** v1 slots (30 minutes) and the event type's slots of one local date, as local starts. */
  async function slotsOn(host: { id: string; typeId: string }, date: string) {
    const q = `from=${date}&to=${date}&timeZone=Europe/Berlin`;
    const v1 = await client.call('GET', `/v1/slots?providerId=${host.id}&duration=30&${q}`);
    const typed = await client.call('GET', `/v1/slots?eventTypeId=${host.typeId}&${q}`);
    expect(v1.statusCode, v1.body).toBe(200);
    expect(typed.statusCode, typed.body).toBe(200);
    const starts = (res: typeof v1) => (res.json().slots as { start: string }[]).map((s) => s.start);
    return { v1: starts(v1), typed: starts(typed) };
  }

  it('an admin closure for everyone on a Monday: no v1 or event-type slots that day, Tuesday as usual; DELETE gives the day back', async () => {
    const host = await newHost();
    const closure = await close({ name: 'Founders\' Day', date: '2035-01-08' });
    expect(closure).toMatchObject({ name: 'Founders\' Day', date: '2035-01-08', providerIds: null });
    expect(closure.recurrence ?? null).toBeNull();

    expect(await slotsOn(host, '2035-01-08')).toEqual({ v1: [], typed: [] });
    const tuesday = await slotsOn(host, '2035-01-09');
    expect(tuesday.v1[0]).toBe('2035-01-09T09:00:00+01:00');
    expect(tuesday.typed[0]).toBe('2035-01-09T09:00:00+01:00');
    expect(tuesday.typed.at(-1)).toBe('2035-01-09T16:30:00+01:00');
    const refused = await client.call('POST', '/v1/bookings', { eventTypeId: host.typeId, start: '2035-01-08T10:00:00+01:00' });
    expect(expectProblem(refused, 422).code).toBe('not_bookable');
    const refusedV1 = await client.call('POST', '/v1/bookings', { providerId: host.id, start: '2035-01-08T10:00:00+01:00', duration: 30 });
    expectProblem(refusedV1, 422);

    const listed = await asAdmin()('GET', '/v1/closures');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().data.map((c: { id: string }) => c.id)).toContain(closure.id);

    expect((await asAdmin()('DELETE', `/v1/closures/${closure.id}`)).statusCode).toBe(204);
    const back = await slotsOn(host, '2035-01-08');
    expect(back.v1[0]).toBe('2035-01-08T09:00:00+01:00');
    expect(back.typed[0]).toBe('2035-01-08T09:00:00+01:00');
    expect(back.typed).toHaveLength(31); // 09:00 .. 16:30 every 15 minutes
    expect((await asAdmin()('GET', '/v1/closures')).json().data.map((c: { id: string }) => c.id)).not.toContain(closure.id);
    expectProblem(await asAdmin()('DELETE', `/v1/closures/${closure.id}`), 404);
  });

  it('an override on a closed date still counts: a provider who chose to work that day can be booked', async () => {
    const working = await newHost();
    const resting = await newHost();
    await close({ name: 'Holiday', date: '2035-01-15' });
    const override = await working.call('PUT', `/v1/providers/${working.id}/overrides/2035-01-15`, { windows: [{ start: '10:00', end: '12:00' }] });
    expect(override.statusCode, override.body).toBe(200);

    const slots = await slotsOn(working, '2035-01-15');
    expect(slots.typed).toEqual([
      '2035-01-15T10:00:00+01:00', '2035-01-15T10:15:00+01:00', '2035-01-15T10:30:00+01:00', '2035-01-15T10:45:00+01:00',
      '2035-01-15T11:00:00+01:00', '2035-01-15T11:15:00+01:00', '2035-01-15T11:30:00+01:00',
    ]);
    expect(slots.v1).toEqual(slots.typed);
    expect(await slotsOn(resting, '2035-01-15')).toEqual({ v1: [], typed: [] });
    const res = await client.call('POST', '/v1/bookings', { eventTypeId: working.typeId, start: '2035-01-15T10:30:00+01:00' });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('a one-off window on a closed date still counts', async () => {
    const host = await newHost();
    await close({ name: 'Holiday', date: '2035-01-22' });
    const window = await host.call('POST', `/v1/providers/${host.id}/availability`, { date: '2035-01-22', start: '13:00', end: '14:30' });
    expect(window.statusCode, window.body).toBe(201);
    const slots = await slotsOn(host, '2035-01-22');
    expect(slots.typed).toEqual([
      '2035-01-22T13:00:00+01:00', '2035-01-22T13:15:00+01:00', '2035-01-22T13:30:00+01:00', '2035-01-22T13:45:00+01:00', '2035-01-22T14:00:00+01:00',
    ]);
    expect(slots.v1).toEqual(slots.typed);
  });

  it('a yearly closure on 29 February (2036) falls on 28 February in common years (2035) and on the 29th in leap years', async () => {
    const host = await newHost();
    const closure = await close({ name: 'Leap day', date: '2036-02-29', recurrence: 'yearly', providerIds: [host.id] });
    expect(closure).toMatchObject({ date: '2036-02-29', recurrence: 'yearly', providerIds: [host.id] });

    expect(await slotsOn(host, '2035-02-28')).toEqual({ v1: [], typed: [] }); // Wednesday
    expect((await slotsOn(host, '2035-02-27')).typed[0]).toBe('2035-02-27T09:00:00+01:00');
    expect((await slotsOn(host, '2035-03-01')).typed[0]).toBe('2035-03-01T09:00:00+01:00');
    expect(await slotsOn(host, '2036-02-29')).toEqual({ v1: [], typed: [] }); // Friday
    expect((await slotsOn(host, '2036-02-28')).typed[0]).toBe('2036-02-28T09:00:00+01:00'); // Thursday: open in a leap year
    // Only this provider is closed.
    const other = await newHost();
    expect((await slotsOn(other, '2035-02-28')).typed[0]).toBe('2035-02-28T09:00:00+01:00');
  });

  it('a closed date is the provider\'s local date: an evening in Los Angeles closes, the UTC date it falls on does not matter', async () => {
    const host = await createUser(server, 'provider', { timeZone: 'America/Los_Angeles' });
    const weekly = WEEKDAYS.map((day) => ({ day, start: '18:00', end: '22:00' }));
    expect((await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'America/Los_Angeles', weekly })).statusCode).toBe(200);
    await close({ name: 'Closed Tuesday', date: '2035-02-06', providerIds: [host.id] });
    const local = async (date: string) => {
      const res = await client.call('GET', `/v1/slots?providerId=${host.id}&duration=60&from=${date}&to=${date}&timeZone=America/Los_Angeles`);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().slots as { start: string }[]).map((s) => s.start);
    };
    // Tuesday 18:00-22:00 PST is 2035-02-07 02:00-06:00 UTC: closed all the same.
    expect(await local('2035-02-06')).toEqual([]);
    expect((await local('2035-02-05'))[0]).toBe('2035-02-05T18:00:00-08:00');
    expect((await local('2035-02-07'))[0]).toBe('2035-02-07T18:00:00-08:00');
    expect((await local('2035-02-07')).at(-1)).toBe('2035-02-07T21:00:00-08:00');
  });

  it('a yearly closure repeats on the same month and day', async () => {
    const host = await newHost();
    await close({ name: 'Anniversary', date: '2030-03-05', recurrence: 'yearly', providerIds: [host.id] });
    expect(await slotsOn(host, '2035-03-05')).toEqual({ v1: [], typed: [] }); // Monday
    expect((await slotsOn(host, '2035-03-06')).typed[0]).toBe('2035-03-06T09:00:00+01:00');
    // A one-time closure of another year does not repeat.
    await close({ name: 'Once', date: '2030-03-07', providerIds: [host.id] });
    expect((await slotsOn(host, '2035-03-07')).typed[0]).toBe('2035-03-07T09:00:00+01:00');
  });

  it('a provider may close its own dates only (providerIds: [itself]); others, everyone or a client: 403', async () => {
    const host = await newHost();
    const other = await newHost();
    const own = await close({ name: 'Vacation day', date: '2035-01-29', providerIds: [host.id] }, host.call);
    expect(own.providerIds).toEqual([host.id]);
    expect(await slotsOn(host, '2035-01-29')).toEqual({ v1: [], typed: [] });
    expect((await slotsOn(other, '2035-01-29')).typed[0]).toBe('2035-01-29T09:00:00+01:00');

    expectProblem(await host.call('POST', '/v1/closures', { name: 'Theirs', date: '2035-01-30', providerIds: [other.id] }), 403);
    expectProblem(await host.call('POST', '/v1/closures', { name: 'Both', date: '2035-01-30', providerIds: [host.id, other.id] }), 403);
    expectProblem(await host.call('POST', '/v1/closures', { name: 'Everyone', date: '2035-01-30' }), 403);
    expect((await slotsOn(other, '2035-01-30')).typed[0]).toBe('2035-01-30T09:00:00+01:00');

    // Another provider may not remove it; the provider itself may.
    expectProblem(await other.call('DELETE', `/v1/closures/${own.id}`), 403);
    expect((await host.call('DELETE', `/v1/closures/${own.id}`)).statusCode).toBe(204);
    expect((await slotsOn(host, '2035-01-29')).typed[0]).toBe('2035-01-29T09:00:00+01:00');
  });

  it('a client may not create closures at all: 403, even naming itself', async () => {
    const res = await client.call('POST', '/v1/closures', { name: 'Mine', date: '2035-01-30', providerIds: [client.id] });
    expectProblem(res, 403);
    expectProblem(await client.call('POST', '/v1/closures', { name: 'Everyone', date: '2035-01-30' }), 403);
  });

  it('GET /v1/closures: the admin sees all; a provider sees everyone\'s and its own, not another provider\'s', async () => {
    const host = await newHost();
    const other = await newHost();
    const everyone = await close({ name: 'Everyone', date: '2036-12-25' });
    const mine = await close({ name: 'Mine', date: '2036-12-26', providerIds: [host.id] }, host.call);
    const theirs = await close({ name: 'Theirs', date: '2036-12-27', providerIds: [other.id] });

    const ids = async (as: ReturnType<typeof admin>) => {
      const res = await as('GET', '/v1/closures?limit=200');
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.map((c: { id: string }) => c.id) as string[];
    };
    expect(await ids(asAdmin())).toEqual(expect.arrayContaining([everyone.id, mine.id, theirs.id]));
    const seenByHost = await ids(host.call);
    expect(seenByHost).toEqual(expect.arrayContaining([everyone.id, mine.id]));
    expect(seenByHost).not.toContain(theirs.id);
    const listed = (await host.call('GET', '/v1/closures?limit=200')).json().data.find((c: { id: string }) => c.id === mine.id);
    expect(listed).toEqual(mine);
    for (const c of [everyone, theirs]) expect((await asAdmin()('DELETE', `/v1/closures/${c.id}`)).statusCode).toBe(204);
    expect((await host.call('DELETE', `/v1/closures/${mine.id}`)).statusCode).toBe(204);
  });
});
