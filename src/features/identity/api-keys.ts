import { findKeyById, listActiveKeys, revokeKey, type ApiKeyRecord } from '../../db/api-keys-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { formatInstant } from '../../domain/zoned-time.js';
import { issueApiKeyWithinCap } from './auth.js';
import { can } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';

export interface ApiKeyView {
  id: string;
  name: string | null;
  prefix: string;
  expiresAt: string | null;
  createdAt: string;
}

function toView(key: ApiKeyRecord): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    expiresAt: key.expiresAt ? formatInstant(key.expiresAt.getTime()) : null,
    createdAt: formatInstant(key.createdAt.getTime()),
  };
}

export async function createApiKey(
  ctx: AppContext,
  caller: Principal,
  input: { name?: string; expiresAt?: number },
): Promise<ApiKeyView & { apiKey: string }> {
  if (input.expiresAt !== undefined && input.expiresAt <= ctx.clock.now()) {
    throw invalidField('expiresAt', 'must be in the future');
  }
  const key = await issueApiKeyWithinCap(ctx, caller.userId, {
    name: input.name ?? null,
    expiresAt: input.expiresAt === undefined ? null : new Date(input.expiresAt),
  });
  return {
    id: key.id,
    apiKey: key.secret,
    name: key.name,
    prefix: key.secret.slice(0, 10),
    expiresAt: key.expiresAt ? formatInstant(key.expiresAt.getTime()) : null,
    createdAt: formatInstant(key.createdAt.getTime()),
  };
}

export async function listApiKeys(
  ctx: AppContext,
  caller: Principal,
  page: { limit: number; cursor?: string },
): Promise<Page<ApiKeyView>> {
  const after = decodeCursor(page.cursor);
  const rows = await listActiveKeys(ctx.db, caller.userId, {
    limit: page.limit + 1,
    after: after ? { createdAt: new Date(after.sortValue), id: after.id } : null,
  });
  return toPage(rows, page.limit, toView, (k) => encodeCursor(k.createdAt.getTime(), k.id));
}

/** The owner (or an admin) revokes a key; it stops working on the next request. */
export async function deleteApiKey(ctx: AppContext, caller: Principal, id: string): Promise<void> {
  const key = await findKeyById(ctx.db, id);
  if (!key || key.revokedAt !== null || !can(caller, { on: 'apiKey', action: 'revoke', ownerId: key.userId })) {
    throw new AppError('not_found', `No API key with id "${id}".`);
  }
  await revokeKey(ctx.db, id);
  ctx.keyCache?.forgetAll(); // committed: this process refuses the key from the next request on
}
