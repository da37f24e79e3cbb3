import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../features/identity/auth.js';
import type { AppContext, Principal } from '../features/context.js';
import { AppError } from '../domain/errors.js';
import type { RequestLimiter } from './rate-limit.js';
import { guestPrincipal, isManageToken } from '../features/bookings/manage-tokens.js';

/** `required` (the default under /v1), `optional` (the route decides), or `none`. */
export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
    /**
     * The route also takes a guest's manage token (as `?token=` or a Bearer
     * header): GET /v1/bookings/{id} and POST …/confirm, …/cancel, …/reschedule
     * only. Anywhere else a manage token is an unknown key (401).
     */
    manageToken?: boolean;
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

/** `?token=` of the routes that take a manage token. */
function manageTokenOf(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token === '') throw new AppError('unauthenticated', 'The token parameter must be one manage token.');
  return token;
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
        const secret = apiKeyOf(request) ?? (request.routeOptions.config.manageToken ? manageTokenOf(request) : undefined);
        if (secret !== undefined && request.routeOptions.config.manageToken && isManageToken(secret)) {
          request.principal = await guestPrincipal(ctx.db, secret);
        } else if (secret !== undefined || mode === 'required') {
          request.principal = await authenticate(ctx, secret);
        }
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
