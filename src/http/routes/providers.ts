import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../features/context.js';
import { listProviders } from '../../features/identity/directory.js';
import { Id, named, PageOf, PageQuery, Security, TimeZone } from '../schemas/common.js';
import { errorResponses } from '../schemas/errors.js';
import { AvatarUrl } from '../schemas/avatars.js';

const Kind = Type.Union([Type.Literal('person'), Type.Literal('resource')]);

export const ProviderSummary = named('Provider', Type.Object({
  id: Id,
  name: Type.String(),
  kind: Kind,
  timeZone: TimeZone,
  avatarUrl: Type.Optional(AvatarUrl),
}), 'A provider\'s public fields: a person or a resource (room, machine)');

const ProviderListQuery = Type.Object({
  kind: Type.Optional(Kind),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the name, any case' })),
  ...PageQuery,
});

export const providerRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.get('/providers', {
    config: { auth: 'required' },
    schema: {
      operationId: 'listProviders',
      summary: 'The provider directory (any key): public fields only, by name',
      tags: ['providers'], security: Security, querystring: ProviderListQuery,
      response: { 200: PageOf(ProviderSummary), ...errorResponses() },
    },
  }, async (request) => {
    const { kind, q, limit, cursor } = request.query;
    return listProviders(ctx.db, {
      limit: limit ?? 50,
      ...(kind !== undefined ? { kind } : {}),
      ...(q !== undefined ? { q } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    }, ctx.config.publicBaseUrl);
  });
};
