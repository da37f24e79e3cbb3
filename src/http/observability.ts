import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppMetrics } from '../platform/metrics/app-metrics.js';

/** An incoming X-Request-Id is kept when it is 1-128 visible ASCII characters (no spaces, no control characters). */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's id: the caller's `X-Request-Id` when it is sane (so one id
 * follows a call through a proxy and into our logs), otherwise a new UUID.
 * Fastify binds it to every log line of the request as `reqId`; an onSend hook
 * echoes it in `X-Request-Id`.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

const SECRET_PARAMETERS = new Set(['apikey', 'token']);

/**
 * Keys and feed tokens may ride in the query string; they must not reach the
 * logs. Names are compared after percent-decoding (`?api%4Bey=` is read as
 * `apiKey` by the query parser, so it authenticates), case-insensitively; a
 * parameter whose name cannot be decoded is redacted too.
 *
 *   redactUrl('/v1/users/me?api%4Bey=bk_1&x=2') -> '/v1/users/me?api%4Bey=[redacted]&x=2'
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const parts = url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name: string;
    try {
      name = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' '));
    } catch {
      name = 'token';
    }
    return SECRET_PARAMETERS.has(name.trim().toLowerCase()) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, at)}?${parts.join('&')}`;
}

const serializers = {
  req(request: FastifyRequest) {
    return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip };
  },
};

/** Fastify logger options (JSON lines, pino) with the request serializer above. */
export function loggerOptions<L>(logger: L): L | { level: string; serializers: typeof serializers } {
  if (logger === true) return { level: 'info', serializers };
  if (typeof logger === 'object' && logger !== null && typeof (logger as { info?: unknown }).info !== 'function') {
    return { ...(logger as unknown as { level: string }), serializers };
  }
  return logger;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// Label values made once, so counting a request allocates no string.
const STATUS_TEXT = Array.from({ length: 600 }, (_, i) => String(i));

/**
 * Counts every answer by method, route pattern and status, and times it. The
 * route is the pattern (`/v1/bookings/:id`), never the URL, so the number of
 * series stays bounded; paths no route matches count as `unmatched`.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: AppMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    recordResponse(metrics, request, reply);
    done();
  });
}

/** Also called directly for the answers Fastify sends without hooks (a malformed URL). */
export function recordResponse(metrics: AppMetrics, request: FastifyRequest, reply: FastifyReply): void {
  recordAnswer(metrics, request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
}

/** recordResponse without Fastify's objects (a request answered by fast-slot-reads.ts). */
export function recordAnswer(metrics: AppMetrics, requestMethod: string, route: string, status: number, seconds: number): void {
  const method = METHODS.has(requestMethod) ? requestMethod : 'OTHER';
  metrics.httpRequests.labels(method, route, STATUS_TEXT[status] ?? 'other').inc();
  if (Number.isFinite(seconds)) metrics.httpDuration.labels(method, route).observe(seconds);
}
