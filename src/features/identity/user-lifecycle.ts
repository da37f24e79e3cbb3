import { passwordProblem } from '../../domain/password-policy.js';
import { SQLSTATE, sqlState } from '../../db/database.js';
import {
  deactivateUser,
  dropCalendarConnections,
  eraseClientData,
  liveFutureBookingIds,
  lockUser,
  updateUserFields,
  type UserChanges,
} from '../../db/user-lifecycle-repo.js';
import { bumpAvailabilityVersion, findUserById, type UserRecord } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { hashPassword, verifyPassword } from '../../platform/crypto/secrets.js';
import { cancelBooking } from '../bookings/lifecycle.js';
import type { AppContext, Principal } from '../context.js';
import { requireTimeZone } from '../slots/time-range.js';
import { checkedStaffProviders, userViewOf, type UserView } from './users.js';
import { requireAccess } from '../access/policy.js';
import { replaceStaffProviders } from '../../db/users-repo.js';
import { forgetAvatarObject } from './avatars.js';
import type { UpdateUserBody } from '../../http/schemas/users.js';
import { deleteIdentitiesOf } from '../../db/oidc-repo.js';

/**
 * Changing and deleting users. Who may: the user itself and an admin; a
 * provider deletes itself only through an admin. Anyone else gets what
 * GET /users/{id} would tell them: a 403 for a provider they can see, else a
 * 404, so no other user's existence leaks.
 */
async function targetOf(ctx: AppContext, caller: Principal, id: string, action: string): Promise<UserRecord> {
  const user = await findUserById(ctx.db, id);
  const gone = !user || (user.deactivatedAt !== null && caller.role !== 'admin');
  if (gone) throw new AppError('not_found', `No user with id "${id}".`);
  if (caller.role === 'admin' || caller.userId === id) return user;
  if (user.role === 'provider') throw new AppError('forbidden', `Only the user itself or an administrator may ${action} it.`);
  throw new AppError('not_found', `No user with id "${id}".`);
}

/**
 * PATCH /users/{id}: name, email, time zone, password. A user changing its own
 * password sends the current one (an admin does not); the role never changes here.
 */
export async function updateUser(ctx: AppContext, caller: Principal, id: string, patch: UpdateUserBody): Promise<UserView> {
  const user = await targetOf(ctx, caller, id, 'change');
  const changes: UserChanges = {};
  // Which providers staff manage: an administrator's decision, never the staff member's own.
  if (patch.providerIds !== undefined) requireAccess(caller, { on: 'staff', action: 'manage' });
  const providerIds = await checkedStaffProviders(ctx.db, user.role, patch.providerIds);
  if (patch.name !== undefined) {
    if (patch.name.trim() === '') throw invalidField('name', 'must not be blank');
    changes.name = patch.name.trim();
  }
  if (patch.email !== undefined) changes.email = patch.email.trim();
  if (patch.timeZone !== undefined) changes.timeZone = requireTimeZone('timeZone', patch.timeZone);
  if (patch.currentPassword !== undefined && patch.password === undefined) {
    throw invalidField('currentPassword', 'is only sent with a new password');
  }
  if (patch.password !== undefined) {
    const weak = passwordProblem(patch.password);
    if (weak !== null) throw invalidField('password', weak);
    if (caller.role !== 'admin' && user.passwordHash !== null) {
      if (patch.currentPassword === undefined) throw invalidField('currentPassword', 'is required to change the password');
      if (!(await verifyPassword(patch.currentPassword, user.passwordHash))) {
        throw invalidField('currentPassword', 'is not the current password');
      }
    }
    changes.passwordHash = await hashPassword(patch.password);
  }
  try {
    return await ctx.db.transaction(async (tx) => {
      const updated = await updateUserFields(tx, id, changes);
      if (!updated) throw new AppError('not_found', `No user with id "${id}".`);
      if (patch.providerIds !== undefined && providerIds !== undefined) await replaceStaffProviders(tx, id, providerIds);
      return userViewOf(tx, updated, ctx.config.publicBaseUrl);
    });
  } catch (error) {
    if (sqlState(error) === SQLSTATE.uniqueViolation) {
      throw new AppError('email_taken', `A user with the email "${changes.email ?? ''}" already exists.`);
    }
    throw error;
  }
}

function refuseLiveBookings(ids: string[], who: string): void {
  if (ids.length === 0) return;
  const shown = ids.slice(0, 20).join(', ') + (ids.length > 20 ? `, … (${ids.length} in all)` : '');
  throw new AppError(
    'state_conflict',
    `${who} has live bookings that have not ended: ${shown}. Cancel them first.`,
    undefined,
    undefined,
    { bookingIds: ids },
  );
}

/**
 * DELETE /users/{id}. A provider is deactivated: refused (409, with the ids)
 * while it has live bookings that have not ended; then its keys stop working,
 * it lists no slots and takes no bookings (404 as an unknown provider), and its
 * connected calendars go. A client is erased: its live bookings are cancelled
 * (their time freed, as a cancel does), then its personal data is overwritten
 * and its keys revoked; its booking rows stay, anonymised, for the providers' records.
 */
export async function deleteUser(ctx: AppContext, caller: Principal, id: string): Promise<void> {
  const user = await targetOf(ctx, caller, id, 'delete');
  if (user.deactivatedAt !== null) throw new AppError('not_found', `No user with id "${id}".`);
  if (user.role === 'admin') throw new AppError('forbidden', 'Administrators cannot be deleted.');
  if ((user.role === 'provider' || user.role === 'staff') && caller.role !== 'admin') {
    throw new AppError('forbidden', `A ${user.role === 'staff' ? 'staff member' : 'provider'} is deactivated by an administrator.`);
  }
  if (user.role === 'client') {
    const system: Principal = { userId: ctx.adminUserId, role: 'admin', keyId: null };
    for (const bookingId of await liveFutureBookingIds(ctx.db, 'client_id', id)) {
      await cancelBooking(ctx, system, bookingId, null);
    }
  }
  await ctx.db.transaction(async (tx) => {
    const locked = await lockUser(tx, id);
    if (!locked || locked.deactivatedAt !== null) throw new AppError('not_found', `No user with id "${id}".`);
    if (user.role === 'staff') {
      // Staff have no bookings of their own: their keys stop working and they manage nobody.
      await deactivateUser(tx, id);
      await replaceStaffProviders(tx, id, []);
    } else if (user.role === 'provider') {
      refuseLiveBookings(await liveFutureBookingIds(tx, 'provider_id', id), 'The provider');
      await deactivateUser(tx, id);
      await dropCalendarConnections(tx, id);
      await bumpAvailabilityVersion(tx, id); // its slots are gone: caches and the live stream hear of it
    } else {
      // A hold made between the cancellations above and this lock: the client retries the deletion.
      refuseLiveBookings(await liveFutureBookingIds(tx, 'client_id', id), 'The client');
      await deactivateUser(tx, id);
      await eraseClientData(tx, id);
      await deleteIdentitiesOf(tx, id); // its sign-in links (issuer + subject) identify the person too
    }
  });
  ctx.keyCache?.forgetAll(); // its keys were revoked and that committed: refused from the next request on
  // The erased client's image goes too (its row no longer names it; a failure leaves only an orphan object).
  if (user.role === 'client') await forgetAvatarObject(ctx, user.avatar?.key ?? null);
}
