import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * JSON is the only body this API accepts: anything else is a 415. An empty
 * body with a JSON content type reads as "no body", because many clients send
 * that header on bodyless POSTs such as /confirm.
 */
export function acceptOnlyJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = (_request: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new AppError('invalid_json', `The body is not valid JSON: ${(error as Error).message}`));
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/i, { parseAs: 'string' }, parseJson);
}
