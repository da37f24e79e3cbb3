import type { FastifyInstance } from 'fastify';
import { invalidField } from '../domain/errors.js';
import { nameProblem, textProblem } from '../domain/text.js';

/** Fields that name something a person reads as a label (a user, a key, a title): they must show something. */
const NAME_FIELDS = new Set(['name', 'title']);

function firstProblem(value: unknown, path: string, key: string | null): [string, string] | null {
  if (typeof value === 'string') {
    const problem = key !== null && NAME_FIELDS.has(key) ? nameProblem(value) : textProblem(value);
    return problem ? [path, problem] : null;
  }
  // A binary body (an image upload) holds no text fields; walking its bytes one by one would be slow.
  if (Buffer.isBuffer(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstProblem(value[i], `${path}/${i}`, null);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = firstProblem(v, `${path}/${k}`, k);
      if (found) return found;
    }
  }
  return null;
}

/** Every string of every JSON body is held to domain/text.ts: a 400 naming the field, before the route runs. */
export function refuseControlCharacters(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every request and never waits.
  app.addHook('preValidation', (request, _reply, done) => {
    const found = request.body === undefined ? null : firstProblem(request.body, 'body', null);
    done(found ? invalidField(found[0], found[1]) : undefined);
  });
}
