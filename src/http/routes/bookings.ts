import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getBooking, holdBooking, listBookings } from '../../features/bookings/bookings.js';
import { holdEventTypeBooking } from '../../features/bookings/event-type-hold.js';
import { cancelBooking, confirmBooking, decideBooking } from '../../features/bookings/lifecycle.js';
import { rescheduleBooking } from '../../features/bookings/reschedule.js';
import { invalidField } from '../../domain/errors.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { Booking, BookingListQuery, CancelBody, DeclineBody, HoldBody, RescheduleBody } from '../schemas/bookings.js';
import { IdParams, KeyOrManageToken, ManageTokenQuery, PageOf, Security } from '../schemas/common.js';
import { holdGuestBooking } from '../../features/bookings/guest-hold.js';
import { AppError } from '../../domain/errors.js';
import { Type } from 'typebox';
import { instantField } from './parse.js';
import { errorResponses } from '../schemas/errors.js';

const tags = ['bookings'];
const NoBody = Type.Object({}, { additionalProperties: false, description: 'No fields (an empty body, or none)', examples: [{}] });
const auth = { auth: 'required' as const };
/** The four routes a guest's manage token opens (its one booking). */
const keyOrToken = { auth: 'required' as const, manageToken: true };
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Retry safely: the same key and body replay the first answer' })),
});

export const bookingRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/bookings', {
    // Without a key: a guest booking a public event type (see the handler).
    config: { auth: 'optional', secretFields: ['manageToken'], anonymousIdempotency: true },
    schema: {
      operationId: 'holdBooking',
      summary: 'Hold a slot of a provider (v1) or of an event type (30 minutes unless confirmed); without a key, a public type for a guest',
      tags, security: [...Security, {}], headers: IdempotencyHeaders, body: HoldBody,
      response: {
        201: Booking,
        ...errorResponses('forbidden', 'not_found', 'slot_taken', 'client_overlap', 'not_bookable', 'limit_reached', 'too_many_holds', 'too_many_bookings'),
      },
    },
  }, async (request, reply) => {
    const { start, eventTypeId, providerId, answers, guest, ...rest } = request.body;
    const at = instantField('body/start', start);
    if (request.principal === null) {
      if (eventTypeId === undefined || guest === undefined) {
        throw new AppError('unauthenticated', 'Send an API key, or book a public event type without one: eventTypeId and guest { name, email }.');
      }
      if (rest.clientId !== undefined) throw invalidField('body/clientId', 'is for administrators');
      const { booking, manageToken } = await holdGuestBooking(ctx, {
        eventTypeId, start: at, guest, address: request.ip,
        ...(rest.duration !== undefined ? { duration: rest.duration } : {}),
        ...(rest.notes !== undefined ? { notes: rest.notes } : {}),
        ...(providerId !== undefined ? { providerId } : {}),
        ...(answers !== undefined ? { answers } : {}),
      });
      return reply.code(201).header('Location', `/v1/bookings/${booking.id}`).send({ ...booking, manageToken });
    }
    if (guest !== undefined) throw invalidField('body/guest', 'is for booking without an API key (a guest); with a key the caller books');
    const caller = principalOf(request);
    let booking;
    if (eventTypeId !== undefined) {
      booking = await holdEventTypeBooking(ctx, caller, {
        ...rest, eventTypeId, start: at, ...(providerId !== undefined ? { providerId } : {}), ...(answers !== undefined ? { answers } : {}),
      });
    } else {
      if (providerId === undefined) throw invalidField('body/providerId', 'is required without eventTypeId (one of them names what is booked)');
      if (answers !== undefined) throw invalidField('body/answers', 'answers go with an eventTypeId');
      booking = await holdBooking(ctx, caller, { ...rest, providerId, start: at });
    }
    return reply.code(201).header('Location', `/v1/bookings/${booking.id}`).send(booking);
  });

  app.post('/bookings/:id/confirm', {
    config: keyOrToken,
    schema: {
      operationId: 'confirmBooking',
      summary: 'Confirm a hold (again: unchanged; expired: 410; a strict write calendar that fails: 502, still held)',
      tags, security: KeyOrManageToken, querystring: ManageTokenQuery, headers: IdempotencyHeaders, params: IdParams,
      // No fields; an unknown one is a 400 as on every other route.
      body: NoBody,
      response: { 200: Booking, ...errorResponses('forbidden', 'not_found', 'state_conflict', 'hold_expired', 'calendar_write_failed') },
    },
  }, async (request) => confirmBooking(ctx, principalOf(request), request.params.id));

  app.post('/bookings/:id/cancel', {
    config: keyOrToken,
    schema: {
      operationId: 'cancelBooking',
      summary: 'Cancel (its client, a host, an admin); the time is free at once. A client within the type\'s cancellationNotice: 422',
      tags, security: KeyOrManageToken, querystring: ManageTokenQuery, headers: IdempotencyHeaders, params: IdParams, body: CancelBody,
      response: { 200: Booking, ...errorResponses('not_found', 'state_conflict', 'too_late_to_change') },
    },
  }, async (request) => cancelBooking(ctx, principalOf(request), request.params.id, request.body.reason ?? null));

  app.post('/bookings/:id/accept', {
    config: auth,
    schema: {
      operationId: 'acceptBooking',
      summary: 'Accept a pending booking (a host or admin): confirmed. Declined, cancelled or expired: 409',
      tags, security: Security, headers: IdempotencyHeaders, params: IdParams,
      body: NoBody,
      response: { 200: Booking, ...errorResponses('forbidden', 'not_found', 'state_conflict') },
    },
  }, async (request) => decideBooking(ctx, principalOf(request), request.params.id, { to: 'confirmed' }));

  app.post('/bookings/:id/decline', {
    config: auth,
    schema: {
      operationId: 'declineBooking',
      summary: 'Decline a pending booking (a host or admin): its time is free at once',
      tags, security: Security, headers: IdempotencyHeaders, params: IdParams, body: DeclineBody,
      response: { 200: Booking, ...errorResponses('forbidden', 'not_found', 'state_conflict') },
    },
  }, async (request) => decideBooking(ctx, principalOf(request), request.params.id, { to: 'declined', reason: request.body?.reason ?? null }));

  app.post('/bookings/:id/reschedule', {
    config: keyOrToken,
    schema: {
      operationId: 'rescheduleBooking',
      summary: 'Move a booking to another time, keeping its id (atomic: refused moves change nothing)',
      tags, security: KeyOrManageToken, querystring: ManageTokenQuery, headers: IdempotencyHeaders, params: IdParams, body: RescheduleBody,
      response: {
        200: Booking,
        ...errorResponses('forbidden', 'not_found', 'slot_taken', 'client_overlap', 'state_conflict', 'not_bookable', 'limit_reached', 'too_late_to_change'),
      },
    },
  }, async (request) => {
    const { start, ...rest } = request.body;
    return rescheduleBooking(ctx, principalOf(request), request.params.id, { ...rest, start: instantField('body/start', start) });
  });

  app.get('/bookings/:id', {
    config: keyOrToken,
    schema: {
      operationId: 'getBooking',
      summary: 'A booking of the caller (as client or provider)',
      tags, security: KeyOrManageToken, querystring: ManageTokenQuery, params: IdParams,
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
      ...(q.eventTypeId !== undefined ? { eventTypeId: q.eventTypeId } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
  });
};
