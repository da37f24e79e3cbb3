import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * clientMayOverlap (default false): one client (or guest email) cannot hold two
 * live bookings of event types that overlap in time; the database refuses it
 * (client_blocks in migrations/012). Pinned "now": Monday 2035-01-01 00:00 UTC.
 */
const NOW = Date.parse('2035-01-01T00:00:00Z');
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

type User = Awaited<ReturnType<typeof createUser>>;

describe('a client cannot be in two places at once (clientMayOverlap)', () => {
  let server: TestServer;
  let n = 0;
  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50' }, { clock: { now: () => NOW } });
  });
  afterAll(async () => server?.close());

  async function provider(): Promise<User> {
    const p = await createUser(server, 'provider', { timeZone: 'UTC' });
    const weekly = DAYS.map((day) => ({ day, start: '00:00', end: '24:00' }));
    expect((await p.call('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly })).statusCode).toBe(200);
    return p;
  }
  async function typeFor(p: User, extra: Record<string, unknown> = {}) {
    const res = await p.call('POST', '/v1/event-types', { slug: `overlap-${++n}`, title: 'Visit', durations: [30, 60], minimumNotice: 0, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; clientMayOverlap: boolean };
  }
  const book = (c: User, eventTypeId: string, start: string, duration = 30) =>
    c.call('POST', '/v1/bookings', { eventTypeId, start, duration });

  it('the option defaults to false, is shown, and can be changed', async () => {
    const p = await provider();
    const type = await typeFor(p);
    expect(type.clientMayOverlap).toBe(false);
    const patched = await p.call('PATCH', `/v1/event-types/${type.id}`, { clientMayOverlap: true });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().clientMayOverlap).toBe(true);
    expect(expectProblem(await p.call('PATCH', `/v1/event-types/${type.id}`, { clientMayOverlap: 'yes' }), 400).errors[0].path)
      .toBe('body/clientMayOverlap');
  });

  it('two providers, the same hour: the second hold is a 409 client_overlap naming the first booking\'s time; nothing stored', async () => {
    const [a, b] = [await provider(), await provider()];
    const [ta, tb] = [await typeFor(a), await typeFor(b)];
    const c = await createUser(server, 'client');
    expect((await book(c, ta.id, '2035-01-08T09:00:00Z', 60)).statusCode).toBe(201);
    const before = await server.db.query('SELECT count(*)::int AS n FROM bookings');
    const refused = expectProblem(await book(c, tb.id, '2035-01-08T09:30:00Z'), 409);
    expect(refused.code).toBe('client_overlap');
    expect(refused.detail).toContain('2035-01-08T09:00:00Z');
    expect(refused.detail).toContain('2035-01-08T10:00:00Z');
    expect((await server.db.query('SELECT count(*)::int AS n FROM bookings')).rows).toEqual(before.rows);
    // Another client is free to take that time with b.
    expect((await book(await createUser(server, 'client'), tb.id, '2035-01-08T09:30:00Z')).statusCode).toBe(201);
  });

  it('adjacent bookings are fine (half-open ranges), and buffers are the host\'s time, not the client\'s', async () => {
    const [a, b] = [await provider(), await provider()];
    const ta = await typeFor(a, { bufferAfter: 30 });
    const tb = await typeFor(b, { bufferBefore: 30 });
    const c = await createUser(server, 'client');
    expect((await book(c, ta.id, '2035-01-08T09:00:00Z')).statusCode).toBe(201);
    expect((await book(c, tb.id, '2035-01-08T09:30:00Z')).statusCode).toBe(201);
    expect((await book(c, tb.id, '2035-01-08T08:30:00Z')).statusCode).toBe(201);
  });

  it('a type with clientMayOverlap: true may overlap (either way round)', async () => {
    const [a, b] = [await provider(), await provider()];
    const strict = await typeFor(a);
    const loose = await typeFor(b, { clientMayOverlap: true });
    const c = await createUser(server, 'client');
    expect((await book(c, strict.id, '2035-01-09T09:00:00Z')).statusCode).toBe(201);
    expect((await book(c, loose.id, '2035-01-09T09:00:00Z')).statusCode).toBe(201);
    const c2 = await createUser(server, 'client');
    expect((await book(c2, loose.id, '2035-01-09T11:00:00Z')).statusCode).toBe(201);
    expect((await book(c2, strict.id, '2035-01-09T11:00:00Z')).statusCode).toBe(201);
  });

  it('a cancelled booking, or a lapsed hold, frees the client\'s time', async () => {
    const [a, b] = [await provider(), await provider()];
    const [ta, tb] = [await typeFor(a), await typeFor(b)];
    const c = await createUser(server, 'client');
    const first = (await book(c, ta.id, '2035-01-10T09:00:00Z')).json();
    expect((await book(c, tb.id, '2035-01-10T09:00:00Z')).statusCode).toBe(409);
    expect((await c.call('POST', `/v1/bookings/${first.id}/cancel`, {})).statusCode).toBe(200);
    const second = await book(c, tb.id, '2035-01-10T09:00:00Z');
    expect(second.statusCode, second.body).toBe(201);
    // The hold lapses (its row still says held until the sweeper runs): the time is the client's again.
    await server.db.query(`UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = $1`, [second.json().id]);
    expect((await book(c, ta.id, '2035-01-10T09:00:00Z')).statusCode).toBe(201);
  });

  it('a guest is known by email, compared case-insensitively', async () => {
    const [a, b] = [await provider(), await provider()];
    const [ta, tb] = [await typeFor(a, { public: true }), await typeFor(b, { public: true })];
    const anon = client(server, null);
    const guest = (eventTypeId: string, email: string) =>
      anon('POST', '/v1/bookings', { eventTypeId, start: '2035-01-11T09:00:00Z', guest: { name: 'Grace', email } });
    expect((await guest(ta.id, 'grace@example.com')).statusCode).toBe(201);
    const refused = expectProblem(await guest(tb.id, 'Grace@Example.COM'), 409);
    expect(refused.code).toBe('client_overlap');
    expect(refused.detail).toContain('2035-01-11T09:00:00Z');
    expect((await guest(tb.id, 'someone.else@example.com')).statusCode).toBe(201);
  });

  it('seats: a seat is the client\'s time too', async () => {
    const [a, b] = [await provider(), await provider()];
    const workshop = await typeFor(a, { seats: 5, durations: [60] });
    const other = await typeFor(b);
    const c = await createUser(server, 'client');
    expect((await book(c, workshop.id, '2035-01-12T09:00:00Z', 60)).statusCode).toBe(201);
    expect(expectProblem(await book(c, other.id, '2035-01-12T09:30:00Z'), 409).code).toBe('client_overlap');
    // Other clients fill the other seats as before.
    expect((await book(await createUser(server, 'client'), workshop.id, '2035-01-12T09:00:00Z', 60)).statusCode).toBe(201);
  });

  it('reschedule: onto another booking of the client is refused (it keeps its time); overlapping its own old time is fine', async () => {
    const [a, b] = [await provider(), await provider()];
    const [ta, tb] = [await typeFor(a), await typeFor(b)];
    const c = await createUser(server, 'client');
    const moving = (await book(c, ta.id, '2035-01-15T09:00:00Z', 60)).json();
    expect((await book(c, tb.id, '2035-01-15T11:00:00Z')).statusCode).toBe(201);
    const refused = expectProblem(await c.call('POST', `/v1/bookings/${moving.id}/reschedule`, { start: '2035-01-15T10:30:00Z' }), 409);
    expect(refused.code).toBe('client_overlap');
    expect(refused.detail).toContain('2035-01-15T11:00:00Z');
    expect((await c.call('GET', `/v1/bookings/${moving.id}`)).json().start).toBe('2035-01-15T09:00:00Z');
    const moved = await c.call('POST', `/v1/bookings/${moving.id}/reschedule`, { start: '2035-01-15T09:30:00Z' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().start).toBe('2035-01-15T09:30:00Z');
  });

  it('v1 bookings (no event type) keep v1\'s rules: they neither take nor are refused the client\'s time', async () => {
    const [a, b] = [await provider(), await provider()];
    const tb = await typeFor(b);
    const c = await createUser(server, 'client');
    expect((await c.call('POST', '/v1/bookings', { providerId: a.id, start: '2035-01-16T09:00:00Z', duration: 30 })).statusCode).toBe(201);
    expect((await book(c, tb.id, '2035-01-16T09:00:00Z')).statusCode).toBe(201);
    expect((await c.call('POST', '/v1/bookings', { providerId: a.id, start: '2035-01-16T09:15:00Z', duration: 15 })).statusCode).toBe(409);
  });

  it('10 simultaneous holds by one client on 10 providers at overlapping times: exactly one 201, nine client_overlap', async () => {
    const providers = await Promise.all(Array.from({ length: 10 }, () => provider()));
    const types = await Promise.all(providers.map((p) => typeFor(p, { durations: [60] })));
    const c = await createUser(server, 'client');
    // Starts 09:00, 09:15, 09:30, 09:45 (repeated), an hour each: every pair overlaps (all cover 09:45-10:00).
    const starts = types.map((_, i) => `2035-01-17T09:${String((i % 4) * 15).padStart(2, '0')}:00Z`);
    const answers = await Promise.all(types.map((t, i) => book(c, t.id, starts[i]!, 60)));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, ...Array(9).fill(409)]);
    for (const r of answers.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('client_overlap');
    const { rows } = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE client_id = $1 AND status = 'held'`, [c.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('5 simultaneous reschedules of one client\'s bookings on 5 providers onto overlapping times: exactly one 200, four 409, never a 500', async () => {
    const providers = await Promise.all(Array.from({ length: 5 }, () => provider()));
    const types = await Promise.all(providers.map((p) => typeFor(p, { durations: [60] })));
    const c = await createUser(server, 'client');
    const booked = [];
    for (const [i, t] of types.entries()) {
      const res = await book(c, t.id, `2035-01-18T0${i}:00:00Z`, 60);
      expect(res.statusCode, res.body).toBe(201);
      booked.push(res.json().id as string);
    }
    // The moves take the client's lock (without it, on PostgreSQL, two of them waited on each other's rows in the
    // client's constraint and one died in a deadlock: a 500); the constraint is what refuses the overlap.
    const answers = await Promise.all(booked.map((id, i) =>
      c.call('POST', `/v1/bookings/${id}/reschedule`, { start: `2035-01-18T12:${String((i % 4) * 15).padStart(2, '0')}:00Z` })));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409]);
    for (const r of answers.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('client_overlap');
    const { rows } = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE client_id = $1 AND start_at >= '2035-01-18T12:00:00Z'`, [c.id],
    );
    expect(rows[0]!.n).toBe(1);
  });
});
