import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { deleteUser, updateUser } from '../../features/identity/user-lifecycle.js';
import { createUser, getMe, getUser, login } from '../../features/identity/users.js';
import { principalOf } from '../auth.js';
import { IdParams, problems, Security } from '../schemas/common.js';
import { CreatedUser, CreateUserBody, LoginBody, LoginResult, UpdateUserBody, User } from '../schemas/users.js';

export const userRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/users',
    {
      config: { auth: 'optional' },
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

  app.patch(
    '/users/:id',
    {
      config: { auth: 'required' },
      schema: {
        summary: 'Change a user\'s name, email, time zone or password (self or admin; the role never changes)',
        tags: ['users'],
        security: Security,
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => updateUser(ctx, principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/users/:id',
    {
      config: { auth: 'required' },
      schema: {
        summary: 'Delete a user: a provider is deactivated (admin; 409 with bookingIds while it has live bookings), a client erased (self or admin)',
        tags: ['users'],
        security: Security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await deleteUser(ctx, principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
