import { Type, type Static } from 'typebox';
import { Instant, named } from './common.js';

export const AvatarUrl = Type.String({
  format: 'uri',
  description: 'The profile image: a versioned URL (a new image is a new URL), cacheable forever',
  examples: ['https://booking.example.com/v1/avatars/usr_Jq3Xk2pL9aT0bC4dE5fG/upl_Zm9vYmFyYmF6cXV4cXV1'],
});

const ImageType = Type.Union([Type.Literal('image/png'), Type.Literal('image/jpeg'), Type.Literal('image/webp')]);

/** Upload ids and user ids in paths: the characters newId makes. */
const PathId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque id' });

export const AvatarUploadBody = named('AvatarUploadRequest', Type.Object(
  {
    contentType: ImageType,
    size: Type.Integer({ minimum: 1, maximum: 20 * 1024 * 1024, description: 'Exact length of the image in bytes; at most AVATAR_MAX_BYTES (2 MiB by default)' }),
  },
  { additionalProperties: false, examples: [{ contentType: 'image/png', size: 48213 }] },
));
export type AvatarUploadBody = Static<typeof AvatarUploadBody>;

export const AvatarUpload = named('AvatarUpload', Type.Object({
  uploadId: Type.String({ description: 'Send it to POST /v1/users/me/avatar/complete after the upload' }),
  uploadUrl: Type.String({ format: 'uri', description: 'PUT the image here, before expiresAt' }),
  method: Type.Literal('PUT'),
  headers: Type.Record(Type.String(), Type.String(), { description: 'Send these headers exactly: they are part of the signature' }),
  expiresAt: Instant,
}), 'A signed, short-lived upload URL for one image of exactly this type and size');

export const CompleteAvatarBody = named('CompleteAvatarRequest', Type.Object(
  { uploadId: PathId },
  { additionalProperties: false, examples: [{ uploadId: 'upl_Zm9vYmFyYmF6cXV4cXV1' }] },
));

export const AvatarUploaded = named('AvatarUploaded', Type.Object({ avatarUrl: AvatarUrl }), 'The upload is stored and is the user\'s avatar now');

export const UploadParams = Type.Object({ userId: PathId, uploadId: PathId });

export const SignedUploadQuery = Type.Object({
  type: Type.String({ maxLength: 100, description: 'The signed content type' }),
  size: Type.String({ pattern: '^[0-9]{1,12}$', description: 'The signed size in bytes' }),
  expires: Type.String({ pattern: '^[0-9]{1,12}$', description: 'The signature\'s expiry, Unix seconds' }),
  sig: Type.String({ maxLength: 100, description: 'HMAC-SHA256 of the upload, base64url' }),
});
