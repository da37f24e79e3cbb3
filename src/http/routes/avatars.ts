import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../features/context.js';
import {
  AVATAR_TYPES, checkLocalUpload, completeAvatarUpload, deleteAvatar, readAvatar, requestAvatarUpload, storeLocalUpload,
} from '../../features/identity/avatars.js';
import { principalOf } from '../auth.js';
import { Security } from '../schemas/common.js';
import {
  AvatarUpload, AvatarUploadBody, AvatarUploaded, CompleteAvatarBody, SignedUploadQuery, UploadParams,
} from '../schemas/avatars.js';
import { errorResponses } from '../schemas/errors.js';
import { User } from '../schemas/users.js';

const binary = (description: string) => ({
  description,
  content: Object.fromEntries(AVATAR_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
});

/** Profile images (src/features/identity/avatars.ts). */
export const avatarRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.post('/users/me/avatar', {
    config: { auth: 'required' },
    schema: {
      operationId: 'requestAvatarUpload',
      summary: 'A signed URL to PUT a profile image to (PNG, JPEG or WebP; short-lived); then call /users/me/avatar/complete',
      tags: ['users'], security: Security, body: AvatarUploadBody,
      response: { 200: AvatarUpload, ...errorResponses('forbidden') },
    },
  }, async (request) => requestAvatarUpload(ctx, principalOf(request), request.body));

  app.post('/users/me/avatar/complete', {
    config: { auth: 'required' },
    schema: {
      operationId: 'completeAvatarUpload',
      summary: 'Make an uploaded image the caller\'s avatar (checks its size and sniffs its type; the local store\'s PUT did already)',
      tags: ['users'], security: Security, body: CompleteAvatarBody,
      response: { 200: User, ...errorResponses('forbidden', 'state_conflict', 'payload_too_large', 'unsupported_media_type') },
    },
  }, async (request) => completeAvatarUpload(ctx, principalOf(request), request.body.uploadId));

  app.delete('/users/me/avatar', {
    config: { auth: 'required' },
    schema: {
      operationId: 'deleteAvatar',
      summary: 'Remove the caller\'s profile image',
      tags: ['users'], security: Security,
      response: { 204: Type.Null({ description: 'Removed (or there was none)' }), ...errorResponses('forbidden') },
    },
  }, async (request, reply) => {
    await deleteAvatar(ctx, principalOf(request));
    return reply.code(204).send(null);
  });

  app.get('/avatars/:userId/:uploadId', {
    config: { auth: 'none' },
    schema: {
      operationId: 'getAvatar',
      summary: 'A profile image (no key needed; the URL is versioned and cacheable forever). With S3: a redirect to a signed URL',
      tags: ['users'], params: UploadParams,
      response: {
        200: binary('The image, as its bytes were sniffed'),
        302: Type.Null({ description: 'With S3: the image at a short-lived signed URL (Location)' }),
        ...errorResponses('not_found'),
      },
    },
  }, async (request, reply) => {
    const avatar = await readAvatar(ctx, request.params.userId, request.params.uploadId);
    if (avatar.kind === 'redirect') {
      return reply.header('Cache-Control', `private, max-age=${avatar.maxAgeSeconds}`).redirect(avatar.url, 302);
    }
    return reply
      .header('Content-Type', avatar.contentType)
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', "default-src 'none'")
      .send(avatar.bytes);
  });

  // The local store's uploads: their own plugin, so that only this route reads image bodies (all others take JSON only).
  await app.register(async (uploads) => {
    uploads.addContentTypeParser([...AVATAR_TYPES], { parseAs: 'buffer', bodyLimit: ctx.config.avatars.maxBytes }, (_request, body, done) => done(null, body));
    uploads.put('/uploads/avatars/:userId/:uploadId', {
      config: {
        auth: 'none',
        documentedBody: { ...binary('The image\'s bytes, with the Content-Type and Content-Length the URL signed'), required: true },
      },
      bodyLimit: ctx.config.avatars.maxBytes,
      schema: {
        operationId: 'uploadAvatar',
        summary: 'Receive an image at a signed upload URL of the local store (the URL is the credential; Content-Type and length as signed)',
        tags: ['users'], params: UploadParams, querystring: SignedUploadQuery,
        response: {
          200: AvatarUploaded,
          ...errorResponses('forbidden', 'not_found', 'state_conflict', 'payload_too_large', 'unsupported_media_type'),
        },
      },
      // Before the body is read: a bad signature, type or length costs no upload.
      onRequest: async (request) => {
        const { userId, uploadId } = request.params as { userId: string; uploadId: string };
        const length = request.headers['content-length'];
        request.signedUpload = checkLocalUpload(ctx, `avatars/${userId}/${uploadId}`, request.query as Record<string, unknown>, {
          contentType: request.headers['content-type'],
          contentLength: length !== undefined && /^\d+$/.test(length) ? Number(length) : null,
        });
      },
    }, async (request) => {
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { userId, uploadId } = request.params as { userId: string; uploadId: string };
      const key = `avatars/${userId}/${uploadId}`;
      return storeLocalUpload(ctx, key, request.signedUpload!, bytes);
    });
  });
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The upload's signed type and size, checked before its body was read. */
    signedUpload?: { contentType: (typeof AVATAR_TYPES)[number]; size: number };
  }
}
