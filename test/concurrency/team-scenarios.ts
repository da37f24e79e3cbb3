/**
 * Races on team event types, run through one process (event-type-races.test.ts)
 * and spread over two server processes on one PostgreSQL (event-type-processes.test.ts):
 * round robin's exact fairness and seats' exact capacity under concurrency.
 */
import { expect } from 'vitest';
import { createClients, createProviderWithHours } from './race.js';
import { histogram, LIVE_SQL, raceAll, typeSlotStarts, type RaceEnv } from './event-type-scenarios.js';

/** A team type over these hosts (a host is its id, or `{ providerId, weight?, priority? }`); 15-minute bookings unless `spec` says otherwise. */
async function teamType(env: RaceEnv, hosts: (string | Record<string, unknown>)[], spec: Record<string, unknown>): Promise<string> {
  const res = await env.admin('POST', '/v1/event-types', {
    slug: `team-race-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    title: 'Team race', minimumNotice: 0, durations: [15],
    hosts: hosts.map((h) => (typeof h === 'string' ? { providerId: h } : h)), ...spec,
  });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

/**
 * n holds at once on n distinct free starts of a round-robin type over hosts of these weights; every hold
 * must be a 201. Answers each host's live bookings of the type in SQL, in the order of `weights`.
 */
async function roundRobinCountsAfterDistinctHolds(env: RaceEnv, weights: number[], n: number): Promise<{ counts: number[]; context: string }> {
  const hosts = await Promise.all(weights.map(() => createProviderWithHours(env.admin)));
  const typeId = await teamType(env, hosts.map((h, i) => ({ providerId: h.id, weight: weights[i] })), { assignment: 'roundRobin' });
  const clients = await createClients(env.admin, n);
  const starts = await typeSlotStarts(env.via(0, clients[0]!.apiKey), typeId, env.day);
  expect(starts.length).toBeGreaterThanOrEqual(n);
  const results = await raceAll(clients.map((c, i) => () => env.via(i, c.apiKey)('POST', '/v1/bookings', { eventTypeId: typeId, start: starts[i] })));
  const context = histogram(results);
  expect(results.filter((r) => r.status === 201), context).toHaveLength(n);
  const { rows } = await env.sql.query<{ provider_id: string; n: number }>(
    `SELECT provider_id, count(*)::int AS n FROM bookings WHERE event_type_id = $1 AND ${LIVE_SQL} GROUP BY provider_id`,
    [typeId],
  );
  const byHost = new Map(rows.map((r) => [r.provider_id, r.n]));
  return { counts: hosts.map((h) => byHost.get(h.id) ?? 0), context };
}

/** 30 holds at once on 30 distinct free starts over three equal hosts: exactly 10 each, in answers and in SQL. */
export async function roundRobinFairnessRace(env: RaceEnv): Promise<void> {
  const { counts, context } = await roundRobinCountsAfterDistinctHolds(env, [100, 100, 100], 30);
  expect(counts, context).toEqual([10, 10, 10]);
}

/**
 * 9 holds at once on 9 distinct free starts over two hosts weighted 1 : 2: exactly 3 and 6. The lock per
 * event type makes the nine choices one after the other, and smallest count ÷ weight, then the host booked
 * longest ago, lands on 3 : 6 whatever the order the requests arrive in.
 */
export async function roundRobinWeightedRace(env: RaceEnv): Promise<void> {
  const { counts, context } = await roundRobinCountsAfterDistinctHolds(env, [1, 2], 9);
  expect(counts, context).toEqual([3, 6]);
}

/** Two free hosts and five holds at once on one start: exactly two 201s (one per host) and three 409 slot_taken. */
export async function roundRobinOneStartRace(env: RaceEnv): Promise<void> {
  const hosts = await Promise.all([0, 1].map(() => createProviderWithHours(env.admin)));
  const typeId = await teamType(env, hosts.map((h) => h.id), { assignment: 'roundRobin' });
  const clients = await createClients(env.admin, 5);
  const start = (await typeSlotStarts(env.via(0, clients[0]!.apiKey), typeId, env.day))[4]!;
  const results = await raceAll(clients.map((c, i) => () => env.via(i, c.apiKey)('POST', '/v1/bookings', { eventTypeId: typeId, start })));
  const context = histogram(results);
  const won = results.filter((r) => r.status === 201);
  expect(won, context).toHaveLength(2);
  expect(new Set(won.map((r) => r.body.providerId)).size).toBe(2);
  for (const r of results.filter((x) => x.status !== 201)) {
    expect(r.status, context).toBe(409);
    expect(r.body.code).toBe('slot_taken');
  }
}

/** 30 holds at once on one start of a 4-seat type: exactly four 201s and twenty-six 409s; four live seats in SQL. */
export async function seatsRace(env: RaceEnv): Promise<void> {
  const host = await createProviderWithHours(env.admin);
  const typeId = await teamType(env, [host.id], { seats: 4, durations: [60] });
  const clients = await createClients(env.admin, 30);
  const start = (await typeSlotStarts(env.via(0, clients[0]!.apiKey), typeId, env.day))[2]!;
  const results = await raceAll(clients.map((c, i) => () => env.via(i, c.apiKey)('POST', '/v1/bookings', { eventTypeId: typeId, start })));
  const context = histogram(results);
  expect(results.filter((r) => r.status === 201), context).toHaveLength(4);
  expect(results.filter((r) => r.status === 409), context).toHaveLength(26);
  const { rows } = await env.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bookings WHERE event_type_id = $1 AND ${LIVE_SQL}`, [typeId],
  );
  expect(rows[0]!.n, context).toBe(4);
}
