import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  addOneOffWindow,
  addTimeOff,
  getEffectiveAvailability,
  getSchedule,
  putOverride,
  putSchedule,
  removeOverride,
  removeProviderItem,
} from '../../features/availability/availability.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import {
  EffectiveAvailability,
  OneOffWindow,
  OneOffWindowBody,
  Override,
  OverrideBody,
  OverrideParams,
  RangeQuery,
  Schedule,
  ScheduleBody,
  TimeOff,
  TimeOffBody,
} from '../schemas/availability.js';
import { Id, ProviderParams, Security } from '../schemas/common.js';
import { instantField } from './parse.js';
import { errorResponses } from '../schemas/errors.js';

const ItemParams = Type.Object({ providerId: Id, id: Id });
const NoContent = Type.Null({ description: 'Done' });
const tags = ['availability'];
const auth = { auth: 'required' as const };

export const availabilityRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.put('/providers/:providerId/schedule', {
    config: auth,
    schema: {
      operationId: 'replaceSchedule',
      summary: 'Replace the weekly hours',
      tags, security: Security, params: ProviderParams, body: ScheduleBody,
      response: { 200: Schedule, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => putSchedule(ctx, principalOf(request), request.params.providerId, request.body));

  app.get('/providers/:providerId/schedule', {
    config: auth,
    schema: {
      operationId: 'getSchedule',
      summary: 'The weekly hours',
      tags, security: Security, params: ProviderParams,
      response: { 200: Schedule, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getSchedule(ctx, principalOf(request), request.params.providerId));

  app.post('/providers/:providerId/availability', {
    config: auth,
    schema: {
      operationId: 'addAvailabilityWindow',
      summary: 'Add a one-off working window (rounded inwards to the 15-minute grid)',
      tags, security: Security, params: ProviderParams, body: OneOffWindowBody,
      response: { 201: OneOffWindow, ...errorResponses('forbidden', 'not_found', 'not_bookable') },
    },
  }, async (request, reply) => {
    const body = request.body;
    const input = 'date' in body
      ? body
      : { start: instantField('body/start', body.start), end: instantField('body/end', body.end) };
    return reply.code(201).send(await addOneOffWindow(ctx, principalOf(request), request.params.providerId, input));
  });

  app.delete('/providers/:providerId/availability/:id', {
    config: auth,
    schema: {
      operationId: 'removeAvailabilityWindow',
      summary: 'Remove a one-off window',
      tags, security: Security, params: ItemParams,
      response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await removeProviderItem(ctx, principalOf(request), request.params.providerId, 'availability_windows', request.params.id);
    return reply.code(204).send(null);
  });

  app.put('/providers/:providerId/overrides/:date', {
    config: auth,
    schema: {
      operationId: 'setOverride',
      summary: 'Replace one local date\'s hours ([] = day off)',
      tags, security: Security, params: OverrideParams, body: OverrideBody,
      response: { 200: Override, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => putOverride(ctx, principalOf(request), request.params.providerId, request.params.date, request.body));

  app.delete('/providers/:providerId/overrides/:date', {
    config: auth,
    schema: {
      operationId: 'removeOverride',
      summary: 'Back to the weekly hours on that date',
      tags, security: Security, params: OverrideParams,
      response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await removeOverride(ctx, principalOf(request), request.params.providerId, request.params.date);
    return reply.code(204).send(null);
  });

  app.post('/providers/:providerId/time-off', {
    config: auth,
    schema: {
      operationId: 'addTimeOff',
      summary: 'Block time',
      tags, security: Security, params: ProviderParams, body: TimeOffBody,
      response: { 201: TimeOff, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    const { start, end, reason } = request.body;
    const created = await addTimeOff(ctx, principalOf(request), request.params.providerId, {
      start: instantField('body/start', start),
      end: instantField('body/end', end),
      reason: reason ?? null,
    });
    return reply.code(201).send(created);
  });

  app.delete('/providers/:providerId/time-off/:id', {
    config: auth,
    schema: {
      operationId: 'removeTimeOff',
      summary: 'Remove time off',
      tags, security: Security, params: ItemParams,
      response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await removeProviderItem(ctx, principalOf(request), request.params.providerId, 'time_off', request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/providers/:providerId/availability', {
    config: auth,
    schema: {
      operationId: 'getAvailability',
      summary: 'Effective working time, merged (weekly or override, plus one-off, minus time off)',
      tags, security: Security, params: ProviderParams, querystring: RangeQuery,
      response: { 200: EffectiveAvailability, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getEffectiveAvailability(ctx, principalOf(request), request.params.providerId, request.query));
};
