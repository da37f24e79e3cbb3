import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createClosure, listClosures, removeClosure } from '../../features/closures/closures.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { Closure, ClosureListQuery, CreateClosureBody } from '../schemas/closures.js';
import { IdParams, PageOf, Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';

const tags = ['closures'];
const auth = { auth: 'required' as const };

export const closureRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/closures', {
    config: auth,
    schema: {
      operationId: 'createClosure',
      summary: 'Close a local date (holiday): weekly hours count as a day off; overrides and one-off windows still count',
      tags, security: Security, body: CreateClosureBody,
      response: { 201: Closure, ...errorResponses('forbidden') },
    },
  }, async (request, reply) => reply.code(201).send(await createClosure(ctx, principalOf(request), request.body)));

  app.get('/closures', {
    config: auth,
    schema: {
      operationId: 'listClosures',
      summary: 'Closures (admin: all; others: those that apply to them)',
      tags, security: Security, querystring: ClosureListQuery,
      response: { 200: PageOf(Closure), ...errorResponses() },
    },
  }, async (request) => listClosures(ctx, principalOf(request), { limit: request.query.limit ?? 50, ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}) }));

  app.delete('/closures/:id', {
    config: auth,
    schema: {
      operationId: 'deleteClosure',
      summary: 'Remove a closure',
      tags, security: Security, params: IdParams,
      response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses('forbidden', 'not_found') },
    },
  }, async (request, reply) => {
    await removeClosure(ctx, principalOf(request), request.params.id);
    return reply.code(204).send(null);
  });
};
