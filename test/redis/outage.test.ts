/**
 * Redis dies and comes back under a running server: /ready says so (503
 * naming Redis, then 200), slots stay correct (the cache bypasses Redis), the
 * stream keeps delivering (each process tails the outbox itself) and returns
 * to the Redis path. Uses a private redis-server child (never the shared
 * one); runs when TEST_REDIS_URL says Redis is available (scripts/test-redis.sh).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisChangeFeed } from '../../src/platform/change-feed/redis-change-feed.js';
import { listSlots } from '../../src/features/slots/slots.js';
import { createUser, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';
import { localInstant } from '../http/booking-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
  return Date.now() - started;
}

describe.skipIf(!process.env.TEST_REDIS_URL)('Redis down and back', () => {
  let redis: PrivateRedis;
  let server: TestServer;
  let stream: StreamClient;
  let feed: RedisChangeFeed;
  let provider: Awaited<ReturnType<typeof providerWithHours>>;
  let customer: Awaited<ReturnType<typeof createUser>>;
  const day = upcomingDate(3);
  let hour = 9;
  let closed = false;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    server = await startTestServer({ REDIS_URL: redis.url });
    feed = server.changeFeed as RedisChangeFeed;
    expect(feed).toBeInstanceOf(RedisChangeFeed);
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    provider = await providerWithHours(server);
    customer = await createUser(server, 'client');
    stream = await openStream(`ws://127.0.0.1:${address.port}/v1/stream?apiKey=${encodeURIComponent(customer.apiKey)}`);
    stream.send({ type: 'subscribe', providerIds: [provider.id] });
    await stream.next((m) => m.type === 'subscribed');
  }, 60_000);

  afterAll(async () => {
    await stream?.close();
    if (!closed) await server?.close();
    await redis?.kill();
  });

  const ready = () => server.app.inject({ method: 'GET', url: '/ready' });
  const metric = async (series: string) => {
    const line = (await server.app.inject({ method: 'GET', url: '/metrics' })).body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? NaN : Number(line.slice(series.length + 1));
  };
  const versionOf = async () =>
    Number((await server.db.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [provider.id])).rows[0]!.v);
  /** A one-hour hold; resolves with how long its change took to reach the stream. */
  async function holdAndHear(timeoutMs: number): Promise<number> {
    const res = await customer.call('POST', '/v1/bookings', { providerId: provider.id, start: localInstant(day, `${String(hour++).padStart(2, '0')}:00`), duration: 60 });
    expect(res.statusCode, res.body).toBe(201);
    const started = Date.now();
    const version = await versionOf();
    await stream.next((m) => m.type === 'availability.changed' && m.version === version, timeoutMs);
    return Date.now() - started;
  }
  const slotsMatchFresh = async () => {
    const query = { providerId: provider.id, from: day, to: day };
    const res = await customer.call('GET', `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(JSON.stringify(await listSlots({ ...server.ctx, slotCache: undefined }, query)));
  };

  it('with Redis up: ready, and the stream goes through Redis', { timeout: 30_000 }, async () => {
    const res = await ready();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    await until('the Redis path is healthy', () => !feed.usingFallback, 10_000);
    expect(feed.isLeader).toBe(true); // the only process
    expect(await metric('redis_up')).toBe(1);
    console.log(`change to stream via Redis: ${await holdAndHear(1_000)} ms`);
    await slotsMatchFresh();
  });

  it('with Redis killed: 503 naming Redis, correct slots, the stream still delivers', { timeout: 30_000 }, async () => {
    const fallbacksBefore = await metric('redis_fallbacks_total{component="change_feed"}');
    await redis.kill();
    await until('/ready is 503', async () => (await ready()).statusCode === 503, 3_000);
    const problem = (await ready()).json();
    expect(problem.checks).toEqual({ database: 'ok', redis: 'unavailable' });
    expect(problem.detail).toMatch(/^Redis did not answer/);
    expect(await metric('redis_up')).toBe(0);
    await slotsMatchFresh();
    // A change right after the crash arrives once the local tail has taken over (heartbeat timeout), not lost.
    console.log(`change to stream during the switch to the local tail: ${await holdAndHear(8_000)} ms`);
    expect(feed.usingFallback).toBe(true);
    expect(await metric('redis_fallbacks_total{component="change_feed"}')).toBeGreaterThan(fallbacksBefore);
    console.log(`change to stream on the local tail: ${await holdAndHear(1_000)} ms`);
    await slotsMatchFresh();
    expect(await metric('redis_fallbacks_total{component="slot_cache"}')).toBeGreaterThan(0);
  });

  it('with Redis back: ready again, and the stream returns to Redis', { timeout: 30_000 }, async () => {
    await redis.start();
    const recovered = await until('/ready is 200', async () => (await ready()).statusCode === 200, 10_000);
    console.log(`/ready back to 200 ${recovered} ms after Redis restarted`);
    await until('the local tail stopped', () => !feed.usingFallback, 15_000);
    expect(feed.isLeader).toBe(true);
    console.log(`change to stream via Redis again: ${await holdAndHear(1_000)} ms`);
    await slotsMatchFresh();
  });

  it('closing the server releases the lease and the connections', async () => {
    const probe = new Redis(redis.url);
    try {
      expect(await probe.get('booking:feed:leader')).toMatch(new RegExp(`:${process.pid}:`));
      await stream.close();
      await server.close();
      closed = true;
      expect(await probe.get('booking:feed:leader')).toBeNull();
      expect(server.ctx.redis!.usable()).toBe(false);
    } finally {
      probe.disconnect();
    }
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('Redis down at start', () => {
  let redis: PrivateRedis;
  let server: TestServer | null = null;
  afterAll(async () => {
    await server?.close();
    await redis?.kill();
  });

  it('the server starts degraded, serves slots, and is ready once Redis comes up', { timeout: 40_000 }, async () => {
    redis = await startPrivateRedis();
    await redis.kill(); // the port is known and nothing listens on it
    const started = Date.now();
    server = await startTestServer({ REDIS_URL: redis.url });
    console.log(`started with Redis down in ${Date.now() - started} ms`);
    const feed = server.changeFeed as RedisChangeFeed;
    expect(feed.usingFallback).toBe(true);
    const res = await server.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toEqual({ database: 'ok', redis: 'unavailable' });
    const provider = await providerWithHours(server);
    const customer = await createUser(server, 'client');
    const day = upcomingDate(2);
    const slots = await customer.call('GET', `/v1/slots?providerId=${provider.id}&from=${day}&to=${day}`);
    expect(slots.statusCode).toBe(200);
    expect(slots.json().slots).toHaveLength(32);

    await redis.start();
    await until('/ready is 200', async () => (await server!.app.inject({ method: 'GET', url: '/ready' })).statusCode === 200, 10_000);
    await until('the Redis path took over the stream', () => !feed.usingFallback && feed.isLeader, 15_000);
  });
});
