import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import fastQuerystring from 'fast-querystring';
import type { AppContext, Principal } from '../features/context.js';
import { authenticate, authenticateFromMemory } from '../features/identity/auth.js';
import { compileQueryValidator } from './validators.js';
import { etagMatches } from './etag.js';
import { recordAnswer, requestIdOf } from './observability.js';
import type { RequestLimiter } from './rate-limit.js';
import { SLOTS_CACHE_CONTROL, SLOTS_CONTENT_TYPE, slotsAnswer, slotsAnswerInMemory } from './routes/slots.js';
import type { RenderedSlots } from '../features/slots/slot-cache.js';
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
 * When everything the answer takes is already in this process's memory (the key in the key cache,
 * the provider's version known, a valid cache entry with a render for these cuts: a client polling
 * the same question), it is answered synchronously, without a promise, and with one writeHead: per
 * request, the server's CPU went from 80.5 to 50.2 µs and allocations from 18.3 to 12.4 KB (the bare
 * server: 24.3 µs, 6.6 KB; medians of 4 rounds of 60,000 reads alternated with the tree before, load
 * 3.5-4.3; CPU from /proc, allocations from V8's sampling heap profiler). Anything else takes the
 * promise path below, as before.
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
  /** Of those, answered from memory without a promise (a known key and a kept render). */
  answeredFromMemory: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type SlotsQueryValues = Static<typeof SlotsQuery>;
type Limited = Awaited<ReturnType<RequestLimiter['take']>>;

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
  const handle: FastSlotReads = { enabled: ctx.config.fastSlotReads, answered: 0, answeredFromMemory: 0 };
  const server = app.server;
  const routed = server.listeners('request') as Handler[];
  // Fastify's own handler is the server's one listener; anything else and this stays out of the way.
  if (routed.length !== 1 || ctx.config.trustProxy !== false) return { ...handle, enabled: false };
  const route = routed[0]!;
  // Built on the first request it sees, as Fastify's own validators are (compile-on-first-use.ts): not at start-up.
  let validate: ReturnType<typeof compileQueryValidator> | undefined;
  // Fastify logs two lines per request at info: so does this path, at the same levels.
  const logsRequests = () => LOGGED_LEVELS.has(app.log.level);

  /** The route's parameters when the request is the plain case this path takes; undefined: Fastify's. */
  function plainQuery(req: IncomingMessage): SlotsQueryValues | undefined {
    const url = req.url!;
    if (url.includes('#') || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
    const query = fastQuerystring.parse(url.slice(PREFIX.length)) as Record<string, unknown>;
    for (const name in query) if (!PARAMETERS.has(name) || typeof query[name] !== 'string') return undefined;
    return (validate ??= compileQueryValidator(SlotsQuery))(query) ? (query as SlotsQueryValues) : undefined;
  }

  /**
   * true: answered; false: Fastify's to answer. From memory (a known key, a kept render) it is decided
   * here and now, without a promise; otherwise (or with a rate limit, whose store may be Redis) a promise.
   */
  function answer(req: IncomingMessage, res: ServerResponse, started: number): boolean | Promise<boolean> {
    const query = plainQuery(req);
    if (!query) return false;
    const header = req.headers.authorization;
    const secret = header === undefined ? null : BEARER.exec(header)?.[1];
    if (secret === undefined) return false;
    const principal = secret === null ? null : authenticateFromMemory(ctx, secret);
    const known = principal === undefined ? undefined : slotsAnswerInMemory(ctx, principal, query);
    if (known) return finish(req, res, principal!, known, started, true);
    return answerAfterLookups(req, res, query, secret, started);
  }

  async function answerAfterLookups(
    req: IncomingMessage, res: ServerResponse, query: SlotsQueryValues, secret: string | null, started: number,
  ): Promise<boolean> {
    const principal = secret === null ? null : await authenticate(ctx, secret); // a refused key throws: Fastify answers the 401
    return finish(req, res, principal, await slotsAnswer(ctx, principal, query), started, false);
  }

  /** Sends the answer unless the rate limit refuses it: Fastify then takes the request again, refuses it, and answers the 429. */
  function finish(
    req: IncomingMessage, res: ServerResponse, principal: Principal | null, rendered: RenderedSlots, started: number, fromMemory: boolean,
  ): boolean | Promise<boolean> {
    if (!options.limiter) return send(req, res, rendered, null, started, fromMemory);
    const limitKey = principal && principal.role !== 'guest' ? `user:${principal.userId}` : `ip:${req.socket.remoteAddress}`;
    return options.limiter.take(limitKey).then((limited) => limited.allowed && send(req, res, rendered, limited, started, fromMemory));
  }

  function send(
    req: IncomingMessage, res: ServerResponse, rendered: RenderedSlots, limited: Limited | null, started: number, fromMemory: boolean,
  ): boolean {
    if (!server.listening) return false;
    const requestId = requestIdOf(req);
    const log = logsRequests() ? app.log.child({ reqId: requestId }) : null;
    log?.info({ req: { method: req.method, url: req.url, host: req.headers.host, ip: req.socket.remoteAddress } }, 'incoming request');
    // One writeHead with every header: setHeader per header (validated and stored one by one) showed in profiles.
    const headers: string[] = ['vary', 'Origin'];
    const origin = req.headers.origin;
    if (origin) headers.push('access-control-allow-origin', origin);
    headers.push('access-control-expose-headers', options.exposedHeaders);
    if (limited) for (const [name, value] of limited.headers) headers.push(name, value);
    headers.push('etag', rendered.etag, 'cache-control', SLOTS_CACHE_CONTROL, 'x-request-id', requestId);
    const status = etagMatches(req.headers['if-none-match'], rendered.etag) ? 304 : 200;
    if (status === 304) {
      res.writeHead(304, headers).end();
    } else {
      const { body } = rendered;
      headers.push('content-type', SLOTS_CONTENT_TYPE, 'content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
      res.writeHead(200, headers).end(body);
    }
    handle.answered++;
    if (fromMemory) handle.answeredFromMemory++;
    const seconds = (performance.now() - started) / 1000;
    if (ctx.config.metricsEnabled) recordAnswer(ctx.metrics, 'GET', ROUTE, status, seconds);
    log?.info({ res: { statusCode: status }, responseTime: seconds * 1000 }, 'request completed');
    return true;
  }

  server.removeListener('request', route);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!handle.enabled || req.method !== 'GET' || !req.url?.startsWith(PREFIX) || !server.listening) return route(req, res);
    let answered: boolean | Promise<boolean>;
    try {
      answered = answer(req, res, performance.now());
    } catch {
      answered = false; // every error is Fastify's to answer, as it would have without this path
    }
    if (answered === true) return;
    if (answered === false) return route(req, res);
    answered.then(
      (done) => { if (!done) route(req, res); },
      () => route(req, res),
    );
  });
  return handle;
}
