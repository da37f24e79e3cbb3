import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  changeScheduleZone,
  getOneOffWindow,
  getOverride,
  getTimeOff,
  listOneOffWindows,
  listOverridesOf,
  listTimeOff,
} from '../../features/availability/availability-items.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import {
  ItemListQuery,
  OneOffWindow,
  Override,
  OverrideListQuery,
  OverrideParams,
  Schedule,
  ScheduleZoneBody,
  TimeOff,
} from '../schemas/availability.js';
import { Id, PageOf, ProviderParams, Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';

const ItemParams = Type.Object({ providerId: Id, id: Id });
const tags = ['availability'];
const auth = { auth: 'required' as const };
const page = (q: { limit?: number; from?: string; to?: string; cursor?: string }) => ({ ...q, limit: q.limit ?? 50 });

/** Every availability item readable back, by the provider itself or an admin (src/features/availability/availability-items.ts). */
export const availabilityItemRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.patch('/providers/:providerId/schedule', {
    config: auth,
    schema: {
      operationId: 'updateScheduleTimeZone',
      summary: 'Change only the schedule\'s time zone (the weekly wall-clock hours are kept)',
      tags, security: Security, params: ProviderParams, body: ScheduleZoneBody,
      response: { 200: Schedule, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => changeScheduleZone(ctx, principalOf(request), request.params.providerId, request.body));

  app.get('/providers/:providerId/time-off', {
    config: auth,
    schema: {
      operationId: 'listTimeOff',
      summary: 'The provider\'s time off overlapping from..to, by start',
      tags, security: Security, params: ProviderParams, querystring: ItemListQuery,
      response: { 200: PageOf(TimeOff), ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => listTimeOff(ctx, principalOf(request), request.params.providerId, page(request.query)));

  app.get('/providers/:providerId/time-off/:id', {
    config: auth,
    schema: {
      operationId: 'getTimeOff',
      summary: 'One time off',
      tags, security: Security, params: ItemParams,
      response: { 200: TimeOff, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getTimeOff(ctx, principalOf(request), request.params.providerId, request.params.id));

  app.get('/providers/:providerId/availability-windows', {
    config: auth,
    schema: {
      operationId: 'listAvailabilityWindows',
      summary: 'The provider\'s one-off working windows overlapping from..to, by start',
      tags, security: Security, params: ProviderParams, querystring: ItemListQuery,
      response: { 200: PageOf(OneOffWindow), ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => listOneOffWindows(ctx, principalOf(request), request.params.providerId, page(request.query)));

  app.get('/providers/:providerId/availability/:id', {
    config: auth,
    schema: {
      operationId: 'getAvailabilityWindow',
      summary: 'One one-off working window',
      tags, security: Security, params: ItemParams,
      response: { 200: OneOffWindow, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getOneOffWindow(ctx, principalOf(request), request.params.providerId, request.params.id));

  app.get('/providers/:providerId/overrides', {
    config: auth,
    schema: {
      operationId: 'listOverrides',
      summary: 'The provider\'s date overrides on local dates from..to (inclusive), by date',
      tags, security: Security, params: ProviderParams, querystring: OverrideListQuery,
      response: { 200: PageOf(Override), ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => listOverridesOf(ctx, principalOf(request), request.params.providerId, page(request.query)));

  app.get('/providers/:providerId/overrides/:date', {
    config: auth,
    schema: {
      operationId: 'getOverride',
      summary: 'The override on one local date',
      tags, security: Security, params: OverrideParams,
      response: { 200: Override, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request) => getOverride(ctx, principalOf(request), request.params.providerId, request.params.date));
};
