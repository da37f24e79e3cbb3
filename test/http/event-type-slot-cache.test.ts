/**
 * The slot cache never changes an event type's answer either: after random
 * holds, confirmations, cancellations, schedule edits, edits of the type
 * (buffers, grid, limits, window), clock moves and holds lapsing in real time,
 * GET /v1/slots?eventTypeId=… (cached) equals the answer computed afresh with
 * no cache. Embedded database; the app's clock is pinned and moved by the test.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/features/context.js';
import { renderEventTypeSlots, type EventTypeSlotsQuery } from '../../src/features/slots/event-type-slots.js';
import { strongEtag } from '../../src/http/etag.js';
import { createUser } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { plusDays, providerAlwaysOpen } from './booking-helpers.js';

const ZONE = 'Europe/Berlin';
const HOUR_MS = 3600_000;
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

type Op =
  | { kind: 'hold'; pick: number; client: number }
  | { kind: 'confirm' | 'cancel'; pick: number }
  | { kind: 'schedule'; start: number; end: number }
  | { kind: 'patch'; bufferAfter: number; slotInterval: number; perDay: number; windowDays: number }
  | { kind: 'advance'; minutes: number }
  | { kind: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), pick: fc.nat(400), client: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('schedule' as const), start: fc.integer({ min: 0, max: 11 }), end: fc.integer({ min: 12, max: 24 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('patch' as const),
      bufferAfter: fc.constantFrom(0, 10, 45),
      slotInterval: fc.constantFrom(15, 20, 45),
      perDay: fc.integer({ min: 1, max: 4 }),
      windowDays: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.constantFrom(0, 15, 40, 180, 600) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(300, 1_100) }) },
);

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

describe('slot cache: cached event-type answers equal fresh ones', () => {
  let server: TestServer;
  let now = Date.now();
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    server = await startTestServer({ HOLD_TTL_SECONDS: '1' }, { clock });
  });
  afterAll(async () => server?.close());

  const fresh = async (query: EventTypeSlotsQuery) =>
    (await renderEventTypeSlots({ ...server.ctx, slotCache: undefined }, null, query, (view) => ({ body: JSON.stringify(view), etag: '' }))).body.toString();

  async function expectSameAsFresh(call: Awaited<ReturnType<typeof createUser>>['call'], query: EventTypeSlotsQuery) {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    for (let i = 0; i < 2; i++) {
      const before = await fresh(query);
      const res = await call('GET', `/v1/slots?${qs}`);
      const after = await fresh(query);
      expect(res.statusCode, res.body).toBe(200);
      // A hold may lapse between the two fresh computations: either may be the truth.
      expect([before, after], qs).toContain(res.body);
      expect(res.headers.etag).toBe(strongEtag(res.body));
    }
  }

  it('for random sequences of changes, type edits, clock moves and lapsing holds', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 8 }), async (ops) => {
        now = Date.now();
        const provider = await providerAlwaysOpen(server, ZONE);
        const clients = await Promise.all([0, 1, 2].map(() => createUser(server, 'client')));
        const created = await provider.call('POST', '/v1/event-types', {
          slug: `cached-${Math.random().toString(36).slice(2)}`, title: 'Cached', durations: [30, 60], minimumNotice: 60,
          bufferBefore: 10, bufferAfter: 10, limits: { perDay: 3 }, bookingWindow: { type: 'rolling', days: 2 },
          public: true,
        });
        expect(created.statusCode, created.body).toBe(201);
        const typeId = created.json().id as string;
        const today = new Date(now).toISOString().slice(0, 10);
        const queries: EventTypeSlotsQuery[] = [
          { eventTypeId: typeId, from: today, to: plusDays(today, 3) },
          { eventTypeId: typeId, from: today, to: plusDays(today, 2), duration: 60, timeZone: 'America/New_York' },
          { eventTypeId: typeId, from: new Date(now).toISOString(), to: new Date(now + 40 * HOUR_MS).toISOString() },
        ];
        const bookings: string[] = [];
        for (const op of ops) {
          if (op.kind === 'hold') {
            const open = JSON.parse(await fresh(queries[0]!)).slots as { start: string }[];
            if (open.length > 0) {
              const res = await clients[op.client]!.call('POST', '/v1/bookings', { eventTypeId: typeId, start: open[op.pick % open.length]!.start });
              expect([201, 429], res.body).toContain(res.statusCode); // a listed slot can be held (or the client's hold cap is full)
              if (res.statusCode === 201) bookings.push(res.json().id);
            }
          } else if (op.kind === 'confirm' || op.kind === 'cancel') {
            const id = bookings[op.pick % Math.max(1, bookings.length)];
            if (id) await server.app.inject({ method: 'POST', url: `/v1/bookings/${id}/${op.kind}`, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, payload: '{}' });
          } else if (op.kind === 'schedule') {
            const weekly = DAYS.map((day) => ({ day, start: hh(op.start), end: hh(op.end) }));
            expect((await provider.call('PUT', `/v1/providers/${provider.id}/schedule`, { timeZone: ZONE, weekly })).statusCode).toBe(200);
          } else if (op.kind === 'patch') {
            const res = await provider.call('PATCH', `/v1/event-types/${typeId}`, {
              bufferAfter: op.bufferAfter, slotInterval: op.slotInterval, limits: { perDay: op.perDay },
              bookingWindow: { type: 'rolling', days: op.windowDays },
            });
            expect(res.statusCode, res.body).toBe(200);
          } else if (op.kind === 'advance') {
            now += op.minutes * 60_000;
          } else if (op.kind === 'wait') {
            await new Promise((r) => setTimeout(r, op.ms));
          }
          for (const query of queries) await expectSameAsFresh(clients[0]!.call, query);
        }
      }),
      { numRuns: 8 },
    );
  });
});
