import cors from '@fastify/cors';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ChangeFeed } from '../platform/change-feed/change-feed.js';
import type { AppContext } from '../features/context.js';
import { MemoryRateLimitStore, type RateLimitStore } from '../platform/rate-limit/rate-limit.js';
import { registerAuth } from './auth.js';
import { clientErrorHandler } from './client-error.js';
import { compileOnFirstUse, serializersOnFirstUse } from './compile-on-first-use.js';
import { installFastSlotReads, type FastSlotReads } from './fast-slot-reads.js';
import { registerIdempotency } from './idempotency.js';
import { validatorCompilers } from './validators.js';
import { acceptOnlyJson } from './json-body.js';
import { refuseControlCharacters } from './text-fields.js';
import { trackRoutes } from './method-not-allowed.js';
import { loggerOptions, recordResponse, registerHttpMetrics, requestIdOf } from './observability.js';
import { errorHandler, problemOf, sendProblem } from './problem.js';
import { documentCommonErrors, toComponents } from './openapi.js';
import { refuseUnknownQueryParameters } from './query-parameters.js';
import { rateLimitPolicyOf, requestLimiter } from './rate-limit.js';
import { registerRoutes } from './routes/index.js';
import { streamRoutes } from './routes/stream.js';

export const BODY_LIMIT_BYTES = 64 * 1024;
/** Response headers a browser script on another origin may read (CORS). */
const EXPOSED_HEADERS = ['ETag', 'Idempotent-Replayed', 'X-Request-Id', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy'];

declare module 'fastify' {
  interface FastifyInstance {
    /** The fast path of GET /v1/slots (http/fast-slot-reads.ts): whether it is on, and how often it answered. */
    fastSlotReads: FastSlotReads;
  }
}

export interface BuildOptions {
  logger?: boolean | FastifyBaseLogger | { level: string };
  /** Where rate-limit buckets live; by default in this process's memory. */
  rateLimitStore?: RateLimitStore;
  /** Availability changes for GET /v1/stream; without one the route is not served. */
  changeFeed?: ChangeFeed;
}

/** TRUST_PROXY=n: the address n hops before ours is the client's (Fastify's own number form is untyped). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(options.logger ?? false),
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify's own serializers (fast-json-stringify), built on each route's first answer rather than at start.
    schemaController: { compilersFactory: { buildSerializer: serializersOnFirstUse(SerializerSelector()) } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // X-Request-Id is read by requestIdOf, which keeps only sane values (Fastify would take any).
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: typeof ctx.config.trustProxy === 'number' ? trustHops(ctx.config.trustProxy) : ctx.config.trustProxy,
    return503OnClosing: true,
    // A request must arrive whole (headers and body) within REQUEST_TIMEOUT_MS and its headers within
    // HEADERS_TIMEOUT_MS, else a 408; an idle socket is closed after as long. Checked every second.
    requestTimeout: ctx.config.requestTimeoutMs,
    connectionTimeout: ctx.config.requestTimeoutMs + 5_000,
    http: { headersTimeout: ctx.config.headersTimeoutMs, connectionsCheckingInterval: Math.min(1_000, ctx.config.headersTimeoutMs) },
    clientErrorHandler,
    // A malformed URL ('/v1/users/%ZZ') or an over-long path parameter fails before routing: answer it as problem+json too.
    frameworkErrors: (error, request, reply) => {
      reply.header('X-Request-Id', request.id); // these answers skip the onSend and onResponse hooks
      errorHandler(error, request, reply);
      if (ctx.config.metricsEnabled) recordResponse(ctx.metrics, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(compileOnFirstUse(validatorCompilers()));
  app.setErrorHandler(errorHandler);
  acceptOnlyJson(app);
  const allowedMethods = trackRoutes(app);
  app.setNotFoundHandler((request, reply) => {
    const allow = allowedMethods(request.url);
    if (allow.length > 0) {
      reply.header('Allow', allow.join(', '));
      return sendProblem(
        reply,
        problemOf('method_not_allowed', `${request.method} is not allowed here; use ${allow.join(', ')}.`),
      );
    }
    return sendProblem(reply, problemOf('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });
  // A bodyless POST (confirm, a key with no name) reads as {}; required fields then fail by name.
  // The hooks that run on every request are callback hooks: an async one costs each request a promise.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT')) request.body = {};
    done();
  });
  refuseControlCharacters(app);
  refuseUnknownQueryParameters(app);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('X-Request-Id', request.id);
    done(null, payload);
  });

  await app.register(cors, {
    origin: true,
    exposedHeaders: EXPOSED_HEADERS,
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  });
  documentCommonErrors(app);
  await app.register(swagger, {
    // A route that reads a raw body (no JSON schema to validate it) documents it through its config.
    transform: ({ schema, url, route }) => {
      const documented = route.config?.documentedBody;
      return { schema: documented === undefined ? schema : { ...schema, body: documented }, url };
    },
    transformObject: (document) => ('openapiObject' in document ? toComponents(document.openapiObject) : document.swaggerObject),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Booking Engine API',
        version: '1.0.0',
        description:
          'Headless booking engine: availability, 15-minute slots, holds and bookings that never overlap. ' +
          'Errors are application/problem+json (RFC 9457).',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <apiKey>' },
          apiKeyQuery: { type: 'apiKey', in: 'query', name: 'apiKey' },
          manageToken: { type: 'apiKey', in: 'query', name: 'token', description: 'A guest\'s manage token (bmt_…), also as Authorization: Bearer: opens its one booking' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Before the rate-limit and auth hooks: its own onRequest hook marks upgrade requests, so that an
  // upgrade refused by those hooks (401, 429) gets its socket closed after the answer.
  if (options.changeFeed) await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  if (ctx.config.metricsEnabled) registerHttpMetrics(app, ctx.metrics);
  const policy = rateLimitPolicyOf(ctx.config);
  // Buckets are per checked user (else per address), so the limit is taken inside the authentication hook.
  const limiter = policy
    ? requestLimiter({ policy, store: options.rateLimitStore ?? new MemoryRateLimitStore(policy), clock: ctx.clock, metrics: ctx.metrics })
    : null;
  registerAuth(app, ctx, limiter);
  registerIdempotency(app, ctx.db);
  await registerRoutes(app, ctx);
  if (options.changeFeed) {
    await app.register(streamRoutes(ctx, options.changeFeed), { prefix: '/v1' });
  }

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.decorate('fastSlotReads', installFastSlotReads(app, ctx, { limiter, exposedHeaders: EXPOSED_HEADERS.join(', ') }));
  return app;
}
