import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { listMailOutbox } from '../../features/notifications/admin-view.js';
import { principalOf } from '../auth.js';
import { PageOf, Security } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';
import { MailQuery, MailView } from '../schemas/mail.js';

export const adminMailRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get(
    '/admin/mail',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'listMail',
        summary: 'The notification mail outbox, newest first (administrators); ?status=failed lists the mails that gave up, with why',
        tags: ['notifications'],
        security: Security,
        querystring: MailQuery,
        response: { 200: PageOf(MailView), ...errorResponses('forbidden') },
      },
    },
    async (request) => {
      const { status, bookingId, limit, cursor } = request.query;
      return listMailOutbox(ctx, principalOf(request), {
        limit: limit ?? 50,
        ...(status !== undefined ? { status } : {}),
        ...(bookingId !== undefined ? { bookingId } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
    },
  );
};
