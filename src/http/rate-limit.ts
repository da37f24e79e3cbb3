import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppMetrics } from '../platform/metrics/app-metrics.js';
import type { Config } from '../config.js';
import type { Clock } from '../features/context.js';
import type { RateLimitPolicy, RateLimitStore } from '../platform/rate-limit/rate-limit.js';
import { AppError } from '../domain/errors.js';
import { apiKeyOf } from './auth.js';

/** Probes, metrics and documentation are never limited: a load balancer or a scraper must always get through. */
const UNLIMITED_ROUTES = new Set(['/health', '/ready', '/metrics', '/openapi.json']);

function isUnlimited(request: FastifyRequest): boolean {
  // CORS preflights do no work and carry no key; browsers would otherwise pay twice per call.
  if (request.method === 'OPTIONS') return true;
  const route = request.routeOptions.url;
  return route !== undefined && (UNLIMITED_ROUTES.has(route) || route === '/docs' || route.startsWith('/docs/'));
}

/**
 * The bucket a request draws from: its API key (as presented, hashed so no
 * secret is kept in memory), else its calendar-feed token (calendar apps poll
 * feeds from a few shared addresses), else its client address. Runs before
 * authentication, so a flood is refused before it reaches the database.
 */
export function rateLimitKey(request: FastifyRequest): string {
  let secret: string | undefined;
  try {
    secret = apiKeyOf(request);
  } catch {
    secret = undefined; // a malformed Authorization header: authentication answers it with a 401
  }
  if (secret === undefined) {
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string' && token !== '') secret = `feed-token:${token}`;
  }
  if (secret === undefined) return `ip:${request.ip}`;
  return `key:${createHash('sha256').update(secret).digest('base64url')}`;
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

export function registerRateLimit(
  app: FastifyInstance,
  options: { policy: RateLimitPolicy; store: RateLimitStore; clock: Clock; metrics: AppMetrics },
): void {
  const { policy, store, clock } = options;
  const policyValue = policyHeader(policy);
  const refused = options.metrics.rateLimited.labels('requests');
  app.addHook('onRequest', async (request, reply) => {
    if (isUnlimited(request)) return;
    const key = rateLimitKey(request);
    const decision = await store.take(key, clock.now());
    reply.header('RateLimit-Policy', policyValue);
    reply.header('RateLimit', `limit=${policy.burst}, remaining=${decision.remaining}, reset=${decision.resetSeconds}`);
    if (decision.allowed) return;
    refused.inc();
    const who = key.startsWith('ip:') ? 'this client address' : 'this API key';
    throw new AppError(
      'rate_limited',
      `Too many requests from ${who}: the limit is ${policy.limit} per ${policy.windowSeconds} seconds ` +
        `(at most ${policy.burst} at once). Retry in ${decision.retryAfterSeconds} s.`,
      undefined,
      decision.retryAfterSeconds,
    );
  });
}
