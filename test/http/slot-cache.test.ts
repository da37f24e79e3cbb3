/**
 * The slot cache never changes an answer: after random sequences of holds,
 * confirmations, cancellations, schedule edits, overrides, clock advances and
 * holds lapsing in real time (without a version bump), GET /v1/slots (cached)
 * equals listSlots computed afresh with no cache. Embedded database; the
 * app's clock is pinned and moved by the test.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/features/context.js';
import { listSlots } from '../../src/features/slots/slots.js';
import { strongEtag } from '../../src/http/etag.js';
import { createUser, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { plusDays, providerAlwaysOpen } from './booking-helpers.js';

const ZONE = 'Europe/Berlin';
const HOUR_MS = 3600_000;
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

type Op =
  | { kind: 'hold'; pick: number; duration: 15 | 30 | 60; client: number }
  | { kind: 'confirm' | 'cancel'; pick: number }
  | { kind: 'schedule'; start: number; end: number }
  | { kind: 'override'; day: number; start: number; end: number }
  | { kind: 'advance'; minutes: number }
  | { kind: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), pick: fc.nat(400), duration: fc.constantFrom(15 as const, 30 as const, 60 as const), client: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('schedule' as const), start: fc.integer({ min: 0, max: 11 }), end: fc.integer({ min: 12, max: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('override' as const), day: fc.nat(2), start: fc.integer({ min: 0, max: 11 }), end: fc.integer({ min: 12, max: 24 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.constantFrom(0, 15, 40, 180, 600) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(300, 1_100) }) },
);

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('slot cache: cached answers equal fresh ones', () => {
  let server: TestServer;
  let now = Date.now();
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    // Holds lapse after a second (real time, the database's clock); the notice (an hour) lies inside the queried days.
    server = await startTestServer({ HOLD_TTL_SECONDS: '1', MIN_NOTICE_MINUTES: '60' }, { clock });
  });
  afterAll(async () => server?.close());

  const fresh = (query: Parameters<typeof listSlots>[1]) =>
    listSlots({ ...server.ctx, slotCache: undefined }, query).then((view) => JSON.stringify(view));
  const metrics = async () => (await server.app.inject({ method: 'GET', url: '/metrics' })).body;

  /** Asks through HTTP (cached) between two fresh computations: a hold may lapse in between, so either may be the truth. */
  async function expectSameAsFresh(call: Awaited<ReturnType<typeof createUser>>['call'], query: Parameters<typeof listSlots>[1]) {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    for (let i = 0; i < 2; i++) {
      const before = await fresh(query);
      const res = await call('GET', `/v1/slots?${qs}`);
      const after = await fresh(query);
      expect(res.statusCode, res.body).toBe(200);
      expect([before, after], `${qs}`).toContain(res.body);
      // Cached answers keep their rendered body and tag together: the tag is always the body's.
      expect(res.headers.etag).toBe(strongEtag(res.body));
    }
  }

  it('for random sequences of changes, clock moves and lapsing holds', { timeout: 240_000 }, async () => {
    const hitsBefore = sample(await metrics(), 'slot_cache_lookups_total{level="memory",result="hit"}');
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 8 }), async (ops) => {
        now = Date.now();
        const provider = await providerAlwaysOpen(server, ZONE);
        const clients = await Promise.all([0, 1, 2].map(() => createUser(server, 'client')));
        const today = new Date(now).toISOString().slice(0, 10);
        const queries = [
          { providerId: provider.id, from: today, to: plusDays(today, 2) },
          { providerId: provider.id, from: today, to: plusDays(today, 1), duration: 60, timeZone: 'America/New_York' },
          { providerId: provider.id, from: new Date(now).toISOString(), to: new Date(now + 30 * HOUR_MS).toISOString(), duration: 30 },
          // The same cache entry as the one above (a range of instants), rendered in another zone.
          { providerId: provider.id, from: new Date(now).toISOString(), to: new Date(now + 30 * HOUR_MS).toISOString(), duration: 30, timeZone: 'Asia/Kathmandu' },
        ];
        const bookings: string[] = [];
        for (const op of ops) {
          if (op.kind === 'hold') {
            const open = JSON.parse(await fresh({ ...queries[0]!, duration: op.duration })).slots as { start: string }[];
            if (open.length > 0) {
              const res = await clients[op.client]!.call('POST', '/v1/bookings', { providerId: provider.id, start: open[op.pick % open.length]!.start, duration: op.duration });
              if (res.statusCode === 201) bookings.push(res.json().id);
            }
          } else if (op.kind === 'confirm' || op.kind === 'cancel') {
            const id = bookings[op.pick % Math.max(1, bookings.length)];
            if (id) await server.app.inject({ method: 'POST', url: `/v1/bookings/${id}/${op.kind}`, headers: { authorization: `Bearer test-admin-key-0123456789abcdef`, 'content-type': 'application/json' }, payload: '{}' });
          } else if (op.kind === 'schedule') {
            const weekly = DAYS.map((day) => ({ day, start: hh(op.start), end: hh(op.end) }));
            expect((await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: ZONE, weekly })).statusCode).toBe(200);
          } else if (op.kind === 'override') {
            const date = plusDays(today, op.day);
            const res = await provider.call('PUT', `/v1/providers/${provider.id}/overrides/${date}`, { windows: [{ start: hh(op.start), end: hh(op.end) }] });
            expect(res.statusCode, res.body).toBe(200);
          } else if (op.kind === 'advance') {
            now += op.minutes * 60_000;
          } else if ('ms' in op) {
            await new Promise((r) => setTimeout(r, op.ms));
          }
          for (const query of queries) await expectSameAsFresh(clients[0]!.call, query);
        }
      }),
      { numRuns: 10 },
    );
    // The comparison is only worth something if the cache answered.
    expect(sample(await metrics(), 'slot_cache_lookups_total{level="memory",result="hit"}') - hitsBefore).toBeGreaterThan(50);
  });

  it('a hold that lapses frees its slot on the next request, though no version moved', async () => {
    now = Date.now();
    const provider = await providerAlwaysOpen(server, ZONE);
    const client = await createUser(server, 'client');
    const day = upcomingDate(3, 2);
    const url = `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}`;
    const first = (await client.call('GET', url)).json().slots;
    const held = await client.call('POST', '/v1/bookings', { providerId: provider.id, start: first[4].start, duration: 15 });
    expect(held.statusCode, held.body).toBe(201);
    const version = async () => (await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [provider.id])).rows[0]!.v;
    const v1 = await version();
    expect((await client.call('GET', url)).json().slots).toHaveLength(first.length - 1);
    expect((await client.call('GET', url)).json().slots).toHaveLength(first.length - 1); // a hit
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await client.call('GET', url)).json().slots).toEqual(first);
    expect(await version()).toBe(v1);
  });

  it('the minimum notice moves with the clock on cached answers', async () => {
    now = Date.now();
    const provider = await providerAlwaysOpen(server, ZONE);
    const client = await createUser(server, 'client');
    const today = new Date(now).toISOString().slice(0, 10);
    const url = `/v1/slots?providerId=${provider.id}&from=${today}&to=${plusDays(today, 1)}`;
    const first = await client.call('GET', url);
    const before = first.json().slots as { start: string }[];
    expect((await client.call('GET', url, undefined, { 'if-none-match': first.headers.etag as string })).statusCode).toBe(304);
    const hits = sample(await metrics(), 'slot_cache_lookups_total{level="memory",result="hit"}');
    now += 30 * 60_000;
    // The old tag no longer matches: the kept render belongs to the old cut-off, not to the entry alone.
    const moved = await client.call('GET', url, undefined, { 'if-none-match': first.headers.etag as string });
    expect(moved.statusCode).toBe(200);
    expect(moved.headers.etag).not.toBe(first.headers.etag);
    const after = moved.json().slots as { start: string }[];
    expect(sample(await metrics(), 'slot_cache_lookups_total{level="memory",result="hit"}')).toBe(hits + 1);
    expect(after).toEqual(before.filter((s) => Date.parse(s.start) >= now + HOUR_MS));
    expect(after.length).toBe(before.length - 2);
    expect((await client.call('GET', url, undefined, { 'if-none-match': moved.headers.etag as string })).statusCode).toBe(304);
  });
});
