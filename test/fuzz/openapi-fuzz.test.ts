/**
 * OpenAPI-driven fuzzing of the whole API, in process (inject), on a fresh
 * database seeded through the API.
 *
 * Every path + method of GET /openapi.json gets about FUZZ_REQUESTS / routes
 * generated requests (valid and broken paths, queries, headers, bodies; sent
 * by nobody, a garbage key, the seeded client C or provider P, or the
 * throwaway client T or provider Q; never the admin key). Every answer must
 * hold the properties in ./checks.ts: no 5xx, 4xx as problem+json, 2xx as
 * documented; plus contract oracles: no data of others in a 2xx, UTC instants,
 * list/slot/window rules, replays equal to the first answer. At the end the
 * rows of P, C and the admin must be as seeded (./world.ts explains the
 * throwaway pair).
 *
 * Reproduce a run: FUZZ_SEED=<the seed printed below> npx vitest run test/fuzz
 * (ids and "now" differ between runs, so a replay is close, not exact; the
 * counterexample fast-check prints is the request that failed).
 * FUZZ_REQUESTS=<n> changes the budget (default 1500); FUZZ_TRACE=<route part>
 * prints every request sent to matching routes with its answer.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import { checkAccess, checkContract, checkResponse, IdempotencyLedger, matchOperation, PropertyViolation, undocumented } from './checks.js';
import { operationsOf, type Schema } from './openapi.js';
import { Harvest, prepare, requestArb } from './requests.js';
import type { Hints } from './schema-arbitrary.js';
import { diffSnapshots, seedWorld, snapshot, type World } from './world.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const SEED = process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== ''
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 0x7fffffff);
/** FUZZ_TRACE=<part of a route, e.g. "POST /v1/bookings"> prints every request to matching routes. */
const TRACE = process.env.FUZZ_TRACE;
console.log(`[fuzz] FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS}`);

const server = await startTestServer();
const docResponse = await server.app.inject({ method: 'GET', url: '/openapi.json' });
const doc = docResponse.json() as Schema;
const ops = operationsOf(doc);
const world = await seedWorld(server);
const seeded = await snapshot(server, world);
const harvest = new Harvest();
const ledger = new IdempotencyLedger();
const perOperation = Math.max(1, Math.ceil(REQUESTS / Math.max(1, ops.length)));
const stats = new Map<string, Map<number, number>>();
let sent = 0;

const GOOD_ZONES = [
  'Europe/Berlin', 'UTC', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham', 'Australia/Lord_Howe', 'Etc/GMT+12', 'europe/berlin',
];
// Unknown zones (400) a quarter of the time.
const ZONES = [...GOOD_ZONES, ...GOOD_ZONES, 'Mars/Olympus_Mons', 'Europe/Atlantis', '+01:00', 'utc+1', 'Europe/Berlin '];

/** Interesting values by field name, so valid requests reach the business rules. */
function hintsFor(w: World): Hints {
  const p = w.pools;
  return (name, schema) => {
    switch (name) {
      case 'providerId':
        return [...p.providerIds, ...p.providerIds, ...p.providerIds, ...p.providerIds, ...p.ids];
      case 'clientId':
      case 'id':
        return p.ids;
      case 'start':
      case 'end':
      case 'expiresAt':
        return schema.format === 'date-time' ? [...p.slotStarts, ...p.rangeBounds] : null;
      case 'from':
      case 'to':
        return p.rangeBounds;
      case 'timeZone':
        return ZONES;
      case 'email':
        return [...p.emails, 'nobody@example.test', p.emails[0]!.toUpperCase()];
      case 'password':
        return [w.password, 'wrong password'];
      case 'token':
        return p.feedTokens;
      case 'date':
        return p.dates;
      case 'duration':
        return [15, 30, 45, 60, 90];
      case 'limit':
        return [1, 2, 200];
      case 'url':
      case 'calendarUrl':
        // Calendar URLs the fuzz server (private URLs not allowed) refuses without any network: no fetch leaves the test.
        return ['http://127.0.0.1:9/cal.ics', 'http://[::1]/cal.ics', 'http://10.0.0.1/cal.ics', 'webcal://169.254.169.254/x', 'ftp://127.0.0.1/x', 'not a url'];
      default:
        return null;
    }
  };
}
const hints = hintsFor(world);

describe('OpenAPI fuzz', () => {
  afterAll(async () => {
    const lines = [...stats].map(([id, byStatus]) =>
      `  ${id.padEnd(52)} ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    console.log(`[fuzz] ${sent} requests, FUZZ_SEED=${SEED}\n${lines.join('\n')}`);
    if (undocumented.size > 0) {
      console.log(`[fuzz] statuses the document does not list:\n${[...undocumented].map(([id, s]) => `  ${id}: ${[...s].join(', ')}`).join('\n')}`);
    }
    await server.close();
  });

  it('the OpenAPI document lists the routes of the contract', () => {
    const ids = ops.map((o) => o.id);
    for (const id of ['POST /v1/users', 'GET /v1/slots', 'POST /v1/bookings', 'POST /v1/bookings/{id}/confirm', 'DELETE /v1/api-keys/{id}']) {
      expect(ids).toContain(id);
    }
  });

  ops.forEach((op, index) => {
    it(`fuzz ${op.id}`, async () => {
      await fc.assert(
        fc.asyncProperty(requestArb(op, hints, world), async (req) => {
          const prepared = prepare(op, req, world, harvest);
          let res;
          try {
            res = await server.app.inject(prepared.inject);
          } catch (error) {
            throw new Error(`inject threw ${String(error)}\n  request ${prepared.describe}`);
          }
          sent += 1;
          if (TRACE && op.id.includes(TRACE)) console.log(`[fuzz] ${res.statusCode} ${prepared.describe}\n   -> ${res.body.slice(0, 200)}`);
          const byStatus = stats.get(op.id) ?? new Map<number, number>();
          byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
          stats.set(op.id, byStatus);
          // A method swap or a raw segment ("me") may reach another route: judge by the route that answered.
          // No route (a 405, or a 400 for a body refused while parsing, before routing) has only the generic problem.
          const route = matchOperation(ops, String(prepared.inject.method), String(prepared.inject.url));
          const served = route ?? op;
          try {
            checkResponse(route ?? { ...op, id: `${String(prepared.inject.method)} (no route)`, responses: { default: op.responses.default! } }, res);
            const caller = prepared.actor === 'none' || prepared.actor === 'garbage' || typeof req.auth === 'object'
              ? null
              : world.actors[prepared.actor].id;
            const { method, url, headers, payload } = prepared.inject;
            ledger.check(caller, String(method), String(url), headers ?? {}, payload as string | undefined, res);
            if (served === op) {
              checkAccess(op, res, caller, prepared.params);
              const query = new URL(String(prepared.inject.url), 'http://fuzz.invalid').searchParams;
              checkContract(op, res, query, { now: Date.now(), minNoticeMs: server.config.minNoticeMinutes * 60_000 });
            }
          } catch (error) {
            if (error instanceof PropertyViolation) error.message += `\n  request ${prepared.describe}`;
            throw error;
          }
          if (res.statusCode >= 200 && res.statusCode < 300 && /json/.test(String(res.headers['content-type']))) {
            harvest.collect(JSON.parse(res.body));
          }
          if (typeof res.headers.etag === 'string') harvest.add('etags', res.headers.etag);
        }),
        { seed: (SEED + index * 7919) | 0, numRuns: perOperation },
      );
    }, 60_000);
  });

  it('bad input changed nothing: the seeded rows of P, C and the admin are as they were', async () => {
    const now = await snapshot(server, world);
    expect(diffSnapshots(seeded, now)).toEqual([]);
  });
});
