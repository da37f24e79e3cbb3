import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * Accepted on every route besides its own parameters: the v1 way to send a
 * key (`?apiKey=`, read by src/http/auth.ts). Routes that take another
 * credential in the query (`token` of calendar.ics) declare it in their schema.
 */
const EVERYWHERE = new Set(['apiKey']);

/**
 * An unknown query parameter is a 400 naming it (`query/<name>`), as an
 * unknown body field is: a misspelt filter (`?provider=…`) must not be
 * silently ignored and answer as if there were none. A route whose query
 * schema says `additionalProperties: true` (an OAuth redirect that carries
 * whatever the other side adds) opts out; hidden routes (the docs) are left alone.
 */
export function refuseUnknownQueryParameters(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every request and never waits.
  app.addHook('preValidation', (request, _reply, done) => {
    const schema = request.routeOptions.schema as { hide?: boolean; querystring?: unknown } | undefined;
    if (!schema || schema.hide) return done();
    const query = schema.querystring as { properties?: Record<string, unknown>; additionalProperties?: unknown } | undefined;
    if (query?.additionalProperties === true) return done();
    const known = query?.properties ?? {};
    const unknown = Object.keys((request.query ?? {}) as object).filter((name) => !Object.hasOwn(known, name) && !EVERYWHERE.has(name));
    if (unknown.length === 0) return done();
    const errors = unknown.map((name) => ({ path: `query/${name}`, message: 'is not a known parameter' }));
    done(new AppError('invalid_request', `query/${unknown[0]} is not a known parameter of this route.`, errors));
  });
}
