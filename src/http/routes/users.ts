import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { changePassword, createUser, getMe, getUser, login } from '../../features/identity/users.js';
import { Type } from 'typebox';
import { principalOf } from '../auth.js';
import { IdParams, problems, Security } from '../schemas/common.js';
import { ChangePasswordBody, CreatedUser, CreateUserBody, LoginBody, LoginResult, User } from '../schemas/users.js';

export const userRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/users',
    {
      config: { auth: 'optional', secretFields: ['apiKey'] },
      schema: {
        summary: 'Create a provider or client (admin; anyone as a client when OPEN_SIGNUP=true)',
        tags: ['users'],
        security: Security,
        body: CreateUserBody,
        response: { 201: CreatedUser, ...problems(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const created = await createUser(ctx, request.principal, request.body);
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/auth/login',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'Exchange email and password for a new API key',
        tags: ['users'],
        body: LoginBody,
        response: { 200: LoginResult, ...problems(400, 401, 413, 415) },
      },
    },
    async (request) => login(ctx, request.body),
  );

  app.get(
    '/users/me',
    {
      config: { auth: 'required' },
      schema: { summary: 'The caller', tags: ['users'], security: Security, response: { 200: User, ...problems(401) } },
    },
    async (request) => getMe(ctx, principalOf(request)),
  );

  app.post(
    '/users/me/password',
    {
      config: { auth: 'required' },
      schema: {
        summary: 'Change the caller\'s password (the current one is required when one is set); keys keep working',
        tags: ['users'],
        security: Security,
        body: ChangePasswordBody,
        response: { 204: Type.Null({ description: 'Changed' }), ...problems(400, 401, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, principalOf(request), request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users/:id',
    {
      config: { auth: 'required' },
      schema: {
        summary: 'A user: self or admin see all fields; anyone sees a provider\'s public fields',
        tags: ['users'],
        security: Security,
        params: IdParams,
        response: { 200: User, ...problems(401, 404) },
      },
    },
    async (request) => getUser(ctx, principalOf(request), request.params.id),
  );
};
