/**
 * Notifications end to end: the real app on either database, a real SMTP
 * server on loopback (test/helpers/smtp-sink.ts), mailparser for the MIME and
 * ical.js for the invitations. The mail worker is driven by hand
 * (runDueMails) under a clock the test moves; MAIL_POLL_MS is an hour so the
 * background loop never runs in between.
 */
import ICAL from 'ical.js';
import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runDueMails } from '../../src/features/notifications/mail-worker.js';
import { admin, client, createUser, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { localInstant, ms, plusDays, providerAlwaysOpen } from './booking-helpers.js';

const MINUTE = 60_000;
let now = Date.now();
const clock = { now: () => now };

let sink: SmtpSink;
let server: TestServer;
let slugs = 0;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({
    SMTP_URL: sink.url, MAIL_FROM: 'Lee Clinic <bookings@clinic.test>', MAIL_POLL_MS: '3600000', MAIL_RETRY_BASE_MS: '1000',
    REMINDER_MINUTES: '1440,60', PUBLIC_BASE_URL: 'https://book.clinic.test',
    SMTP_CONNECTION_TIMEOUT_MS: '1000', SMTP_GREETING_TIMEOUT_MS: '500', SMTP_SOCKET_TIMEOUT_MS: '700', MAIL_SEND_TIMEOUT_MS: '3000',
    MAX_HOLDS_PER_CLIENT: '100',
  }, { clock });
});
afterAll(async () => {
  await server?.close();
  await sink?.stop();
});
afterEach(async () => {
  sink.mode = { kind: 'accept' };
  now = Date.now();
  // Each test starts from an outbox with nothing left to send: a later test's clock jump must not send an earlier test's mail.
  await server.db.query(`UPDATE mail_outbox SET status = 'skipped', last_error = 'test over' WHERE status = 'pending'`);
});

/** Runs the worker until a round claims nothing (bounded); returns the mails the sink got meanwhile, parsed. */
async function drain(): Promise<ParsedMail[]> {
  const before = sink.received.length;
  for (let i = 0; i < 20 && (await runDueMails(server.ctx)) > 0; i++);
  return (await sink.parsed()).slice(before);
}

const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0] : m.to)!.value[0]!.address;
const mailsTo = (mails: ParsedMail[], address: string) => mails.filter((m) => to(m) === address);
const onlyMailTo = (mails: ParsedMail[], address: string) => {
  const found = mailsTo(mails, address);
  expect(found.map((m) => m.subject), `mails to ${address}`).toHaveLength(1);
  return found[0]!;
};

/** The text/calendar part, parsed by ical.js: its METHOD and its one VEVENT. */
function invitationOf(m: ParsedMail) {
  const part = m.attachments.find((a) => a.contentType === 'text/calendar' || a.contentType === 'application/ics');
  if (!part) return null;
  const text = part.content.toString('utf8');
  const calendar = new ICAL.Component(ICAL.parse(text));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return {
    text,
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: Number(event.getFirstPropertyValue('sequence')),
    status: event.getFirstPropertyValue('status'),
    start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().getTime(),
    organizer: String(event.getFirstPropertyValue('organizer')),
    attendees: event.getAllProperties('attendee').map((p) => String(p.getFirstValue())),
    summary: event.getFirstPropertyValue('summary'),
    location: event.getFirstPropertyValue('location'),
  };
}

async function userWithEmail(role: 'provider' | 'client', timeZone: string, name: string) {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.test`;
  const res = await admin(server)('POST', '/v1/users', { name, email, role, timeZone });
  expect(res.statusCode, res.body).toBe(201);
  const { user, apiKey } = res.json();
  return { id: user.id as string, email, apiKey: apiKey as string, call: client(server, apiKey) };
}

/** A host in Berlin open around the clock, a client in New York, and an event type with a location and a question. */
async function clinic(extra: Record<string, unknown> = {}) {
  const host = await providerAlwaysOpen(server, 'Europe/Berlin');
  const hostEmail = `host-${Math.random().toString(36).slice(2)}@example.test`;
  await server.db.query('UPDATE users SET name = $2, email = $3 WHERE id = $1', [host.id, 'Dr Lee', hostEmail]);
  const patient = await userWithEmail('client', 'America/New_York', 'Carol');
  const type = await host.call('POST', '/v1/event-types', {
    slug: `consult-${++slugs}`, title: 'First consultation', durations: [30, 60], location: 'Room 3, Hauptstraße 5, Berlin',
    questions: [{ id: 'reason', label: 'Reason for your visit', type: 'longText', required: true }], ...extra,
  });
  expect(type.statusCode, type.body).toBe(201);
  return { host: { ...host, email: hostEmail }, patient, typeId: type.json().id as string };
}

async function book(c: Awaited<ReturnType<typeof clinic>>, start: string, answers: Record<string, unknown> = { reason: 'Back pain' }) {
  const res = await c.patient.call('POST', '/v1/bookings', { eventTypeId: c.typeId, start, answers });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

async function act(call: ReturnType<typeof client>, url: string, body: unknown = {}) {
  const res = await call('POST', url, body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function outbox(bookingId: string) {
  const { rows } = await server.db.query<{ kind: string; status: string; recipient_role: string; reminder_minutes: number | null; due_at: Date; attempts: number; last_error: string | null }>(
    `SELECT kind, status, recipient_role, reminder_minutes, due_at, attempts, last_error FROM mail_outbox WHERE booking_id = $1 ORDER BY kind, recipient_role, reminder_minutes`,
    [bookingId],
  );
  return rows;
}

describe('notifications', () => {
  it('a confirmation mails the client and the host: both alternatives, their own zones, the location, answers for the host, the manage link for the client, an iTIP REQUEST', async () => {
    const c = await clinic();
    const monday = upcomingDate(1);
    const start = localInstant(monday, '09:00');
    const id = await book(c, start, { reason: 'Back pain\nsince Tuesday' });
    expect(await drain()).toHaveLength(0); // a hold mails nobody
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    const mails = await drain();
    expect(mails).toHaveLength(2);

    const toClient = onlyMailTo(mails, c.patient.email);
    expect(toClient.subject).toMatch(/^Confirmed: First consultation, Monday \d+ \w+ \d{4} 03:00$/);
    expect(toClient.from!.value[0]).toEqual({ name: 'Lee Clinic', address: 'bookings@clinic.test' });
    expect(toClient.messageId).toMatch(/^<mail_[\w-]+@clinic\.test>$/);
    // 09:00 in Berlin is 03:00 in New York (both on standard time, or both on summer time, in most weeks).
    expect(toClient.text).toContain('Monday');
    expect(toClient.text).toMatch(/\d\d:00–\d\d:30 \(America\/New_York, UTC-0[45]:00\)/);
    expect(toClient.text).toContain('Room 3, Hauptstraße 5, Berlin');
    expect(toClient.text).toContain(`Manage your booking: https://book.clinic.test/v1/bookings/${id}`);
    expect(toClient.text).not.toContain('Back pain'); // answers are for hosts
    expect(toClient.html).toContain(`href="https://book.clinic.test/v1/bookings/${id}"`);
    expect(toClient.html).toContain('America/New_York');

    const toHost = onlyMailTo(mails, c.host.email);
    expect(toHost.subject).toMatch(/^New booking: First consultation with Carol, Monday \d+ \w+ \d{4} 09:00$/);
    expect(toHost.text).toMatch(/09:00–09:30 \(Europe\/Berlin, UTC\+0[12]:00\)/);
    expect(toHost.text).toContain('Reason for your visit: Back pain');
    expect(toHost.text).toContain('since Tuesday');
    expect(toHost.text).not.toContain('Manage your booking');
    expect(toHost.html).toContain('Reason for your visit');

    for (const m of [toClient, toHost]) {
      expect(typeof m.text).toBe('string');
      expect(typeof m.html).toBe('string');
      const ics = invitationOf(m)!;
      expect(ics.method).toBe('REQUEST');
      expect(ics.uid).toBe(`${id}@booking-engine`);
      expect(ics.sequence).toBe(0);
      expect(ics.status).toBe('CONFIRMED');
      expect(ics.start).toBe(ms(start));
      expect(ics.organizer).toBe('mailto:bookings@clinic.test');
      expect(ics.location).toBe('Room 3, Hauptstraße 5, Berlin');
      expect(ics.text).toMatch(/\r\nMETHOD:REQUEST\r\n/);
    }
    expect(invitationOf(toClient)!.attendees).toEqual([`mailto:${c.patient.email}`]);
    expect(invitationOf(toHost)!.attendees).toEqual([`mailto:${c.host.email}`, `mailto:${c.patient.email}`]);
    // The invitation is also an alternative of the body, as calendar clients look for it.
    expect(sink.received.at(-1)!.raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    // Exactly once: another round sends nothing.
    expect(await drain()).toHaveLength(0);
  });

  it('a move sends REQUEST with the same UID and a higher SEQUENCE; a cancellation sends CANCEL above it; the calendar replaces, then removes, the event', async () => {
    const c = await clinic();
    const tuesday = upcomingDate(2);
    const id = await book(c, localInstant(tuesday, '10:00'));
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    await drain();
    const newStart = localInstant(plusDays(tuesday, 1), '11:00');
    await act(c.host.call, `/v1/bookings/${id}/reschedule`, { start: newStart, reason: 'Room closed' });
    const moved = await drain();
    expect(moved).toHaveLength(2);
    const movedForClient = onlyMailTo(moved, c.patient.email);
    expect(movedForClient.subject).toMatch(/^Moved: First consultation, now Wednesday/);
    expect(movedForClient.text).toMatch(/When: +Wednesday .*\n/);
    expect(movedForClient.text).toMatch(/Was: +Tuesday /);
    expect(movedForClient.text).toContain('Room closed');
    const request = invitationOf(movedForClient)!;
    expect(request).toMatchObject({ method: 'REQUEST', uid: `${id}@booking-engine`, sequence: 1, start: ms(newStart) });

    await act(c.patient.call, `/v1/bookings/${id}/cancel`, { reason: 'Feeling better' });
    const cancelled = await drain();
    expect(cancelled).toHaveLength(2);
    const cancelForHost = onlyMailTo(cancelled, c.host.email);
    expect(cancelForHost.subject).toMatch(/^Cancelled: First consultation with Carol/);
    expect(cancelForHost.text).toContain('cancelled by Carol');
    expect(cancelForHost.text).toContain('Feeling better');
    const cancel = invitationOf(cancelForHost)!;
    expect(cancel).toMatchObject({ method: 'CANCEL', uid: `${id}@booking-engine`, sequence: 2, status: 'CANCELLED' });
    expect(onlyMailTo(cancelled, c.patient.email).text).not.toContain('Manage your booking');
    // Reminders not yet sent went with the cancellation.
    expect((await outbox(id)).filter((r) => r.kind === 'reminder')).toEqual([]);
  });

  it('approval: confirm mails "awaiting approval" (no invitation), accept mails "accepted" with a REQUEST; decline mails "declined"', async () => {
    const c = await clinic({ requiresConfirmation: true });
    const thursday = upcomingDate(4);
    const first = await book(c, localInstant(thursday, '09:00'));
    const second = await book(c, localInstant(thursday, '11:00'));
    await act(c.patient.call, `/v1/bookings/${first}/confirm`);
    await act(c.patient.call, `/v1/bookings/${second}/confirm`);
    const pending = await drain();
    expect(pending).toHaveLength(4);
    for (const m of pending) expect(invitationOf(m)).toBeNull();
    expect(mailsTo(pending, c.host.email).map((m) => m.subject)).toEqual([
      expect.stringMatching(/^Approval needed: First consultation with Carol/),
      expect.stringMatching(/^Approval needed: First consultation with Carol/),
    ]);
    expect(mailsTo(pending, c.patient.email)[0]!.subject).toMatch(/^Awaiting approval: /);
    expect(await outbox(first)).not.toContainEqual(expect.objectContaining({ kind: 'reminder' }));

    await act(c.host.call, `/v1/bookings/${first}/accept`);
    await act(c.host.call, `/v1/bookings/${second}/decline`, { reason: 'Fully booked' });
    const answered = await drain();
    expect(answered).toHaveLength(4);
    const accepted = answered.filter((m) => m.subject!.startsWith('Accepted') || (to(m) === c.host.email && m.subject!.startsWith('Confirmed')));
    expect(accepted).toHaveLength(2);
    for (const m of accepted) expect(invitationOf(m)).toMatchObject({ method: 'REQUEST', uid: `${first}@booking-engine`, status: 'CONFIRMED' });
    const declined = answered.filter((m) => m.subject!.startsWith('Declined'));
    expect(declined).toHaveLength(2);
    expect(onlyMailTo(declined, c.patient.email).text).toContain('Fully booked');
    for (const m of declined) expect(invitationOf(m)).toBeNull();
    // The accepted booking has its reminders; the declined one none.
    expect((await outbox(first)).filter((r) => r.kind === 'reminder')).toHaveLength(4);
    expect((await outbox(second)).filter((r) => r.kind === 'reminder')).toHaveLength(0);
  });

  it('a hold that is cancelled or moved mails nobody (nobody was told of it)', async () => {
    const c = await clinic();
    const friday = upcomingDate(5);
    const id = await book(c, localInstant(friday, '09:00'));
    await act(c.patient.call, `/v1/bookings/${id}/reschedule`, { start: localInstant(friday, '10:00') });
    await act(c.patient.call, `/v1/bookings/${id}/cancel`);
    expect(await drain()).toHaveLength(0);
    expect(await outbox(id)).toEqual([]);
  });

  it('reminders at each offset, once per booking, offset and recipient, at start − offset by the pinned clock; moved with the booking', async () => {
    const c = await clinic();
    const wednesday = upcomingDate(3);
    const start = ms(localInstant(wednesday, '14:00'));
    const id = await book(c, localInstant(wednesday, '14:00'));
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    await drain();
    const reminders = (await outbox(id)).filter((r) => r.kind === 'reminder');
    expect(reminders.map((r) => [r.recipient_role, r.reminder_minutes, r.due_at.getTime()])).toEqual([
      ['client', 60, start - 60 * MINUTE], ['client', 1440, start - 1440 * MINUTE],
      ['host', 60, start - 60 * MINUTE], ['host', 1440, start - 1440 * MINUTE],
    ]);

    now = start - 1440 * MINUTE - 1000;
    expect(await drain()).toHaveLength(0);
    now = start - 1440 * MINUTE;
    const dayBefore = await drain();
    expect(dayBefore.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^Reminder: First consultation/), expect.stringMatching(/^Reminder: First consultation/),
    ]);
    expect(onlyMailTo(dayBefore, c.patient.email).text).toContain('starts in 24 hours');
    expect(onlyMailTo(dayBefore, c.patient.email).text).toContain(`https://book.clinic.test/v1/bookings/${id}`);
    now = start - 61 * MINUTE;
    expect(await drain()).toHaveLength(0); // once: the day-before reminder is not sent again
    now = start - 60 * MINUTE;
    const hourBefore = await drain();
    expect(hourBefore).toHaveLength(2);
    expect(onlyMailTo(hourBefore, c.host.email).text).toContain('starts in 1 hour');
    now = start + MINUTE;
    expect(await drain()).toHaveLength(0);
  });

  it('a move re-arms the reminders for the new time; one whose time has passed is not armed', async () => {
    const c = await clinic();
    const monday = upcomingDate(1, 20);
    const id = await book(c, localInstant(monday, '09:00'));
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    await drain();
    const start = ms(localInstant(monday, '09:00'));
    now = start - 1440 * MINUTE;
    expect(await drain()).toHaveLength(2); // the day-before reminder went out
    // Moved a week later (by the host: the client's cancellation notice does not apply).
    now = Date.now();
    const later = ms(localInstant(plusDays(monday, 7), '09:00'));
    await act(c.host.call, `/v1/bookings/${id}/reschedule`, { start: localInstant(plusDays(monday, 7), '09:00') });
    expect(await drain()).toHaveLength(2); // the "moved" mails
    const armed = (await outbox(id)).filter((r) => r.kind === 'reminder');
    expect(armed.every((r) => r.status === 'pending')).toBe(true);
    expect(armed.map((r) => r.due_at.getTime()).sort()).toEqual([
      later - 1440 * MINUTE, later - 1440 * MINUTE, later - 60 * MINUTE, later - 60 * MINUTE,
    ]);
    now = later - 1440 * MINUTE;
    expect((await drain()).map((m) => m.subject)).toEqual([expect.stringMatching(/^Reminder/), expect.stringMatching(/^Reminder/)]);
  });

  it('a booking confirmed after an offset has passed gets no reminder for it (the confirmation is the reminder)', async () => {
    const c = await clinic();
    const start = ms(localInstant(upcomingDate(6), '10:00'));
    const id = await book(c, localInstant(upcomingDate(6), '10:00'));
    now = start - 2 * 60 * MINUTE; // confirmed two hours before the start, by the app's clock
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    const reminders = (await outbox(id)).filter((r) => r.kind === 'reminder');
    expect(reminders.map((r) => [r.recipient_role, r.reminder_minutes])).toEqual([['client', 60], ['host', 60]]);
  });

  it('SMTP down: the booking is confirmed anyway, the mails wait and are retried with backoff, then go out once', async () => {
    const c = await clinic();
    const id = await book(c, localInstant(upcomingDate(4, 16), '15:00'));
    await sink.stop();
    try {
      const confirmed = await act(c.patient.call, `/v1/bookings/${id}/confirm`);
      expect(confirmed.status).toBe('confirmed');
      expect(await runDueMails(server.ctx)).toBe(2);
      let rows = (await outbox(id)).filter((r) => r.kind === 'confirmed');
      expect(rows.map((r) => [r.status, r.attempts])).toEqual([['pending', 1], ['pending', 1]]);
      expect(rows[0]!.last_error).toMatch(/ECONNREFUSED|connect/i);
      // Not due again before the backoff (MAIL_RETRY_BASE_MS = 1 s) has passed.
      now += 500;
      expect(await runDueMails(server.ctx)).toBe(0);
      now += 600;
      expect(await runDueMails(server.ctx)).toBe(2);
      rows = (await outbox(id)).filter((r) => r.kind === 'confirmed');
      expect(rows.map((r) => r.attempts)).toEqual([2, 2]);
    } finally {
      await sink.start();
    }
    const before = sink.received.length;
    now += 6_000; // the second retry waits 6 x the base
    await drain();
    expect(sink.received.length - before).toBe(2);
    expect((await outbox(id)).filter((r) => r.kind === 'confirmed').map((r) => r.status)).toEqual(['sent', 'sent']);
    const res = await c.patient.call('GET', `/v1/bookings/${id}`);
    expect(res.json().status).toBe('confirmed');
  });

  it('a 500 from the SMTP server fails the mail for good, with its reason: in GET /v1/admin/mail, in mails_total and the queue gauges', async () => {
    const c = await clinic();
    const id = await book(c, localInstant(upcomingDate(3, 16), '16:00'));
    sink.mode = { kind: 'reject', code: 500, message: 'Mailbox says no' };
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    expect(await runDueMails(server.ctx)).toBe(2);
    const rows = (await outbox(id)).filter((r) => r.kind === 'confirmed');
    expect(rows.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(rows[0]!.last_error).toMatch(/^500 .*Mailbox says no/);
    now += 3_600_000;
    expect(await runDueMails(server.ctx)).toBe(0); // never retried

    const list = await admin(server)('GET', `/v1/admin/mail?status=failed&bookingId=${id}`);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data).toHaveLength(2);
    expect(list.json().data[0]).toMatchObject({ kind: 'confirmed', bookingId: id, status: 'failed', attempts: 1, error: expect.stringContaining('Mailbox says no') });
    const forbidden = await c.host.call('GET', '/v1/admin/mail');
    expect(forbidden.statusCode).toBe(403);
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^mails_total\{outcome="failed"\} [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^mail_queue_due \d+$/m);
    expect(metrics.body).toMatch(/^mail_queue_oldest_age_seconds [\d.]+$/m);
  });

  it('a server that does not greet in time, or does not answer the message, times out: the round ends and the mail is retried', async () => {
    const c = await clinic();
    const id = await book(c, localInstant(upcomingDate(2, 16), '16:00'));
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    sink.mode = { kind: 'slowGreeting', ms: 5_000 };
    let began = Date.now();
    expect(await runDueMails(server.ctx)).toBe(2);
    expect(Date.now() - began).toBeLessThan(2_900);
    let rows = (await outbox(id)).filter((r) => r.kind === 'confirmed');
    expect(rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(rows[0]!.last_error).toMatch(/greeting|timeout|timed out/i);

    sink.mode = { kind: 'slowData', ms: 5_000 };
    now += 1_100;
    began = Date.now();
    expect(await runDueMails(server.ctx)).toBe(2);
    expect(Date.now() - began).toBeLessThan(3_500);
    rows = (await outbox(id)).filter((r) => r.kind === 'confirmed');
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([['pending', 2], ['pending', 2]]);
    expect(rows[0]!.last_error).toMatch(/timeout|timed out|no answer/i);
  });

  it('names, titles and answers cannot inject headers or recipients', async () => {
    const c = await clinic();
    const evil = 'Eve\r\nBcc: victim@attacker.test\r\nX-Injected: yes';
    await server.db.query('UPDATE users SET name = $2 WHERE id = $1', [c.patient.id, evil]);
    const patch = await c.host.call('PATCH', `/v1/event-types/${c.typeId}`, { title: 'Consult\r\nBcc: victim2@attacker.test' });
    expect(patch.statusCode, patch.body).toBe(200);
    const id = await book(c, localInstant(upcomingDate(5, 16), '12:00'), { reason: 'x\r\n\r\n--boundary\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n.\r\nMAIL FROM:<a@b>' });
    const before = sink.received.length;
    await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    const mails = await drain();
    expect(mails).toHaveLength(2);
    const envelopes = sink.received.slice(before);
    expect(envelopes.map((e) => e.to).sort()).toEqual([[c.host.email], [c.patient.email]].sort());
    for (const m of mails) {
      expect(m.headers.has('bcc')).toBe(false);
      expect(m.headers.has('x-injected')).toBe(false);
      expect(m.subject).not.toMatch(/[\r\n]/);
      expect(m.html).not.toContain('<script>');
      const ics = invitationOf(m)!;
      expect(ics.attendees.every((a) => !a.includes('attacker'))).toBe(true);
      expect(ics.text.split('\r\n').filter((l) => /^BEGIN:VEVENT$/.test(l))).toHaveLength(1);
    }
    const toHost = onlyMailTo(mails, c.host.email);
    expect(toHost.subject).toContain('Consult Bcc: victim2@attacker.test');
    expect(toHost.text).toContain('<script>alert(1)</script>'); // shown as text, where it is harmless
    expect(toHost.html).toContain('&lt;script&gt;');
    const toClient = onlyMailTo(mails, c.patient.email);
    expect(toClient.to).toBeDefined();
    expect((Array.isArray(toClient.to) ? toClient.to[0] : toClient.to)!.value).toHaveLength(1);
  });

  it('the same change and recipient never make two rows; two workers racing one outbox send each mail once', async () => {
    const c = await clinic();
    const ids: string[] = [];
    const friday = upcomingDate(5, 16);
    for (let i = 0; i < 6; i++) ids.push(await book(c, localInstant(friday, `${String(8 + i).padStart(2, '0')}:00`)));
    for (const id of ids) await act(c.patient.call, `/v1/bookings/${id}/confirm`);
    const { rows } = await server.db.query<{ event_id: string; dedupe_key: string }>(
      'SELECT event_id, dedupe_key FROM mail_outbox WHERE booking_id = ANY ($1) AND kind = \'confirmed\' LIMIT 1', [ids],
    );
    const again = await server.db.query(
      `INSERT INTO mail_outbox (id, dedupe_key, kind, booking_id, event_id, recipient_role, recipient_id, due_at, next_attempt_at, created_at)
       SELECT 'mail_dup', dedupe_key, kind, booking_id, event_id, recipient_role, recipient_id, now(), now(), now()
         FROM mail_outbox WHERE dedupe_key = $1 ON CONFLICT (dedupe_key) DO NOTHING`,
      [rows[0]!.dedupe_key],
    );
    expect(again.rowCount).toBe(0);
    const before = sink.received.length;
    const claimed = await Promise.all([runDueMails(server.ctx), runDueMails(server.ctx), runDueMails(server.ctx)]);
    expect(claimed.reduce((a, b) => a + b, 0)).toBe(12);
    const got = (await sink.parsed()).slice(before);
    expect(got).toHaveLength(12);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(12);
  });
});

describe('without SMTP_URL', () => {
  it('queues nothing and sends nothing', async () => {
    const plain = await startTestServer({});
    try {
      expect(plain.ctx.notifier).toBeUndefined();
      const host = await providerAlwaysOpen(plain);
      const patient = await createUser(plain, 'client');
      const res = await patient.call('POST', '/v1/bookings', { providerId: host.id, start: localInstant(upcomingDate(1), '10:00') });
      expect(res.statusCode, res.body).toBe(201);
      expect((await patient.call('POST', `/v1/bookings/${res.json().id}/confirm`)).statusCode).toBe(200);
      expect(await runDueMails(plain.ctx)).toBe(0);
      const { rows } = await plain.db.query<{ n: number }>('SELECT count(*)::int AS n FROM mail_outbox');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await plain.close();
    }
  });
});
