import { createHash } from 'node:crypto';
import { decide, MemoryRateLimitStore, type RateLimitDecision, type RateLimitPolicy, type RateLimitStore } from './rate-limit.js';
import type { RedisConnection } from '../redis.js';

/**
 * MemoryRateLimitStore's token bucket, run atomically inside Redis so every
 * process draws from one bucket per caller. The arithmetic is the same, in the
 * same order, on the same doubles (Lua numbers are doubles; the state is
 * written with %.17g, which reads back exactly), so both stores decide alike
 * (test/redis/rate-limit.test.ts compares them). The caller's clock is used,
 * as in memory; `at` never moves back, so a process whose clock is behind
 * cannot refill a bucket early.
 *
 * A bucket key expires once the bucket would be full again (plus a second):
 * then it is the same as no bucket.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens, at
if not state[1] then
  tokens = burst
  at = now
else
  tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
  at = math.max(tonumber(state[2]), now)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local text = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 't', text, 'a', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((burst - tokens) / rate) + 1000))
return { allowed, text }
`;
const TAKE_SHA = createHash('sha1').update(TAKE).digest('hex');

export class RedisRateLimitStore implements RateLimitStore {
  private readonly tokensPerMs: number;
  private readonly prefix: string;
  /** Answers while Redis is down or failing: availability beats strictness (each process then limits alone). */
  private readonly fallback: MemoryRateLimitStore;

  constructor(
    private readonly redis: RedisConnection,
    private readonly policy: RateLimitPolicy,
    private readonly options: { prefix?: string; onFallback?: (error?: unknown) => void } = {},
  ) {
    this.fallback = new MemoryRateLimitStore(policy);
    this.tokensPerMs = policy.limit / (policy.windowSeconds * 1000);
    // The policy is in the key: processes (or tests) with different limits never share a bucket.
    this.prefix = `${options.prefix ?? 'booking:'}rl:${policy.limit}:${policy.windowSeconds}:${policy.burst}:`;
  }

  async take(key: string, nowMs: number): Promise<RateLimitDecision> {
    if (!this.redis.usable()) return this.fallBack(key, nowMs);
    try {
      const [allowed, tokens] = await this.run(this.prefix + key, nowMs);
      return decide(this.policy, this.tokensPerMs, Number(tokens), allowed === 1);
    } catch (error) {
      return this.fallBack(key, nowMs, error);
    }
  }

  /** EVALSHA; after a Redis restart (or SCRIPT FLUSH) the script is gone: EVAL sends it again. */
  private async run(key: string, nowMs: number): Promise<[number, string]> {
    const args = [key, String(nowMs), String(this.policy.burst), String(this.tokensPerMs)];
    try {
      return (await this.redis.client.evalsha(TAKE_SHA, 1, ...args)) as [number, string];
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await this.redis.client.eval(TAKE, 1, ...args)) as [number, string];
    }
  }

  private fallBack(key: string, nowMs: number, error?: unknown): RateLimitDecision {
    this.options.onFallback?.(error);
    return this.fallback.take(key, nowMs);
  }
}
