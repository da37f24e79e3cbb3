import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../features/context.js';
import { errorResponses } from '../schemas/errors.js';

export const serviceRoutes = (_ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is up',
        tags: ['service'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up' }), ...errorResponses() },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
};
