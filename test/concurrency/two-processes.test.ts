/**
 * Two real server processes (`node --import tsx src/main.ts`) on one PostgreSQL
 * database, racing holds over real HTTP: the no-overlap guarantee must hold
 * across processes, not only across one process's pool. PostgreSQL only
 * (TEST_DATABASE_URL); the embedded database is single-process by design.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase, type ServerProcess } from '../helpers/server-processes.js';
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
  type Sql,
} from './race.js';

const ADMIN_KEY = PROCESS_ADMIN_KEY;

describe.skipIf(!process.env.TEST_DATABASE_URL)('two server processes on one PostgreSQL database', () => {
  let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
  let servers: ServerProcess[] = [];
  // The checks' own connection, beside the servers' pools.
  const sql: Sql = { query: (text, params) => cluster!.sql.query(text, params) };
  let callers: Http[] = []; // admin through process A and process B

  beforeAll(async () => {
    cluster = await startTwoServersOnOneDatabase();
    servers = cluster.servers;
    callers = servers.map((s) => http(s.baseUrl, ADMIN_KEY));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const via = (i: number, key: string) => http(servers[i % 2]!.baseUrl, key);

  it('both processes answer on their own ports and share the data', async () => {
    expect(servers[0]!.baseUrl).not.toBe(servers[1]!.baseUrl);
    const provider = await createProviderWithHours(callers[0]!);
    const seenByB = await callers[1]!('GET', `/v1/providers/${provider.id}/schedule`);
    expect(seenByB.status, seenByB.text).toBe(200);
  });

  it('40 holds of one slot split across both processes: exactly one 201', { timeout: 120_000 }, async () => {
    const provider = await createProviderWithHours(callers[0]!);
    const clients = await createClients(callers[1]!, 40);
    const monday = upcomingDate(1);
    const slots = await slotsOn(via(0, clients[0]!.apiKey), provider.id, monday);
    expect(slots).toHaveLength(29);
    const slot = slots[8]!; // 11:00 Berlin

    const attempts = await raceHolds(
      clients.map((c, i) => ({ call: via(i, c.apiKey), providerId: provider.id, start: slot.start, durationMinutes: 60, clientIndex: i })),
    );
    const won = attempts.filter((a) => a.result.status === 201);
    expect(won, describeAttempts(attempts)).toHaveLength(1);
    for (const a of attempts.filter((x) => x.result.status !== 201)) expectConflictProblem(a);
    await verifyRace(sql, provider.id, clients, attempts);

    // Both processes see the winner's hold as taking the slot.
    for (const i of [0, 1]) {
      const after = await slotsOn(via(i, clients[2]!.apiKey), provider.id, monday);
      expect(after.some((s) => s.start === slot.start)).toBe(false);
    }
  });

  it('overlapping 60-minute holds racing across both processes never overlap in SQL', { timeout: 150_000 }, async () => {
    const clients = await createClients(callers[0]!, 30);
    const seed = Number(process.env.RACE_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    for (const [round, weekday] of [2, 3, 4, 5].entries()) {
      const provider: Party = await createProviderWithHours(callers[round % 2]!);
      const day = upcomingDate(weekday);
      const slots = await slotsOn(via(round, clients[0]!.apiKey), provider.id, day);
      expect(slots).toHaveLength(29);
      const attempts = await raceHolds(
        clients.map((c, i) => ({
          call: via(i + round, c.apiKey),
          providerId: provider.id,
          start: slots[Math.floor(random() * slots.length)]!.start,
          durationMinutes: 60,
          clientIndex: i,
        })),
      );
      const context = `seed ${seed}, round ${round}: ${describeAttempts(attempts)}`;
      expect(attempts.every((a) => a.result.status === 201 || a.result.status === 409), context).toBe(true);
      for (const a of attempts.filter((x) => x.result.status === 409)) expectConflictProblem(a);
      const won = attempts.filter((a) => a.result.status === 201);
      expect(won.length, context).toBeGreaterThanOrEqual(1);
      expect(won.length, context).toBeLessThanOrEqual(8);
      expect(await overlappingLivePairs(sql, provider.id), context).toEqual([]);
      await verifyRace(sql, provider.id, clients, attempts);
    }
  });
});
