import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ms } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

// A pinned "now": Monday 2035-01-01 00:00 UTC. Berlin is +01:00 all January, so
// expected instants are written out by hand below, never computed by the code under test.
const NOW = Date.parse('2035-01-01T00:00:00Z');
const MON = '2035-01-08';
const TUE = '2035-01-09';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

describe('event types', () => {
  let server: TestServer;
  let provider: User;
  let other: User;
  let client: User;

  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => NOW } });
    provider = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
    other = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
    client = await createUser(server, 'client');
    for (const p of [provider, other]) {
      const weekly = WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' }));
      const res = await p.call('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'Europe/Berlin', weekly });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
  afterAll(async () => server?.close());

  let slugCounter = 0;
  const slug = (base: string) => `${base}-${++slugCounter}`;

  async function createType(owner: User, body: Record<string, unknown>) {
    const res = await owner.call('POST', '/v1/event-types', { slug: slug('type'), title: 'Consultation', durations: [30], minimumNotice: 0, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  async function slots(query: string, caller: User = client) {
    const res = await caller.call('GET', `/v1/slots?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().slots.map((s: { start: string }) => s.start) as string[];
  }

  describe('CRUD', () => {
    it('a provider creates a type for itself: defaults filled in, hosts with public fields', async () => {
      const res = await provider.call('POST', '/v1/event-types', {
        slug: 'first-consultation', title: 'First consultation', durations: [30, 60], bufferAfter: 10,
      });
      expect(res.statusCode, res.body).toBe(201);
      const t = res.json();
      expect(t).toMatchObject({
        slug: 'first-consultation', title: 'First consultation', durations: [30, 60], assignment: 'single',
        slotInterval: 15, bufferBefore: 0, bufferAfter: 10, minimumNotice: 1440, requiresConfirmation: false,
        seats: 1, cancellationNotice: 0, questions: [], public: false, active: true,
      });
      expect(t.hosts).toEqual([{ providerId: provider.id, priority: 2, weight: 100, name: 'A provider', kind: 'person', timeZone: 'Europe/Berlin' }]);
      expect(res.headers.location).toBe(`/v1/event-types/${t.id}`);
      const read = await client.call('GET', `/v1/event-types/${t.id}`);
      expect(read.json()).toEqual(t);
    });

    it('a taken slug is a 409 slug_taken; nothing stored', async () => {
      await createType(provider, { slug: 'taken-slug' });
      const res = await provider.call('POST', '/v1/event-types', { slug: 'taken-slug', title: 'Again', durations: [30] });
      expect(expectProblem(res, 409).code).toBe('slug_taken');
    });

    it.each([
      [{ durations: [30, 33] }, 'body/durations/1'],
      [{ durations: [] }, 'body/durations'],
      [{ slotInterval: 7 }, 'body/slotInterval'],
      [{ bufferBefore: 3 }, 'body/bufferBefore'],
      [{ slug: 'Bad Slug' }, 'body/slug'],
      [{ bookingWindow: { type: 'range', start: '2035-02-01', end: '2035-01-01' } }, 'body/bookingWindow/end'],
      [{ questions: [{ id: 'a', label: 'A', type: 'select' }] }, 'body/questions/0/options'],
      [{ questions: [{ id: 'a', label: 'A', type: 'text' }, { id: 'a', label: 'B', type: 'text' }] }, 'body/questions/1/id'],
      [{ limits: { perDay: 0 } }, 'body/limits/perDay'],
    ])('invalid %j is a 400 naming %s, nothing stored', async (patch, path) => {
      const s = slug('invalid');
      const res = await provider.call('POST', '/v1/event-types', { slug: s, title: 'X', durations: [30], ...patch });
      const problem = expectProblem(res, 400);
      expect(problem.errors.map((e: { path: string }) => e.path), res.body).toContain(path);
      const list = await admin(server)('GET', `/v1/event-types?providerId=${provider.id}&limit=200`);
      expect(list.json().data.some((t: { slug: string }) => t.slug === s)).toBe(false);
    });

    it('a provider may not create a type for another provider, a client none at all', async () => {
      const res = await provider.call('POST', '/v1/event-types', { slug: slug('x'), title: 'X', durations: [30], hosts: [{ providerId: other.id }] });
      expectProblem(res, 403);
      expectProblem(await client.call('POST', '/v1/event-types', { slug: slug('x'), title: 'X', durations: [30] }), 403);
    });

    it('PATCH by its host changes fields and revalidates the whole; another provider gets 403', async () => {
      const t = await createType(provider, {});
      const res = await provider.call('PATCH', `/v1/event-types/${t.id}`, { durations: [45, 90], title: 'Long' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ durations: [45, 90], title: 'Long', slug: t.slug });
      expect(ms(res.json().updatedAt)).toBeGreaterThanOrEqual(ms(t.updatedAt));
      expectProblem(await other.call('PATCH', `/v1/event-types/${t.id}`, { title: 'Mine' }), 403);
      const bad = expectProblem(await provider.call('PATCH', `/v1/event-types/${t.id}`, { durations: [45, 46] }), 400);
      expect(bad.errors[0].path).toBe('body/durations/1');
      expect((await provider.call('GET', `/v1/event-types/${t.id}`)).json().durations).toEqual([45, 90]);
    });

    it('DELETE: 204, then 404 for reads, slots and bookings; the slug is free again', async () => {
      const t = await createType(provider, {});
      expect((await provider.call('DELETE', `/v1/event-types/${t.id}`)).statusCode).toBe(204);
      expectProblem(await client.call('GET', `/v1/event-types/${t.id}`), 404);
      expectProblem(await client.call('GET', `/v1/slots?eventTypeId=${t.id}&from=${MON}&to=${MON}`), 404);
      expectProblem(await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' }), 404);
      await createType(provider, { slug: t.slug });
    });

    it('without a key: public types only; a non-public one is a 401', async () => {
      const pub = await createType(provider, { public: true });
      const priv = await createType(provider, {});
      const anonymous = (await server.app.inject({ method: 'GET', url: `/v1/event-types?providerId=${provider.id}&limit=200` })).json();
      const ids = anonymous.data.map((t: { id: string }) => t.id);
      expect(ids).toContain(pub.id);
      expect(ids).not.toContain(priv.id);
      expect((await server.app.inject({ method: 'GET', url: `/v1/event-types/${pub.id}` })).statusCode).toBe(200);
      expectProblem(await server.app.inject({ method: 'GET', url: `/v1/event-types/${priv.id}` }), 401);
    });

    it('a provider may not create a multi-host type (hosts is exactly itself); an admin may', async () => {
      const hosts = [{ providerId: provider.id }, { providerId: other.id }];
      expectProblem(await provider.call('POST', '/v1/event-types', { slug: slug('rr'), title: 'RR', durations: [30], hosts, assignment: 'roundRobin' }), 403);
      const res = await admin(server)('POST', '/v1/event-types', { slug: slug('rr'), title: 'RR', durations: [30], hosts, assignment: 'roundRobin' });
      expect(res.statusCode, res.body).toBe(201);
      expectProblem(await provider.call('PATCH', `/v1/event-types/${res.json().id}`, { title: 'Mine' }), 403);
    });
  });

  describe('slots of an event type', () => {
    it('start on the type\'s grid of the host\'s local clock, with the chosen duration', async () => {
      const t = await createType(provider, { durations: [40, 60], slotInterval: 20 });
      const starts = await slots(`eventTypeId=${t.id}&from=${MON}&to=${MON}&duration=60&timeZone=Europe/Berlin`);
      expect(starts[0]).toBe('2035-01-08T09:00:00+01:00');
      expect(starts[1]).toBe('2035-01-08T09:20:00+01:00');
      expect(starts.at(-1)).toBe('2035-01-08T16:00:00+01:00');
      expect(starts).toHaveLength(22); // 09:00 .. 16:00 every 20 minutes
      const res = await client.call('GET', `/v1/slots?eventTypeId=${t.id}&from=${MON}&to=${MON}`);
      expect(res.json()).toMatchObject({ eventTypeId: t.id, duration: 40, timeZone: 'UTC' });
    });

    it('a duration the type does not offer, or a providerId that is not a host, is a 400 naming it', async () => {
      const t = await createType(provider, { durations: [30] });
      const a = expectProblem(await client.call('GET', `/v1/slots?eventTypeId=${t.id}&from=${MON}&to=${MON}&duration=45`), 400);
      expect(a.errors[0].path).toBe('query/duration');
      const b = expectProblem(await client.call('GET', `/v1/slots?eventTypeId=${t.id}&from=${MON}&to=${MON}&providerId=${other.id}`), 400);
      expect(b.errors[0].path).toBe('query/providerId');
    });

    it('buffers: a 09:00-09:30 booking with buffers 10/5 blocks 08:50-09:35, in the list and at hold time', async () => {
      const host = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '08:00', end: '12:00' }] });
      const t = await createType(host, { durations: [30], slotInterval: 5, bufferBefore: 10, bufferAfter: 5 });
      const first = await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' });
      expect(first.statusCode, first.body).toBe(201);
      const starts = (await slots(`eventTypeId=${t.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`)).filter((s) => s < '2035-01-08T10:30');
      // Another 30-minute booking with the same buffers must keep its own blocked range clear of 08:50-09:35:
      // ending (plus 5) by 08:50 -> starts <= 08:15; starting (minus 10) from 09:35 -> starts >= 09:45.
      expect(starts).toContain('2035-01-08T08:15:00+01:00');
      expect(starts).not.toContain('2035-01-08T08:20:00+01:00');
      expect(starts).not.toContain('2035-01-08T09:40:00+01:00');
      expect(starts).toContain('2035-01-08T09:45:00+01:00');
      const clash = await createUser(server, 'client');
      expect(expectProblem(await clash.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:40:00+01:00' }), 409).code).toBe('slot_taken');
      expect((await clash.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:45:00+01:00' })).statusCode).toBe(201);
      // A v1 booking of the same provider respects the blocked range too (v1 is the zero-buffer case).
      expectProblem(await clash.call('POST', '/v1/bookings', { providerId: host.id, start: '2035-01-08T09:30:00+01:00', duration: 15 }), 409);
    });

    it('minimum notice and a rolling booking window cut the list and the hold alike', async () => {
      const t = await createType(provider, { minimumNotice: 60 * 24 * 8, bookingWindow: { type: 'rolling', days: 9 } });
      // now + 8 days = 2035-01-09 00:00Z; now + 9 days = 2035-01-10 00:00Z: only Tuesday 9 January is bookable.
      const starts = await slots(`eventTypeId=${t.id}&from=${MON}&to=2035-01-11&timeZone=Europe/Berlin`);
      expect(starts[0]).toBe('2035-01-09T09:00:00+01:00');
      expect(starts.at(-1)).toBe('2035-01-09T16:30:00+01:00');
      const tooSoon = await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' });
      expect(expectProblem(tooSoon, 422).code).toBe('not_bookable');
      const tooFar = await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-10T09:00:00+01:00' });
      expect(expectProblem(tooFar, 422).detail).toMatch(/window/);
    });

    it('a booking window given as local dates is read in the host\'s zone', async () => {
      const t = await createType(provider, { bookingWindow: { type: 'range', start: TUE, end: TUE } });
      const starts = await slots(`eventTypeId=${t.id}&from=${MON}&to=2035-01-11&timeZone=Europe/Berlin`);
      expect(starts[0]).toBe('2035-01-09T09:00:00+01:00');
      expect(starts.at(-1)).toBe('2035-01-09T16:30:00+01:00');
    });

    it('an inactive type lists no slots and takes no bookings (422 not_bookable)', async () => {
      const t = await createType(provider, { active: false });
      expect(await slots(`eventTypeId=${t.id}&from=${MON}&to=${MON}`)).toEqual([]);
      const res = await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' });
      expect(expectProblem(res, 422).code).toBe('not_bookable');
    });

    it('a PATCH of the type changes its slots\' ETag', async () => {
      const t = await createType(provider, {});
      const url = `/v1/slots?eventTypeId=${t.id}&from=${MON}&to=${MON}`;
      const first = await client.call('GET', url);
      const etag = first.headers.etag as string;
      expect((await client.call('GET', url, undefined, { 'if-none-match': etag })).statusCode).toBe(304);
      await provider.call('PATCH', `/v1/event-types/${t.id}`, { slotInterval: 30 });
      const after = await client.call('GET', url, undefined, { 'if-none-match': etag });
      expect(after.statusCode).toBe(200);
      expect(after.json().slots).toHaveLength(16);
    });
  });

  describe('limits', () => {
    it('perDay 2: the third hold of a day is 422 limit_reached and the day drops out of the list', async () => {
      const host = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'Europe/Berlin', weekly: WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' })) });
      const t = await createType(host, { limits: { perDay: 2 } });
      for (const time of ['09:00', '10:00']) {
        const c = await createUser(server, 'client');
        expect((await c.call('POST', '/v1/bookings', { eventTypeId: t.id, start: `2035-01-08T${time}:00+01:00` })).statusCode).toBe(201);
      }
      const c = await createUser(server, 'client');
      expect(expectProblem(await c.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T11:00:00+01:00' }), 422).code).toBe('limit_reached');
      const starts = await slots(`eventTypeId=${t.id}&from=${MON}&to=${TUE}&timeZone=Europe/Berlin`);
      expect(starts.some((s) => s.startsWith(MON))).toBe(false);
      expect(starts[0]).toBe('2035-01-09T09:00:00+01:00');
    });

    it('a taken time on a full day: the limit answers (422 limit_reached), as the rules counted under the lock come first', async () => {
      const host = await createUser(server, 'provider', { timeZone: 'Europe/Berlin' });
      await host.call('PUT', `/v1/providers/${host.id}/schedule`, { timeZone: 'Europe/Berlin', weekly: WEEKDAYS.map((day) => ({ day, start: '09:00', end: '17:00' })) });
      const t = await createType(host, { limits: { perDay: 1 } });
      const first = await createUser(server, 'client');
      expect((await first.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' })).statusCode).toBe(201);
      const c = await createUser(server, 'client');
      expect(expectProblem(await c.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00' }), 422).code).toBe('limit_reached');
    });
  });

  describe('answers', () => {
    const questions = [
      { id: 'reason', label: 'Reason', type: 'text', required: true, maxLength: 20 },
      { id: 'email', label: 'Email', type: 'email' },
      { id: 'kind', label: 'Kind', type: 'select', options: ['new', 'returning'] },
    ];

    it.each([
      [{}, 'body/answers/reason'],
      [{ reason: 'x'.repeat(21) }, 'body/answers/reason'],
      [{ reason: 'ok', email: 'not-an-email' }, 'body/answers/email'],
      [{ reason: 'ok', kind: 'other' }, 'body/answers/kind'],
      [{ reason: 'ok', unknown: 1 }, 'body/answers/unknown'],
      [{ reason: 7 }, 'body/answers/reason'],
    ])('%j is a 400 naming %s; nothing booked', async (answers, path) => {
      const t = await createType(provider, { questions });
      const res = await client.call('POST', '/v1/bookings', { eventTypeId: t.id, start: '2035-01-08T09:00:00+01:00', answers });
      const problem = expectProblem(res, 400);
      expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(await slots(`eventTypeId=${t.id}&from=${MON}&to=${MON}&timeZone=Europe/Berlin`)).toContain('2035-01-08T09:00:00+01:00');
    });

    it('valid answers are stored and returned', async () => {
      const t = await createType(provider, { questions });
      const res = await client.call('POST', '/v1/bookings', {
        eventTypeId: t.id, start: '2035-01-08T11:00:00+01:00', answers: { reason: 'Back pain', kind: 'new' },
      });
      expect(res.statusCode, res.body).toBe(201);
      const b = res.json();
      expect(b).toMatchObject({ eventTypeId: t.id, hosts: [provider.id], providerId: provider.id, answers: { reason: 'Back pain', kind: 'new' } });
      expect((await provider.call('GET', `/v1/bookings/${b.id}`)).json().answers).toEqual({ reason: 'Back pain', kind: 'new' });
    });
  });
});
