import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../features/identity/auth.js';
import type { AppContext, Principal } from '../features/context.js';
import { AppError } from '../domain/errors.js';

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

export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const mode = request.routeOptions.config.auth ?? 'none';
    if (mode === 'none') return;
    const secret = apiKeyOf(request);
    if (secret === undefined && mode === 'optional') return;
    request.principal = await authenticate(ctx, secret);
  });
}

/** The principal of a route declared with auth 'required'. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'An API key is required.');
  return request.principal;
}
