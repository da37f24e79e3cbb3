/**
 * The team races of the fault storm (cluster.test.ts, scenario 1), beside the
 * storm on one provider's time and through the same kill -9:
 *
 * - round robin: three equal hosts, clients of their own (a client's holds take
 *   turns, so sharing them would slow the main storm), every request asking for
 *   a start of its own (30-minute slots on a 30-minute grid, 08:00-20:00 UTC, on
 *   days nothing else uses), confirmed and never cancelled. Every host is free
 *   for every hold, so the rule (the fewest live bookings first, under the
 *   type's lock) decides each one: see roundRobinOutOfTurn.
 * - seats: a 4-seat type with two occurrences and twelve clients, each going
 *   for both once and cancelling about a third of what it gets: about six
 *   holds at once on four seats, again as cancels free seats.
 */
import { expect } from 'vitest';
import { createParty, prng, type Party } from '../concurrency/race.js';
import type { ClusterSql } from '../helpers/cluster.js';
import { describe as describeOutcome, isAnswer } from './client.js';
import {
  idempotencyViolations,
  liveBookingsPerHost,
  lostConfirms,
  overfullOccurrences,
  overlappingLiveBlocks,
  roundRobinOutOfTurn,
} from './invariants.js';
import { histogram, startStorm, summary, type RequestLog, type StormResult, type StormTarget } from './storm.js';

const RR_CLIENTS = 6;
const RR_ITERATIONS = 12;
const SEAT_CLIENTS = 12;
export const SEATS = 4;
const SEAT_OCCURRENCES = 2;
const WEEK = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

type AdminHttp = Parameters<typeof createParty>[0];

export interface TeamWorld {
  rrHosts: Party[];
  seatHost: Party;
  rrTypeId: string;
  seatTypeId: string;
  rrClients: Party[];
  seatClients: Party[];
}

/** The hosts (08:00-20:00 UTC every day), the two event types and the clients of the team races. */
export async function createTeamWorld(http: AdminHttp): Promise<TeamWorld> {
  const rrHosts = await Promise.all([0, 1, 2].map(() => createParty(http, 'provider', { timeZone: 'UTC' })));
  const seatHost = await createParty(http, 'provider', { timeZone: 'UTC' });
  for (const p of [...rrHosts, seatHost]) {
    const res = await http('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly: WEEK.map((day) => ({ day, start: '08:00', end: '20:00' })) });
    expect(res.status, res.text).toBe(200);
  }
  const typeOf = async (slug: string, spec: Record<string, unknown>) => {
    const res = await http('POST', '/v1/event-types', { slug: `${slug}-${Date.now().toString(36)}`, minimumNotice: 0, ...spec });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  return {
    rrHosts,
    seatHost,
    rrTypeId: await typeOf('fault-round-robin', {
      title: 'Storm round robin', durations: [30], slotInterval: 30, assignment: 'roundRobin', hosts: rrHosts.map((h) => ({ providerId: h.id })),
    }),
    seatTypeId: await typeOf('fault-seats', { title: 'Storm seats', durations: [60], seats: SEATS, hosts: [{ providerId: seatHost.id }] }),
    rrClients: await Promise.all(Array.from({ length: RR_CLIENTS }, () => createParty(http, 'client'))),
    seatClients: await Promise.all(Array.from({ length: SEAT_CLIENTS }, () => createParty(http, 'client'))),
  };
}

interface TeamStormOptions {
  targets: () => StormTarget[];
  seed: number;
  /** A UTC date (YYYY-MM-DD) n days from now. */
  dateIn: (days: number) => string;
}

export function startRoundRobinStorm(world: TeamWorld, o: TeamStormOptions) {
  const starts: string[] = [];
  for (let d = 30; starts.length < RR_CLIENTS * RR_ITERATIONS; d++) for (let m = 8 * 60; m < 20 * 60; m += 30) {
    starts.push(`${o.dateIn(d)}T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z`);
  }
  const keyPrefix = `rr${o.seed}`;
  const storm = startStorm({
    hold: (start) => ({ eventTypeId: world.rrTypeId, start }),
    clients: world.rrClients,
    starts: (c) => starts.slice(c * RR_ITERATIONS, (c + 1) * RR_ITERATIONS),
    iterationsPerClient: RR_ITERATIONS,
    targets: o.targets,
    random: prng(o.seed + 1),
    keyPrefix,
    confirmRate: 1,
  });
  return { ...storm, keyPrefix };
}

export function startSeatStorm(world: TeamWorld, o: TeamStormOptions) {
  const starts = Array.from({ length: SEAT_OCCURRENCES }, (_, i) => `${o.dateIn(40)}T${String(9 + 2 * i).padStart(2, '0')}:00:00Z`);
  const keyPrefix = `seat${o.seed}`;
  const storm = startStorm({
    hold: (start) => ({ eventTypeId: world.seatTypeId, start }),
    clients: world.seatClients,
    starts,
    iterationsPerClient: SEAT_OCCURRENCES,
    targets: o.targets,
    random: prng(o.seed + 2),
    keyPrefix,
  });
  /** Resolves once each seat client has had an answer (the race is under way on every process). */
  const underWay = async (boundMs: number) => {
    for (const deadline = Date.now() + boundMs; storm.progress.requests < SEAT_CLIENTS && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  };
  return { ...storm, keyPrefix, underWay };
}

export interface TeamRun {
  rr: StormResult;
  rrKeyPrefix: string;
  seats: StormResult;
  seatKeyPrefix: string;
  seed: number;
  killedAt: number;
}

/** One JSON line per race, for the suite's figures. */
export async function teamFigures(sql: ClusterSql, world: TeamWorld, run: TeamRun): Promise<string[]> {
  const perHost = await liveBookingsPerHost(sql, world.rrTypeId, world.rrHosts.map((h) => h.id));
  const { rows: perOccurrence } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bookings WHERE event_type_id = $1
        AND (status = 'confirmed' OR (status = 'held' AND expires_at > now())) GROUP BY occurrence ORDER BY occurrence`,
    [world.seatTypeId],
  );
  const after = (r: StormResult) => r.log.filter((x) => x.endedAt > run.killedAt).length;
  return [
    summary('round robin', run.rr, { seed: run.seed, requestsEndedAfterTheKill: after(run.rr), liveBookingsPerHost: perHost }),
    summary('seats', run.seats, { seed: run.seed, requestsEndedAfterTheKill: after(run.seats), liveSeatsPerOccurrence: perOccurrence.map((o) => o.n) }),
  ];
}

/**
 * The team races' invariants, in SQL and in what the clients were told: the survivors answered everything
 * (`odd` as for the main storm), replays matched, no host's time taken twice, no occurrence over its seats,
 * one booking per key, nothing confirmed lost; round robin: every answered hold a 201, each hold to a host
 * with the fewest, and so N live bookings at N/3 a host rounded down or up.
 */
export async function expectTeamInvariants(
  sql: ClusterSql,
  world: TeamWorld,
  run: TeamRun,
  survivor: (r: RequestLog) => boolean,
  odd: (r: RequestLog) => boolean,
): Promise<void> {
  for (const [name, r] of [['round robin', run.rr], ['seats', run.seats]] as const) {
    const context = `${name}, seed ${run.seed}: ${JSON.stringify(histogram(r.log))}`;
    expect(r.log.filter((x) => survivor(x) && odd(x)).map((x) => `${x.target} ${x.kind} ${describeOutcome(x.outcome)}`), context).toEqual([]);
    expect(r.replayMismatches, context).toEqual([]);
    expect(r.log.filter((x) => x.kind === 'hold' && isAnswer(x.outcome) && x.outcome.status === 201).length, context).toBeGreaterThan(0);
  }
  const hostIds = world.rrHosts.map((h) => h.id);
  expect(await overlappingLiveBlocks(sql, [...hostIds, world.seatHost.id])).toEqual([]);
  expect(await overfullOccurrences(sql, world.seatTypeId, SEATS)).toEqual([]);
  expect(await idempotencyViolations(sql, { eventTypeId: world.rrTypeId }, run.rr, run.rrKeyPrefix)).toEqual([]);
  expect(await idempotencyViolations(sql, { eventTypeId: world.seatTypeId }, run.seats, run.seatKeyPrefix)).toEqual([]);
  expect(await lostConfirms(sql, [...run.rr.confirmedIds, ...run.seats.confirmedIds])).toEqual([]);

  // Every answered round-robin hold was a 201 (each start is free at every host), or a key left in flight by the kill.
  const refused = run.rr.log.filter((x) => x.kind === 'hold' && isAnswer(x.outcome) && x.outcome.status !== 201
    && !(x.outcome.status === 409 && x.outcome.body?.code === 'idempotency_in_flight'));
  expect(refused.map((x) => `${x.target} ${describeOutcome(x.outcome)}`)).toEqual([]);
  expect(await roundRobinOutOfTurn(sql, world.rrTypeId, hostIds)).toEqual([]);
  const perHost = await liveBookingsPerHost(sql, world.rrTypeId, hostIds);
  const total = perHost.reduce((a, b) => a + b, 0);
  const answeredIds = new Set([...run.rr.holdIdsByKey.values()].flatMap((ids) => [...ids]));
  expect(total, `round robin: ${perHost.join('/')}`).toBeGreaterThanOrEqual(answeredIds.size);
  const even = Math.floor(total / 3);
  expect([...perHost].sort((a, b) => a - b), `round robin: ${perHost.join('/')}`)
    .toEqual([0, 1, 2].map((i) => even + (i >= 3 - (total % 3) ? 1 : 0)));
}

/** Every host of the team races, for the checks after all the faults. */
export const teamHostIds = (world: TeamWorld) => [...world.rrHosts.map((h) => h.id), world.seatHost.id];
