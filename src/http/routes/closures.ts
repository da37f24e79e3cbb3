import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createClosure, listClosures, removeClosure } from '../../features/closures/closures.js';
import type { AppContext } from '../../features/context.js';
import { principalOf } from '../auth.js';
import { Closure, ClosureListQuery, CreateClosureBody } from '../schemas/closures.js';
import { IdParams, PageOf, problems, Security } from '../schemas/common.js';

const tags = ['closures'];
const auth = { auth: 'required' as const };

export const closureRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/closures', {
    config: auth,
    schema: {
      summary: 'Close a local date (holiday): weekly hours count as a day off; overrides and one-off windows still count',
      tags, security: Security, body: CreateClosureBody,
      response: { 201: Closure, ...problems(400, 401, 403, 413, 415) },
    },
  }, async (request, reply) => reply.code(201).send(await createClosure(ctx, principalOf(request), request.body)));

  app.get('/closures', {
    config: auth,
    schema: {
      summary: 'Closures (admin: all; others: those that apply to them)',
      tags, security: Security, querystring: ClosureListQuery,
      response: { 200: PageOf(Closure), ...problems(400, 401) },
    },
  }, async (request) => listClosures(ctx, principalOf(request), { limit: request.query.limit ?? 50, ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}) }));

  app.delete('/closures/:id', {
    config: auth,
    schema: {
      summary: 'Remove a closure',
      tags, security: Security, params: IdParams,
      response: { 204: { type: 'null', description: 'Removed' }, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await removeClosure(ctx, principalOf(request), request.params.id);
    return reply.code(204).send(null);
  });
};
