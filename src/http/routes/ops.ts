import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../features/context.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../platform/metrics/metrics.js';
import { checkReadiness, notReadyDetail, READY_TIMEOUT_MS } from '../../platform/readiness.js';
import { PROBLEM_CONTENT_TYPE, problemOf, sendProblem } from '../problem.js';
import { ProblemSchema } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';

const CheckStatus = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
/** `redis` is there when REDIS_URL is configured. */
const Checks = Type.Object({ database: CheckStatus, redis: Type.Optional(CheckStatus) });

/**
 * Readiness and metrics, outside /v1 and without authentication: meant for a
 * load balancer and a Prometheus scraper on a private network. Keep /metrics
 * off the public internet (METRICS_ENABLED=false removes it).
 */
export const opsRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get(
    '/ready',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database (and Redis, when configured) answers (else 503 problem+json)',
        description:
          `200 when \`SELECT 1\` (and, with REDIS_URL, a Redis PING) answers within ${READY_TIMEOUT_MS / 1000} s; ` +
          '503 with the failing checks otherwise.',
        tags: ['service'],
        response: {
          200: Type.Object({ status: Type.Literal('ready'), checks: Checks }, { description: 'Ready: every check answered' }),
          ...errorResponses(),
          503: {
            description: 'Not ready: problem+json (code unavailable) with the checks',
            content: { [PROBLEM_CONTENT_TYPE]: { schema: Type.Object({ ...ProblemSchema.properties, checks: Checks }) } },
          },
        },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = await checkReadiness({ db: ctx.db, redis: ctx.redis ?? null });
      reply.header('Cache-Control', 'no-store');
      if (ready) return { status: 'ready' as const, checks };
      const problem = { ...problemOf('unavailable', notReadyDetail(checks)), checks };
      return sendProblem(reply, problem);
    },
  );

  if (!ctx.config.metricsEnabled) return;
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text format 0.0.4); unauthenticated, for a private network',
        tags: ['service'],
        response: {
          200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: Type.String() } } },
          ...errorResponses(),
        },
      },
    },
    async (_request, reply) =>
      reply.type(PROMETHEUS_CONTENT_TYPE).header('Cache-Control', 'no-store').send(ctx.metrics.registry.render()),
  );
};
