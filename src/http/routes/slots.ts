import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { renderSlots, type SlotsView } from '../../features/slots/slots.js';
import { Security } from '../schemas/common.js';
import { Slots, SlotsQuery } from '../schemas/bookings.js';
import { etagMatches, strongEtag } from '../etag.js';
import { errorResponses } from '../schemas/errors.js';

/** Serialised once, so the tag is computed over the exact bytes sent. */
function renderBody(view: SlotsView): { body: string; etag: string } {
  const body = JSON.stringify(view);
  return { body, etag: strongEtag(body) };
}

export const slotRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/slots', {
    config: { auth: 'required' },
    schema: {
      operationId: 'listSlots',
      summary: 'Bookable slots of a provider (strong ETag; If-None-Match gives 304)',
      tags: ['slots'],
      security: Security,
      querystring: SlotsQuery,
      response: { 200: Slots, 304: { type: 'null', description: 'Not modified' }, ...errorResponses('not_found') },
    },
  }, async (request, reply) => {
    // The rendered body may come from the slot cache (kept beside the slots it was made from).
    const { body, etag } = await renderSlots(ctx, request.query, renderBody);
    reply.header('ETag', etag).header('Cache-Control', 'private, no-cache');
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
    // The body is already JSON text: bypass the schema serializer, which would encode it again.
    return reply.type('application/json; charset=utf-8').serializer((p: unknown) => p as string).send(body as never);
  });
};
