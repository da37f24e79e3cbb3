import { AppError } from '../../domain/errors.js';
import type { Principal } from '../context.js';

/**
 * The one access policy: who may do what to which resource. Use cases ask
 * `requireAccess` (or `can`) instead of comparing ids themselves, so a rule is
 * read and changed in one place.
 *
 * A resource the caller may not see is a 404 (its existence is not revealed);
 * one it may see but not act on is a 403.
 *
 * Staff (a receptionist) act for the providers they manage (`providerIds` of
 * the principal): whatever such a provider may do for itself, a staff member
 * may do for it, and gets exactly what that provider would get for anyone
 * else's (a 403 for another provider's schedule, a 404 for its booking).
 * Staff are no providers: no slots, no bookings of their own.
 *
 *   requireAccess(caller, { on: 'booking', action: 'accept', clientId, hostIds }, id)
 */
export type Permission =
  /** Manage a provider's availability, calendars, feed and single-host event types. */
  | { on: 'provider'; action: 'manage'; providerId: string }
  /** `id` is needed for a guest, whose manage token opens one booking by id (without it a guest sees nothing). */
  | { on: 'booking'; action: BookingAction; id?: string; clientId: string | null; hostIds: readonly string[] }
  /** Change or delete an event type: an admin, or its only host. */
  | { on: 'eventType'; action: 'manage'; hostIds: readonly string[] }
  /** Closures: an admin for any providers; a provider only for exactly itself; staff for some of its providers. */
  | { on: 'closure'; action: 'manage'; providerIds: readonly string[] | null }
  /**
   * A new hold with these hosts (every host it could be given): a client for
   * itself, an admin for any client, staff for a client when every host is
   * one of its providers. `clientId`: the one the body names, if any.
   */
  | { on: 'hold'; action: 'create'; clientId: string | undefined; hostIds: readonly string[] }
  /** Users: an administrator creates staff and changes which providers they manage. */
  | { on: 'staff'; action: 'manage' }
  | { on: 'webhook'; action: 'read' | 'manage'; ownerId: string }
  | { on: 'apiKey'; action: 'revoke'; ownerId: string }
  /** The mail outbox (GET /v1/admin/mail): administrators only. */
  | { on: 'mailOutbox'; action: 'read' };

export type BookingAction = 'read' | 'confirm' | 'cancel' | 'reschedule' | 'decide' | 'seeSyncError';

/**
 * How the caller stands to a booking: decides what it may do with it.
 * 'guest': the caller holds the manage token of exactly this booking (a
 * booking made without an account); it acts as the booking's client.
 */
export type BookingRelation = 'admin' | 'client' | 'host' | 'staff' | 'guest' | null;

/** The providers a caller acts for: a provider itself, a staff member the ones it manages. */
export function actsFor(caller: Principal, providerId: string): boolean {
  if (caller.role === 'staff') return caller.providerIds?.includes(providerId) ?? false;
  return caller.role === 'provider' && caller.userId === providerId;
}

/**
 * Whose things appear in the caller's lists (bookings, closures): null for
 * everyone's (an admin); else the users it takes part as, itself and, for staff, its providers.
 */
export function listedParticipants(caller: Principal): readonly string[] | null {
  if (caller.role === 'admin') return null;
  return caller.role === 'staff' ? [caller.userId, ...(caller.providerIds ?? [])] : [caller.userId];
}

export function bookingRelation(
  caller: Principal,
  booking: { id?: string; clientId: string | null; hostIds: readonly string[] },
): BookingRelation {
  if (caller.role === 'guest') return caller.bookingId !== undefined && caller.bookingId === booking.id ? 'guest' : null;
  if (caller.role === 'admin') return 'admin';
  if (booking.hostIds.includes(caller.userId)) return 'host';
  if (booking.clientId !== null && caller.userId === booking.clientId) return 'client';
  if (booking.hostIds.some((id) => actsFor(caller, id))) return 'staff';
  return null;
}

// Staff do what a host does, and confirm as an admin does: a receptionist who
// books for a client on the phone confirms the hold it made.
const BOOKING_RULES: Record<BookingAction, readonly Exclude<BookingRelation, null>[]> = {
  read: ['admin', 'client', 'host', 'staff', 'guest'],
  confirm: ['admin', 'client', 'staff', 'guest'],
  cancel: ['admin', 'client', 'host', 'staff', 'guest'],
  reschedule: ['admin', 'client', 'host', 'staff', 'guest'],
  decide: ['admin', 'host', 'staff'],
  seeSyncError: ['admin', 'host', 'staff'],
};

const WHY_NOT: Partial<Record<BookingAction, string>> = {
  confirm: 'Only the booking\'s client (or staff of its host, or an administrator) confirms it.',
  decide: 'Only a host of the booking (its staff, or an administrator) accepts or declines it.',
  seeSyncError: 'Only hosts see calendar errors.',
};

/** The side a relation changes a booking as (cancellation notice, cancelledBy): a guest is the booking's client, staff its host. */
export function actorOf(relation: Exclude<BookingRelation, null>): 'admin' | 'client' | 'host' {
  if (relation === 'guest') return 'client';
  return relation === 'staff' ? 'host' : relation;
}

type Verdict = 'allowed' | 'hidden' | 'forbidden';

function judge(caller: Principal, p: Permission): Verdict {
  // A manage token opens its one booking and nothing else (not even reading another resource).
  if (caller.role === 'guest' && p.on !== 'booking') return 'hidden';
  if (caller.role === 'admin') return 'allowed';
  switch (p.on) {
    case 'provider':
      return actsFor(caller, p.providerId) ? 'allowed' : 'forbidden';
    case 'booking': {
      const relation = bookingRelation(caller, p);
      if (relation === null) return 'hidden';
      return BOOKING_RULES[p.action].includes(relation) ? 'allowed' : 'forbidden';
    }
    case 'eventType':
      // Staff: any type whose hosts are all its providers (a receptionist runs the practice's round robin too).
      if (caller.role === 'staff') return p.hostIds.length > 0 && p.hostIds.every((id) => actsFor(caller, id)) ? 'allowed' : 'forbidden';
      return p.hostIds.length === 1 && actsFor(caller, p.hostIds[0]!) ? 'allowed' : 'forbidden';
    case 'closure':
      if (p.providerIds === null || p.providerIds.length === 0) return 'forbidden';
      if (caller.role === 'staff') return p.providerIds.every((id) => actsFor(caller, id)) ? 'allowed' : 'forbidden';
      return p.providerIds.length === 1 && actsFor(caller, p.providerIds[0]!) ? 'allowed' : 'forbidden';
    case 'hold':
      if (caller.role === 'client') return p.clientId === undefined || p.clientId === caller.userId ? 'allowed' : 'forbidden';
      return caller.role === 'staff' && p.hostIds.length > 0 && p.hostIds.every((id) => actsFor(caller, id)) ? 'allowed' : 'forbidden';
    case 'staff':
      return 'forbidden';
    case 'webhook':
    case 'apiKey':
      return caller.userId === p.ownerId ? 'allowed' : 'hidden';
    case 'mailOutbox':
      return 'forbidden';
  }
}

export function can(caller: Principal, p: Permission): boolean {
  return judge(caller, p) === 'allowed';
}

/** Throws not_found (hidden) or forbidden; `id` names the resource in the 404. */
export function requireAccess(caller: Principal, p: Permission, id?: string): void {
  const verdict = judge(caller, p);
  if (verdict === 'allowed') return;
  if (verdict === 'hidden') throw new AppError('not_found', `No ${p.on} with id "${id ?? '?'}".`);
  throw new AppError('forbidden', forbiddenDetail(p));
}

function forbiddenDetail(p: Permission): string {
  switch (p.on) {
    case 'provider':
      return 'Only the provider itself, its staff or an administrator may do this.';
    case 'booking':
      return WHY_NOT[p.action] ?? 'Not allowed for this booking.';
    case 'eventType':
      return 'Only an administrator, the only host of a single-host event type, or staff of every host may change it.';
    case 'closure':
      return 'A provider may only close its own dates (providerIds: [itself]), staff only those of providers it manages; other closures are for administrators.';
    case 'hold':
      if (p.clientId !== undefined) return 'Only an administrator, or staff of every host it could be with, books on a client\'s behalf (clientId).';
      return 'Only clients (or an administrator, or staff of the provider, for a client) can book.';
    case 'staff':
      return 'Only an administrator manages staff and the providers they manage.';
    case 'mailOutbox':
      return 'Only an administrator sees the mail outbox.';
    default:
      return 'Not allowed.';
  }
}

/**
 * Whose bookings GET /bookings lists. Everyone sees only bookings they take
 * part in (staff: those of its providers); an admin sees all. `providerId`
 * and `clientId` narrow the list: an admin may name anyone; a provider or a
 * client only itself; staff any of its providers, and any client (the list
 * stays within its providers' bookings). Naming another user is a 403 whether
 * or not that user exists, so the answer tells nothing about others.
 */
export function bookingListScope(
  caller: Principal,
  filter: { providerId?: string; clientId?: string },
): { participantIds: readonly string[] | null; providerId: string | null; clientId: string | null } {
  const participants = listedParticipants(caller);
  const mayName = (name: 'providerId' | 'clientId', id: string) =>
    participants === null || id === caller.userId || (name === 'providerId' ? actsFor(caller, id) : caller.role === 'staff');
  for (const [name, id] of [['providerId', filter.providerId], ['clientId', filter.clientId]] as const) {
    if (id !== undefined && !mayName(name, id)) {
      throw new AppError('forbidden', `Only an administrator (or staff, for its providers) lists the bookings of another user (query/${name}).`);
    }
  }
  return { participantIds: participants, providerId: filter.providerId ?? null, clientId: filter.clientId ?? null };
}
