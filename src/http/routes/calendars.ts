import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { connectCalendar, disconnectCalendar, listCalendars, syncCalendarNow } from '../../features/calendars/calendars.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { CalendarConnection, CalendarParams, ConnectCalendarBody } from '../schemas/calendars.js';
import { PageOf, PageQuery, ProviderParams, Security } from '../schemas/common.js';
import { googleOAuthRoutes } from './google-oauth.js';
import { errorResponses } from '../schemas/errors.js';

const tags = ['connected calendars'];
const auth = { auth: 'required' as const };
const logTo = (request: FastifyRequest) => (error: unknown) => request.log.error({ err: error }, 'calendar sync failed unexpectedly');

export const calendarRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  await app.register(googleOAuthRoutes(ctx));

  app.post('/providers/:providerId/calendars', {
    config: auth,
    schema: {
      operationId: 'connectCalendar',
      summary: 'Connect a calendar whose busy time removes slots (read once now; status "error" with the reason if that failed; '
        + 'Google: "pending" with an authorizationUrl until the provider consents)',
      tags, security: Security, params: ProviderParams, body: ConnectCalendarBody,
      response: { 201: CalendarConnection, ...errorResponses('forbidden', 'not_found', 'state_conflict', 'not_supported', 'unavailable') },
    },
  }, async (request, reply) => {
    const view = await connectCalendar(ctx, principalOf(request), request.params.providerId, request.body, logTo(request));
    return reply.code(201).send(view);
  });

  app.get('/providers/:providerId/calendars', {
    config: auth,
    schema: {
      operationId: 'listCalendars',
      summary: 'The provider\'s connected calendars (no secrets)',
      tags, security: Security, params: ProviderParams, querystring: Type.Object(PageQuery),
      response: { 200: PageOf(CalendarConnection), ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => listCalendars(ctx, principalOf(request), request.params.providerId, {
    limit: request.query.limit ?? 50,
    ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
  }));

  app.delete('/providers/:providerId/calendars/:id', {
    config: auth,
    schema: {
      operationId: 'disconnectCalendar',
      summary: 'Disconnect a calendar: its busy time stops counting at once',
      tags, security: Security, params: CalendarParams,
      response: { 204: Type.Null({ description: 'Done' }), ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await disconnectCalendar(ctx, principalOf(request), request.params.providerId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/providers/:providerId/calendars/:id/sync', {
    config: auth,
    schema: {
      operationId: 'syncCalendar',
      summary: 'Refresh the calendar\'s busy time now; answers the connection after the sync',
      tags, security: Security, params: CalendarParams,
      response: { 200: CalendarConnection, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => syncCalendarNow(ctx, principalOf(request), request.params.providerId, request.params.id, logTo(request)));
};
