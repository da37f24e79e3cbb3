/**
 * Request rate limits as token buckets. Each caller (an API key, or a client
 * address without one) has a bucket of `burst` tokens that refills at `limit`
 * tokens per `windowSeconds`; a request takes one token, and with none left it
 * is refused until the next token drips in. Unlike a fixed window, a caller
 * cannot double its rate by straddling a window boundary.
 *
 * Worked example, limit 600 per 60 s (10 per second), burst 600: a quiet key
 * may send 600 requests at once; the 601st within that same instant is refused
 * with Retry-After 1 (0.1 s to the next token, rounded up to whole seconds);
 * after 60 quiet seconds the bucket is full again.
 */
export interface RateLimitPolicy {
  /** Tokens added per window: the sustained rate. */
  limit: number;
  windowSeconds: number;
  /** The bucket's size: the most requests allowed at once. */
  burst: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole requests that could still be made now. */
  remaining: number;
  /** Seconds until the bucket is full again (the quota is wholly restored). */
  resetSeconds: number;
  /** Seconds until the next request can pass: 0 when this one passed. */
  retryAfterSeconds: number;
}

/**
 * Where the buckets live. This process keeps them in memory; a shared store
 * (Redis) makes several processes enforce one limit. `take` spends one token
 * of `key`'s bucket if it has one.
 */
export interface RateLimitStore {
  take(key: string, nowMs: number): RateLimitDecision | Promise<RateLimitDecision>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Buckets in a Map kept in least-recently-used order (a hit moves its key to
 * the end). A bucket that has refilled completely is the same as no bucket, so
 * the oldest entries are dropped as soon as they are full again, and at most
 * `maxKeys` are kept, bounding memory whatever the number of callers.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;

  constructor(
    private readonly policy: RateLimitPolicy,
    private readonly maxKeys = 100_000,
  ) {
    if (!(policy.limit > 0 && policy.windowSeconds > 0 && policy.burst >= 1)) {
      throw new Error('a rate limit needs a positive limit and window and a burst of at least 1');
    }
    this.tokensPerMs = policy.limit / (policy.windowSeconds * 1000);
  }

  get size(): number {
    return this.buckets.size;
  }

  private tokensAt(bucket: Bucket, nowMs: number): number {
    return Math.min(this.policy.burst, bucket.tokens + Math.max(0, nowMs - bucket.at) * this.tokensPerMs);
  }

  private prune(nowMs: number): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.buckets.entries().next();
      if (oldest.done) return;
      const [key, bucket] = oldest.value;
      if (this.buckets.size < this.maxKeys && this.tokensAt(bucket, nowMs) < this.policy.burst) return;
      this.buckets.delete(key);
    }
  }

  take(key: string, nowMs: number): RateLimitDecision {
    this.prune(nowMs);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.policy.burst, at: nowMs };
    } else {
      bucket.tokens = this.tokensAt(bucket, nowMs);
      bucket.at = Math.max(bucket.at, nowMs);
      this.buckets.delete(key);
    }
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return decide(this.policy, this.tokensPerMs, bucket.tokens, allowed);
  }
}

/** The decision a bucket holding `tokens` (after this request) gives; shared by the memory and Redis stores. */
export function decide(policy: RateLimitPolicy, tokensPerMs: number, tokens: number, allowed: boolean): RateLimitDecision {
  const secondsFor = (missing: number) => Math.max(0, Math.ceil(missing / tokensPerMs / 1000 - 1e-9));
  return {
    allowed,
    remaining: Math.floor(tokens + 1e-9),
    resetSeconds: secondsFor(policy.burst - tokens),
    retryAfterSeconds: allowed ? 0 : Math.max(1, secondsFor(1 - tokens)),
  };
}
