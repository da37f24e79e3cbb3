/**
 * Public booking without an account (contract v2, "Public booking"): public
 * types readable and bookable without a key; the manage token opens exactly
 * its booking on exactly four routes; hold caps per client address and per
 * guest email; X-Forwarded-For only behind TRUST_PROXY; hosts' emails never shown.
 */
import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueMails } from '../../src/features/notifications/mail-worker.js';
import { client, createUser, expectProblem, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { localInstant, plusDays, providerAlwaysOpen } from './booking-helpers.js';

type Server = TestServer;
const DAY = upcomingDate(2, 10); // a Tuesday at least 10 days ahead
let slugs = 0;

async function publicType(server: Server, provider: { call: ReturnType<typeof client> }, extra: Record<string, unknown> = {}) {
  const res = await provider.call('POST', '/v1/event-types', {
    slug: `public-${++slugs}`, title: 'Consultation', durations: [30, 60], minimumNotice: 0, public: true,
    questions: [{ id: 'topic', label: 'Topic', type: 'text', required: true, maxLength: 50 }],
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A request as it arrives from `address` (light-my-request's remoteAddress). */
function from(server: Server, address: string, headers: Record<string, string> = {}) {
  return (method: 'GET' | 'POST', url: string, body?: unknown, extra: Record<string, string> = {}) => server.app.inject({
    method, url, remoteAddress: address,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers, ...extra },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

let minute = 0;
/** A fresh start each call (30-minute steps through the day), so holds never collide by accident. */
const nextStart = () => localInstant(plusDays(DAY, Math.floor(minute / 1440)), `${String(Math.floor((minute % 1440) / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`, 'Europe/Berlin') + ((minute += 30) && '');

const guestBody = (eventTypeId: string, email = 'grace@example.com', start = nextStart()) => ({
  eventTypeId, start, answers: { topic: 'Back pain' }, guest: { name: 'Grace Hopper', email, timeZone: 'America/New_York' },
});

describe('public booking (no account)', () => {
  let server: Server;
  let provider: Awaited<ReturnType<typeof providerAlwaysOpen>>;
  let type: any;
  let privateType: any;
  let anon: ReturnType<typeof from>;

  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '3' });
    provider = await providerAlwaysOpen(server);
    type = await publicType(server, provider, { cancellationNotice: 0 });
    const res = await provider.call('POST', '/v1/event-types', { slug: `private-${++slugs}`, title: 'Internal', durations: [30], minimumNotice: 0 });
    privateType = res.json();
    anon = from(server, '203.0.113.1');
  });
  afterAll(async () => server?.close());

  const providerEmail = async () => (await provider.call('GET', '/v1/users/me')).json().email as string;

  it('GET /v1/public/event-types/{slug}: the type with its hosts\' public fields, never an email; other slugs 404', async () => {
    const res = await anon('GET', `/v1/public/event-types/${type.slug}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.id).toBe(type.id);
    expect(body.hosts[0]).toMatchObject({ providerId: provider.id, name: expect.any(String), timeZone: 'Europe/Berlin' });
    expect(res.body).not.toContain(await providerEmail());
    expect(res.body).not.toMatch(/"email"/);
    expectProblem(await anon('GET', `/v1/public/event-types/${privateType.slug}`), 404);
    expectProblem(await anon('GET', '/v1/public/event-types/no-such-type'), 404);
  });

  it('a non-public type without a key is a 401: reading it, its slots, booking it', async () => {
    expectProblem(await anon('GET', `/v1/event-types/${privateType.id}`), 401);
    expectProblem(await anon('GET', `/v1/slots?eventTypeId=${privateType.id}&from=${DAY}&to=${DAY}`), 401);
    expectProblem(await anon('POST', '/v1/bookings', guestBody(privateType.id)), 401);
    // Without guest, or v1 (a provider), a key is needed.
    expectProblem(await anon('POST', '/v1/bookings', { eventTypeId: type.id, start: nextStart() }), 401);
    expectProblem(await anon('POST', '/v1/bookings', { providerId: provider.id, start: nextStart(), guest: { name: 'A', email: 'a@example.com' } }), 401);
  });

  it('a guest holds a public type: 201 with clientId null, guest, and a manage token stored only as its SHA-256', async () => {
    const res = await anon('POST', '/v1/bookings', guestBody(type.id));
    expect(res.statusCode, res.body).toBe(201);
    const b = res.json();
    expect(b).toMatchObject({ status: 'held', clientId: null, guest: { name: 'Grace Hopper', email: 'grace@example.com' }, eventTypeId: type.id });
    expect(b.manageToken).toMatch(/^bmt_[A-Za-z0-9_-]{43}$/); // 256 random bits
    expect(res.body).not.toContain(await providerEmail());
    const stored = await server.db.query<{ token_hash: string }>('SELECT token_hash FROM booking_tokens WHERE booking_id = $1', [b.id]);
    expect(stored.rows).toEqual([{ token_hash: createHash('sha256').update(b.manageToken).digest('hex') }]);
    const anywhere = await server.db.query('SELECT 1 FROM bookings WHERE row_to_json(bookings)::text LIKE $1', [`%${b.manageToken}%`]);
    expect(anywhere.rows).toHaveLength(0);
    // The guest's answer is readable with the token, but never shows the token again.
    const read = await anon('GET', `/v1/bookings/${b.id}?token=${b.manageToken}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().manageToken).toBeUndefined();
  });

  it('the bad guest inputs are 400s naming the field; a key with guest is a 400', async () => {
    const bad = await anon('POST', '/v1/bookings', { ...guestBody(type.id), guest: { name: 'X', email: 'not-an-email' } });
    expect(expectProblem(bad, 400).errors[0].path).toBe('body/guest/email');
    const zone = await anon('POST', '/v1/bookings', { ...guestBody(type.id), guest: { name: 'X', email: 'x@example.com', timeZone: 'Mars/Base' } });
    expect(expectProblem(zone, 400).errors[0].path).toBe('body/guest/timeZone');
    const answers = await anon('POST', '/v1/bookings', { ...guestBody(type.id), answers: {} });
    expect(expectProblem(answers, 400).errors[0].path).toBe('body/answers/topic');
    const someClient = await createUser(server, 'client');
    expect(expectProblem(await someClient.call('POST', '/v1/bookings', guestBody(type.id)), 400).errors[0].path).toBe('body/guest');
  });

  describe('the manage token', () => {
    let mine: any;
    let other: any;
    beforeAll(async () => {
      mine = (await from(server, '198.51.100.7')('POST', '/v1/bookings', guestBody(type.id, 'ada@example.com'))).json();
      other = (await from(server, '198.51.100.8')('POST', '/v1/bookings', guestBody(type.id, 'alan@example.com'))).json();
    });

    it('reads its booking as ?token= and as a Bearer header', async () => {
      expect((await anon('GET', `/v1/bookings/${mine.id}?token=${mine.manageToken}`)).json().id).toBe(mine.id);
      const bearer = await anon('GET', `/v1/bookings/${mine.id}`, undefined, { authorization: `Bearer ${mine.manageToken}` });
      expect(bearer.statusCode, bearer.body).toBe(200);
    });

    it('cannot read or change another booking (404), and an unknown token is a 401', async () => {
      expectProblem(await anon('GET', `/v1/bookings/${other.id}?token=${mine.manageToken}`), 404);
      expectProblem(await anon('POST', `/v1/bookings/${other.id}/cancel?token=${mine.manageToken}`, {}), 404);
      expectProblem(await anon('POST', `/v1/bookings/${other.id}/confirm`, {}, { authorization: `Bearer ${mine.manageToken}` }), 404);
      expectProblem(await anon('GET', `/v1/bookings/${mine.id}?token=bmt_${'A'.repeat(43)}`), 401);
    });

    it('is no API key: listing, users/me, accept, slots of a private type, webhooks, the stream: 401', async () => {
      const bearer = { authorization: `Bearer ${mine.manageToken}` };
      expectProblem(await anon('GET', '/v1/bookings', undefined, bearer), 401);
      expectProblem(await anon('GET', `/v1/bookings?apiKey=${mine.manageToken}`), 401);
      expectProblem(await anon('GET', '/v1/users/me', undefined, bearer), 401);
      expectProblem(await anon('POST', `/v1/bookings/${mine.id}/accept`, {}, bearer), 401);
      expectProblem(await anon('GET', '/v1/webhooks', undefined, bearer), 401);
      expectProblem(await anon('GET', `/v1/event-types/${privateType.id}`, undefined, bearer), 401);
      expectProblem(await anon('POST', '/v1/bookings', guestBody(type.id), bearer), 401);
      // ?token= is read only by the four routes that take it: elsewhere the request has no key.
      expectProblem(await anon('GET', `/v1/bookings?token=${mine.manageToken}`), 401);
    });

    it('confirms, reschedules and cancels its booking', async () => {
      const t = `?token=${mine.manageToken}`;
      const confirmed = await anon('POST', `/v1/bookings/${mine.id}/confirm${t}`, {});
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      expect(confirmed.json().status).toBe('confirmed');
      const to = nextStart();
      const moved = await anon('POST', `/v1/bookings/${mine.id}/reschedule${t}`, { start: to });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json()).toMatchObject({ id: mine.id, start: to, status: 'confirmed', previousStart: mine.start });
      const cancelled = await anon('POST', `/v1/bookings/${mine.id}/cancel${t}`, { reason: 'Cannot make it' });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'client' });
    });

    it('the host sees the guest\'s booking (with the guest) in its list; a client sees none of it', async () => {
      const list = (await provider.call('GET', `/v1/bookings?eventTypeId=${type.id}&limit=200`)).json();
      expect(list.data.find((b: any) => b.id === other.id)).toMatchObject({ clientId: null, guest: { email: 'alan@example.com' } });
      const someClient = await createUser(server, 'client');
      expectProblem(await someClient.call('GET', `/v1/bookings/${other.id}`), 404);
    });
  });

  it('a guest is held to the cancellation notice (422 too_late_to_change); the host is not', async () => {
    const strict = await publicType(server, provider, { cancellationNotice: 525600 });
    const b = (await from(server, '198.51.100.20')('POST', '/v1/bookings', guestBody(strict.id, 'late@example.com'))).json();
    const refused = expectProblem(await anon('POST', `/v1/bookings/${b.id}/cancel?token=${b.manageToken}`, {}), 422);
    expect(refused.code).toBe('too_late_to_change');
    expect(expectProblem(await anon('POST', `/v1/bookings/${b.id}/reschedule?token=${b.manageToken}`, { start: nextStart() }), 422).code).toBe('too_late_to_change');
    expect((await provider.call('POST', `/v1/bookings/${b.id}/cancel`, {})).json().status).toBe('cancelled');
  });

  it('hold cap per guest email: MAX_HOLDS_PER_CLIENT live holds, then 429 too_many_holds with Retry-After, whatever the address', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await from(server, `192.0.2.${10 + i}`)('POST', '/v1/bookings', guestBody(type.id, 'Capped@Example.com'));
      expect(res.statusCode, res.body).toBe(201);
    }
    const refused = await from(server, '192.0.2.99')('POST', '/v1/bookings', guestBody(type.id, 'capped@example.com'));
    expect(expectProblem(refused, 429).code).toBe('too_many_holds');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('hold cap per client address, whatever the email; simultaneous holds from one address give exactly the cap', async () => {
    const one = from(server, '192.0.2.200');
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => one('POST', '/v1/bookings', guestBody(type.id, `burst${i}@example.com`))));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 201, 201, 429, 429, 429]);
    const late = answers.find((r) => r.statusCode === 429)!;
    expect(late.json().code).toBe('too_many_holds');
    expect(late.headers['retry-after']).toBeDefined();
  });

  it('TRUST_PROXY off (the default): X-Forwarded-For is ignored, so it cannot dodge (or spend) another address\'s cap', async () => {
    const proxyless = (xff: string) => from(server, '192.0.2.201', { 'x-forwarded-for': xff });
    for (let i = 0; i < 3; i++) expect((await proxyless(`10.0.0.${i}`)('POST', '/v1/bookings', guestBody(type.id, `xff${i}@example.com`))).statusCode).toBe(201);
    expectProblem(await proxyless('10.0.0.99')('POST', '/v1/bookings', guestBody(type.id, 'xff9@example.com')), 429);
  });

  it('a replayed Idempotency-Key gives the same booking without the token again', async () => {
    const body = guestBody(type.id, 'idem@example.com');
    const post = () => from(server, '192.0.2.150')('POST', '/v1/bookings', body, { 'idempotency-key': 'guest-k1' });
    const first = await post();
    expect(first.statusCode, first.body).toBe(201);
    const again = await post();
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({ id: first.json().id, notShownAgain: ['manageToken'] });
    expect(again.json().manageToken).toBeUndefined();
  });
});

describe('TRUST_PROXY=true: the address is X-Forwarded-For\'s, so guests behind one proxy have caps of their own', () => {
  let server: Server;
  beforeAll(async () => { server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '1', TRUST_PROXY: 'true' }); });
  afterAll(async () => server?.close());

  it('two addresses behind the proxy each get their hold; a second from the same one is a 429', async () => {
    const provider = await providerAlwaysOpen(server);
    const type = await publicType(server, provider);
    const via = (xff: string) => from(server, '127.0.0.1', { 'x-forwarded-for': xff });
    expect((await via('203.0.113.5')('POST', '/v1/bookings', guestBody(type.id, 'p1@example.com'))).statusCode).toBe(201);
    expect((await via('203.0.113.6')('POST', '/v1/bookings', guestBody(type.id, 'p2@example.com'))).statusCode).toBe(201);
    expectProblem(await via('203.0.113.5')('POST', '/v1/bookings', guestBody(type.id, 'p3@example.com')), 429);
  });
});

describe('mail to a guest', () => {
  let sink: SmtpSink;
  let server: Server;
  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({
      SMTP_URL: sink.url, MAIL_FROM: 'Clinic <bookings@clinic.test>', MAIL_POLL_MS: '3600000', PUBLIC_BASE_URL: 'https://book.clinic.test',
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.stop();
  });

  it('the guest gets the confirmation in its zone with a manage link whose own token opens the booking', async () => {
    const provider = await providerAlwaysOpen(server);
    const type = await publicType(server, provider);
    const anon = from(server, '203.0.113.9');
    const b = (await anon('POST', '/v1/bookings', guestBody(type.id, 'mailme@example.com'))).json();
    expect((await anon('POST', `/v1/bookings/${b.id}/confirm?token=${b.manageToken}`, {})).statusCode).toBe(200);
    for (let i = 0; i < 10 && (await runDueMails(server.ctx)) > 0; i++);
    const mails: ParsedMail[] = await sink.parsed();
    const toGuest = mails.filter((m) => (Array.isArray(m.to) ? m.to[0] : m.to)!.value[0]!.address === 'mailme@example.com');
    expect(toGuest).toHaveLength(1);
    const text = toGuest[0]!.text ?? '';
    expect(text).toMatch(/New York|EDT|EST|GMT-0[45]|America/);
    const link = /https:\/\/book\.clinic\.test\/book\/manage\/([^?\s]+)\?token=(bmt_[A-Za-z0-9_-]+)/.exec(text);
    expect(link, text).not.toBeNull();
    expect(link![1]).toBe(b.id);
    expect(link![2]).not.toBe(b.manageToken); // the mail's own token; the first one is stored only hashed
    const read = await anon('GET', `/v1/bookings/${b.id}?token=${link![2]}`);
    expect(read.statusCode, read.body).toBe(200);
    // The host's mail names the guest.
    expect(mails.some((m) => (m.text ?? '').includes('Grace Hopper'))).toBe(true);
  });
});

describe('public booking of team types', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '10' });
  });
  afterAll(async () => server?.close());

  const adminCall = () => client(server, 'test-admin-key-0123456789abcdef');
  async function teamType(hostIds: string[], assignment: string) {
    const res = await adminCall()('POST', '/v1/event-types', {
      slug: `public-team-${++slugs}`, title: 'Team', durations: [30], minimumNotice: 0, public: true,
      hosts: hostIds.map((providerId) => ({ providerId })), assignment,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  it('guests on a round-robin type are assigned by the rule, not all to the first host', async () => {
    const [a, b] = [await providerAlwaysOpen(server), await providerAlwaysOpen(server)];
    const typeId = await teamType([a.id, b.id], 'roundRobin');
    const start = localInstant(DAY, '10:00', 'Europe/Berlin');
    const hosts: string[] = [];
    for (const [i, address] of ['198.51.100.1', '198.51.100.2'].entries()) {
      const res = await from(server, address)('POST', '/v1/bookings', {
        eventTypeId: typeId, start, guest: { name: `Guest ${i}`, email: `team-guest-${i}@example.com` },
      });
      expect(res.statusCode, res.body).toBe(201);
      hosts.push(res.json().providerId);
    }
    expect(new Set(hosts)).toEqual(new Set([a.id, b.id]));
  });

  it('a guest on a collective type blocks every host', async () => {
    const [a, b] = [await providerAlwaysOpen(server), await providerAlwaysOpen(server)];
    const typeId = await teamType([a.id, b.id], 'collective');
    const res = await from(server, '198.51.100.3')('POST', '/v1/bookings', {
      eventTypeId: typeId, start: localInstant(DAY, '11:00', 'Europe/Berlin'), guest: { name: 'Guest', email: 'team-guest-c@example.com' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().hosts).toEqual([a.id, b.id]);
  });
});

describe('seats: one live seat of an occurrence per guest email (any letter case)', () => {
  let server: Server;
  let provider: Awaited<ReturnType<typeof providerAlwaysOpen>>;
  let hour = 0;
  // The email's hold cap (20) is far above the ten holds below, so only the seat rule can refuse them.
  beforeAll(async () => { server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '20' }); provider = await providerAlwaysOpen(server); });
  afterAll(async () => server?.close());

  /** A public 12-seat type and a fresh start of it (an hour apart, so occurrences never share a host's time). */
  async function seated() {
    const type = await publicType(server, provider, { durations: [30], seats: 12, questions: [] });
    const start = localInstant(plusDays(DAY, 1), `${String(hour++).padStart(2, '0')}:00`, 'Europe/Berlin');
    return { type, start };
  }
  const seat = (address: string, eventTypeId: string, start: string, email: string) =>
    from(server, address)('POST', '/v1/bookings', { eventTypeId, start, guest: { name: 'Seat Taker', email } });

  it('a second seat for the same email is a 409 already_booked; another email still gets one; a cancelled seat frees the email', async () => {
    const { type, start } = await seated();
    const first = await seat('198.51.100.30', type.id, start, 'ada@example.com');
    expect(first.statusCode, first.body).toBe(201);
    const again = await seat('198.51.100.31', type.id, start, 'ADA@Example.COM');
    expect(expectProblem(again, 409).code).toBe('already_booked');
    expect((await seat('198.51.100.32', type.id, start, 'alan@example.com')).statusCode).toBe(201);
    const b = first.json();
    expect((await from(server, '198.51.100.30')('POST', `/v1/bookings/${b.id}/cancel?token=${b.manageToken}`, {})).statusCode).toBe(200);
    expect((await seat('198.51.100.33', type.id, start, 'Ada@example.com')).statusCode).toBe(201);
  });

  it('ten simultaneous holds by one email (different letter case, different addresses) on one start: exactly one 201', async () => {
    const { type, start } = await seated();
    const cases = ['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.com', 'rAcE@example.COM'];
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => seat(`192.0.2.${30 + i}`, type.id, start, cases[i % cases.length]!)));
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses, answers.map((r) => r.body).join('\n')).toEqual([201, ...Array(9).fill(409)]);
    expect(answers.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'already_booked')).toBe(true);
    const live = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE event_type_id = $1 AND status = 'held'`, [type.id]);
    expect(live.rows[0]!.n).toBe(1);
  });

  it('a guest moves a seat only to an occurrence with a seat left and none of its email\'s (409 already_booked / slot_taken)', async () => {
    const a = await seated();
    const mine = (await seat('198.51.100.40', a.type.id, a.start, 'mover@example.com')).json();
    const other = localInstant(plusDays(DAY, 1), `${String(hour++).padStart(2, '0')}:00`, 'Europe/Berlin');
    expect((await seat('198.51.100.41', a.type.id, other, 'Mover@Example.com')).statusCode).toBe(201);
    const moved = await from(server, '198.51.100.40')('POST', `/v1/bookings/${mine.id}/reschedule?token=${mine.manageToken}`, { start: other });
    expect(expectProblem(moved, 409).code).toBe('already_booked');
    // A full occurrence: a 2-seat type, both seats taken by others.
    const small = await publicType(server, provider, { durations: [30], seats: 2, questions: [] });
    const full = localInstant(plusDays(DAY, 1), `${String(hour++).padStart(2, '0')}:00`, 'Europe/Berlin');
    const free = localInstant(plusDays(DAY, 1), `${String(hour++).padStart(2, '0')}:00`, 'Europe/Berlin');
    for (const email of ['f1@example.com', 'f2@example.com']) expect((await seat('198.51.100.42', small.id, full, email)).statusCode).toBe(201);
    const guest = (await seat('198.51.100.43', small.id, free, 'f3@example.com')).json();
    const intoFull = await from(server, '198.51.100.43')('POST', `/v1/bookings/${guest.id}/reschedule?token=${guest.manageToken}`, { start: full });
    expect(expectProblem(intoFull, 409).code).toBe('slot_taken');
  });
});
