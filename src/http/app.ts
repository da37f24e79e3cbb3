import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from '../app/context.js';
import { registerAuth } from './auth.js';
import { registerIdempotency } from './idempotency.js';
import { acceptOnlyJson } from './json-body.js';
import { trackRoutes } from './method-not-allowed.js';
import { errorHandler, problemOf, sendProblem } from './problem.js';
import { registerRoutes } from './routes/index.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface BuildOptions {
  logger?: boolean | FastifyBaseLogger | { level: string };
}

/**
 * Bodies are validated strictly (a "5" is not a number, unknown fields are
 * errors); query strings and path parameters are text by nature, so numbers
 * there are coerced from their string form.
 */
// ajv-formats is CommonJS with a default export; under NodeNext its callable is `.default`.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

function validatorCompilers() {
  const strict = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
  const coercing = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: false });
  addFormats(strict);
  addFormats(coercing);
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema);
}

export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    // A malformed URL ('/v1/users/%ZZ') or an over-long path parameter fails before routing: answer it as problem+json too.
    frameworkErrors: (error, request, reply) => {
      errorHandler(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompilers());
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
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT')) request.body = {};
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id);
    return payload;
  });

  await app.register(cors, {
    origin: true,
    exposedHeaders: ['ETag', 'Idempotent-Replayed', 'X-Request-Id', 'Location'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'],
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
  });
  await app.register(swagger, {
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
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerAuth(app, ctx);
  registerIdempotency(app, ctx.db);
  await registerRoutes(app, ctx);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
