import { clearAvatar, findAvatarByKey, setAvatar } from '../../db/avatars-repo.js';
import { findUserById } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { SNIFF_BYTES, sniffImageType } from '../../platform/content-sniff.js';
import { newId } from '../../platform/crypto/secrets.js';
import type { LocalObjectStore } from '../../platform/object-store/object-store.js';
import type { AppContext, Principal } from '../context.js';
import { userViewOf, type UserView } from './users.js';

/**
 * Profile images, uploaded by the client straight to storage:
 *
 *   POST /v1/users/me/avatar {contentType, size}  -> { uploadId, uploadUrl, method: PUT, headers, expiresAt }
 *   PUT  uploadUrl (exactly size bytes of that type, before expiresAt)
 *   POST /v1/users/me/avatar/complete {uploadId} -> the user, with avatarUrl
 *
 * Each upload has its own key, `avatars/<user id>/<upload id>`, so an
 * avatarUrl never changes its bytes (cacheable forever) and a new image is a
 * new URL. The bytes' real type is sniffed; a claim that does not match them
 * is refused and the object removed.
 */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type AvatarType = (typeof AVATAR_TYPES)[number];

const keyOf = (userId: string, uploadId: string) => `avatars/${userId}/${uploadId}`;
const ownerOf = (key: string) => key.split('/')[1] ?? '';

/** The public URL of a stored avatar (GET /v1/avatars/<user id>/<upload id>). */
export function avatarUrlOf(publicBaseUrl: string, avatar: { key: string } | null): string | undefined {
  return avatar ? `${publicBaseUrl}/v1/${avatar.key}` : undefined;
}

function requireUserCaller(caller: Principal): string {
  if (caller.role === 'guest') throw new AppError('forbidden', 'A guest has no profile image.');
  return caller.userId;
}

export interface AvatarUpload {
  uploadId: string;
  uploadUrl: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}

export async function requestAvatarUpload(
  ctx: AppContext,
  caller: Principal,
  input: { contentType: AvatarType; size: number },
): Promise<AvatarUpload> {
  const userId = requireUserCaller(caller);
  const { maxBytes, uploadUrlTtlSeconds } = ctx.config.avatars;
  if (input.size > maxBytes) throw invalidField('size', `must be at most ${maxBytes} bytes`);
  const uploadId = newId('upl');
  const signed = await ctx.objectStore.signPut({
    key: keyOf(userId, uploadId),
    contentType: input.contentType,
    size: input.size,
    now: ctx.clock.now(),
    ttlSeconds: uploadUrlTtlSeconds,
  });
  return { uploadId, uploadUrl: signed.url, method: signed.method, headers: signed.headers, expiresAt: formatInstant(signed.expiresAt) };
}

/** An object is gone or kept for nothing: removing it may fail (S3 down) and leaves only an orphan. */
async function discardObject(ctx: AppContext, key: string | null): Promise<void> {
  if (key === null) return;
  await ctx.objectStore.delete(key).catch(() => undefined);
}

/** Refuses bytes that are not the image type claimed (or not an accepted image at all). */
function requireImageOf(claimed: string, firstBytes: Buffer): AvatarType {
  const sniffed = sniffImageType(firstBytes);
  if (sniffed === null) throw new AppError('unsupported_media_type', 'The bytes are not a PNG, JPEG or WebP image.');
  if (sniffed !== claimed) throw new AppError('unsupported_media_type', `The bytes are ${sniffed}, not ${claimed} as signed.`);
  return sniffed;
}

/** Makes the stored object the user's avatar, and removes the one it replaces. */
async function adopt(ctx: AppContext, userId: string, key: string, contentType: AvatarType): Promise<void> {
  const result = await setAvatar(ctx.db, userId, { key, contentType });
  if (result === null) {
    await discardObject(ctx, key);
    throw new AppError('not_found', 'The user of this upload no longer exists.');
  }
  await discardObject(ctx, result.replacedKey);
}

/**
 * PUT /v1/uploads/<key> on the local store, in two steps: `checkLocalUpload`
 * before the body is read (signature, expiry, declared type and length), then
 * `storeLocalUpload` with the bytes. The PUT completes the upload itself.
 */
export function checkLocalUpload(
  ctx: AppContext,
  key: string,
  query: Record<string, unknown>,
  declared: { contentType: string | undefined; contentLength: number | null },
): { contentType: AvatarType; size: number } {
  const store = localStore(ctx);
  const verdict = store.verifyPut(key, query, ctx.clock.now());
  if (!verdict.ok) {
    throw new AppError('forbidden', verdict.reason === 'expired'
      ? 'This upload URL has expired; ask for a new one.'
      : 'This upload URL is not valid (its signature does not match).');
  }
  const type = declared.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== verdict.contentType) {
    throw new AppError('unsupported_media_type', `Content-Type must be ${verdict.contentType}, as signed.`);
  }
  if (declared.contentLength !== null && declared.contentLength > verdict.size) {
    throw new AppError('payload_too_large', `The upload must be exactly ${verdict.size} bytes, as signed.`);
  }
  return { contentType: verdict.contentType as AvatarType, size: verdict.size };
}

export async function storeLocalUpload(
  ctx: AppContext,
  key: string,
  signed: { contentType: AvatarType; size: number },
  bytes: Buffer,
): Promise<{ avatarUrl: string }> {
  if (bytes.length > signed.size) throw new AppError('payload_too_large', `The upload must be exactly ${signed.size} bytes, as signed.`);
  if (bytes.length !== signed.size) throw invalidField('body', `must be exactly ${signed.size} bytes, as signed; got ${bytes.length}`);
  const contentType = requireImageOf(signed.contentType, bytes.subarray(0, SNIFF_BYTES));
  if (!(await localStore(ctx).putNew(key, bytes))) {
    throw new AppError('state_conflict', 'This upload URL was used already; ask for a new one.');
  }
  await adopt(ctx, ownerOf(key), key, contentType);
  return { avatarUrl: avatarUrlOf(ctx.config.publicBaseUrl, { key })! };
}

function localStore(ctx: AppContext): LocalObjectStore {
  if (ctx.objectStore.kind !== 'local') throw new AppError('not_found', 'Uploads go to the S3 bucket, not to this server.');
  return ctx.objectStore;
}

/**
 * POST /v1/users/me/avatar/complete: with S3 the server learns of an upload
 * only when told; it reads the object's size, stored type and first bytes and
 * checks them before the image becomes the avatar. With the local store the
 * PUT completed it already, and this answers the user as it is.
 */
export async function completeAvatarUpload(ctx: AppContext, caller: Principal, uploadId: string): Promise<UserView> {
  const userId = requireUserCaller(caller);
  const key = keyOf(userId, uploadId);
  const user = await findUserById(ctx.db, userId);
  if (!user) throw new AppError('unauthenticated', 'The key belongs to a user that no longer exists.');
  if (user.avatar?.key !== key) {
    const head = await ctx.objectStore.head(key, SNIFF_BYTES);
    if (head === null) throw new AppError('state_conflict', 'Nothing was uploaded for this uploadId (yet).');
    const { maxBytes } = ctx.config.avatars;
    try {
      if (head.size > maxBytes) throw new AppError('payload_too_large', `The image is ${head.size} bytes; at most ${maxBytes} are accepted.`);
      const claimed = head.contentType?.split(';')[0]?.trim().toLowerCase() ?? null;
      const sniffed = requireImageOf(claimed ?? sniffImageType(head.firstBytes) ?? '', head.firstBytes);
      await adopt(ctx, userId, key, sniffed);
    } catch (error) {
      if (error instanceof AppError && error.code !== 'not_found') await discardObject(ctx, key);
      throw error;
    }
  }
  return userViewOf(ctx.db, (await findUserById(ctx.db, userId))!, ctx.config.publicBaseUrl);
}

/** DELETE /v1/users/me/avatar: the user has none afterwards (also when it had none). */
export async function deleteAvatar(ctx: AppContext, caller: Principal): Promise<void> {
  const userId = requireUserCaller(caller);
  await discardObject(ctx, await clearAvatar(ctx.db, userId));
}

/** Removes the object of an avatar its user no longer has (an erased client's). */
export async function forgetAvatarObject(ctx: AppContext, key: string | null): Promise<void> {
  await discardObject(ctx, key);
}

export type AvatarContent =
  | { kind: 'bytes'; bytes: Buffer; contentType: string }
  | { kind: 'redirect'; url: string; maxAgeSeconds: number };

/**
 * GET /v1/avatars/<user id>/<upload id>: only a current avatar is served. The
 * local store answers the bytes; S3 a redirect to a signed GET, fresh each time.
 */
export async function readAvatar(ctx: AppContext, userId: string, uploadId: string): Promise<AvatarContent> {
  const key = keyOf(userId, uploadId);
  const current = await findAvatarByKey(ctx.db, key);
  const missing = () => new AppError('not_found', 'No such avatar (it may have been replaced).');
  if (!current) throw missing();
  const store = ctx.objectStore;
  if (store.kind === 's3') {
    const ttlSeconds = ctx.config.avatars.uploadUrlTtlSeconds;
    return { kind: 'redirect', url: await store.signGet(key, ctx.clock.now(), ttlSeconds), maxAgeSeconds: Math.floor(ttlSeconds / 2) };
  }
  const bytes = await store.get(key);
  if (!bytes) throw missing();
  return { kind: 'bytes', bytes, contentType: current.contentType };
}
