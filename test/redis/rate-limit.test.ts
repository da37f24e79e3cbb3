/**
 * The Redis token bucket (a Lua script) against the in-memory one, and one
 * limit shared by two app instances. Needs TEST_REDIS_URL (scripts/test-redis.sh).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/platform/rate-limit/rate-limit.js';
import { RedisRateLimitStore } from '../../src/platform/rate-limit/redis-rate-limit.js';
import { openRedis, type RedisConnection } from '../../src/platform/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const T0 = 1_800_000_000_000;

describe.skipIf(!REDIS_URL)('rate limits in Redis', () => {
  let redis: RedisConnection;
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    redis = openRedis(REDIS_URL!);
    expect(await redis.whenReady(5_000)).toBe(true);
  });
  afterAll(async () => redis?.close());

  it('decides exactly like the in-memory store on random sequences', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ limit: fc.integer({ min: 1, max: 1200 }), windowSeconds: fc.constantFrom(1, 10, 60, 3600), burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.record({ key: fc.constantFrom('a', 'b'), gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 })) }), { minLength: 1, maxLength: 40 }),
        async (policy, steps) => {
          const memory = new MemoryRateLimitStore(policy);
          let fallbacks = 0;
          const shared = new RedisRateLimitStore(redis, policy, { prefix: `${prefix}${run++}:`, onFallback: () => fallbacks++ });
          let now = T0;
          for (const step of steps) {
            // One clock that never goes back: the memory store forgets a full bucket, which is the same as a
            // full one only while time moves forward (see the next test for a slower clock).
            now += step.gapMs;
            expect(await shared.take(step.key, now)).toEqual(memory.take(step.key, now));
          }
          expect(fallbacks).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a process with a slower clock cannot refill a bucket early', async () => {
    const store = new RedisRateLimitStore(redis, { limit: 60, windowSeconds: 60, burst: 1 }, { prefix: `${prefix}skew:` });
    expect((await store.take('k', T0)).allowed).toBe(true);
    expect(await store.take('k', T0 - 5_000)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect((await store.take('k', T0 + 1_000)).allowed).toBe(true); // a token a second, counted from the later clock
  });

  it('re-sends the script after SCRIPT FLUSH (NOSCRIPT), and sets an expiry on the bucket', async () => {
    const policy = { limit: 60, windowSeconds: 60, burst: 2 };
    const store = new RedisRateLimitStore(redis, policy, { prefix: `${prefix}flush:` });
    expect((await store.take('k', T0)).remaining).toBe(1);
    await redis.client.script('FLUSH');
    expect(await store.take('k', T0)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await store.take('k', T0)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    const ttl = await redis.client.pttl(`${prefix}flush:rl:60:60:2:k`);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(3_000); // two tokens to refill (2 s) plus a second
  });

  describe('two app instances', () => {
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      const env = { REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: `${prefix}apps:`, RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '4' };
      [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
    });
    afterAll(async () => Promise.all([a?.close(), b?.close()]));

    it('share one bucket per key: the burst is spent across both, then both refuse', async () => {
      // The limiter runs before authentication: an unknown key still draws from its own bucket (and gets 401).
      const headers = { authorization: `Bearer shared-${randomBytes(6).toString('hex')}` };
      const statuses: number[] = [];
      for (const server of [a, b, a, b, a, b]) {
        statuses.push((await server.app.inject({ method: 'GET', url: '/v1/users/me', headers })).statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^redis_fallbacks_total\{component="rate_limit"\} 0$/m);
      expect(metrics).toMatch(/^redis_up 1$/m);
    });
  });
});
