import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { feedTokenMatches, getFeedLink, renderFeed } from '../../features/calendars/calendar-feed.js';
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
  }, async (request) => getFeedLink(ctx, principalOf(request), request.params.providerId));

  app.post('/providers/:providerId/calendar-feed/rotate', {
    config: { auth: 'required' },
    schema: {
      operationId: 'rotateCalendarFeed',
      summary: 'Replace the feed\'s token: the old link stops working at once',
      tags: ['calendar feed'], security: Security, params: ProviderParams,
      response: { 200: CalendarFeedLink, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getFeedLink(ctx, principalOf(request), request.params.providerId, { rotate: true }));

  app.get('/providers/:providerId/calendar.ics', {
    config: {
      auth: 'optional',
      // Calendar apps poll from a few shared addresses: a checked token is counted per feed, a wrong one by address.
      rateLimitSubject: async (request) => {
        // Runs before validation: the query may hold anything (?token=a&token=b is an array).
        const { params, query } = request as unknown as { params: { providerId: string }; query: { token?: unknown } };
        if (typeof query.token !== 'string') return null;
        return (await feedTokenMatches(ctx, params.providerId, query.token)) ? `feed:${params.providerId}` : null;
      },
    },
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
