import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { ADMIN_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { countBookings, expireHold, hold, holdOk, localInstant, plusDays } from './booking-helpers.js';

type User = Awaited<ReturnType<typeof createUser>>;

describe('MAX_HOLDS_PER_CLIENT (default 5)', () => {
  let server: TestServer;
  let provider: User;
  const monday = upcomingDate(1);
  /** Distinct, non-overlapping 15-minute slots: the n-th from 09:00 on a weekday. */
  const slot = (n: number, day = monday) => localInstant(day, `${String(9 + Math.floor(n / 4)).padStart(2, '0')}:${String((n % 4) * 15).padStart(2, '0')}`);

  beforeAll(async () => {
    server = await startTestServer();
    provider = await providerWithHours(server);
  });
  afterAll(async () => server?.close());

  const liveHolds = (clientId: string) =>
    countBookings(server, `client_id = $1 AND status = 'held' AND expires_at > now()`, [clientId]);

  it('the 6th live hold is a 429 problem+json (too_many_holds) with Retry-After until the earliest hold lapses', async () => {
    const client = await createUser(server, 'client');
    for (let i = 0; i < 5; i++) await holdOk(client.call, provider.id, slot(i));
    const res = await hold(client.call, provider.id, slot(5));
    const problem = expectProblem(res, 429);
    expect(problem.code).toBe('too_many_holds');
    expect(problem.detail).toContain('You already hold 5 unconfirmed slots; confirm or cancel one first');
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(1790);
    expect(retryAfter).toBeLessThanOrEqual(1800);
    expect(await liveHolds(client.id)).toBe(5);
    // Another client is not affected.
    const other = await createUser(server, 'client');
    await holdOk(other.call, provider.id, slot(5));
  });

  it('confirmed, cancelled and expired holds do not count', async () => {
    const client = await createUser(server, 'client');
    const day = plusDays(monday, 1);
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await holdOk(client.call, provider.id, slot(i, day)));
    expectProblem(await hold(client.call, provider.id, slot(5, day)), 429);

    expect((await client.call('POST', `/v1/bookings/${held[0].id}/confirm`)).statusCode).toBe(200);
    held.push(await holdOk(client.call, provider.id, slot(5, day)));
    expectProblem(await hold(client.call, provider.id, slot(6, day)), 429);

    expect((await client.call('POST', `/v1/bookings/${held[1].id}/cancel`, {})).statusCode).toBe(200);
    held.push(await holdOk(client.call, provider.id, slot(6, day)));
    expectProblem(await hold(client.call, provider.id, slot(7, day)), 429);

    await expireHold(server, held[2].id);
    held.push(await holdOk(client.call, provider.id, slot(7, day)));
    expect(expectProblem(await hold(client.call, provider.id, slot(8, day)), 429).code).toBe('too_many_holds');
    expect(await liveHolds(client.id)).toBe(5);
  });

  it('a refused hold is not stored under its Idempotency-Key: the retry after making room runs again', async () => {
    const client = await createUser(server, 'client');
    const day = plusDays(monday, 4);
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await holdOk(client.call, provider.id, slot(i, day)));
    const key = { 'idempotency-key': `cap-${client.id}` };
    expectProblem(await hold(client.call, provider.id, slot(5, day), undefined, {}, key), 429);
    expect((await client.call('POST', `/v1/bookings/${held[0].id}/cancel`, {})).statusCode).toBe(200);
    const retried = await hold(client.call, provider.id, slot(5, day), undefined, {}, key);
    expect(retried.statusCode, retried.body).toBe(201);
    const replayed = await hold(client.call, provider.id, slot(5, day), undefined, {}, key);
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
  });

  it('applies to an administrator booking on a client\'s behalf, and is configurable', async () => {
    const client = await createUser(server, 'client');
    const day = plusDays(monday, 2);
    for (let i = 0; i < 5; i++) await holdOk(admin(server), provider.id, slot(i, day), 15, { clientId: client.id });
    const problem = expectProblem(await hold(admin(server), provider.id, slot(5, day), 15, { clientId: client.id }), 429);
    expect(problem.detail).toContain(`Client ${client.id} already holds 5 unconfirmed slots`);

    const strict = await startTestServer({ MAX_HOLDS_PER_CLIENT: '1' });
    try {
      const p = await providerWithHours(strict);
      const c = await createUser(strict, 'client');
      await holdOk(c.call, p.id, slot(0, day));
      const res = await hold(c.call, p.id, slot(1, day));
      expect(expectProblem(res, 429).detail).toContain('You already hold 1 unconfirmed slot;');
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await strict.close();
    }
  });

  it('10 concurrent holds by one client on distinct slots: exactly 5 succeed, never more live holds than the cap', async () => {
    const client = await createUser(server, 'client');
    const day = plusDays(monday, 3);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => hold(client.call, provider.id, slot(i * 2, day))));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses, results.map((r) => r.body).join('\n')).toEqual([201, 201, 201, 201, 201, 429, 429, 429, 429, 429]);
    for (const r of results.filter((x) => x.statusCode === 429)) expect(expectProblem(r, 429).code).toBe('too_many_holds');
    expect(await liveHolds(client.id)).toBe(5);
    expect(await countBookings(server, 'client_id = $1', [client.id])).toBe(5);
  });

  it('counts refusals in /metrics', async () => {
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/^bookings_total\{outcome="too_many_holds"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(9);
    expect(Number(/^rate_limited_total\{limit="holds"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(9);
  });
});

describe('request rate limit (token bucket per user, per address without a valid key)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => server?.close());

  const me = (key: string | null, remoteAddress = '127.0.0.1') =>
    server.app.inject({
      method: 'GET',
      url: '/v1/users/me',
      remoteAddress,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });

  it('answers with RateLimit-Policy and RateLimit, then 429 problem+json with Retry-After once the burst is spent', async () => {
    const first = await me(ADMIN_KEY);
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('3;w=60');
    expect(first.headers.ratelimit).toBe('limit=3, remaining=2, reset=20');
    expect((await me(ADMIN_KEY)).headers.ratelimit).toMatch(/^limit=3, remaining=1, reset=(39|40)$/);
    expect((await me(ADMIN_KEY)).headers.ratelimit).toMatch(/^limit=3, remaining=0, reset=(59|60)$/);

    const refused = await me(ADMIN_KEY);
    const problem = expectProblem(refused, 429);
    expect(problem.code).toBe('rate_limited');
    expect(problem.detail).toContain('this user');
    expect(refused.headers['retry-after']).toMatch(/^(19|20)$/); // one token per 20 s
    expect(refused.headers['ratelimit-policy']).toBe('3;w=60');
    expect(refused.headers.ratelimit).toMatch(/^limit=3, remaining=0, reset=\d+$/);
    expect(refused.headers['x-request-id']).toBeTruthy();
  });

  it('the same key through ?apiKey= shares the bucket; another key and a keyless address have their own', async () => {
    const viaQuery = await server.app.inject({ method: 'GET', url: `/v1/users/me?apiKey=${ADMIN_KEY}` });
    expectProblem(viaQuery, 429);

    const keyless = await me(null, '10.0.0.7');
    expectProblem(keyless, 401); // passes the limiter, then fails authentication
    expect(keyless.headers.ratelimit).toBe('limit=3, remaining=2, reset=20');
    await me(null, '10.0.0.7');
    await me(null, '10.0.0.7');
    const refused = await me(null, '10.0.0.7');
    expect(expectProblem(refused, 429).detail).toContain('this client address');
    expect((await me(null, '10.0.0.8')).statusCode).toBe(401);
    // An unknown key or feed token is no bucket of its own: it is counted by address (see security-throttle.test.ts).
    expectProblem(await me('not-a-real-key-0123456789', '10.0.0.7'), 429);
    const feed = await server.app.inject({ method: 'GET', url: '/v1/providers/nobody/calendar.ics?token=some-feed-token', remoteAddress: '10.0.0.7' });
    expectProblem(feed, 429);
  });

  it('never limits /health, /ready, /metrics, /openapi.json, /docs or CORS preflights', async () => {
    for (let i = 0; i < 5; i++) {
      for (const url of ['/health', '/ready', '/metrics', '/openapi.json', '/docs/json']) {
        const res = await server.app.inject({ method: 'GET', url, remoteAddress: '10.0.0.9' });
        expect(res.statusCode, `${url} ${res.body.slice(0, 200)}`).toBe(200);
        expect(res.headers.ratelimit).toBeUndefined();
      }
      const preflight = await server.app.inject({
        method: 'OPTIONS', url: '/v1/users/me', remoteAddress: '10.0.0.9',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.statusCode).toBe(204);
    }
    expect((await me(null, '10.0.0.9')).headers.ratelimit).toBe('limit=3, remaining=2, reset=20');
  });

  it('counts refusals in rate_limited_total and exposes the headers to browsers', async () => {
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/^rate_limited_total\{limit="requests"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
    const res = await server.app.inject({ method: 'GET', url: '/v1/users/me', headers: { origin: 'https://app.example' }, remoteAddress: '10.0.1.1' });
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/RateLimit-Policy/);
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/Retry-After/);
  });

  it('RATE_LIMIT_BURST sets the bucket apart from the rate; RATE_LIMIT_PER_MINUTE=0 turns the limiter off', async () => {
    const bursty = await startTestServer({ RATE_LIMIT_PER_MINUTE: '120', RATE_LIMIT_BURST: '2' });
    try {
      const call = () => bursty.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const first = await call();
      expect(first.headers['ratelimit-policy']).toBe('120;w=60;burst=2');
      expect(first.headers.ratelimit).toBe('limit=2, remaining=1, reset=1');
      expect((await call()).statusCode).toBe(200);
      const refused = await call();
      expectProblem(refused, 429);
      expect(refused.headers['retry-after']).toBe('1');
    } finally {
      await bursty.close();
    }
    const off = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await off.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        expect(res.statusCode).toBe(200);
        expect(res.headers.ratelimit).toBeUndefined();
      }
    } finally {
      await off.close();
    }
  });
});
