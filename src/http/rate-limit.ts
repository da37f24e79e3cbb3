import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppMetrics } from '../platform/metrics/app-metrics.js';
import type { Config } from '../config.js';
import type { Clock } from '../features/context.js';
import type { RateLimitPolicy, RateLimitStore } from '../platform/rate-limit/rate-limit.js';
import { AppError } from '../domain/errors.js';

/** Probes, metrics and documentation are never limited: a load balancer or a scraper must always get through. */
const UNLIMITED_ROUTES = new Set(['/health', '/ready', '/metrics', '/openapi.json']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * For a route whose callers are known by something other than an API key
     * (the calendar feed's token): the bucket of a request whose credential
     * this function has checked, or null to count it by its address.
     */
    rateLimitSubject?: (request: FastifyRequest) => Promise<string | null>;
  }
}

function isUnlimited(request: FastifyRequest): boolean {
  // CORS preflights do no work and carry no key; browsers would otherwise pay twice per call.
  if (request.method === 'OPTIONS') return true;
  const route = request.routeOptions.url;
  return route !== undefined && (UNLIMITED_ROUTES.has(route) || route === '/docs' || route.startsWith('/docs/'));
}

/**
 * The bucket a request draws from, chosen only from what has been checked:
 * the authenticated user (all of a user's keys share one bucket, so minting
 * keys does not multiply the limit), else a credential the route itself has
 * verified (a calendar feed's token), else the client address. A key or
 * token that is merely presented never picks a bucket: made-up ones would
 * each get a fresh one.
 */
export async function rateLimitKey(request: FastifyRequest): Promise<string> {
  // A guest's manage token is paid from its address: booking again must not mint a fresh bucket.
  if (request.principal && request.principal.role !== 'guest') return `user:${request.principal.userId}`;
  const subject = await request.routeOptions.config.rateLimitSubject?.(request);
  return subject ?? `ip:${request.ip}`;
}

/**
 * `RateLimit-Policy` and `RateLimit` as in draft-ietf-httpapi-ratelimit-headers-07:
 *   RateLimit-Policy: 600;w=60            (600 requests per 60 s; `;burst=N` when the bucket differs)
 *   RateLimit: limit=600, remaining=599, reset=1
 * where limit is the bucket's size, remaining the requests left now and reset
 * the seconds until the bucket is full again.
 */
export function policyHeader(policy: RateLimitPolicy): string {
  return `${policy.limit};w=${policy.windowSeconds}${policy.burst !== policy.limit ? `;burst=${policy.burst}` : ''}`;
}

/** The policy RATE_LIMIT_PER_MINUTE and RATE_LIMIT_BURST describe; null when limiting is off (0). */
export function rateLimitPolicyOf(config: Pick<Config, 'rateLimitPerMinute' | 'rateLimitBurst'>): RateLimitPolicy | null {
  return config.rateLimitPerMinute > 0 ? { limit: config.rateLimitPerMinute, windowSeconds: 60, burst: config.rateLimitBurst } : null;
}

export type RequestLimiter = ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) & {
  /** One token from `key`'s bucket and the two headers to send, for a request answered outside Fastify (fast-slot-reads.ts). */
  take(key: string): Promise<{ allowed: boolean; headers: [string, string][] }>;
};

/**
 * Takes one token from the request's bucket (see rateLimitKey) and throws a
 * 429 when there is none. Called by the authentication hook once it knows who
 * is calling, and also for a credential it refused, so that guessing keys is
 * paid from the guesser's address.
 */
export function requestLimiter(options: { policy: RateLimitPolicy; store: RateLimitStore; clock: Clock; metrics: AppMetrics }): RequestLimiter {
  const { policy, store, clock } = options;
  const policyValue = policyHeader(policy);
  const refused = options.metrics.rateLimited.labels('requests');
  const take = async (key: string) => {
    const decision = await store.take(key, clock.now());
    const headers: [string, string][] = [
      // Lower case, as Fastify's reply.header() writes every name.
      ['ratelimit-policy', policyValue],
      ['ratelimit', `limit=${policy.burst}, remaining=${decision.remaining}, reset=${decision.resetSeconds}`],
    ];
    return { decision, headers };
  };
  const limit = async (request: FastifyRequest, reply: FastifyReply) => {
    if (isUnlimited(request)) return;
    const key = await rateLimitKey(request);
    const { decision, headers } = await take(key);
    for (const [name, value] of headers) reply.header(name, value);
    if (decision.allowed) return;
    refused.inc();
    const who = key.startsWith('ip:') ? 'this client address' : key.startsWith('user:') ? 'this user (all its API keys together)' : 'this calendar feed';
    throw new AppError(
      'rate_limited',
      `Too many requests from ${who}: the limit is ${policy.limit} per ${policy.windowSeconds} seconds ` +
        `(at most ${policy.burst} at once). Retry in ${decision.retryAfterSeconds} s.`,
      undefined,
      decision.retryAfterSeconds,
    );
  };
  return Object.assign(limit, {
    take: async (key: string) => {
      const { decision, headers } = await take(key);
      return { allowed: decision.allowed, headers };
    },
  });
}
