import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../features/context.js';
import { deleteUser, updateUser } from '../../features/identity/user-lifecycle.js';
import { changePassword, createUser, getMe, getUser, login } from '../../features/identity/users.js';
import { principalOf } from '../auth.js';
import { IdParams, Security } from '../schemas/common.js';
import { ChangePasswordBody, CreatedUser, CreateUserBody, LoginBody, LoginResult, UpdateUserBody, User } from '../schemas/users.js';
import { errorResponses } from '../schemas/errors.js';

export const userRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post(
    '/users',
    {
      config: { auth: 'optional', secretFields: ['apiKey'] },
      schema: {
        operationId: 'createUser',
        summary: 'Create a provider or client (admin; anyone as a client when OPEN_SIGNUP=true)',
        tags: ['users'],
        security: Security,
        body: CreateUserBody,
        response: { 201: CreatedUser, ...errorResponses('forbidden', 'email_taken') },
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
        operationId: 'login',
        summary: 'Exchange email and password for a new API key',
        tags: ['users'],
        body: LoginBody,
        response: { 200: LoginResult, ...errorResponses('unauthenticated') },
      },
    },
    async (request) => login(ctx, request.body),
  );

  app.get(
    '/users/me',
    {
      config: { auth: 'required' },
      schema: { operationId: 'getMe',
                summary: 'The caller', tags: ['users'], security: Security, response: { 200: User, ...errorResponses() } },
    },
    async (request) => getMe(ctx, principalOf(request)),
  );

  app.post(
    '/users/me/password',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'changePassword',
        summary: 'Change the caller\'s password (the current one is required when one is set); keys keep working',
        tags: ['users'],
        security: Security,
        body: ChangePasswordBody,
        response: { 204: Type.Null({ description: 'Changed' }), ...errorResponses('unauthenticated', 'rate_limited') },
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
        operationId: 'getUser',
        summary: 'A user: self or admin see all fields; anyone sees a provider\'s public fields',
        tags: ['users'],
        security: Security,
        params: IdParams,
        response: { 200: User, ...errorResponses('not_found') },
      },
    },
    async (request) => getUser(ctx, principalOf(request), request.params.id),
  );

  app.patch(
    '/users/:id',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'updateUser',
        summary: 'Change a user\'s name, email, time zone or password (self or admin; the role never changes)',
        tags: ['users'],
        security: Security,
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User, ...errorResponses('forbidden', 'not_found', 'email_taken') },
      },
    },
    async (request) => updateUser(ctx, principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/users/:id',
    {
      config: { auth: 'required' },
      schema: {
        operationId: 'deleteUser',
        summary: 'Delete a user: a provider is deactivated (admin; 409 with bookingIds while it has live bookings), a client erased (self or admin)',
        tags: ['users'],
        security: Security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses('forbidden', 'not_found', 'state_conflict') },
      },
    },
    async (request, reply) => {
      await deleteUser(ctx, principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
