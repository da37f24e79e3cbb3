import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { getFeedLink, renderFeed } from '../../features/calendars/calendar-feed.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { CalendarFeedLink } from '../schemas/calendars.js';
import { ProviderParams, Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';

export const calendarFeedRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/providers/:providerId/calendar-feed', {
    config: { auth: 'required' },
    schema: {
      operationId: 'getCalendarFeed',
      summary: 'The provider\'s ICS feed URL (with its token)',
      tags: ['calendar feed'], security: Security, params: ProviderParams,
      response: { 200: CalendarFeedLink, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => {
    const base = ctx.config.publicUrl ?? `${request.protocol}://${request.host}`;
    return getFeedLink(ctx, principalOf(request), request.params.providerId, base);
  });

  app.get('/providers/:providerId/calendar.ics', {
    config: { auth: 'optional' },
    schema: {
      operationId: 'getCalendarIcs',
      summary: 'RFC 5545 feed of held (TENTATIVE) and confirmed bookings',
      tags: ['calendar feed'], params: ProviderParams,
      security: [{}, ...Security],
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: {
        200: { description: 'iCalendar', content: { 'text/calendar': { schema: Type.String() } } },
        ...errorResponses('forbidden', 'not_found'),
      },
    },
  }, async (request, reply) => {
    const ics = await renderFeed(ctx, { principal: request.principal, token: request.query.token }, request.params.providerId);
    return reply.type('text/calendar; charset=utf-8').header('Cache-Control', 'private, max-age=60').send(ics);
  });
};
