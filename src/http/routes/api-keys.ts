import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createApiKey, deleteApiKey, listApiKeys } from '../../features/identity/api-keys.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { IdParams, PageOf, PageQuery, Security } from '../schemas/common.js';
import { ApiKey, CreateApiKeyBody, CreatedApiKey } from '../schemas/users.js';
import { instantField } from './parse.js';
import { errorResponses } from '../schemas/errors.js';

export const apiKeyRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/api-keys',
    {
      config: { auth: 'required', secretFields: ['apiKey'] },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create another API key for the caller (shown once)',
        tags: ['api keys'],
        security: Security,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await createApiKey(ctx, principalOf(request), {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.expiresAt !== undefined ? { expiresAt: instantField('body/expiresAt', body.expiresAt) } : {}),
      });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api-keys',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'listApiKeys',
        summary: 'The caller\'s working keys (no secrets)',
        tags: ['api keys'],
        security: Security,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(ApiKey), ...errorResponses() },
      },
    },
    async (request) =>
      listApiKeys(ctx, principalOf(request), {
        limit: request.query.limit ?? 50,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      }),
  );

  app.delete(
    '/api-keys/:id',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke a key; it stops working at once',
        tags: ['api keys'],
        security: Security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses('not_found') },
      },
    },
    async (request, reply) => {
      await deleteApiKey(ctx, principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
