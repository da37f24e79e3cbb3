import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { completeGoogleAuthorization } from '../../features/calendars/google-oauth.js';
import { GoogleCallbackQuery, GoogleCallbackResult } from '../schemas/calendars.js';
import { errorResponses } from '../schemas/errors.js';

/**
 * Where Google sends the browser back after its consent screen
 * (GOOGLE_REDIRECT_URI). No API key: the single-use state authenticates it.
 */
export const googleOAuthRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/calendars/google/callback', {
    config: { auth: 'none' },
    schema: {
      operationId: 'completeGoogleAuthorization',
      summary: 'Google\'s OAuth redirect: finishes connecting a Google calendar (the state of its authorizationUrl authenticates it)',
      tags: ['connected calendars'], security: [], querystring: GoogleCallbackQuery,
      response: { 200: GoogleCallbackResult, ...errorResponses('not_found', 'unavailable') },
    },
  }, async (request) => completeGoogleAuthorization(ctx, request.query, (error) => {
    request.log.error({ err: error }, 'connecting a Google calendar failed unexpectedly');
  }));
};
