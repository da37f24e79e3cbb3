import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/platform/rate-limit/rate-limit.js';
import { VersionGate } from '../../src/platform/change-feed/redis-change-feed.js';
import { RedisRateLimitStore } from '../../src/platform/rate-limit/redis-rate-limit.js';
import type { RedisConnection } from '../../src/platform/redis.js';

const T0 = 1_800_000_000_000;
const policy = { limit: 60, windowSeconds: 60, burst: 3 };

describe('Redis fallbacks (no Redis needed)', () => {
  it.each([
    ['down', { usable: (): boolean => false }],
    ['failing', { usable: (): boolean => true, client: { evalsha: () => Promise.reject(new Error('Command timed out')) } }],
  ] as const)('a rate limit with Redis %s decides like the in-memory store, and counts it', async (_name, fake) => {
    let fallbacks = 0;
    const store = new RedisRateLimitStore(fake as unknown as RedisConnection, policy, { onFallback: () => fallbacks++ });
    const memory = new MemoryRateLimitStore(policy);
    for (const t of [0, 0, 0, 0, 400, 1000, 10_000]) expect(await store.take('k', T0 + t)).toEqual(memory.take('k', T0 + t));
    expect(fallbacks).toBe(7);
  });

  it('the stream passes each provider\'s versions on only when they grow', () => {
    const gate = new VersionGate();
    const passed = [3, 3, 2, 4, 4, 6, 5].filter((version) => gate.pass({ providerId: 'p', version }));
    expect(passed).toEqual([3, 4, 6]);
    expect(gate.pass({ providerId: 'q', version: 1 })).toBe(true); // per provider
    gate.forget('p');
    expect(gate.pass({ providerId: 'p', version: 1 })).toBe(true);
  });
});
