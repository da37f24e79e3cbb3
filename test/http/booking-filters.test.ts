import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, client, createUser, expectProblem, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { holdOk, providerAlwaysOpen, snapshot } from './booking-helpers.js';

type Call = ReturnType<typeof client>;

describe('GET /v1/bookings filters, and unknown query parameters', () => {
  let server: TestServer;
  let ann: Awaited<ReturnType<typeof providerAlwaysOpen>>;
  let bob: Awaited<ReturnType<typeof providerAlwaysOpen>>;
  let carol: Awaited<ReturnType<typeof createUser>>;
  let dave: Awaited<ReturnType<typeof createUser>>;
  // a: Carol with Ann (held), b: Carol with Bob (confirmed), c: Dave with Ann (confirmed), d: Dave with Bob (cancelled)
  const booked: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };

  beforeAll(async () => {
    server = await startTestServer();
    [ann, bob] = [await providerAlwaysOpen(server), await providerAlwaysOpen(server)];
    [carol, dave] = [await createUser(server, 'client'), await createUser(server, 'client')];
    const day = upcomingDate(2, 14);
    booked.a = (await holdOk(carol.call, ann.id, `${day}T08:00:00Z`)).id;
    booked.b = (await holdOk(carol.call, bob.id, `${day}T09:00:00Z`)).id;
    booked.c = (await holdOk(dave.call, ann.id, `${day}T10:00:00Z`)).id;
    booked.d = (await holdOk(dave.call, bob.id, `${day}T11:00:00Z`)).id;
    for (const [call, id] of [[carol.call, booked.b], [dave.call, booked.c]] as const) {
      expect((await call('POST', `/v1/bookings/${id}/confirm`)).statusCode).toBe(200);
    }
    expect((await dave.call('POST', `/v1/bookings/${booked.d}/cancel`, {})).statusCode).toBe(200);
  });
  afterAll(async () => server?.close());

  async function ids(call: Call, query: string): Promise<string[]> {
    const res = await call('GET', `/v1/bookings?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data.map((b: { id: string }) => b.id);
  }

  it('an admin filters by provider and by client', async () => {
    expect(await ids(admin(server), `providerId=${ann.id}`)).toEqual([booked.a, booked.c]);
    expect(await ids(admin(server), `providerId=${bob.id}`)).toEqual([booked.b, booked.d]);
    expect(await ids(admin(server), `clientId=${dave.id}`)).toEqual([booked.c, booked.d]);
    expect(await ids(admin(server), `providerId=${bob.id}&clientId=${carol.id}`)).toEqual([booked.b]);
    expect(await ids(admin(server), 'providerId=usr_nobody')).toEqual([]);
  });

  it('status takes several values as a repeated parameter', async () => {
    expect(await ids(admin(server), `providerId=${ann.id}&status=held&status=confirmed`)).toEqual([booked.a, booked.c]);
    expect(await ids(admin(server), `clientId=${dave.id}&status=cancelled&status=held`)).toEqual([booked.d]);
    expect(await ids(carol.call, 'status=confirmed')).toEqual([booked.b]);
    const bad = expectProblem(await carol.call('GET', '/v1/bookings?status=held,confirmed'), 400);
    expect(bad.errors[0].path).toMatch(/^query\/status/);
  });

  it('others filter only by themselves: another user (known or not) is a 403', async () => {
    expect(await ids(ann.call, `providerId=${ann.id}`)).toEqual([booked.a, booked.c]);
    expect(await ids(dave.call, `clientId=${dave.id}&status=confirmed`)).toEqual([booked.c]);
    for (const [call, query] of [
      [carol.call, `providerId=${ann.id}`],
      [carol.call, `clientId=${dave.id}`],
      [ann.call, `clientId=${carol.id}`],
      [ann.call, `providerId=${bob.id}`],
      [ann.call, 'providerId=usr_nobody'],
    ] as const) {
      expectProblem(await call('GET', `/v1/bookings?${query}`), 403);
    }
  });

  it('an unknown query parameter is a 400 naming it, on any route; ?apiKey= still works', async () => {
    const misspelt = expectProblem(await admin(server)('GET', `/v1/bookings?provider=${ann.id}`), 400);
    expect(misspelt.errors).toEqual([{ path: 'query/provider', message: 'is not a known parameter' }]);
    const twoUnknown = expectProblem(await carol.call('GET', '/v1/users/me?foo=1&bar=2'), 400);
    expect(twoUnknown.errors.map((e: { path: string }) => e.path)).toEqual(['query/foo', 'query/bar']);
    expectProblem(await carol.call('GET', `/v1/slots?providerId=${ann.id}&from=2027-06-01&to=2027-06-02&zone=UTC`), 400);
    expectProblem(await client(server, null)('GET', '/health?verbose=1'), 400);

    const before = await snapshot(server);
    expectProblem(await carol.call('POST', `/v1/bookings/${booked.a}/cancel?force=true`, {}), 400);
    expect(await snapshot(server)).toEqual(before);

    const viaQuery = await client(server, null)('GET', `/v1/users/me?apiKey=${carol.apiKey}`);
    expect(viaQuery.statusCode, viaQuery.body).toBe(200);
    expect(viaQuery.json().id).toBe(carol.id);
    const feed = (await ann.call('GET', `/v1/providers/${ann.id}/calendar-feed`)).json();
    const ics = await client(server, null)('GET', `/v1/providers/${ann.id}/calendar.ics?token=${encodeURIComponent(feed.token)}`);
    expect(ics.statusCode, ics.body).toBe(200);
  });
});
