import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Pinned "now": Monday 2035-01-01; Berlin is +01:00 in January.
const NOW = Date.parse('2035-01-01T00:00:00Z');

describe('resources and the provider directory', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({}, { clock: { now: () => NOW } });
  });
  afterAll(async () => server?.close());

  const resource = async (name: string) => {
    const res = await admin(server)('POST', '/v1/users', { role: 'provider', kind: 'resource', name, timeZone: 'Europe/Berlin' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().apiKey).toBeNull();
    expect(res.json().user).toMatchObject({ name, role: 'provider', kind: 'resource', timeZone: 'Europe/Berlin' });
    expect(res.json().user.email).toBeUndefined();
    return res.json().user as { id: string };
  };

  it('only an administrator creates a resource; it has no email, password or key', async () => {
    const provider = await createUser(server, 'provider');
    expectProblem(await provider.call('POST', '/v1/users', { role: 'provider', kind: 'resource', name: 'Room', timeZone: 'UTC' }), 403);
    const withEmail = expectProblem(await admin(server)('POST', '/v1/users', { role: 'provider', kind: 'resource', name: 'Room', email: 'room@example.test' }), 400);
    expect(withEmail.errors[0].path).toBe('body/email');
    expectProblem(await admin(server)('POST', '/v1/users', { role: 'client', kind: 'resource', name: 'Room' }), 400);
    expectProblem(await admin(server)('POST', '/v1/users', { role: 'provider', name: 'No email' }), 400);
  });

  it('the makerspace: three printers by round robin, a laser cutter, a workshop for eight', async () => {
    const printers = await Promise.all(['Printer 1', 'Printer 2', 'Printer 3'].map(resource));
    const laser = await resource('Laser cutter');
    const room = await resource('Workshop room');
    for (const r of [...printers, laser, room]) {
      const weekly = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '10:00', end: '18:00' }));
      expect((await admin(server)('PUT', `/v1/providers/${r.id}/schedule`, { timeZone: 'Europe/Berlin', weekly })).statusCode).toBe(200);
    }
    const make = async (body: Record<string, unknown>) => {
      const res = await admin(server)('POST', '/v1/event-types', { minimumNotice: 0, ...body });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    // A print runs on its own: a member may laser-cut meanwhile (clientMayOverlap).
    const printing = await make({
      slug: 'print-job', title: '3D print', durations: [60, 120], hosts: printers.map((p) => ({ providerId: p.id })), assignment: 'roundRobin', clientMayOverlap: true,
    });
    const cutting = await make({ slug: 'laser-cut', title: 'Laser cutting', durations: [30], hosts: [{ providerId: laser.id }] });
    const workshop = await make({ slug: 'intro-workshop', title: 'Intro workshop', durations: [120], hosts: [{ providerId: room.id }], seats: 8 });
    const members = await Promise.all(Array.from({ length: 9 }, () => createUser(server, 'client')));
    // Four print jobs at 10:00: three printers, so three 201s and a 409.
    const prints = await Promise.all(members.slice(0, 4).map((m) => m.call('POST', '/v1/bookings', { eventTypeId: printing, start: '2035-01-08T10:00:00+01:00' })));
    expect(prints.map((r) => r.statusCode).sort()).toEqual([201, 201, 201, 409]);
    expect(new Set(prints.filter((r) => r.statusCode === 201).map((r) => r.json().providerId)).size).toBe(3);
    expect((await members[0]!.call('POST', '/v1/bookings', { eventTypeId: cutting, start: '2035-01-08T10:00:00+01:00' })).statusCode).toBe(201);
    // Nine members for the eight seats.
    const seats = await Promise.all(members.map((m) => m.call('POST', '/v1/bookings', { eventTypeId: workshop, start: '2035-01-08T14:00:00+01:00' })));
    expect(seats.filter((r) => r.statusCode === 201)).toHaveLength(8);
    const list = (await members[0]!.call('GET', `/v1/slots?eventTypeId=${workshop}&from=2035-01-08&to=2035-01-08&timeZone=Europe/Berlin`)).json().slots;
    expect(list.find((s: { start: string }) => s.start === '2035-01-08T14:00:00+01:00')).toBeUndefined();
  });

  it('GET /v1/providers lists public fields only, filtered by kind and by name in any case', async () => {
    await resource('Kiln Alpha');
    const person = await createUser(server, 'provider', { name: 'Dr Kiln', timeZone: 'Europe/Berlin' });
    const client = await createUser(server, 'client');
    const byName = (await client.call('GET', '/v1/providers?q=kIlN')).json();
    expect(byName.data.map((p: { name: string }) => p.name).sort()).toEqual(['Dr Kiln', 'Kiln Alpha']);
    for (const p of byName.data) expect(Object.keys(p).sort()).toEqual(['id', 'kind', 'name', 'timeZone']);
    const resources = (await client.call('GET', '/v1/providers?kind=resource&q=kiln')).json().data;
    expect(resources.map((p: { name: string }) => p.name)).toEqual(['Kiln Alpha']);
    expect((await client.call('GET', '/v1/providers?kind=person&q=kiln')).json().data.map((p: { id: string }) => p.id)).toEqual([person.id]);
    // Paging by name.
    const page1 = (await client.call('GET', '/v1/providers?limit=1&q=kiln')).json();
    expect(page1.data).toHaveLength(1);
    const page2 = (await client.call('GET', `/v1/providers?limit=1&q=kiln&cursor=${page1.nextCursor}`)).json();
    expect(page2.data[0].name).not.toBe(page1.data[0].name);
    expectProblem(await client.call('GET', '/v1/providers?kind=robot'), 400);
  });
});
