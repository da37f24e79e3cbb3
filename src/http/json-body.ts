import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * JSON is the only body this API accepts: anything else is a 415. An empty
 * body with a JSON content type reads as "no body", because many clients send
 * that header on bodyless POSTs such as /confirm.
 */
/**
 * No request body of this API nests more than a few levels. Deeper JSON is
 * refused while parsing, before anything walks it recursively (the
 * Idempotency-Key hash of a /confirm body overflowed the stack: a 500).
 */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text opens more than `max` arrays/objects at once (strings are skipped). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

export function acceptOnlyJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = (_request: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(new AppError('invalid_json', `The body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels.`));
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new AppError('invalid_json', `The body is not valid JSON: ${(error as Error).message}`));
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/i, { parseAs: 'string' }, parseJson);
}
