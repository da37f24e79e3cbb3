/**
 * The event-type races of event-type-races.test.ts spread over two, then
 * three, real server processes on one PostgreSQL database: the perDay limit,
 * the no-overlap guarantee of reschedules, round robin's exact counts and
 * seats' exact capacity must hold across processes, not only across one
 * process's pool. The i-th request goes to process i mod n. PostgreSQL only
 * (TEST_DATABASE_URL), like two-processes.test.ts.
 * The processes run on the real clock: days are taken weeks ahead of today.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startServersOnOneDatabase, type ServerProcess, type ServersOnOneDatabase } from '../helpers/server-processes.js';
import { perDayRace, rescheduleRace, type RaceEnv } from './event-type-scenarios.js';
import { http, type Sql } from './race.js';
import { roundRobinFairnessRace, roundRobinOneStartRace, roundRobinWeightedRace, seatsRace } from './team-scenarios.js';
import { clientOverlapRace } from './client-overlap-scenarios.js';

describe.skipIf(!process.env.TEST_DATABASE_URL).each([2, 3])('event type races over %i server processes on one PostgreSQL database', (count) => {
  let cluster: ServersOnOneDatabase | null = null;
  let servers: ServerProcess[] = [];
  // The checks' own connection, beside the servers' pools.
  const sql: Sql = { query: (text, params) => cluster!.sql.query(text, params) };

  beforeAll(async () => {
    cluster = await startServersOnOneDatabase(count);
    servers = cluster.servers;
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const env = (day: string): RaceEnv => ({
    admin: http(servers[0]!.baseUrl, PROCESS_ADMIN_KEY),
    via: (i, key) => http(servers[i % servers.length]!.baseUrl, key),
    sql,
    day,
  });

  it('perDay 3: twenty holds on one day spread over the processes give exactly three 201s and seventeen 422 limit_reached', { timeout: 120_000 }, async () => {
    await perDayRace(env(upcomingDate(2)));
  });

  it('ten reschedules onto one free time spread over the processes: exactly one 200 and nine 409 slot_taken', { timeout: 120_000 }, async () => {
    await rescheduleRace(env(upcomingDate(3)));
  });

  it('round robin: thirty holds on thirty slots over three equal hosts give exactly ten each', { timeout: 120_000 }, async () => {
    await roundRobinFairnessRace(env(upcomingDate(4)));
  });

  it('round robin: two free hosts and five holds on one start give exactly two 201s', { timeout: 120_000 }, async () => {
    await roundRobinOneStartRace(env(upcomingDate(4, 21)));
  });

  it('round robin: nine holds on nine slots over hosts weighted 1 : 2 give exactly 3 and 6', { timeout: 120_000 }, async () => {
    await roundRobinWeightedRace(env(upcomingDate(4, 35)));
  });

  it('seats: thirty holds on a 4-seat start give exactly four 201s', { timeout: 120_000 }, async () => {
    await seatsRace(env(upcomingDate(4, 28)));
  });

  it('one client, ten providers, overlapping times, spread over the processes: exactly one 201 and nine 409 client_overlap', { timeout: 120_000 }, async () => {
    await clientOverlapRace(env(upcomingDate(5, 35)));
  });
});
