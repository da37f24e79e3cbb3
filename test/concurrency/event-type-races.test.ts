/**
 * Racing requests on event types through the real app (one process): limits,
 * reschedules onto one time, buffers, and a host's two answers to one request
 * for approval. The server listens on loopback and the requests go over real
 * HTTP, so on PostgreSQL (TEST_DATABASE_URL) they overlap on the pool; on the
 * embedded database the same tests run against serialised transactions.
 * The clock is pinned (Monday 2035-01-01 00:00 UTC); dates below are Berlin weekdays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { createClients, createParty, createProviderWithHours, http, prng, type Http } from './race.js';
import { roundRobinFairnessRace, roundRobinOneStartRace, roundRobinWeightedRace, seatsRace } from './team-scenarios.js';
import { clientOverlapRace } from './client-overlap-scenarios.js';
import {
  createEventType,
  histogram,
  LIVE_SQL,
  overlappingBlockedPairs,
  perDayRace,
  raceAll,
  rescheduleRace,
  typeSlotStarts,
  type RaceEnv,
} from './event-type-scenarios.js';

const NOW = Date.parse('2035-01-01T00:00:00Z');

describe('event type races through the real app', () => {
  let server: TestServer;
  let baseUrl: string;
  let admin: Http;
  const env = (day: string): RaceEnv => ({ admin, via: (_i, key) => http(baseUrl, key), sql: server.db, day });

  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => NOW } });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    baseUrl = `http://127.0.0.1:${address.port}`;
    admin = http(baseUrl, ADMIN_KEY);
  });
  afterAll(async () => server?.close());

  it('perDay 3: twenty simultaneous holds on twenty free slots of one day give exactly three 201s and seventeen 422 limit_reached', { timeout: 90_000 }, async () => {
    await perDayRace(env('2035-01-08'));
  });

  it('round robin: thirty simultaneous holds on thirty free slots over three equal hosts give exactly ten each', { timeout: 90_000 }, async () => {
    await roundRobinFairnessRace(env('2035-01-15'));
  });

  it('round robin: two free hosts and five simultaneous holds on one start give exactly two 201s', { timeout: 90_000 }, async () => {
    await roundRobinOneStartRace(env('2035-01-16'));
  });

  it('seats: thirty simultaneous holds on a 4-seat start give exactly four 201s', { timeout: 90_000 }, async () => {
    await seatsRace(env('2035-01-17'));
  });

  it('round robin: nine simultaneous holds on nine slots over hosts weighted 1 : 2 give exactly 3 and 6', { timeout: 90_000 }, async () => {
    await roundRobinWeightedRace(env('2035-01-18'));
  });

  it('one client, ten providers, overlapping times: exactly one 201 and nine 409 client_overlap', { timeout: 90_000 }, async () => {
    await clientOverlapRace(env('2035-01-25'));
  });

  it('ten simultaneous reschedules onto one free time: exactly one 200, nine 409 slot_taken, the nine keep their times', { timeout: 90_000 }, async () => {
    await rescheduleRace(env('2035-01-09'));
  });

  it('a reschedule racing nine new holds onto one time: exactly one of the ten gets it, and a refused reschedule keeps its old time', { timeout: 90_000 }, async () => {
    const host = await createProviderWithHours(admin);
    const type = await createEventType(admin, host.id, { durations: [60], slotInterval: 60, bufferAfter: 15 });
    const [mover, ...others] = await createClients(admin, 10);
    for (const round of [0, 1, 2]) {
      const day = `2035-01-1${5 + round}`; // Monday 15 .. Wednesday 17 January
      const moved = await http(baseUrl, mover!.apiKey)('POST', '/v1/bookings', { eventTypeId: type.id, start: `${day}T09:00:00+01:00` });
      expect(moved.status, moved.text).toBe(201);
      const target = `${day}T13:00:00+01:00`;
      const results = await raceAll([
        () => http(baseUrl, mover!.apiKey)('POST', `/v1/bookings/${moved.body.id}/reschedule`, { start: target }),
        ...others.map((c) => () => http(baseUrl, c.apiKey)('POST', '/v1/bookings', { eventTypeId: type.id, start: target })),
      ]);
      const context = `round ${round}: ${histogram(results)}`;
      const winners = results.filter((r) => r.status === 200 || r.status === 201);
      expect(winners, context).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200 && x.status !== 201)) {
        expect(r.status, context).toBe(409);
        expect(r.body.code, context).toBe('slot_taken');
      }
      expect(await overlappingBlockedPairs(server.db, host.id), context).toEqual([]);
      const { rows } = await server.db.query<{ start_at: Date }>('SELECT start_at FROM bookings WHERE id = $1', [moved.body.id]);
      const expected = results[0]!.status === 200 ? target : `${day}T09:00:00+01:00`;
      expect(new Date(rows[0]!.start_at).getTime(), context).toBe(Date.parse(expected));
    }
  });

  it('thirty simultaneous holds with buffers 10/10 on overlapping starts: blocked ranges never overlap, every answer 201 or 409', { timeout: 90_000 }, async () => {
    const host = await createProviderWithHours(admin);
    const type = await createEventType(admin, host.id, { durations: [30], slotInterval: 5, bufferBefore: 10, bufferAfter: 10 });
    const clients = await createClients(admin, 30);
    const starts = (await typeSlotStarts(http(baseUrl, clients[0]!.apiKey), type.id, '2035-01-10')).slice(0, 25); // 09:00 .. 11:00
    expect(starts[0]).toBe('2035-01-10T09:00:00+01:00');
    expect(starts.at(-1)).toBe('2035-01-10T11:00:00+01:00');
    const seed = Number(process.env.RACE_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const chosen = clients.map(() => starts[Math.floor(random() * starts.length)]!);

    const results = await raceAll(clients.map((c, i) => () => http(baseUrl, c.apiKey)('POST', '/v1/bookings', { eventTypeId: type.id, start: chosen[i] })));
    const context = `seed ${seed}: ${histogram(results)}`;
    expect(results.every((r) => r.status === 201 || r.status === 409), context).toBe(true);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code, context).toBe('slot_taken');
    const won = results.filter((r) => r.status === 201);
    expect(won.length, context).toBeGreaterThanOrEqual(1);
    // Each blocked range is 50 minutes (start - 10 .. start + 40), all inside 08:50 .. 11:40 (170 minutes): at most three fit.
    expect(won.length, context).toBeLessThanOrEqual(3);
    expect(await overlappingBlockedPairs(server.db, host.id), context).toEqual([]);

    const { rows } = await server.db.query<{ id: string; start_at: Date; blocked_start: Date; blocked_end: Date }>(
      `SELECT id, start_at, blocked_start, blocked_end FROM bookings WHERE provider_id = $1 AND ${LIVE_SQL}`, [host.id],
    );
    expect(rows.map((r) => r.id).sort(), context).toEqual(won.map((r) => r.body.id).sort());
    for (const r of rows) {
      expect(new Date(r.start_at).getTime() - new Date(r.blocked_start).getTime()).toBe(10 * 60_000);
      expect(new Date(r.blocked_end).getTime() - new Date(r.start_at).getTime()).toBe(40 * 60_000);
    }
    // Every refusal collided with a winner's blocked range.
    for (const [i, r] of results.entries()) {
      if (r.status !== 409) continue;
      const start = Date.parse(chosen[i]!);
      const blocked = { start: start - 10 * 60_000, end: start + 40 * 60_000 };
      expect(rows.some((w) => new Date(w.blocked_start).getTime() < blocked.end && new Date(w.blocked_end).getTime() > blocked.start), context).toBe(true);
    }
  });

  it('two simultaneous answers to one request for approval never leave two different outcomes', { timeout: 90_000 }, async () => {
    const host = await createParty(admin, 'provider', { timeZone: 'Europe/Berlin' });
    const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));
    expect((await admin('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'Europe/Berlin', weekly })).status).toBe(200);
    const type = await createEventType(admin, host.id, { durations: [30], requiresConfirmation: true });
    const [client] = await createClients(admin, 1);
    const asClient = http(baseUrl, client!.apiKey);
    const asHost = http(baseUrl, host.apiKey);
    const answer = (kind: 'accept' | 'decline', id: string) =>
      () => (kind === 'accept' ? asHost('POST', `/v1/bookings/${id}/accept`) : asHost('POST', `/v1/bookings/${id}/decline`, { reason: 'no' }));

    const pairs: ['accept' | 'decline', 'accept' | 'decline'][] = [
      ['accept', 'decline'], ['decline', 'accept'], ['accept', 'decline'], ['decline', 'accept'],
      ['accept', 'accept'], ['decline', 'decline'],
    ];
    for (const [round, [first, second]] of pairs.entries()) {
      const start = `2035-01-11T${String(9 + round).padStart(2, '0')}:00:00+01:00`;
      const held = await asClient('POST', '/v1/bookings', { eventTypeId: type.id, start });
      expect(held.status, held.text).toBe(201);
      const id = held.body.id as string;
      const confirmed = await asClient('POST', `/v1/bookings/${id}/confirm`);
      expect(confirmed.body.status).toBe('pending');

      const results = await raceAll([answer(first, id), answer(second, id)]);
      const context = `round ${round} (${first} vs ${second}): ${histogram(results)}`;
      const final = (await asClient('GET', `/v1/bookings/${id}`)).body.status as string;
      expect(['confirmed', 'declined'], context).toContain(final);
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length, context).toBeGreaterThanOrEqual(1);
      // Every 200 shows the one final state; the rest are 409 state_conflict.
      for (const r of ok) expect(r.body.status, context).toBe(final);
      for (const r of results.filter((x) => x.status !== 200)) {
        expect(r.status, context).toBe(409);
        expect(r.body.code, context).toBe('state_conflict');
      }
      if (first !== second) expect(ok, context).toHaveLength(1);
      const { rows } = await server.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id]);
      expect(rows[0]!.status).toBe(final);
    }
  });
});
