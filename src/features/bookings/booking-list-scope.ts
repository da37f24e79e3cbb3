import { AppError } from '../../domain/errors.js';
import type { Principal } from '../context.js';

/**
 * Whose bookings GET /bookings lists. Everyone sees only bookings they take
 * part in; an admin sees all. `providerId` and `clientId` narrow the list: an
 * admin may name anyone, anyone else only itself (a provider's own calendar,
 * a client's own bookings). Naming another user is a 403 whether or not that
 * user exists, so the answer tells nothing about others.
 */
export function bookingListScope(
  caller: Principal,
  filter: { providerId?: string; clientId?: string },
): { participantId: string | null; providerId: string | null; clientId: string | null } {
  if (caller.role !== 'admin') {
    for (const [name, id] of [['providerId', filter.providerId], ['clientId', filter.clientId]] as const) {
      if (id !== undefined && id !== caller.userId) {
        throw new AppError('forbidden', `Only an administrator lists the bookings of another user (query/${name}).`);
      }
    }
  }
  return {
    participantId: caller.role === 'admin' ? null : caller.userId,
    providerId: filter.providerId ?? null,
    clientId: filter.clientId ?? null,
  };
}
