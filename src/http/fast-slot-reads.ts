import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fastQuerystring from 'fast-querystring';
import type { AppContext, Principal } from '../features/context.js';
import { authenticate } from '../features/identity/auth.js';
import { compileQueryValidator } from './validators.js';
import { etagMatches } from './etag.js';
import { recordAnswer, requestIdOf } from './observability.js';
import type { RequestLimiter } from './rate-limit.js';
import { SLOTS_CACHE_CONTROL, SLOTS_CONTENT_TYPE, slotsAnswer } from './routes/slots.js';
import { SlotsQuery } from './schemas/bookings.js';

/**
 * GET /v1/slots is the hot read: a client polls it, and the answer usually comes
 * from the slot cache as bytes. Through Fastify (routing, request and reply
 * objects, seven hooks) it ran at 0.25-0.28x a bare node:http server sending the
 * same bytes; answered here, before Fastify routes the request, 0.34-0.37x
 * (FAST_SLOT_READS off and on, alternated in one run, each against the bare
 * server in alternating slices: bench/variants-ab.ts).
 *
 * It answers only the plain case and hands everything else to Fastify untouched,
 * which then answers as it always does: another method or path, a body, any query
 * parameter besides the route's own (apiKey included) or a repeated one, a query
 * the route's schema refuses, a key that is refused, an answer that is an error
 * (a 400 of the range, 404, 403), a refused rate limit, TRUST_PROXY (the client
 * address is then Fastify's to work out), a server that is closing. An error is
 * never answered here, and nothing is counted twice: the rate-limit token is taken
 * only once the answer is ready, just before it is sent.
 *
 * What it sends is what the route sends (the same slotsAnswer, ETag and 304,
 * Cache-Control, content type), with the headers of the hooks it skips: CORS
 * (origin reflected, Vary: Origin, the exposed headers of app.ts), RateLimit and
 * RateLimit-Policy, X-Request-Id; it records the request's metrics and, at
 * LOG_LEVEL info or lower, logs Fastify's two lines per request.
 * test/http/fast-slot-reads.test.ts compares its answers with Fastify's.
 */
export interface FastSlotReads {
  /** FAST_SLOT_READS=off, or a test comparing both paths, sets it false: every request then goes through Fastify. */
  enabled: boolean;
  /** Requests answered here (the rest went to Fastify). */
  answered: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const PREFIX = '/v1/slots?';
const ROUTE = '/v1/slots';
const PARAMETERS = new Set(Object.keys(SlotsQuery.properties));
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const LOGGED_LEVELS = new Set(['info', 'debug', 'trace']);

export interface FastSlotReadsOptions {
  limiter: RequestLimiter | null;
  /** app.ts's CORS exposedHeaders, joined. */
  exposedHeaders: string;
}

/** Puts the fast path in front of Fastify's handler of `app.server` (before listen). */
export function installFastSlotReads(app: FastifyInstance, ctx: AppContext, options: FastSlotReadsOptions): FastSlotReads {
  const handle: FastSlotReads = { enabled: ctx.config.fastSlotReads, answered: 0 };
  const server = app.server;
  const routed = server.listeners('request') as Handler[];
  // Fastify's own handler is the server's one listener; anything else and this stays out of the way.
  if (routed.length !== 1 || ctx.config.trustProxy !== false) return { ...handle, enabled: false };
  const route = routed[0]!;
  // Built on the first request it sees, as Fastify's own validators are (compile-on-first-use.ts): not at start-up.
  let validate: ReturnType<typeof compileQueryValidator> | undefined;
  // Fastify logs two lines per request at info: so does this path, at the same levels.
  const logsRequests = () => LOGGED_LEVELS.has(app.log.level);

  async function answer(req: IncomingMessage, res: ServerResponse, started: number): Promise<boolean> {
    const url = req.url!;
    if (url.includes('#') || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const query = fastQuerystring.parse(url.slice(PREFIX.length)) as Record<string, unknown>;
    for (const name in query) if (!PARAMETERS.has(name) || typeof query[name] !== 'string') return false;
    if (!(validate ??= compileQueryValidator(SlotsQuery))(query)) return false;
    const header = req.headers.authorization;
    let principal: Principal | null = null;
    if (header !== undefined) {
      const secret = BEARER.exec(header)?.[1];
      if (secret === undefined) return false;
      principal = await authenticate(ctx, secret); // a refused key throws: Fastify answers the 401
    }
    const { body, etag } = await slotsAnswer(ctx, principal, query as Parameters<typeof slotsAnswer>[2]);
    const limited = options.limiter
      ? await options.limiter.take(principal && principal.role !== 'guest' ? `user:${principal.userId}` : `ip:${req.socket.remoteAddress}`)
      : null;
    if (limited && !limited.allowed) return false; // Fastify takes it again, refuses, and answers the 429
    if (!server.listening) return false;
    const requestId = requestIdOf(req);
    const log = logsRequests() ? app.log.child({ reqId: requestId }) : null;
    log?.info({ req: { method: req.method, url, host: req.headers.host, ip: req.socket.remoteAddress } }, 'incoming request');
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin) res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', options.exposedHeaders);
    if (limited) for (const [name, value] of limited.headers) res.setHeader(name, value);
    res.setHeader('etag', etag);
    res.setHeader('cache-control', SLOTS_CACHE_CONTROL);
    const status = etagMatches(req.headers['if-none-match'], etag) ? 304 : 200;
    res.setHeader('x-request-id', requestId);
    res.statusCode = status;
    if (status === 304) {
      res.end();
    } else {
      res.setHeader('content-type', SLOTS_CONTENT_TYPE);
      res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
      res.end(body);
    }
    handle.answered++;
    const seconds = (performance.now() - started) / 1000;
    if (ctx.config.metricsEnabled) recordAnswer(ctx.metrics, 'GET', ROUTE, status, seconds);
    log?.info({ res: { statusCode: status }, responseTime: seconds * 1000 }, 'request completed');
    return true;
  }

  server.removeListener('request', route);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!handle.enabled || req.method !== 'GET' || !req.url?.startsWith(PREFIX) || !server.listening) return route(req, res);
    answer(req, res, performance.now()).then(
      (answered) => { if (!answered) route(req, res); },
      () => route(req, res), // every error is Fastify's to answer, as it would have without this path
    );
  });
  return handle;
}
