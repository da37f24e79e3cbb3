import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Staff (role "staff", providerIds): may do for its providers everything the
 * provider may do itself, and nothing for others, where it gets what a
 * provider acting on another provider gets (403 for the provider's own
 * resources, 404 for its bookings). One access policy decides
 * (src/features/access/policy.ts). Pinned "now": Monday 2035-01-01 00:00 UTC.
 */
const NOW = Date.parse('2035-01-01T00:00:00Z');
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

type User = Awaited<ReturnType<typeof createUser>>;
type Call = User['call'];

describe('staff: acts for its providers, and only for them', () => {
  let server: TestServer;
  let own: User;
  let foreign: User;
  let staff: User & { providerIds: string[] };
  let patient: User;
  let n = 0;

  async function provider(): Promise<User> {
    const p = await createUser(server, 'provider', { timeZone: 'UTC' });
    const weekly = DAYS.map((day) => ({ day, start: '08:00', end: '18:00' }));
    expect((await p.call('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly })).statusCode).toBe(200);
    return p;
  }
  async function newStaff(providerIds: string[]) {
    const res = await admin(server)('POST', '/v1/users', { name: 'Front desk', email: `desk-${++n}@example.test`, role: 'staff', providerIds });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().user.id as string, apiKey: res.json().apiKey as string, call: client(server, res.json().apiKey), providerIds };
  }

  beforeAll(async () => {
    server = await startTestServer({ MAX_HOLDS_PER_CLIENT: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }, { clock: { now: () => NOW } });
    own = await provider();
    foreign = await provider();
    staff = await newStaff([own.id]);
    patient = await createUser(server, 'client');
  });
  afterAll(async () => server?.close());

  /** The same request for the own provider (expected `ok`) and the foreign one (expected `refused`), as staff. */
  async function both(build: (p: User) => Promise<{ ok: number; refused: number; send: (c: Call) => ReturnType<Call> }>) {
    const mine = await build(own);
    const theirs = await build(foreign);
    const allowed = await mine.send(staff.call);
    expect(allowed.statusCode, allowed.body).toBe(mine.ok);
    const refused = await theirs.send(staff.call);
    expectProblem(refused, theirs.refused);
    return { allowed, refused };
  }

  describe('availability of a provider', () => {
    it('schedule: replace, read and change its zone', async () => {
      const weekly = [{ day: 'monday', start: '09:00', end: '17:00' }, { day: 'tuesday', start: '09:00', end: '17:00' }];
      const before = (await foreign.call('GET', `/v1/providers/${foreign.id}/schedule`)).json();
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('PUT', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC', weekly }) }));
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/schedule`) }));
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('PATCH', `/v1/providers/${p.id}/schedule`, { timeZone: 'UTC' }) }));
      // The refused change changed nothing.
      expect((await foreign.call('GET', `/v1/providers/${foreign.id}/schedule`)).json()).toEqual(before);
      // Back to every day for the booking tests below.
      const all = DAYS.map((day) => ({ day, start: '08:00', end: '18:00' }));
      expect((await staff.call('PUT', `/v1/providers/${own.id}/schedule`, { timeZone: 'UTC', weekly: all })).statusCode).toBe(200);
      expect((await foreign.call('PUT', `/v1/providers/${foreign.id}/schedule`, { timeZone: 'UTC', weekly: all })).statusCode).toBe(200);
    });

    it('overrides: set, list, read, delete', async () => {
      const body = { windows: [{ start: '10:00', end: '12:00' }] };
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('PUT', `/v1/providers/${p.id}/overrides/2035-02-01`, body) }));
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/overrides`) }));
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/overrides/2035-02-01`) }));
      expect((await foreign.call('PUT', `/v1/providers/${foreign.id}/overrides/2035-02-01`, body)).statusCode).toBe(200);
      await both(async (p) => ({ ok: 204, refused: 403, send: (c) => c('DELETE', `/v1/providers/${p.id}/overrides/2035-02-01`) }));
      expect((await foreign.call('GET', `/v1/providers/${foreign.id}/overrides/2035-02-01`)).statusCode).toBe(200);
    });

    it('time off: add, list, read, delete', async () => {
      const body = { start: '2035-02-02T08:00:00Z', end: '2035-02-02T10:00:00Z', reason: 'dentist' };
      const mine = await staff.call('POST', `/v1/providers/${own.id}/time-off`, body);
      expect(mine.statusCode, mine.body).toBe(201);
      expectProblem(await staff.call('POST', `/v1/providers/${foreign.id}/time-off`, body), 403);
      const theirs = (await foreign.call('POST', `/v1/providers/${foreign.id}/time-off`, body)).json();
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/time-off`) }));
      expect((await staff.call('GET', `/v1/providers/${own.id}/time-off/${mine.json().id}`)).statusCode).toBe(200);
      expectProblem(await staff.call('GET', `/v1/providers/${foreign.id}/time-off/${theirs.id}`), 403);
      expectProblem(await staff.call('DELETE', `/v1/providers/${foreign.id}/time-off/${theirs.id}`), 403);
      expect((await staff.call('DELETE', `/v1/providers/${own.id}/time-off/${mine.json().id}`)).statusCode).toBe(204);
      expect((await foreign.call('GET', `/v1/providers/${foreign.id}/time-off/${theirs.id}`)).statusCode).toBe(200);
    });

    it('one-off windows: add, list, delete; effective availability', async () => {
      const body = { start: '2035-02-03T19:00:00Z', end: '2035-02-03T21:00:00Z' };
      const mine = await staff.call('POST', `/v1/providers/${own.id}/availability`, body);
      expect(mine.statusCode, mine.body).toBe(201);
      expectProblem(await staff.call('POST', `/v1/providers/${foreign.id}/availability`, body), 403);
      const theirs = (await foreign.call('POST', `/v1/providers/${foreign.id}/availability`, body)).json();
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/availability-windows`) }));
      expectProblem(await staff.call('DELETE', `/v1/providers/${foreign.id}/availability/${theirs.id}`), 403);
      expect((await staff.call('DELETE', `/v1/providers/${own.id}/availability/${mine.json().id}`)).statusCode).toBe(204);
    });

    it('closures: for its providers only (a foreign or a mixed list is a 403; no list, everyone, is for admins)', async () => {
      const mine = await staff.call('POST', '/v1/closures', { name: 'Practice holiday', date: '2035-03-01', providerIds: [own.id] });
      expect(mine.statusCode, mine.body).toBe(201);
      expectProblem(await staff.call('POST', '/v1/closures', { name: 'X', date: '2035-03-01', providerIds: [foreign.id] }), 403);
      expectProblem(await staff.call('POST', '/v1/closures', { name: 'X', date: '2035-03-01', providerIds: [own.id, foreign.id] }), 403);
      expectProblem(await staff.call('POST', '/v1/closures', { name: 'X', date: '2035-03-01' }), 403);
      const theirs = (await foreign.call('POST', '/v1/closures', { name: 'Theirs', date: '2035-03-02', providerIds: [foreign.id] })).json();
      const listed = (await staff.call('GET', '/v1/closures')).json().data.map((c: { id: string }) => c.id);
      expect(listed).toContain(mine.json().id);
      expect(listed).not.toContain(theirs.id);
      expectProblem(await staff.call('DELETE', `/v1/closures/${theirs.id}`), 403);
      expect((await staff.call('DELETE', `/v1/closures/${mine.json().id}`)).statusCode).toBe(204);
    });

    it('calendar feed of a provider', async () => {
      await both(async (p) => ({ ok: 200, refused: 403, send: (c) => c('GET', `/v1/providers/${p.id}/calendar-feed`) }));
    });
  });

  describe('event types', () => {
    it('create (hosts named), edit and delete types hosted by its providers; not those of others', async () => {
      const body = (p: User) => ({ slug: `staff-type-${++n}`, title: 'Check-up', durations: [30], minimumNotice: 0, hosts: [{ providerId: p.id }] });
      const created = await both(async (p) => ({ ok: 201, refused: 403, send: (c) => c('POST', '/v1/event-types', body(p)) }));
      const mine = created.allowed.json();
      expect(mine.hosts.map((h: { providerId: string }) => h.providerId)).toEqual([own.id]);
      expectProblem(await staff.call('POST', '/v1/event-types', { ...body(own), hosts: [{ providerId: own.id }, { providerId: foreign.id }] }), 403);
      expect(expectProblem(await staff.call('POST', '/v1/event-types', { slug: `x-${++n}`, title: 'X', durations: [30] }), 400).errors[0].path)
        .toBe('body/hosts');
      // Staff are no providers: never a host.
      expectProblem(await staff.call('POST', '/v1/event-types', { ...body(own), hosts: [{ providerId: staff.id }] }), 403);
      const theirs = (await foreign.call('POST', '/v1/event-types', { slug: `foreign-${++n}`, title: 'Theirs', durations: [30] })).json();
      expect((await staff.call('PATCH', `/v1/event-types/${mine.id}`, { title: 'Renamed' })).json().title).toBe('Renamed');
      expectProblem(await staff.call('PATCH', `/v1/event-types/${theirs.id}`, { title: 'Mine now' }), 403);
      expectProblem(await staff.call('PATCH', `/v1/event-types/${mine.id}`, { hosts: [{ providerId: foreign.id }] }), 403);
      expectProblem(await staff.call('DELETE', `/v1/event-types/${theirs.id}`), 403);
      expect((await staff.call('DELETE', `/v1/event-types/${mine.id}`)).statusCode).toBe(204);
      expect((await foreign.call('GET', `/v1/event-types/${theirs.id}`)).json().title).toBe('Theirs');
    });
  });

  describe('bookings', () => {
    let ownType: { id: string };
    let foreignType: { id: string };
    let ownApproval: { id: string };
    let foreignApproval: { id: string };
    // Distinct hours inside the 08:00-18:00 working day, from Monday 2035-01-08 on (the patient never overlaps itself).
    let k = 0;
    const nextStart = () => {
      const [day, hour] = [8 + Math.floor(k / 8), 9 + (k++ % 8)];
      return `2035-01-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
    };

    beforeAll(async () => {
      const make = async (p: User, extra: Record<string, unknown> = {}) =>
        (await p.call('POST', '/v1/event-types', { slug: `b-${++n}`, title: 'Visit', durations: [30], minimumNotice: 0, ...extra })).json();
      ownType = await make(own);
      foreignType = await make(foreign);
      ownApproval = await make(own, { requiresConfirmation: true });
      foreignApproval = await make(foreign, { requiresConfirmation: true });
    });

    it('book on a client\'s behalf (event type and v1), confirm that hold; not for another provider', async () => {
      const held = await staff.call('POST', '/v1/bookings', { eventTypeId: ownType.id, start: nextStart(), clientId: patient.id });
      expect(held.statusCode, held.body).toBe(201);
      expect(held.json()).toMatchObject({ clientId: patient.id, providerId: own.id, status: 'held' });
      expect((await staff.call('POST', `/v1/bookings/${held.json().id}/confirm`)).json().status).toBe('confirmed');
      const v1 = await staff.call('POST', '/v1/bookings', { providerId: own.id, start: nextStart(), duration: 30, clientId: patient.id });
      expect(v1.statusCode, v1.body).toBe(201);
      expectProblem(await staff.call('POST', '/v1/bookings', { eventTypeId: foreignType.id, start: nextStart(), clientId: patient.id }), 403);
      expectProblem(await staff.call('POST', '/v1/bookings', { providerId: foreign.id, start: nextStart(), duration: 30, clientId: patient.id }), 403);
      // A provider id that does not exist is refused the same way: nothing about it leaks.
      expectProblem(await staff.call('POST', '/v1/bookings', { providerId: 'usr_nobody', start: nextStart(), duration: 30, clientId: patient.id }), 403);
      expect(expectProblem(await staff.call('POST', '/v1/bookings', { eventTypeId: ownType.id, start: nextStart() }), 400).errors[0].path)
        .toBe('body/clientId');
      expect(expectProblem(await staff.call('POST', '/v1/bookings', { eventTypeId: ownType.id, start: nextStart(), clientId: own.id }), 400)
        .errors[0].path).toBe('body/clientId');
      const { rows } = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE provider_id = $1', [foreign.id]);
      expect(rows[0]!.n).toBe(0);
    });

    it('read, cancel and reschedule its providers\' bookings; another provider\'s are not found', async () => {
      const mine = (await patient.call('POST', '/v1/bookings', { eventTypeId: ownType.id, start: nextStart() })).json();
      const theirs = (await patient.call('POST', '/v1/bookings', { eventTypeId: foreignType.id, start: nextStart() })).json();
      expect((await staff.call('GET', `/v1/bookings/${mine.id}`)).statusCode).toBe(200);
      expectProblem(await staff.call('GET', `/v1/bookings/${theirs.id}`), 404);
      const moved = await staff.call('POST', `/v1/bookings/${mine.id}/reschedule`, { start: '2035-01-20T09:00:00Z' });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json().start).toBe('2035-01-20T09:00:00Z');
      expectProblem(await staff.call('POST', `/v1/bookings/${theirs.id}/reschedule`, { start: '2035-01-20T09:00:00Z' }), 404);
      expectProblem(await staff.call('POST', `/v1/bookings/${theirs.id}/cancel`, {}), 404);
      expectProblem(await staff.call('POST', `/v1/bookings/${theirs.id}/confirm`), 404);
      const cancelled = await staff.call('POST', `/v1/bookings/${mine.id}/cancel`, { reason: 'doctor ill' });
      expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'host' });
      expect((await patient.call('GET', `/v1/bookings/${theirs.id}`)).json().status).toBe('held');
    });

    it('accept and decline pending bookings of its providers; not of others', async () => {
      const pending = async (typeId: string) => {
        const b = (await patient.call('POST', '/v1/bookings', { eventTypeId: typeId, start: nextStart() })).json();
        expect((await patient.call('POST', `/v1/bookings/${b.id}/confirm`)).json().status).toBe('pending');
        return b.id as string;
      };
      const [a, d, x] = [await pending(ownApproval.id), await pending(ownApproval.id), await pending(foreignApproval.id)];
      expect((await staff.call('POST', `/v1/bookings/${a}/accept`)).json().status).toBe('confirmed');
      expect((await staff.call('POST', `/v1/bookings/${d}/decline`, { reason: 'full' })).json().status).toBe('declined');
      expectProblem(await staff.call('POST', `/v1/bookings/${x}/accept`), 404);
      expectProblem(await staff.call('POST', `/v1/bookings/${x}/decline`, {}), 404);
      expect((await patient.call('GET', `/v1/bookings/${x}`)).json().status).toBe('pending');
    });

    it('lists its providers\' bookings, with filters limited to its providers', async () => {
      const listed = async (query = '') => {
        const res = await staff.call('GET', `/v1/bookings?limit=200${query}`);
        expect(res.statusCode, res.body).toBe(200);
        return res.json().data as { providerId: string; clientId: string; status: string; eventTypeId: string | null }[];
      };
      const all = await listed();
      expect(all.length).toBeGreaterThan(3);
      expect(all.every((b) => b.providerId === own.id)).toBe(true);
      expect((await listed(`&providerId=${own.id}`)).length).toBe(all.length);
      expect((await listed(`&clientId=${patient.id}`)).every((b) => b.providerId === own.id && b.clientId === patient.id)).toBe(true);
      expect((await listed('&status=pending&status=confirmed')).every((b) => ['pending', 'confirmed'].includes(b.status))).toBe(true);
      expect((await listed(`&eventTypeId=${ownApproval.id}`)).every((b) => b.eventTypeId === ownApproval.id)).toBe(true);
      expect(await listed(`&eventTypeId=${foreignApproval.id}`)).toEqual([]);
      expectProblem(await staff.call('GET', `/v1/bookings?providerId=${foreign.id}`), 403);
      expectProblem(await staff.call('GET', '/v1/bookings?providerId=usr_nobody'), 403);
    });

    it('its webhooks hear of its providers\' bookings, not of others\'', async () => {
      const hook = await staff.call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['booking.held'] });
      expect(hook.statusCode, hook.body).toBe(201);
      const deliveries = async () => (await server.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [hook.json().id],
      )).rows[0]!.n;
      expect((await patient.call('POST', '/v1/bookings', { eventTypeId: foreignType.id, start: nextStart() })).statusCode).toBe(201);
      expect(await deliveries()).toBe(0);
      expect((await patient.call('POST', '/v1/bookings', { eventTypeId: ownType.id, start: nextStart() })).statusCode).toBe(201);
      expect(await deliveries()).toBe(1);
    });

    it('staff are no providers: no slots, no schedule of their own', async () => {
      expectProblem(await staff.call('GET', `/v1/slots?providerId=${staff.id}&from=2035-01-08&to=2035-01-08`), 404);
      expectProblem(await staff.call('PUT', `/v1/providers/${staff.id}/schedule`, { timeZone: 'UTC', weekly: [] }), 404);
    });
  });

  describe('managing staff: administrators only', () => {
    it('admin creates staff with providerIds; GET /users/me shows them', async () => {
      const desk = await newStaff([own.id, foreign.id]);
      const me = (await desk.call('GET', '/v1/users/me')).json();
      expect(me).toMatchObject({ role: 'staff', providerIds: [own.id, foreign.id].sort() });
    });

    it('validation names the allowed values and the bad entry; nothing is stored', async () => {
      const count = async () => (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n;
      const before = await count();
      const role = expectProblem(await admin(server)('POST', '/v1/users', { name: 'X', email: 'x1@example.test', role: 'boss' }), 400);
      expect(role.errors[0]).toEqual({ path: 'body/role', message: 'must be one of provider, client, staff' });
      const notProvider = expectProblem(await admin(server)('POST', '/v1/users', {
        name: 'X', email: 'x2@example.test', role: 'staff', providerIds: [own.id, patient.id],
      }), 400);
      expect(notProvider.errors[0].path).toBe('body/providerIds/1');
      const onProvider = expectProblem(await admin(server)('POST', '/v1/users', {
        name: 'X', email: 'x3@example.test', role: 'provider', providerIds: [own.id],
      }), 400);
      expect(onProvider.errors[0].path).toBe('body/providerIds');
      expectProblem(await admin(server)('POST', '/v1/users', { name: 'X', email: 'x4@example.test', role: 'staff', providerIds: 'all' }), 400);
      expect(await count()).toBe(before);
    });

    it('nobody but an admin creates staff or changes its providers', async () => {
      for (const caller of [own.call, patient.call, staff.call]) {
        expectProblem(await caller('POST', '/v1/users', { name: 'X', email: `y-${++n}@example.test`, role: 'staff', providerIds: [own.id] }), 403);
      }
      expectProblem(await staff.call('PATCH', `/v1/users/${staff.id}`, { providerIds: [own.id, foreign.id] }), 403);
      expectProblem(await own.call('PATCH', `/v1/users/${staff.id}`, { providerIds: [own.id] }), 404);
      expectProblem(await admin(server)('PATCH', `/v1/users/${own.id}`, { providerIds: [foreign.id] }), 400);
      // The staff member may still change its own name.
      expect((await staff.call('PATCH', `/v1/users/${staff.id}`, { name: 'Reception' })).json().name).toBe('Reception');
    });

    it('admin changes providerIds: access follows at the next request', async () => {
      const desk = await newStaff([own.id]);
      expectProblem(await desk.call('GET', `/v1/providers/${foreign.id}/schedule`), 403);
      const patched = await admin(server)('PATCH', `/v1/users/${desk.id}`, { providerIds: [foreign.id] });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().providerIds).toEqual([foreign.id]);
      expect((await desk.call('GET', `/v1/providers/${foreign.id}/schedule`)).statusCode).toBe(200);
      expectProblem(await desk.call('GET', `/v1/providers/${own.id}/schedule`), 403);
      expect(expectProblem(await admin(server)('PATCH', `/v1/users/${desk.id}`, { providerIds: ['usr_nobody'] }), 400).errors[0].path)
        .toBe('body/providerIds/0');
      expect((await desk.call('GET', '/v1/users/me')).json().providerIds).toEqual([foreign.id]);
    });

    it('admin deletes staff: its key stops working', async () => {
      const desk = await newStaff([own.id]);
      expectProblem(await desk.call('DELETE', `/v1/users/${desk.id}`), 403);
      expect((await admin(server)('DELETE', `/v1/users/${desk.id}`)).statusCode).toBe(204);
      expectProblem(await desk.call('GET', `/v1/providers/${own.id}/schedule`), 401);
    });
  });
});
