/**
 * Racing holds through the real app. The server listens on a loopback port and
 * the requests go over real HTTP with fetch, so on PostgreSQL (TEST_DATABASE_URL)
 * they really overlap on the connection pool; on the embedded database the same
 * test runs against PGlite's serialised transactions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import {
  createClients,
  createProviderWithHours,
  describeAttempts,
  expectConflictProblem,
  http,
  overlappingLivePairs,
  prng,
  raceHolds,
  slotsOn,
  verifyRace,
  type Http,
  type Party,
} from './race.js';

describe('concurrent holds through the real app', () => {
  let server: TestServer;
  let baseUrl: string;
  let admin: Http;

  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
    baseUrl = `http://127.0.0.1:${address.port}`;
    admin = http(baseUrl, ADMIN_KEY);
  });
  afterAll(async () => server?.close());

  it('40 clients holding the same slot at once: exactly one 201, 39 × 409 problem+json', { timeout: 90_000 }, async () => {
    const provider = await createProviderWithHours(admin);
    const clients = await createClients(admin, 40);
    const monday = upcomingDate(1);
    const slots = await slotsOn(http(baseUrl, clients[0]!.apiKey), provider.id, monday);
    expect(slots).toHaveLength(29);
    const slot = slots[12]!; // 12:00 Berlin

    const attempts = await raceHolds(
      clients.map((c, i) => ({ call: http(baseUrl, c.apiKey), providerId: provider.id, start: slot.start, durationMinutes: 60, clientIndex: i })),
    );

    const won = attempts.filter((a) => a.result.status === 201);
    expect(won, describeAttempts(attempts)).toHaveLength(1);
    const lost = attempts.filter((a) => a.result.status !== 201);
    expect(lost).toHaveLength(39);
    for (const a of lost) expectConflictProblem(a);

    await verifyRace(server.db, provider.id, clients, attempts);
    const { rows } = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE provider_id = $1`,
      [provider.id],
    );
    expect(rows[0]!.n).toBe(1); // the losers left nothing behind

    // The slot is gone for everyone, its neighbours that overlap it too.
    const after = await slotsOn(http(baseUrl, clients[1]!.apiKey), provider.id, monday);
    const held = Date.parse(slot.start);
    expect(after.some((s) => Date.parse(s.start) > held - 3_600_000 && Date.parse(s.start) < held + 3_600_000)).toBe(false);
    expect(after).toHaveLength(29 - 7);
  });

  it('confirming a hold while 30 others race for overlapping times: 200 and 30 × 409, never a 5xx', { timeout: 90_000 }, async () => {
    const provider = await createProviderWithHours(admin);
    const [owner, ...others] = await createClients(admin, 31);
    const day = upcomingDate(1, 21);
    const slots = await slotsOn(http(baseUrl, owner!.apiKey), provider.id, day);
    const ownerCall = http(baseUrl, owner!.apiKey);
    for (let round = 0; round < 3; round++) {
      // Each round: a fresh hold, then its confirm races holds that overlap it.
      const start = slots[4 + round * 8]!.start; // 10:00, 12:00, 14:00
      const hold = await ownerCall('POST', '/v1/bookings', { providerId: provider.id, start, duration: 60 });
      expect(hold.status, hold.text).toBe(201);
      let go!: () => void;
      const gate = new Promise<void>((r) => {
        go = r;
      });
      const offsets = [-45, -30, -15, 0, 15, 30, 45];
      const racers = others!.map(async (c, i) => {
        await gate;
        const at = new Date(Date.parse(start) + offsets[i % offsets.length]! * 60_000).toISOString();
        return http(baseUrl, c.apiKey)('POST', '/v1/bookings', { providerId: provider.id, start: at, duration: 60 });
      });
      const confirm = (async () => {
        await gate;
        return ownerCall('POST', `/v1/bookings/${hold.body.id}/confirm`);
      })();
      go();
      const [confirmed, ...results] = await Promise.all([confirm, ...racers]);
      const histogram = JSON.stringify(results.reduce<Record<number, number>>((h, r) => ({ ...h, [r.status]: (h[r.status] ?? 0) + 1 }), {}));
      expect(confirmed.status, `confirm: ${confirmed.text}; holds: ${histogram}`).toBe(200);
      expect(confirmed.body.status).toBe('confirmed');
      expect(results.every((r) => r.status === 409), `round ${round}: holds ${histogram}`).toBe(true);
    }
    expect(await overlappingLivePairs(server.db, provider.id)).toEqual([]);
  });

  it('overlapping 60-minute holds racing on one day never overlap in the database', { timeout: 120_000 }, async () => {
    const clients = await createClients(admin, 30);
    const seed = Number(process.env.RACE_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    // Four rounds (Tue-Fri), each on its own provider, 30 clients at once; a
    // client wins at most one hold per round, within MAX_HOLDS_PER_CLIENT (5).
    for (const [round, weekday] of [2, 3, 4, 5].entries()) {
      const provider: Party = await createProviderWithHours(admin);
      const day = upcomingDate(weekday);
      const slots = await slotsOn(http(baseUrl, clients[0]!.apiKey), provider.id, day);
      expect(slots).toHaveLength(29); // every 15 minutes from 09:00 to 16:00
      const attempts = await raceHolds(
        clients.map((c, i) => ({
          call: http(baseUrl, c.apiKey),
          providerId: provider.id,
          start: slots[Math.floor(random() * slots.length)]!.start,
          durationMinutes: 60,
          clientIndex: i,
        })),
      );
      const context = `seed ${seed}, round ${round}: ${describeAttempts(attempts)}`;
      // Only two answers are right: the hold, or "taken".
      expect(attempts.every((a) => a.result.status === 201 || a.result.status === 409), context).toBe(true);
      for (const a of attempts.filter((x) => x.result.status === 409)) expectConflictProblem(a);
      const won = attempts.filter((a) => a.result.status === 201);
      expect(won.length, context).toBeGreaterThanOrEqual(1);
      expect(won.length, context).toBeLessThanOrEqual(8); // 8 hours fit at most 8 one-hour bookings
      expect(await overlappingLivePairs(server.db, provider.id), context).toEqual([]);
      await verifyRace(server.db, provider.id, clients, attempts);
    }
  });
});
