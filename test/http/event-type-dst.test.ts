import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Slots of an event type across the two DST changes of America/New_York in
 * 2035, over HTTP. The host works 00:00-06:00 every day. The grid rule: a
 * start is on the grid iff its local wall-clock reading is local midnight + k ×
 * slotInterval; both occurrences of a repeated wall time count, and a wall
 * time that does not exist never occurs. Working time is real elapsed time
 * (01:00-05:00 on a spring-forward night is 3 hours).
 *
 *   2035-03-11 (spring forward): 02:00 EST (-05:00) becomes 03:00 EDT (-04:00);
 *     00:00-06:00 local = 05:00Z-10:00Z, five hours.
 *   2035-11-04 (fall back): 02:00 EDT (-04:00) becomes 01:00 EST (-05:00), so
 *     01:00-02:00 happens twice; 00:00-06:00 local = 04:00Z-11:00Z, seven hours.
 *
 * Every expected start is written out by hand with its offset.
 */
type User = Awaited<ReturnType<typeof createUser>>;

const NOW = Date.parse('2035-01-01T00:00:00Z');
const ZONE = 'America/New_York';
const EVERY_DAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

describe('event type slots across DST (America/New_York, 00:00-06:00 every day)', () => {
  let server: TestServer;
  let host: User;
  let client: User;
  let slugCounter = 0;

  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => NOW } });
    host = await createUser(server, 'provider', { timeZone: ZONE });
    client = await createUser(server, 'client');
    const weekly = EVERY_DAY.map((day) => ({ day, start: '00:00', end: '06:00' }));
    const res = await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: ZONE, weekly });
    expect(res.statusCode, res.body).toBe(200);
  });
  afterAll(async () => server?.close());

  async function typeWithInterval(interval: number): Promise<string> {
    const res = await host.call('POST', '/v1/event-types', {
      slug: `dst-${interval}-${++slugCounter}`, title: 'Night shift', durations: [interval], slotInterval: interval, minimumNotice: 0,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  }

  async function slotsOf(eventTypeId: string, date: string) {
    const res = await client.call('GET', `/v1/slots?eventTypeId=${eventTypeId}&from=${date}&to=${date}&timeZone=${encodeURIComponent(ZONE)}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().slots as { start: string; end: string }[];
  }

  describe('2035-03-11, spring forward (02:00-03:00 does not exist)', () => {
    it('interval 20: 00:00 .. 01:40 EST, then 03:00 .. 05:40 EDT; nothing at 02:xx', async () => {
      const t = await typeWithInterval(20);
      const slots = await slotsOf(t, '2035-03-11');
      expect(slots.map((s) => s.start)).toEqual([
        '2035-03-11T00:00:00-05:00', '2035-03-11T00:20:00-05:00', '2035-03-11T00:40:00-05:00',
        '2035-03-11T01:00:00-05:00', '2035-03-11T01:20:00-05:00', '2035-03-11T01:40:00-05:00',
        '2035-03-11T03:00:00-04:00', '2035-03-11T03:20:00-04:00', '2035-03-11T03:40:00-04:00',
        '2035-03-11T04:00:00-04:00', '2035-03-11T04:20:00-04:00', '2035-03-11T04:40:00-04:00',
        '2035-03-11T05:00:00-04:00', '2035-03-11T05:20:00-04:00', '2035-03-11T05:40:00-04:00',
      ]);
      // The last slot before the gap ends at the jump: 01:40 EST + 20 minutes is 03:00 EDT.
      expect(slots[5]!.end).toBe('2035-03-11T03:00:00-04:00');
    });

    it('interval 45: 00:00, 00:45, 01:30 EST, then 03:00, 03:45, 04:30, 05:15 EDT (02:15 does not exist)', async () => {
      const t = await typeWithInterval(45);
      const slots = await slotsOf(t, '2035-03-11');
      expect(slots.map((s) => s.start)).toEqual([
        '2035-03-11T00:00:00-05:00', '2035-03-11T00:45:00-05:00', '2035-03-11T01:30:00-05:00',
        '2035-03-11T03:00:00-04:00', '2035-03-11T03:45:00-04:00', '2035-03-11T04:30:00-04:00', '2035-03-11T05:15:00-04:00',
      ]);
      // 45 elapsed minutes from 01:30 EST cross the jump.
      expect(slots[2]!.end).toBe('2035-03-11T03:15:00-04:00');
      expect(slots.at(-1)!.end).toBe('2035-03-11T06:00:00-04:00');
    });

    it('a hold follows the same grid: 01:40 EST and 03:00 EDT are bookable, 03:10 EDT is off the grid', async () => {
      const t = await typeWithInterval(20);
      const c = await createUser(server, 'client');
      expect((await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-03-11T01:40:00-05:00' })).statusCode).toBe(201);
      expect((await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-03-11T03:00:00-04:00' })).statusCode).toBe(201);
      const off = await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-03-11T03:10:00-04:00' });
      expect(off.statusCode, off.body).toBe(422);
      expect(off.json().code).toBe('not_bookable');
      // Clean up: the host serves the other tests with a free night.
      for (const id of (await c.call('GET', '/v1/bookings?status=held')).json().data.map((b: { id: string }) => b.id)) {
        expect((await c.call('POST', `/v1/bookings/${id}/cancel`, {})).statusCode).toBe(200);
      }
    });
  });

  describe('2035-11-04, fall back (01:00-02:00 happens twice)', () => {
    it('interval 20: 00:00 .. 01:40 EDT, 01:00 .. 01:40 again in EST, then 02:00 .. 05:40 EST', async () => {
      const t = await typeWithInterval(20);
      const slots = await slotsOf(t, '2035-11-04');
      expect(slots.map((s) => s.start)).toEqual([
        '2035-11-04T00:00:00-04:00', '2035-11-04T00:20:00-04:00', '2035-11-04T00:40:00-04:00',
        '2035-11-04T01:00:00-04:00', '2035-11-04T01:20:00-04:00', '2035-11-04T01:40:00-04:00',
        '2035-11-04T01:00:00-05:00', '2035-11-04T01:20:00-05:00', '2035-11-04T01:40:00-05:00',
        '2035-11-04T02:00:00-05:00', '2035-11-04T02:20:00-05:00', '2035-11-04T02:40:00-05:00',
        '2035-11-04T03:00:00-05:00', '2035-11-04T03:20:00-05:00', '2035-11-04T03:40:00-05:00',
        '2035-11-04T04:00:00-05:00', '2035-11-04T04:20:00-05:00', '2035-11-04T04:40:00-05:00',
        '2035-11-04T05:00:00-05:00', '2035-11-04T05:20:00-05:00', '2035-11-04T05:40:00-05:00',
      ]);
      // 01:40 EDT + 20 minutes is the second 01:00.
      expect(slots[5]!.end).toBe('2035-11-04T01:00:00-05:00');
    });

    it('interval 45: 00:00, 00:45, 01:30 EDT, 01:30 EST again, then 02:15 .. 05:15 EST', async () => {
      const t = await typeWithInterval(45);
      const slots = await slotsOf(t, '2035-11-04');
      expect(slots.map((s) => s.start)).toEqual([
        '2035-11-04T00:00:00-04:00', '2035-11-04T00:45:00-04:00', '2035-11-04T01:30:00-04:00',
        '2035-11-04T01:30:00-05:00', '2035-11-04T02:15:00-05:00', '2035-11-04T03:00:00-05:00',
        '2035-11-04T03:45:00-05:00', '2035-11-04T04:30:00-05:00', '2035-11-04T05:15:00-05:00',
      ]);
      // The first 01:30 ends at 01:15 EST, 45 elapsed minutes later.
      expect(slots[2]!.end).toBe('2035-11-04T01:15:00-05:00');
      expect(slots.at(-1)!.end).toBe('2035-11-04T06:00:00-05:00');
    });

    it('a hold at either 01:30 is accepted; the second 01:20 is off a 45-minute grid', async () => {
      const t = await typeWithInterval(45);
      const c = await createUser(server, 'client');
      expect((await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-11-04T01:30:00-04:00' })).statusCode).toBe(201);
      expect((await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-11-04T01:30:00-05:00' })).statusCode).toBe(201);
      const off = await c.call('POST', '/v1/bookings', { eventTypeId: t, start: '2035-11-04T01:20:00-05:00' });
      expect(off.statusCode, off.body).toBe(422);
      expect(off.json().code).toBe('not_bookable');
      for (const id of (await c.call('GET', '/v1/bookings?status=held')).json().data.map((b: { id: string }) => b.id)) {
        expect((await c.call('POST', `/v1/bookings/${id}/cancel`, {})).statusCode).toBe(200);
      }
    });
  });

  it('an ordinary day next to each change keeps the plain grid (18 starts of 20 minutes in six hours)', async () => {
    const t = await typeWithInterval(20);
    for (const [date, offset] of [['2035-03-10', '-05:00'], ['2035-03-12', '-04:00'], ['2035-11-03', '-04:00'], ['2035-11-05', '-05:00']] as const) {
      const starts = (await slotsOf(t, date)).map((s) => s.start);
      expect(starts, date).toHaveLength(18);
      expect(starts[0]).toBe(`${date}T00:00:00${offset}`);
      expect(starts.at(-1)).toBe(`${date}T05:40:00${offset}`);
    }
  });
});
