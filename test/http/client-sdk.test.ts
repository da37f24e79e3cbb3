/**
 * The typed client (src/client) against the real app on a loopback port:
 * problem+json errors with their code, the Idempotency-Key made once and kept
 * on a retry, slot ETags answered from the cache on 304, the stream as an
 * async iterator, and a guest's whole flow through manage tokens.
 */
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient } from '../../src/client/index.js';
import { upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { localInstant, providerAlwaysOpen } from './booking-helpers.js';

const DAY = upcomingDate(3, 10);

describe('the client SDK', () => {
  let server: TestServer;
  let baseUrl: string;
  let type: any;
  let providerId: string;
  const seen: Request[] = [];
  /** fetch that records what goes out, and can drop the first answer of a POST (as a lost connection would). */
  let dropNextPostAnswer = false;
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    seen.push(request.clone());
    const response = await fetch(request);
    if (request.method === 'POST' && dropNextPostAnswer) {
      dropNextPostAnswer = false;
      throw new TypeError('fetch failed (simulated lost answer)');
    }
    return response;
  };

  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    baseUrl = `http://127.0.0.1:${address.port}`;
    const provider = await providerAlwaysOpen(server);
    providerId = provider.id;
    type = (await provider.call('POST', '/v1/event-types', {
      slug: 'sdk-demo', title: 'SDK demo', durations: [30], minimumNotice: 0, public: true,
    })).json();
  });
  afterAll(async () => server?.close());

  it('reads a public type and its slots without a key; a repeat of the slots is a 304 answered from the cache', async () => {
    seen.length = 0;
    const api = createClient({ baseUrl, fetch: recordingFetch });
    expect((await api.publicEventType('sdk-demo')).id).toBe(type.id);
    const query = { eventTypeId: type.id, from: DAY, to: DAY, timeZone: 'Europe/Berlin' };
    const first = await api.slots(query);
    expect(first.slots.length).toBeGreaterThan(0);
    const again = await api.slots(query);
    expect(again).toEqual(first);
    const slotRequests = seen.filter((r) => new URL(r.url).pathname === '/v1/slots');
    expect(slotRequests[0]!.headers.get('if-none-match')).toBeNull();
    expect(slotRequests[1]!.headers.get('if-none-match')).toMatch(/^"/);
  });

  it('throws ApiError with the problem\'s code, status and Retry-After', async () => {
    const api = createClient({ baseUrl });
    const missing = await api.publicEventType('no-such-type').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    const bad = await api.hold({ eventTypeId: type.id, start: 'tomorrow', guest: { name: 'A', email: 'a@example.com' } }).catch((e: unknown) => e as ApiError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((bad as ApiError).problem.errors?.[0]?.path).toBe('body/start');
  });

  it('sets an Idempotency-Key on POST and reuses it when retrying: a lost answer does not hold twice', async () => {
    seen.length = 0;
    const api = createClient({ baseUrl, fetch: recordingFetch });
    dropNextPostAnswer = true;
    const start = localInstant(DAY, '10:00');
    const held = await api.hold({ eventTypeId: type.id, start, guest: { name: 'Ada', email: 'ada@example.com' } });
    const posts = seen.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{32}$/);
    expect(posts[1]!.headers.get('idempotency-key')).toBe(posts[0]!.headers.get('idempotency-key'));
    // The replay is the same booking; its token was shown only in the lost answer.
    expect((held as any).notShownAgain).toEqual(['manageToken']);
    const rows = await server.db.query('SELECT id FROM bookings WHERE guest_email = $1', ['ada@example.com']);
    expect(rows.rows).toHaveLength(1);
  });

  it('a guest\'s flow: hold, confirm, reschedule and cancel with the manage token; the stream reports each change', async () => {
    const anon = createClient({ baseUrl, WebSocket: WebSocket as never });
    const changes = anon.stream([providerId]);
    await new Promise((r) => setTimeout(r, 300)); // subscribed
    const held = await anon.hold({ eventTypeId: type.id, start: localInstant(DAY, '12:00'), guest: { name: 'Grace', email: 'grace@example.com' } });
    expect(held.manageToken).toMatch(/^bmt_/);
    const first = await changes.next();
    expect(first.value).toMatchObject({ type: 'availability.changed', providerId });
    const guest = createClient({ baseUrl, manageToken: held.manageToken! });
    expect((await guest.confirm(held.id)).status).toBe('confirmed');
    expect((await guest.reschedule(held.id, { start: localInstant(DAY, '13:00') })).start).toBe(localInstant(DAY, '13:00'));
    expect((await guest.cancel(held.id, 'Changed plans')).status).toBe('cancelled');
    await changes.return!();
    const refused = await guest.api.GET('/v1/bookings', {});
    expect(refused.response.status).toBe(401);
  });
});
