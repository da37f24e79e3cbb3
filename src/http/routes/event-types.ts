import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import {
  createEventType,
  deleteEventType,
  getEventType,
  getPublicEventType,
  listEventTypes,
  patchEventType,
} from '../../features/event-types/event-types.js';
import { principalOf } from '../auth.js';
import { IdParams, PageOf, Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';
import { CreateEventTypeBody, EventType, EventTypeListQuery, EventTypeSlugParams, PatchEventTypeBody } from '../schemas/event-types.js';

const tags = ['event types'];
const auth = { auth: 'required' as const };
// Reading: without a key, public types only.
const PublicOrKey = [...Security, {}];

export const eventTypeRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/event-types', {
    config: auth,
    schema: {
      operationId: 'createEventType',
      summary: 'Create an event type (a provider for itself; an admin for any providers)',
      tags, security: Security, body: CreateEventTypeBody,
      response: { 201: EventType, ...errorResponses('forbidden', 'slug_taken') },
    },
  }, async (request, reply) => {
    const created = await createEventType(ctx, principalOf(request), request.body);
    return reply.code(201).header('Location', `/v1/event-types/${created.id}`).send(created);
  });

  app.get('/event-types', {
    config: { auth: 'optional' },
    schema: {
      operationId: 'listEventTypes',
      summary: 'Event types (without a key: public ones only)',
      tags, security: PublicOrKey, querystring: EventTypeListQuery,
      response: { 200: PageOf(EventType), ...errorResponses() },
    },
  }, async (request) => {
    const q = request.query;
    return listEventTypes(ctx, request.principal, {
      limit: q.limit ?? 50,
      ...(q.providerId !== undefined ? { providerId: q.providerId } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
  });

  app.get('/event-types/:id', {
    config: { auth: 'optional' },
    schema: {
      operationId: 'getEventType',
      summary: 'An event type (without a key: a public one)',
      tags, security: PublicOrKey, params: IdParams,
      response: { 200: EventType, ...errorResponses('not_found') },
    },
  }, async (request) => getEventType(ctx, request.principal, request.params.id));

  app.get('/public/event-types/:slug', {
    config: { auth: 'none' },
    schema: {
      operationId: 'getPublicEventType',
      summary: 'A public event type by its slug, for anyone (what a booking page shows); hosts with their public fields only',
      tags, security: [{}], params: EventTypeSlugParams,
      response: { 200: EventType, ...errorResponses('not_found') },
    },
  }, async (request) => getPublicEventType(ctx, request.params.slug));

  app.patch('/event-types/:id', {
    config: auth,
    schema: {
      operationId: 'updateEventType',
      summary: 'Change an event type (its only host, or an admin); applies to bookings made afterwards',
      tags, security: Security, params: IdParams, body: PatchEventTypeBody,
      response: { 200: EventType, ...errorResponses('forbidden', 'not_found', 'slug_taken') },
    },
  }, async (request) => patchEventType(ctx, principalOf(request), request.params.id, request.body));

  app.delete('/event-types/:id', {
    config: auth,
    schema: {
      operationId: 'deleteEventType',
      summary: 'Delete an event type: existing bookings stay; its slots and new bookings are gone',
      tags, security: Security, params: IdParams,
      response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await deleteEventType(ctx, principalOf(request), request.params.id);
    return reply.code(204).send(null);
  });
};
