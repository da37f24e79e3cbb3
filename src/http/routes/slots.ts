import type { Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext, Principal } from '../../features/context.js';
import type { RenderedSlots } from '../../features/slots/slot-cache.js';
import { renderedSlotsInMemory, renderSlots } from '../../features/slots/slots.js';
import { renderedEventTypeSlotsInMemory, renderEventTypeSlots, type EventTypeSlotsQuery } from '../../features/slots/event-type-slots.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { Security } from '../schemas/common.js';
import { Slots, SlotsQuery } from '../schemas/bookings.js';
import { etagMatches, strongEtag } from '../etag.js';
import { errorResponses } from '../schemas/errors.js';

/**
 * Serialised once, so the tag is computed over the exact bytes sent; kept as bytes (with the
 * cache's render), so a repeated answer is written without encoding 8 KB of text again.
 */
function renderBody(view: object): { body: Buffer; etag: string } {
  const body = Buffer.from(JSON.stringify(view));
  return { body, etag: strongEtag(body) };
}

/** v1 questions need a key and name a provider. */
function v1Provider(principal: Principal | null, providerId: string | undefined): string {
  if (!principal) throw new AppError('unauthenticated', 'An API key is required.');
  if (providerId === undefined) throw invalidField('query/providerId', 'is required without eventTypeId (one of them names what is listed)');
  return providerId;
}

/**
 * The answer of GET /v1/slots for `principal` (null: no key), body and tag: the route's, and the
 * fast path's (http/fast-slot-reads.ts), which answers the same question before Fastify routes it.
 */
export function slotsAnswer(ctx: AppContext, principal: Principal | null, query: Static<typeof SlotsQuery>): Promise<RenderedSlots> {
  const typeQuery = eventTypeQueryOf(query);
  return typeQuery
    ? renderEventTypeSlots(ctx, principal, typeQuery, renderBody)
    : renderSlots(ctx, { ...query, providerId: v1Provider(principal, query.providerId) }, renderBody);
}

/** An event type's question (eventTypeId given; providerId then narrows it to one host), or null for a v1 one. */
function eventTypeQueryOf(query: Static<typeof SlotsQuery>): EventTypeSlotsQuery | null {
  const { eventTypeId, providerId, ...rest } = query;
  return eventTypeId === undefined ? null : { ...rest, eventTypeId, ...(providerId !== undefined ? { providerId } : {}) };
}

/**
 * slotsAnswer's answer when it is found in this process's memory without a promise (a question whose
 * render is kept: features/slots/served-starts.ts renderedInMemory); undefined: ask slotsAnswer.
 * Throws what slotsAnswer would reject with (a bad duration, zone or range, a type not readable).
 */
export function slotsAnswerInMemory(ctx: AppContext, principal: Principal | null, query: Static<typeof SlotsQuery>): RenderedSlots | undefined {
  const typeQuery = eventTypeQueryOf(query);
  if (typeQuery) return renderedEventTypeSlotsInMemory(ctx, principal, typeQuery);
  const { providerId } = query;
  return principal === null || providerId === undefined ? undefined : renderedSlotsInMemory(ctx, { ...query, providerId });
}

export const SLOTS_CACHE_CONTROL = 'private, no-cache';
export const SLOTS_CONTENT_TYPE = 'application/json; charset=utf-8';

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
    const { body, etag } = await slotsAnswer(ctx, request.principal, request.query);
    reply.header('ETag', etag).header('Cache-Control', SLOTS_CACHE_CONTROL);
    // No payload at all: with one (null), Fastify gave the 304 a content type and a Content-Length of 4.
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(undefined as never);
    // The body is already JSON bytes: Fastify sends a Buffer as it is, without the schema's serializer.
    return reply.type(SLOTS_CONTENT_TYPE).send(body as never);
  });
};
