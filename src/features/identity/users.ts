import {
  findUserByEmail, findUserById, insertUser, replaceStaffProviders, setPasswordHash, staffProviderIds, type Role, type UserRecord,
} from '../../db/users-repo.js';
import type { Queryable } from '../../db/database.js';
import { passwordProblem } from '../../domain/password-policy.js';
import { SQLSTATE, sqlState } from '../../db/database.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { issueApiKey, issueApiKeyWithinCap } from './auth.js';
import { withLoginAttempt } from './login-throttle.js';
import { requireTimeZone } from '../slots/time-range.js';
import type { AppContext, Principal } from '../context.js';
import { hashPassword, newId, verifyPassword } from '../../platform/crypto/secrets.js';
import { formatInstant } from '../../domain/zoned-time.js';
import type { ChangePasswordBody, CreateUserBody } from '../../http/schemas/users.js';
import { avatarUrlOf } from './avatars.js';

export interface UserView {
  id: string;
  name: string;
  email?: string;
  role: Role;
  /** Providers only: a person, or a resource (room, machine) with no login. */
  kind?: 'person' | 'resource';
  timeZone: string;
  createdAt: string;
  /** Only on deleted users, which only an admin sees. */
  deactivatedAt?: string;
  /** Only when the user has a profile image (src/features/identity/avatars.ts). */
  avatarUrl?: string;
  /** Staff only, for itself and admins: the providers it manages. */
  providerIds?: string[];
}

export function toUserView(user: UserRecord, publicBaseUrl: string, withPrivateFields = true, providerIds?: string[]): UserView {
  const avatarUrl = avatarUrlOf(publicBaseUrl, user.avatar);
  return {
    id: user.id,
    name: user.name,
    ...(withPrivateFields && user.email !== null ? { email: user.email } : {}),
    role: user.role,
    ...(user.role === 'provider' ? { kind: user.kind } : {}),
    timeZone: user.timeZone,
    createdAt: formatInstant(user.createdAt.getTime()),
    ...(user.deactivatedAt !== null ? { deactivatedAt: formatInstant(user.deactivatedAt.getTime()) } : {}),
    ...(avatarUrl !== undefined ? { avatarUrl } : {}),
    ...(withPrivateFields && user.role === 'staff' && providerIds ? { providerIds } : {}),
  };
}

/** toUserView with a staff member's providers read from the database. */
export async function userViewOf(q: Queryable, user: UserRecord, publicBaseUrl: string, withPrivateFields = true): Promise<UserView> {
  const providerIds = user.role === 'staff' && withPrivateFields ? await staffProviderIds(q, user.id) : undefined;
  return toUserView(user, publicBaseUrl, withPrivateFields, providerIds);
}

/**
 * The providers a staff member is to manage: each an active provider (a 400
 * naming the entry otherwise); only staff have them.
 */
export async function checkedStaffProviders(q: Queryable, role: Role, providerIds: readonly string[] | undefined): Promise<string[] | undefined> {
  if (providerIds === undefined) return role === 'staff' ? [] : undefined;
  if (role !== 'staff') throw invalidField('providerIds', 'is only for staff (role staff)');
  for (const [i, id] of providerIds.entries()) {
    const user = await findUserById(q, id);
    if (!user || user.role !== 'provider' || user.deactivatedAt !== null) throw invalidField(`providerIds/${i}`, `no provider with id "${id}"`);
  }
  return [...providerIds].sort();
}

/**
 * A resource is a provider that is not a person (a room, a machine): only an
 * administrator creates one, with no email, no password and no API key; the
 * administrator manages its schedule, time off and event types.
 */
function checkKind(caller: Principal | null, input: CreateUserBody): { email: string | null; resource: boolean } {
  if (input.kind !== 'resource') {
    if (input.email === undefined) throw invalidField('email', 'is required (only resources have none)');
    return { email: input.email.trim(), resource: false };
  }
  if (caller?.role !== 'admin') throw new AppError('forbidden', 'Only an administrator creates resources.');
  if (input.role !== 'provider') throw invalidField('kind', 'resource is a kind of provider: role must be provider');
  if (input.email !== undefined) throw invalidField('email', 'a resource has no email');
  if (input.password !== undefined) throw invalidField('password', 'a resource has no password');
  return { email: null, resource: true };
}

export async function createUser(
  ctx: AppContext,
  caller: Principal | null,
  input: CreateUserBody,
): Promise<{ user: UserView; apiKey: string | null }> {
  const { email, resource } = checkKind(caller, input);
  if (caller?.role !== 'admin') {
    if (!ctx.config.openSignup) {
      throw caller
        ? new AppError('forbidden', 'Only an administrator can create users.')
        : new AppError('unauthenticated', 'An administrator key is required to create users (sign-up is closed).');
    }
    if (input.role !== 'client') throw new AppError('forbidden', 'Open sign-up creates clients only.');
  }
  if (input.name.trim() === '') throw invalidField('name', 'must not be blank');
  if (input.password !== undefined) requireGoodPassword('password', input.password);
  const providerIds = await checkedStaffProviders(ctx.db, input.role, input.providerIds);
  const timeZone = requireTimeZone('timeZone', input.timeZone ?? 'UTC');
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    return await ctx.db.transaction(async (tx) => {
      const user = await insertUser(tx, {
        id: newId('usr'),
        name: input.name.trim(),
        email,
        role: input.role,
        kind: resource ? 'resource' : 'person',
        timeZone,
        passwordHash,
      });
      if (resource) return { user: toUserView(user, ctx.config.publicBaseUrl), apiKey: null };
      if (providerIds !== undefined) await replaceStaffProviders(tx, user.id, providerIds);
      const key = await issueApiKey(tx, user.id, { name: 'default', expiresAt: null });
      return { user: toUserView(user, ctx.config.publicBaseUrl, true, providerIds), apiKey: key.secret };
    });
  } catch (error) {
    if (sqlState(error) === SQLSTATE.uniqueViolation) {
      throw new AppError('email_taken', `A user with the email "${email}" already exists.`);
    }
    throw error;
  }
}

export async function login(
  ctx: AppContext,
  input: { email: string; password: string },
): Promise<{ apiKey: string; expiresAt: string }> {
  const user = await findUserByEmail(ctx.db, input.email.trim());
  const ok = await withLoginAttempt(ctx, input.email, () => verifyPassword(input.password, user?.passwordHash ?? null));
  if (!user || !ok) throw new AppError('unauthenticated', 'The email and password do not match.');
  const expiresAt = new Date(ctx.clock.now() + ctx.config.loginKeyTtlSeconds * 1000);
  const key = await issueApiKeyWithinCap(ctx, user.id, { name: 'login', expiresAt, replaceOldestNamed: 'login' });
  return { apiKey: key.secret, expiresAt: formatInstant(expiresAt.getTime()) };
}

function requireGoodPassword(path: string, password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw invalidField(path, problem);
}

/**
 * The caller changes its own password. With a password already set, the
 * current one must be given and is checked like a login (it counts towards
 * the email's failed-login limit). Existing keys keep working.
 */
export async function changePassword(
  ctx: AppContext,
  caller: Principal,
  input: ChangePasswordBody,
): Promise<void> {
  requireGoodPassword('newPassword', input.newPassword);
  const user = await findUserById(ctx.db, caller.userId);
  if (!user) throw new AppError('unauthenticated', 'The key belongs to a user that no longer exists.');
  if (user.passwordHash !== null) {
    if (input.currentPassword === undefined) throw invalidField('currentPassword', 'is required to change a password');
    const current = input.currentPassword;
    const ok = await withLoginAttempt(ctx, user.email ?? user.id, () => verifyPassword(current, user.passwordHash));
    if (!ok) throw new AppError('unauthenticated', 'The current password is not right.');
  }
  await setPasswordHash(ctx.db, user.id, await hashPassword(input.newPassword));
}

export async function getMe(ctx: AppContext, caller: Principal): Promise<UserView> {
  const user = await findUserById(ctx.db, caller.userId);
  if (!user) throw new AppError('unauthenticated', 'The key belongs to a user that no longer exists.');
  return userViewOf(ctx.db, user, ctx.config.publicBaseUrl);
}

/** Self and admin see everything; anyone with a key sees a provider's public fields; the rest is a 404. */
export async function getUser(ctx: AppContext, caller: Principal, id: string): Promise<UserView> {
  const user = await findUserById(ctx.db, id);
  if (user && caller.role === 'admin') return userViewOf(ctx.db, user, ctx.config.publicBaseUrl);
  if (user && user.deactivatedAt === null && caller.userId === user.id) return userViewOf(ctx.db, user, ctx.config.publicBaseUrl);
  if (user && user.deactivatedAt === null && user.role === 'provider') return toUserView(user, ctx.config.publicBaseUrl, false);
  throw new AppError('not_found', `No user with id "${id}".`);
}
