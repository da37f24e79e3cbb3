import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { renderSlots } from '../../features/slots/slots.js';
import { renderEventTypeSlots } from '../../features/slots/event-type-slots.js';
import { invalidField } from '../../domain/errors.js';
import { principalOf } from '../auth.js';
import { Security } from '../schemas/common.js';
import { Slots, SlotsQuery } from '../schemas/bookings.js';
import { etagMatches, strongEtag } from '../etag.js';
import { errorResponses } from '../schemas/errors.js';

/** Serialised once, so the tag is computed over the exact bytes sent. */
function renderBody(view: object): { body: string; etag: string } {
  const body = JSON.stringify(view);
  return { body, etag: strongEtag(body) };
}

/** v1 questions need a key and name a provider. */
function v1Provider(request: FastifyRequest, providerId: string | undefined): string {
  principalOf(request);
  if (providerId === undefined) throw invalidField('query/providerId', 'is required without eventTypeId (one of them names what is listed)');
  return providerId;
}

export const slotRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/slots', {
    // A public event type's slots need no key; everything else does (see the handler).
    config: { auth: 'optional' },
    schema: {
      operationId: 'listSlots',
      summary: 'Bookable slots of a provider (v1) or of an event type (strong ETag; If-None-Match gives 304)',
      tags: ['slots'],
      // Without a key: a public event type's slots only.
      security: [...Security, {}],
      querystring: SlotsQuery,
      response: { 200: Slots, 304: { type: 'null', description: 'Not modified' }, ...errorResponses('not_found') },
    },
  }, async (request, reply) => {
    // The rendered body may come from the slot cache (kept beside the slots it was made from).
    const { eventTypeId, providerId, ...rest } = request.query;
    const { body, etag } = eventTypeId !== undefined
      ? await renderEventTypeSlots(ctx, request.principal, { ...rest, eventTypeId, ...(providerId !== undefined ? { providerId } : {}) }, renderBody)
      : await renderSlots(ctx, { ...rest, providerId: v1Provider(request, providerId) }, renderBody);
    reply.header('ETag', etag).header('Cache-Control', 'private, no-cache');
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
    // The body is already JSON text: bypass the schema serializer, which would encode it again.
    return reply.type('application/json; charset=utf-8').serializer((p: unknown) => p as string).send(body as never);
  });
};
