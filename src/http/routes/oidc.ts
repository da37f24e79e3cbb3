import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { completeOidcSignIn, requireIssuer, startOidcSignIn, STATE_TTL_MS } from '../../features/identity/oidc-sign-in.js';
import { OidcCallbackQuery, OidcProviderParams, OidcSignInResult } from '../schemas/oidc.js';
import { errorResponses } from '../schemas/errors.js';

const COOKIE = 'oidc_state';

/** The state's cookie: sent back only to this provider's callback, and only by the browser that started. */
function stateCookie(ctx: AppContext, provider: string, value: string, maxAgeSeconds: number): string {
  const secure = ctx.config.publicBaseUrl.startsWith('https:') ? '; Secure' : '';
  return `${COOKIE}=${value}; Path=/v1/auth/oidc/${provider}/callback; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

/**
 * Sign-in with Google or another OpenID Connect issuer. No API key: the
 * browser is sent to the issuer and back. The callback answers the key as
 * JSON, or, with a return URL configured (OIDC_RETURN_URL or the issuer's
 * returnUrl), redirects there with the key in the fragment (never the query:
 * a fragment is not sent to servers nor kept in their logs).
 */
export const oidcRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/auth/oidc/:provider/start', {
    config: { auth: 'none' },
    schema: {
      operationId: 'startOidcSignIn',
      summary: 'Sign in with Google or another OpenID Connect provider: redirects the browser to it',
      description: 'Open this in the browser (a navigation, not a fetch). It answers 302 to the provider\'s sign-in page '
        + 'with PKCE (S256), a state and a nonce, and sets a short-lived cookie for the callback. '
        + 'The provider returns the browser to GET /v1/auth/oidc/{provider}/callback.',
      tags: ['users'], security: [], params: OidcProviderParams,
      response: {
        302: Type.Null({ description: 'To the provider\'s authorization endpoint (Location)' }),
        ...errorResponses('not_found', 'unavailable'),
      },
    },
  }, async (request, reply) => {
    const { url, state } = await startOidcSignIn(ctx, request.params.provider);
    reply.header('set-cookie', stateCookie(ctx, request.params.provider, state, STATE_TTL_MS / 1000));
    reply.header('cache-control', 'no-store');
    return reply.redirect(url, 302);
  });

  app.get('/auth/oidc/:provider/callback', {
    config: { auth: 'none' },
    schema: {
      operationId: 'completeOidcSignIn',
      summary: 'Where the provider returns the browser: answers a new API key (JSON), or redirects to the return URL with it in the fragment',
      description: 'The state is single use and expires after 10 minutes; it must come back to the browser that started '
        + '(its cookie). The ID token is checked (issuer, audience, nonce, expiry) and the email must be verified by the provider. '
        + 'A known identity (issuer and subject) signs in its user even if its email changed; a first sign-in joins the user with '
        + 'that email, or creates a client when sign-up is open (OPEN_SIGNUP, or the issuer\'s "signup"). With a return URL configured '
        + 'the answer is 303 to `<returnUrl>#apiKey=…&expiresAt=…&userId=…&outcome=…`; errors are problem+json either way.',
      tags: ['users'], security: [], params: OidcProviderParams, querystring: OidcCallbackQuery,
      response: {
        200: OidcSignInResult,
        303: Type.Null({ description: 'To the configured return URL, the key in the fragment' }),
        ...errorResponses('invalid_request', 'oidc_state_invalid', 'oidc_denied', 'oidc_rejected', 'oidc_email_unverified',
          'forbidden', 'not_found', 'email_taken', 'quota_exceeded', 'unavailable'),
      },
    },
  }, async (request, reply) => {
    const { provider } = request.params;
    const issuer = requireIssuer(ctx, provider);
    reply.header('cache-control', 'no-store');
    reply.header('referrer-policy', 'no-referrer');
    // The flow ends here whatever the outcome: the cookie goes.
    reply.header('set-cookie', stateCookie(ctx, provider, '', 0));
    const rawUrl = request.raw.url ?? '';
    const result = await completeOidcSignIn(ctx, provider, {
      search: rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '',
      state: request.query.state,
      code: request.query.code,
      error: request.query.error,
      browserState: cookieOf(request.headers.cookie, COOKIE),
    });
    if (issuer.returnUrl === null) return result;
    const fragment = new URLSearchParams({ apiKey: result.apiKey, expiresAt: result.expiresAt, userId: result.user.id, outcome: result.outcome });
    return reply.redirect(`${issuer.returnUrl}#${fragment.toString()}`, 303);
  });
};
