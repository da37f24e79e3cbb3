import { countActiveKeys, findActiveKeyOwner, type KeyPrincipalRow, insertApiKey, oldestActiveKeyNamed, revokeKey } from '../../db/api-keys-repo.js';
import { findFirstAdmin, insertUser, staffProviderIds } from '../../db/users-repo.js';
import type { Database, Queryable } from '../../db/database.js';
import { AppError } from '../../domain/errors.js';
import type { AppContext, Principal } from '../context.js';
import { timingSafeEqual } from 'node:crypto';
import { apiKeyDigest, hashApiKey, newApiKey, newId } from '../../platform/crypto/secrets.js';

/** ADMIN_API_KEY's digest, made once rather than on every request (the config does not change). */
let adminDigest: { key: string; digest: Buffer } | null = null;
function adminKeyDigest(key: string): Buffer {
  if (adminDigest?.key !== key) adminDigest = { key, digest: apiKeyDigest(key) };
  return adminDigest.digest;
}

/**
 * The principal of `secret` when this process already knows it (ADMIN_API_KEY, or a key in the key
 * cache whose owner is not staff), without a promise or the database; undefined: ask authenticate().
 * The slot-read fast path answers from memory with it (http/fast-slot-reads.ts).
 */
export function authenticateFromMemory(ctx: AppContext, secret: string): Principal | undefined {
  const digest = apiKeyDigest(secret);
  if (isAdminKey(ctx, digest)) return adminPrincipal(ctx);
  const owner = ctx.keyCache?.get(digest.toString('hex'), Date.now());
  return owner && owner.role !== 'staff' ? principalOf(owner) : undefined; // staff: see authenticate
}

const isAdminKey = (ctx: AppContext, digest: Buffer) =>
  ctx.config.adminApiKey !== null && timingSafeEqual(digest, adminKeyDigest(ctx.config.adminApiKey));
const adminPrincipal = (ctx: AppContext): Principal => ({ userId: ctx.adminUserId, role: 'admin', keyId: null });
const principalOf = (owner: KeyPrincipalRow): Principal => ({ userId: owner.userId, role: owner.role, keyId: owner.keyId });

export async function authenticate(ctx: AppContext, secret: string | undefined): Promise<Principal> {
  if (!secret) throw new AppError('unauthenticated', 'Send an API key as "Authorization: Bearer <key>" or ?apiKey=.');
  // One SHA-256 of the key per request: compared in constant time with ADMIN_API_KEY's, then looked up.
  const digest = apiKeyDigest(secret);
  if (isAdminKey(ctx, digest)) return adminPrincipal(ctx);
  const hash = digest.toString('hex');
  const ticket = ctx.keyCache?.ticket() ?? 0;
  const cached = ctx.keyCache?.get(hash, Date.now());
  const owner = cached ?? (await findActiveKeyOwner(ctx.db, hash));
  if (!owner) throw new AppError('unauthenticated', 'The API key is unknown, expired or revoked.');
  if (!cached) ctx.keyCache?.set(ticket, hash, owner, Date.now(), owner.expiresAt);
  // Staff act for their providers (access/policy.ts): read on every request (not cached with the key), so a change applies at the next one.
  if (owner.role === 'staff') return { ...principalOf(owner), providerIds: await staffProviderIds(ctx.db, owner.userId) };
  return principalOf(owner);
}

/** Creates and stores a key for a user; the secret is returned here and never again. */
export async function issueApiKey(
  db: Queryable,
  userId: string,
  options: { name: string | null; expiresAt: Date | null },
): Promise<{ secret: string; id: string; name: string | null; expiresAt: Date | null; createdAt: Date }> {
  const secret = newApiKey();
  const record = await insertApiKey(db, {
    id: newId('key'),
    userId,
    name: options.name,
    keyHash: hashApiKey(secret),
    prefix: secret.slice(0, 10),
    expiresAt: options.expiresAt,
  });
  return { secret, id: record.id, name: record.name, expiresAt: record.expiresAt, createdAt: record.createdAt };
}

/**
 * issueApiKey within MAX_API_KEYS_PER_USER working keys, counted under the
 * user's lock so concurrent requests cannot pass it together. At the cap a
 * login (`replaceOldestNamed: 'login'`) revokes the user's oldest login key
 * rather than lock the user out; anything else is a 409 quota_exceeded.
 */
export async function issueApiKeyWithinCap(
  ctx: AppContext,
  userId: string,
  options: { name: string | null; expiresAt: Date | null; replaceOldestNamed?: string },
): Promise<Awaited<ReturnType<typeof issueApiKey>>> {
  let revoked = false;
  return ctx.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(724105, hashtext($1))', [userId]);
    if ((await countActiveKeys(tx, userId)) >= ctx.config.maxApiKeysPerUser) {
      const oldest = options.replaceOldestNamed === undefined ? null : await oldestActiveKeyNamed(tx, userId, options.replaceOldestNamed);
      if (!oldest) {
        throw new AppError('quota_exceeded', `A user may have at most ${ctx.config.maxApiKeysPerUser} working API keys; revoke one first (DELETE /v1/api-keys/{id}).`);
      }
      await revokeKey(tx, oldest);
      revoked = true;
    }
    return issueApiKey(tx, userId, options);
  }).finally(() => { if (revoked) ctx.keyCache?.forgetAll(); }); // after the commit (or rollback): see key-cache.ts
}

/**
 * Makes sure an administrator exists. With ADMIN_API_KEY set, that key acts as
 * it. Without one, a first start creates an administrator key and hands it to
 * `announce` once, so a newcomer can use the API straight after `npm start`.
 */
export async function bootstrapAdmin(
  db: Database,
  adminApiKey: string | null,
  announce: (secret: string) => void,
): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(724101)');
    const existing = await findFirstAdmin(tx);
    if (existing) return existing.id;
    const admin = await insertUser(tx, {
      id: newId('usr'),
      name: 'Administrator',
      email: 'admin@localhost',
      role: 'admin',
      timeZone: 'UTC',
      passwordHash: null,
    });
    if (adminApiKey === null) {
      const key = await issueApiKey(tx, admin.id, { name: 'bootstrap', expiresAt: null });
      announce(key.secret);
    }
    return admin.id;
  });
}
