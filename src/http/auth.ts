import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../features/identity/auth.js';
import type { AppContext, Principal } from '../features/context.js';
import { AppError } from '../domain/errors.js';
import type { RequestLimiter } from './rate-limit.js';

/** `required` (the default under /v1), `optional` (the route decides), or `none`. */
export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

export function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <apiKey>".');
    return match[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.apiKey;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

/**
 * Who is calling, then the rate limit for that caller (http/rate-limit.ts),
 * then the refusal of a bad key: a refused key is charged to the client's
 * address, so guessing keys ends in 429 like any flood. Routes with auth
 * 'none' never look at a key (login, sign-up's checks are their own).
 */
export function registerAuth(app: FastifyInstance, ctx: AppContext, limit: RequestLimiter | null): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const mode = request.routeOptions.config.auth ?? 'none';
    let refusal: unknown = null;
    if (mode !== 'none') {
      try {
        const secret = apiKeyOf(request);
        if (secret !== undefined || mode === 'required') request.principal = await authenticate(ctx, secret);
      } catch (error) {
        refusal = error;
      }
    }
    if (limit) await limit(request, reply);
    if (refusal !== null) throw refusal;
  });
}

/** The principal of a route declared with auth 'required'. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'An API key is required.');
  return request.principal;
}
