import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/platform/rate-limit/rate-limit.js';
import { policyHeader } from '../../src/http/rate-limit.js';

const T0 = 1_800_000_000_000;

describe('token-bucket rate limit (in memory)', () => {
  it('lets a burst through, refuses the next, and refills at the sustained rate', () => {
    const store = new MemoryRateLimitStore({ limit: 60, windowSeconds: 60, burst: 3 }); // 1 per second
    expect(store.take('k', T0)).toEqual({ allowed: true, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 });
    expect(store.take('k', T0)).toEqual({ allowed: true, remaining: 1, resetSeconds: 2, retryAfterSeconds: 0 });
    expect(store.take('k', T0)).toEqual({ allowed: true, remaining: 0, resetSeconds: 3, retryAfterSeconds: 0 });
    expect(store.take('k', T0)).toEqual({ allowed: false, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
    expect(store.take('k', T0 + 400)).toMatchObject({ allowed: false, retryAfterSeconds: 1 }); // 0.4 of a token
    expect(store.take('k', T0 + 1000)).toMatchObject({ allowed: true, remaining: 0 });
    expect(store.take('k', T0 + 10_000)).toMatchObject({ allowed: true, remaining: 2 }); // full again, capped at the burst
  });

  it('keeps one bucket per key', () => {
    const store = new MemoryRateLimitStore({ limit: 1, windowSeconds: 60, burst: 1 });
    expect(store.take('a', T0).allowed).toBe(true);
    expect(store.take('a', T0)).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    expect(store.take('b', T0).allowed).toBe(true);
  });

  it('forgets buckets once they are full again, and never keeps more than maxKeys', () => {
    const store = new MemoryRateLimitStore({ limit: 60, windowSeconds: 60, burst: 2 }, 100);
    for (let i = 0; i < 1000; i++) store.take(`key-${i}`, T0 + i);
    expect(store.size).toBeLessThanOrEqual(100);
    // Two seconds later every bucket has refilled: each new caller sweeps two old ones out.
    for (let i = 0; i < 60; i++) store.take(`late-${i}`, T0 + 10_000);
    expect(store.size).toBeLessThanOrEqual(60);
  });

  it('refuses a policy that cannot pass anything', () => {
    expect(() => new MemoryRateLimitStore({ limit: 0, windowSeconds: 60, burst: 1 })).toThrow();
    expect(() => new MemoryRateLimitStore({ limit: 10, windowSeconds: 60, burst: 0 })).toThrow();
  });

  it('formats RateLimit-Policy as draft-07 (burst only when it differs)', () => {
    expect(policyHeader({ limit: 600, windowSeconds: 60, burst: 600 })).toBe('600;w=60');
    expect(policyHeader({ limit: 600, windowSeconds: 60, burst: 50 })).toBe('600;w=60;burst=50');
  });
});
