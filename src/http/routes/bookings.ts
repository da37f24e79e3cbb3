import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { cancelBooking, confirmBooking, getBooking, holdBooking, listBookings } from '../../features/bookings/bookings.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { Booking, BookingListQuery, CancelBody, HoldBody } from '../schemas/bookings.js';
import { IdParams, PageOf, Security } from '../schemas/common.js';
import { Type } from 'typebox';
import { instantField } from './parse.js';
import { errorResponses } from '../schemas/errors.js';

const tags = ['bookings'];
const auth = { auth: 'required' as const };
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Retry safely: the same key and body replay the first answer' })),
});

export const bookingRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/bookings', {
    config: auth,
    schema: {
      operationId: 'holdBooking',
      summary: 'Hold a slot (30 minutes unless confirmed)',
      tags, security: Security, headers: IdempotencyHeaders, body: HoldBody,
      response: { 201: Booking, ...errorResponses('forbidden', 'not_found', 'slot_taken', 'not_bookable', 'too_many_holds') },
    },
  }, async (request, reply) => {
    const { start, ...rest } = request.body;
    const booking = await holdBooking(ctx, principalOf(request), { ...rest, start: instantField('body/start', start) });
    return reply.code(201).header('Location', `/v1/bookings/${booking.id}`).send(booking);
  });

  app.post('/bookings/:id/confirm', {
    config: auth,
    schema: {
      operationId: 'confirmBooking',
      summary: 'Confirm a hold (again: unchanged; expired: 410; a strict write calendar that fails: 502, still held)',
      tags, security: Security, headers: IdempotencyHeaders, params: IdParams,
      response: { 200: Booking, ...errorResponses('forbidden', 'not_found', 'state_conflict', 'hold_expired', 'calendar_write_failed') },
    },
  }, async (request) => confirmBooking(ctx, principalOf(request), request.params.id));

  app.post('/bookings/:id/cancel', {
    config: auth,
    schema: {
      operationId: 'cancelBooking',
      summary: 'Cancel (its client or provider); the time is free at once',
      tags, security: Security, headers: IdempotencyHeaders, params: IdParams, body: CancelBody,
      response: { 200: Booking, ...errorResponses('not_found', 'state_conflict') },
    },
  }, async (request) => cancelBooking(ctx, principalOf(request), request.params.id, request.body.reason ?? null));

  app.get('/bookings/:id', {
    config: auth,
    schema: {
      operationId: 'getBooking',
      summary: 'A booking of the caller (as client or provider)',
      tags, security: Security, params: IdParams,
      response: { 200: Booking, ...errorResponses('not_found') },
    },
  }, async (request) => getBooking(ctx, principalOf(request), request.params.id));

  app.get('/bookings', {
    config: auth,
    schema: {
      operationId: 'listBookings',
      summary: 'The caller\'s bookings (as client or provider), by start',
      tags, security: Security, querystring: BookingListQuery,
      response: { 200: PageOf(Booking), ...errorResponses('forbidden') },
    },
  }, async (request) => {
    const q = request.query;
    return listBookings(ctx, principalOf(request), {
      limit: q.limit ?? 50,
      ...(q.from !== undefined ? { from: instantField('query/from', q.from) } : {}),
      ...(q.to !== undefined ? { to: instantField('query/to', q.to) } : {}),
      ...(q.status !== undefined ? { statuses: q.status } : {}),
      ...(q.providerId !== undefined ? { providerId: q.providerId } : {}),
      ...(q.clientId !== undefined ? { clientId: q.clientId } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
  });
};
