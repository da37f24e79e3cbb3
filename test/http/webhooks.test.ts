import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/features/bookings/expiry-sweeper.js';
import { admin, createUser, expectProblem, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, hasValidSignature, startReceiver } from '../helpers/webhook-receiver.js';
import { expireHold, holdOk, localInstant, plusDays, providerAlwaysOpen } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;
type Caller = User['call'];
const ALL = ['booking.held', 'booking.confirmed', 'booking.cancelled', 'booking.expired', 'availability.changed'];

describe('webhooks', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let provider: User;
  const day = upcomingDate(3);
  let slot = 0;
  /** A fresh start time per hold: 10:00, 10:30, ... on successive days. */
  const nextStart = () => {
    slot += 1;
    return localInstant(plusDays(day, Math.floor(slot / 20)), `${String(8 + (slot % 20) / 2 | 0).padStart(2, '0')}:${slot % 2 ? '30' : '00'}`);
  };

  const subscribe = async (call: Caller, path: string, events: string[] = ALL) => {
    const res = await call('POST', '/v1/webhooks', { url: `${receiver.base}${path}`, events, description: path });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; secret: string; url: string; events: string[] };
  };
  const deliveries = async (call: Caller, id: string) => {
    const res = await call('GET', `/v1/webhooks/${id}/deliveries`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as { id: string; event: string; status: string; attempts: number; responseStatus?: number }[];
  };

  beforeAll(async () => {
    receiver = await startReceiver({ '/flaky': [500, 500, 200], '/down': [503] });
    server = await startTestServer({
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '20', WEBHOOK_RETRY_BASE_MS: '30', MIN_NOTICE_MINUTES: '0',
      // The retention test calls the sweeper itself: the server's own round must not take its events first.
      EXPIRY_SWEEP_SECONDS: '3600',
    });
    provider = await providerAlwaysOpen(server);
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('hold, confirm and cancel reach the provider\'s, the client\'s and an admin\'s webhooks, signed', async () => {
    const alice = await createUser(server, 'client');
    const p = await subscribe(provider.call, '/flow-provider');
    const a = await subscribe(alice.call, '/flow-client');
    const adm = await subscribe(admin(server), '/flow-admin', ['booking.confirmed']);
    expect(p.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const booking = await holdOk(alice.call, provider.id, nextStart(), 30);
    expect((await alice.call('POST', `/v1/bookings/${booking.id}/confirm`)).statusCode).toBe(200);
    expect((await alice.call('POST', `/v1/bookings/${booking.id}/cancel`, { reason: 'changed plans' })).statusCode).toBe(200);

    expect(await eventually(() => receiver.at('/flow-provider').length >= 6 && receiver.at('/flow-client').length >= 3
      && receiver.at('/flow-admin').length >= 1)).toBe(true);
    const toProvider = receiver.at('/flow-provider');
    expect(toProvider.map((r) => r.json.type).sort()).toEqual([
      'availability.changed', 'availability.changed', 'availability.changed', 'booking.cancelled', 'booking.confirmed', 'booking.held',
    ]);
    const versions = toProvider.filter((r) => r.json.type === 'availability.changed').map((r) => r.json.data.version).sort((x, y) => x - y);
    expect(new Set(versions).size).toBe(3);
    for (const r of toProvider.filter((r) => r.json.type === 'availability.changed')) {
      expect(r.json.data.providerId).toBe(provider.id);
    }
    // Clients see their bookings, not the provider's availability.
    expect(receiver.at('/flow-client').map((r) => r.json.type).sort()).toEqual(['booking.cancelled', 'booking.confirmed', 'booking.held']);
    const cancelled = receiver.at('/flow-client').find((r) => r.json.type === 'booking.cancelled')!;
    expect(cancelled.json.data).toMatchObject({ id: booking.id, status: 'cancelled', cancelReason: 'changed plans', clientId: alice.id });
    expect(Number.isNaN(Date.parse(cancelled.json.timestamp))).toBe(false);
    expect(receiver.at('/flow-admin').map((r) => r.json.data.id)).toContain(booking.id);

    for (const [path, secret] of [['/flow-provider', p.secret], ['/flow-client', a.secret], ['/flow-admin', adm.secret]] as const) {
      for (const r of receiver.at(path)) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(String(r.headers['webhook-id'])).toMatch(/^dlv_/);
        expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
        expect(hasValidSignature(r, secret)).toBe(true);
        expect(hasValidSignature(r, p.secret === secret ? a.secret : p.secret)).toBe(false);
      }
    }
    expect(await eventually(async () => (await deliveries(alice.call, a.id)).every((d) => d.status === 'succeeded'))).toBe(true);
    const listed = await deliveries(alice.call, a.id);
    expect(listed).toHaveLength(3);
    expect(listed.every((d) => d.attempts === 1)).toBe(true);
  });

  it('one availability.changed per transaction; booking.expired from the sweeper', async () => {
    const bob = await createUser(server, 'client');
    const w = await subscribe(bob.call, '/expired', ['booking.expired']);
    const booking = await holdOk(bob.call, provider.id, nextStart(), 30);
    await expireHold(server, booking.id);
    await sweepOnce(server.db);
    expect(await eventually(() => receiver.at('/expired').length >= 1)).toBe(true);
    expect(receiver.at('/expired')[0]!.json).toMatchObject({ type: 'booking.expired', data: { id: booking.id, status: 'expired' } });
    expect(hasValidSignature(receiver.at('/expired')[0]!, w.secret)).toBe(true);
    // A transaction that bumps one provider twice still records one event.
    await server.db.transaction(async (tx) => {
      const { bumpAvailabilityVersion } = await import('../../src/db/users-repo.js');
      await bumpAvailabilityVersion(tx, provider.id);
      await bumpAvailabilityVersion(tx, provider.id);
    });
    const { rows } = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE type = 'availability.changed' AND provider_id = $1 GROUP BY tx_id ORDER BY count(*) DESC LIMIT 1`,
      [provider.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('a schedule change is an availability.changed for the provider\'s webhooks', async () => {
    const other = await providerAlwaysOpen(server);
    const w = await subscribe(other.call, '/schedule', ['availability.changed']);
    const res = await other.call('PUT', `/v1/providers/${other.id}/schedule`, {
      timeZone: 'Europe/Berlin', weekly: [{ day: 'monday', start: '09:00', end: '17:00' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await eventually(() => receiver.at('/schedule').length >= 1)).toBe(true);
    const [r] = receiver.at('/schedule');
    expect(r!.json).toMatchObject({ type: 'availability.changed', data: { providerId: other.id, version: expect.any(Number) } });
    expect(hasValidSignature(r!, w.secret)).toBe(true);
  });

  it('two workers at once send each delivery once (claims skip locked rows)', async () => {
    const erin = await createUser(server, 'client');
    const w = await subscribe(erin.call, '/twice', ['booking.held']);
    const { deliverDueWebhooks } = await import('../../src/features/webhooks/webhook-worker.js');
    await holdOk(erin.call, provider.id, nextStart(), 30);
    await holdOk(erin.call, provider.id, nextStart(), 30);
    // Three rounds race each other and the server's own worker for the same two deliveries.
    await Promise.all([deliverDueWebhooks(server.ctx), deliverDueWebhooks(server.ctx), deliverDueWebhooks(server.ctx)]);
    expect(await eventually(async () => (await deliveries(erin.call, w.id)).every((d) => d.status === 'succeeded'))).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const got = receiver.at('/twice');
    expect(got).toHaveLength(2);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(2);
  });

  it('the sweeper drops week-old events once nothing is pending for them', async () => {
    const frank = await createUser(server, 'client');
    const done = await subscribe(frank.call, '/retention', ['booking.held']);
    const pending = await subscribe(frank.call, '/down', ['booking.held']);
    await holdOk(frank.call, provider.id, nextStart(), 30);
    expect(await eventually(async () => (await deliveries(frank.call, done.id))[0]?.status === 'succeeded')).toBe(true);
    const ids = async (id: string) => (await server.db.query<{ event_id: string }>('SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1', [id])).rows;
    const [{ event_id: eventId }] = (await ids(done.id)) as [{ event_id: string }];
    await server.db.query(`UPDATE events SET created_at = now() - interval '8 days' WHERE id = $1`, [eventId]);
    await sweepOnce(server.db);
    expect((await ids(pending.id)).map((r) => r.event_id)).toEqual([eventId]); // still pending for /down: kept
    await server.db.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE webhook_id = $1`, [pending.id]);
    const result = await sweepOnce(server.db);
    expect(result.eventsDeleted).toBeGreaterThanOrEqual(1);
    expect(await ids(done.id)).toEqual([]);
    expect((await server.db.query('SELECT 1 FROM events WHERE id = $1', [eventId])).rows).toEqual([]);
  });

  it('retries a receiver that answers 500 twice: the third attempt succeeds, with the same webhook-id', async () => {
    const carol = await createUser(server, 'client');
    const w = await subscribe(carol.call, '/flaky', ['booking.held']);
    await holdOk(carol.call, provider.id, nextStart(), 30);
    expect(await eventually(async () => (await deliveries(carol.call, w.id))[0]?.status === 'succeeded')).toBe(true);
    const [d] = await deliveries(carol.call, w.id);
    expect(d).toMatchObject({ event: 'booking.held', status: 'succeeded', attempts: 3 });
    const got = receiver.at('/flaky');
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([d!.id]));
    for (const r of got) expect(hasValidSignature(r, w.secret)).toBe(true);
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/webhook_deliveries_total\{outcome="retry"\} [1-9]/);
    expect(metrics.body).toMatch(/webhook_deliveries_total\{outcome="succeeded"\} [1-9]/);
  });

  it('a failing receiver stays pending with its status and a next attempt', async () => {
    const dave = await createUser(server, 'client');
    const w = await subscribe(dave.call, '/down', ['booking.held']);
    await holdOk(dave.call, provider.id, nextStart(), 30);
    expect(await eventually(async () => ((await deliveries(dave.call, w.id))[0]?.attempts ?? 0) >= 2)).toBe(true);
    const [d] = await deliveries(dave.call, w.id);
    expect(d).toMatchObject({ status: 'pending', responseStatus: 503 });
    expect(d).toHaveProperty('nextAttemptAt');
  });

  it('client A\'s webhook never sees client B\'s bookings', async () => {
    const a = await createUser(server, 'client');
    const b = await createUser(server, 'client');
    await subscribe(a.call, '/only-a');
    await subscribe(b.call, '/only-b');
    const ofB = await holdOk(b.call, provider.id, nextStart(), 30);
    const ofA = await holdOk(a.call, provider.id, nextStart(), 30);
    expect(await eventually(() => receiver.at('/only-a').length >= 1 && receiver.at('/only-b').length >= 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.at('/only-a').map((r) => r.json.data.id)).toEqual([ofA.id]);
    expect(receiver.at('/only-b').map((r) => r.json.data.id)).toEqual([ofB.id]);
  });

  it('shows the secret once; lists, deletes and hides webhooks by owner', async () => {
    const a = await createUser(server, 'client');
    const b = await createUser(server, 'client');
    const w = await subscribe(a.call, '/listed', ['booking.held']);
    const list = await a.call('GET', '/v1/webhooks');
    expect(list.statusCode).toBe(200);
    expect(list.json().data).toEqual([{ id: w.id, url: w.url, events: ['booking.held'], description: '/listed', createdAt: expect.any(String) }]);
    expect(list.body).not.toContain('whsec_');
    expect((await b.call('GET', '/v1/webhooks')).json().data).toEqual([]);
    expect((await admin(server)('GET', '/v1/webhooks?limit=200')).json().data.map((x: { id: string }) => x.id)).toContain(w.id);
    expectProblem(await b.call('GET', `/v1/webhooks/${w.id}/deliveries`), 404);
    expectProblem(await b.call('DELETE', `/v1/webhooks/${w.id}`), 404);
    expect((await a.call('DELETE', `/v1/webhooks/${w.id}`)).statusCode).toBe(204);
    expectProblem(await a.call('GET', `/v1/webhooks/${w.id}/deliveries`), 404);
    // Deleted: nothing more is delivered.
    await holdOk(a.call, provider.id, nextStart(), 30);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/listed')).toHaveLength(0);
    const { rows } = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [w.id]);
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses unknown events, non-http URLs and (without the flag) private addresses', async () => {
    const a = await createUser(server, 'client');
    expectProblem(await a.call('POST', '/v1/webhooks', { url: `${receiver.base}/x`, events: ['booking.moved'] }), 400);
    expectProblem(await a.call('POST', '/v1/webhooks', { url: `${receiver.base}/x`, events: [] }), 400);
    expectProblem(await a.call('POST', '/v1/webhooks', { url: 'ftp://127.0.0.1/x', events: ['booking.held'] }), 400);
    expectProblem(await a.call('POST', '/v1/webhooks', { url: 'not a url', events: ['booking.held'] }), 400);
    expectProblem(await a.call('POST', '/v1/webhooks', { events: ['booking.held'] }), 400);
    expectProblem(await server.app.inject({ method: 'GET', url: '/v1/webhooks' }), 401);

    const strict = await startTestServer();
    try {
      const c = await createUser(strict, 'client');
      for (const url of [`${receiver.base}/x`, 'http://localhost:9/x', 'http://10.0.0.1/x', 'http://[::1]/x', 'http://169.254.169.254/latest']) {
        const problem = expectProblem(await c.call('POST', '/v1/webhooks', { url, events: ['booking.held'] }), 400);
        expect(problem.detail).toMatch(/refused/);
      }
    } finally {
      await strict.close();
    }
  });

  it('is in the OpenAPI document', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/webhooks', '/v1/webhooks/{id}', '/v1/webhooks/{id}/deliveries']));
  });
});
