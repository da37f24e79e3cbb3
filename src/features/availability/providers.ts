import { findSchedule } from '../../db/availability-repo.js';
import type { Queryable } from '../../db/database.js';
import { findUserById, type UserRecord } from '../../db/users-repo.js';
import { AppError } from '../../domain/errors.js';
import { requireAccess } from '../access/policy.js';
import type { Principal } from '../context.js';

/** The provider, or a 404 (also for users that exist but are not providers, and for deactivated providers). */
export async function requireProvider(q: Queryable, providerId: string): Promise<UserRecord> {
  const user = await findUserById(q, providerId);
  if (!user || user.role !== 'provider' || user.deactivatedAt !== null) throw new AppError('not_found', `No provider with id "${providerId}".`);
  return user;
}

/** Availability is edited and read by the provider itself or an admin. */
export async function requireProviderAccess(q: Queryable, caller: Principal, providerId: string): Promise<UserRecord> {
  const provider = await requireProvider(q, providerId);
  assertProviderAccess(caller, providerId);
  return provider;
}

export function assertProviderAccess(caller: Principal, providerId: string): void {
  requireAccess(caller, { on: 'provider', action: 'manage', providerId });
}

/** The zone local dates and times of this provider are read in: its schedule's, then its own. */
export async function providerTimeZone(q: Queryable, provider: UserRecord): Promise<string> {
  const schedule = await findSchedule(q, provider.id);
  return schedule?.timeZone ?? provider.timeZone;
}
