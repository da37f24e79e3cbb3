import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type User = Awaited<ReturnType<typeof createUser>>;

// Pinned "now": Monday 2035-01-01 00:00 UTC; expected instants written out by hand.
const NOW = Date.parse('2035-01-01T00:00:00Z');
const MON = '2035-01-08';
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

describe('teams: round robin, collective, seats', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }, { clock: { now: () => NOW } });
  });
  afterAll(async () => server?.close());

  let n = 0;
  async function hostIn(zone: string, start = '09:00', end = '17:00') {
    const p = await createUser(server, 'provider', { timeZone: zone });
    const weekly = WEEKDAYS.map((day) => ({ day, start, end }));
    expect((await p.call('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: zone, weekly })).statusCode).toBe(200);
    return p;
  }
  async function typeOf(body: Record<string, unknown>) {
    const res = await admin(server)('POST', '/v1/event-types', { slug: `team-${++n}`, title: 'Team', durations: [30], minimumNotice: 0, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const clients = (count: number) => Promise.all(Array.from({ length: count }, () => createUser(server, 'client')));
  const hold = (c: User, body: Record<string, unknown>) => c.call('POST', '/v1/bookings', body);
  async function starts(query: string, c: User) {
    const res = await c.call('GET', `/v1/slots?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().slots as { start: string; seatsLeft?: number }[];
  }

  describe('round robin', () => {
    it('30 simultaneous holds on 30 free slots over three equal hosts: exactly 10 each', async () => {
      const hosts = await Promise.all([0, 1, 2].map(() => hostIn('Europe/Berlin')));
      // 15-minute bookings on the 15-minute grid: the 30 starts do not overlap, so every host can take every one of them.
      const type = await typeOf({ hosts: hosts.map((h) => ({ providerId: h.id })), assignment: 'roundRobin', durations: [15] });
      const free = (await starts(`eventTypeId=${type.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`, (await clients(1))[0]!)).map((s) => s.start);
      expect(free).toHaveLength(32); // 09:00 .. 16:45 every 15 minutes, any host
      const cs = await clients(30);
      const answers = await Promise.all(cs.map((c, i) => hold(c, { eventTypeId: type.id, start: free[i] })));
      expect(answers.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
      const perHost = new Map<string, number>();
      for (const r of answers) perHost.set(r.json().providerId, (perHost.get(r.json().providerId) ?? 0) + 1);
      expect([...perHost.values()]).toEqual([10, 10, 10]);
    });

    it('two free hosts and five simultaneous holds on one start: exactly two 201s and three 409s', async () => {
      const hosts = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const type = await typeOf({ hosts: hosts.map((h) => ({ providerId: h.id })), assignment: 'roundRobin' });
      const cs = await clients(5);
      const answers = await Promise.all(cs.map((c) => hold(c, { eventTypeId: type.id, start: '2035-01-08T10:00:00+01:00' })));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 201, 409, 409, 409]);
      expect(new Set(answers.filter((r) => r.statusCode === 201).map((r) => r.json().providerId)).size).toBe(2);
      // The start is no longer listed: no host can take it.
      const list = (await starts(`eventTypeId=${type.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`, cs[0]!)).map((s) => s.start);
      expect(list).not.toContain('2035-01-08T10:00:00+01:00');
    });

    it('weights 1 : 2 give 3 and 6 of nine', async () => {
      const hosts = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const type = await typeOf({ hosts: [{ providerId: hosts[0]!.id, weight: 1 }, { providerId: hosts[1]!.id, weight: 2 }], assignment: 'roundRobin' });
      const cs = await clients(9);
      const got: string[] = [];
      for (const [i, c] of cs.entries()) {
        const res = await hold(c, { eventTypeId: type.id, start: `2035-01-09T${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}:00+01:00` });
        expect(res.statusCode, res.body).toBe(201);
        got.push(res.json().providerId);
      }
      expect(got.filter((id) => id === hosts[0]!.id)).toHaveLength(3);
      expect(got.filter((id) => id === hosts[1]!.id)).toHaveLength(6);
    });

    it('priority first: the lower-priority host only when the higher one cannot; a chosen providerId books that host or fails', async () => {
      const [high, low] = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const type = await typeOf({ hosts: [{ providerId: low!.id, priority: 1 }, { providerId: high!.id, priority: 3 }], assignment: 'roundRobin' });
      const [a, b, c, d] = await clients(4);
      expect((await hold(a!, { eventTypeId: type.id, start: '2035-01-10T09:00:00+01:00' })).json().providerId).toBe(high!.id);
      expect((await hold(b!, { eventTypeId: type.id, start: '2035-01-10T09:00:00+01:00' })).json().providerId).toBe(low!.id);
      expect((await hold(c!, { eventTypeId: type.id, start: '2035-01-10T10:00:00+01:00', providerId: low!.id })).json().providerId).toBe(low!.id);
      const taken = await hold(d!, { eventTypeId: type.id, start: '2035-01-10T10:00:00+01:00', providerId: low!.id });
      expect(expectProblem(taken, 409).code).toBe('slot_taken');
    });
  });

  describe('collective', () => {
    it('offers only times every host can take, across zones that change clocks on different dates', async () => {
      // London changes on 2035-03-25, New York on 2035-03-11: in between, 09:00-17:00 London overlaps 09:00-17:00 New York
      // from 13:00 to 17:00 London (UTC+0; New York is UTC-4 then); before 2035-03-11 from 14:00 (New York UTC-5).
      const london = await hostIn('Europe/London');
      const ny = await hostIn('America/New_York');
      const type = await typeOf({ hosts: [{ providerId: london.id }, { providerId: ny.id }], assignment: 'collective', durations: [60] });
      const c = (await clients(1))[0]!;
      const before = (await starts(`eventTypeId=${type.id}&from=2035-03-05&to=2035-03-05&timeZone=Europe/London`, c)).map((s) => s.start);
      expect(before[0]).toBe('2035-03-05T14:00:00+00:00');
      expect(before.at(-1)).toBe('2035-03-05T16:00:00+00:00');
      const between = (await starts(`eventTypeId=${type.id}&from=2035-03-14&to=2035-03-14&timeZone=Europe/London`, c)).map((s) => s.start);
      expect(between[0]).toBe('2035-03-14T13:00:00+00:00');
      expect(between.at(-1)).toBe('2035-03-14T16:00:00+00:00');
    });

    it('one hold blocks every host, all or none; the booking lists both hosts', async () => {
      const [a, b] = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const type = await typeOf({ hosts: [{ providerId: a!.id }, { providerId: b!.id }], assignment: 'collective' });
      const [c1, c2] = await clients(2);
      const res = await hold(c1!, { eventTypeId: type.id, start: '2035-01-11T09:00:00+01:00' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().hosts).toEqual([a!.id, b!.id]);
      // b's own v1 time is blocked, and a hold that b alone cannot take fails for both.
      expectProblem(await hold(c2!, { providerId: b!.id, start: '2035-01-11T09:00:00+01:00', duration: 30 }), 409);
      const single = await typeOf({ hosts: [{ providerId: a!.id }] });
      expect((await hold(c2!, { eventTypeId: single.id, start: '2035-01-11T10:00:00+01:00' })).statusCode).toBe(201);
      expectProblem(await hold(c1!, { eventTypeId: type.id, start: '2035-01-11T10:00:00+01:00' }), 409);
      // Each host sees the booking in its own list and ICS feed.
      const bList = (await b!.call('GET', '/v1/bookings')).json().data.map((x: { id: string }) => x.id);
      expect(bList).toContain(res.json().id);
      const feed = await b!.call('GET', `/v1/providers/${b!.id}/calendar.ics`);
      expect(feed.body).toContain(`UID:${res.json().id}@booking-engine`);
    });

    it('every host\'s webhooks get the collective booking\'s events', async () => {
      const [a, b] = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const hook = await b!.call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['booking.held'] });
      expect(hook.statusCode, hook.body).toBe(201);
      const type = await typeOf({ hosts: [{ providerId: a!.id }, { providerId: b!.id }], assignment: 'collective' });
      const c = (await clients(1))[0]!;
      const booked = await hold(c, { eventTypeId: type.id, start: '2035-01-11T14:00:00+01:00' });
      expect(booked.statusCode, booked.body).toBe(201);
      const { rows } = await server.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
          WHERE d.webhook_id = $1 AND e.type = 'booking.held' AND e.data->>'id' = $2`,
        [hook.json().id, booked.json().id],
      );
      expect(rows[0]!.n).toBe(1);
    });

    it('two collective holds over the same hosts in opposite orders do not deadlock', async () => {
      const [a, b] = await Promise.all([0, 1].map(() => hostIn('Europe/Berlin')));
      const ab = await typeOf({ hosts: [{ providerId: a!.id }, { providerId: b!.id }], assignment: 'collective' });
      const ba = await typeOf({ hosts: [{ providerId: b!.id }, { providerId: a!.id }], assignment: 'collective' });
      const cs = await clients(10);
      const answers = await Promise.all(cs.map((c, i) => hold(c, { eventTypeId: i % 2 ? ab.id : ba.id, start: '2035-01-12T09:00:00+01:00' })));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, ...Array(9).fill(409)]);
    });
  });

  describe('seats', () => {
    it('30 simultaneous holds on a 4-seat start: four 201s and twenty-six 409s; seatsLeft counts down; a cancelled seat is free at once', async () => {
      const host = await hostIn('Europe/Berlin');
      const type = await typeOf({ hosts: [{ providerId: host.id }], seats: 4, durations: [60] });
      const cs = await clients(30);
      const answers = await Promise.all(cs.map((c) => hold(c, { eventTypeId: type.id, start: '2035-01-08T10:00:00+01:00' })));
      const codes = answers.map((r) => r.statusCode);
      expect(codes.filter((s) => s === 201)).toHaveLength(4);
      expect(codes.filter((s) => s === 409)).toHaveLength(26);
      let list = await starts(`eventTypeId=${type.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`, cs[0]!);
      expect(list.find((s) => s.start === '2035-01-08T10:00:00+01:00')).toBeUndefined();
      expect(list.find((s) => s.start === '2035-01-08T09:30:00+01:00')).toBeUndefined(); // overlaps the full occurrence
      expect(list.find((s) => s.start === '2035-01-08T09:00:00+01:00')?.seatsLeft).toBe(4); // ends as it starts
      expect(list.find((s) => s.start === '2035-01-08T11:00:00+01:00')?.seatsLeft).toBe(4);
      const first = answers.find((r) => r.statusCode === 201)!.json();
      const owner = cs[answers.findIndex((r) => r.statusCode === 201)]!;
      expect((await owner.call('POST', `/v1/bookings/${first.id}/cancel`, {})).statusCode).toBe(200);
      list = await starts(`eventTypeId=${type.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`, cs[0]!);
      expect(list.find((s) => s.start === '2035-01-08T10:00:00+01:00')?.seatsLeft).toBe(1);
    });

    it("one seat per client (409 already_booked); the host's time is blocked for other types from the first seat", async () => {
      const host = await hostIn('Europe/Berlin');
      const type = await typeOf({ hosts: [{ providerId: host.id }], seats: 3 });
      const other = await typeOf({ hosts: [{ providerId: host.id }] });
      const [a, b] = await clients(2);
      expect((await hold(a!, { eventTypeId: type.id, start: '2035-01-09T10:00:00+01:00' })).statusCode).toBe(201);
      expect(expectProblem(await hold(a!, { eventTypeId: type.id, start: '2035-01-09T10:00:00+01:00' }), 409).code).toBe('already_booked');
      expect((await hold(b!, { eventTypeId: type.id, start: '2035-01-09T10:00:00+01:00' })).statusCode).toBe(201);
      expect(expectProblem(await hold(b!, { eventTypeId: other.id, start: '2035-01-09T10:00:00+01:00' }), 409).code).toBe('slot_taken');
    });
  });
});

describe('teams: reschedule', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50' }, { clock: { now: () => NOW } });
  });
  afterAll(async () => server?.close());

  async function host() {
    const p = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
    const weekly = WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' }));
    expect((await p.call('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'Europe/Berlin', weekly })).statusCode).toBe(200);
    return p;
  }
  let n = 0;
  const typeOf = async (body: Record<string, unknown>) => {
    const res = await admin(server)('POST', '/v1/event-types', { slug: `move-${++n}`, title: 'Move', durations: [30], minimumNotice: 0, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const move = (c: User, id: string, start: string) => c.call('POST', `/v1/bookings/${id}/reschedule`, { start });

  it('round robin keeps the host when it is free at the new time, else reassigns', async () => {
    const [a, b] = await Promise.all([host(), host()]);
    const type = await typeOf({ hosts: [{ providerId: a.id }, { providerId: b.id }], assignment: 'roundRobin' });
    const client = await createUser(server, 'client');
    const booked = (await client.call('POST', '/v1/bookings', { eventTypeId: type.id, start: '2035-01-08T09:00:00+01:00' })).json();
    const first = booked.providerId as string;
    const moved = await move(client, booked.id, '2035-01-08T11:00:00+01:00');
    expect(moved.json().providerId).toBe(first);
    // The first host becomes busy at 14:00 (v1 booking): moving there goes to the other host.
    const other = first === a.id ? b : a;
    const blocker = await createUser(server, 'client');
    expect((await blocker.call('POST', '/v1/bookings', { providerId: first, start: '2035-01-08T14:00:00+01:00', duration: 30 })).statusCode).toBe(201);
    const reassigned = await move(client, booked.id, '2035-01-08T14:00:00+01:00');
    expect(reassigned.statusCode, reassigned.body).toBe(200);
    expect(reassigned.json()).toMatchObject({ id: booked.id, providerId: other.id, hosts: [other.id] });
    // The old host's time is free at once.
    const again = await createUser(server, 'client');
    expect((await again.call('POST', '/v1/bookings', { providerId: first, start: '2035-01-08T11:00:00+01:00', duration: 30 })).statusCode).toBe(201);
  });

  it('a collective booking moves every host; refused when one host is busy at the new time', async () => {
    const [a, b] = await Promise.all([host(), host()]);
    const type = await typeOf({ hosts: [{ providerId: a.id }, { providerId: b.id }], assignment: 'collective' });
    const client = await createUser(server, 'client');
    const booked = (await client.call('POST', '/v1/bookings', { eventTypeId: type.id, start: '2035-01-09T09:00:00+01:00' })).json();
    const blocker = await createUser(server, 'client');
    expect((await blocker.call('POST', '/v1/bookings', { providerId: b.id, start: '2035-01-09T12:00:00+01:00', duration: 30 })).statusCode).toBe(201);
    expect(expectProblem(await move(client, booked.id, '2035-01-09T12:00:00+01:00'), 409).code).toBe('slot_taken');
    const ok = await move(client, booked.id, '2035-01-09T13:00:00+01:00');
    expect(ok.statusCode, ok.body).toBe(200);
    // Both hosts' 09:00 is free again, both hosts' 13:00 taken.
    for (const h of [a, b]) {
      expectProblem(await blocker.call('POST', '/v1/bookings', { providerId: h.id, start: '2035-01-09T13:00:00+01:00', duration: 30 }), 409);
      const freed = await createUser(server, 'client');
      expect((await freed.call('POST', '/v1/bookings', { providerId: h.id, start: '2035-01-09T09:00:00+01:00', duration: 30 })).statusCode).toBe(201);
    }
  });

  it('a seat moves to the new start\'s occurrence, 409 when that one is full', async () => {
    const h = await host();
    const type = await typeOf({ hosts: [{ providerId: h.id }], seats: 2, durations: [60] });
    const cs = await Promise.all([0, 1, 2].map(() => createUser(server, 'client')));
    const [c1, c2, c3] = [cs[0]!, cs[1]!, cs[2]!];
    for (const c of [c1, c2]) expect((await c.call('POST', '/v1/bookings', { eventTypeId: type.id, start: '2035-01-10T10:00:00+01:00' })).statusCode).toBe(201);
    const mine = (await c3.call('POST', '/v1/bookings', { eventTypeId: type.id, start: '2035-01-10T12:00:00+01:00' })).json();
    expect(expectProblem(await move(c3, mine.id, '2035-01-10T10:00:00+01:00'), 409).code).toBe('slot_taken');
    const moved = await move(c3, mine.id, '2035-01-10T14:00:00+01:00');
    expect(moved.statusCode, moved.body).toBe(200);
    const list = (await c3.call('GET', `/v1/slots?eventTypeId=${type.id}&from=2035-01-10&to=2035-01-10&timeZone=Europe/Berlin`)).json().slots;
    expect(list.find((s: { start: string }) => s.start === '2035-01-10T14:00:00+01:00')?.seatsLeft).toBe(1);
    expect(list.find((s: { start: string }) => s.start === '2035-01-10T12:00:00+01:00')?.seatsLeft).toBe(2);
  });
});
