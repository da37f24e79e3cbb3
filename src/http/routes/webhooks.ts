import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../features/context.js';
import { createWebhook, deleteWebhook, listWebhookDeliveries, listWebhooks } from '../../features/webhooks/webhooks.js';
import { principalOf } from '../auth.js';
import { IdParams, PageOf, PageQuery, Security } from '../schemas/common.js';
import { CreatedWebhook, CreateWebhookBody, Webhook, WebhookDelivery } from '../schemas/webhooks.js';
import { errorResponses } from '../schemas/errors.js';

const page = (q: { limit?: number; cursor?: string }) => ({ limit: q.limit ?? 50, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) });

export const webhookRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/webhooks',
    {
      config: { auth: 'required', secretFields: ['secret'] },
      schema: {
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to change events (the signing secret is shown once)',
        description:
          'Any key subscribes to its own events: a provider\'s bookings and availability, a client\'s bookings; an administrator\'s webhooks see all. ' +
          'Each delivery is a signed POST (Standard Webhooks v1).',
        tags: ['webhooks'],
        security: Security,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const { url, events, description } = request.body;
      const created = await createWebhook(ctx, principalOf(request), { url, events, ...(description !== undefined ? { description } : {}) });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/webhooks',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'listWebhooks',
        summary: 'The caller\'s webhooks (all of them for an administrator); no secrets',
        tags: ['webhooks'],
        security: Security,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(Webhook), ...errorResponses() },
      },
    },
    async (request) => listWebhooks(ctx, principalOf(request), page(request.query)),
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook; its pending deliveries are dropped',
        tags: ['webhooks'],
        security: Security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses('not_found') },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctx, principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'A webhook\'s deliveries, oldest first, with their attempts and status',
        tags: ['webhooks'],
        security: Security,
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(WebhookDelivery), ...errorResponses('not_found') },
      },
    },
    async (request) => listWebhookDeliveries(ctx, principalOf(request), request.params.id, page(request.query)),
  );
};
