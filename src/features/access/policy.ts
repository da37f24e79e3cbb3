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
 *   requireAccess(caller, { on: 'booking', action: 'accept', clientId, hostIds }, id)
 */
export type Permission =
  /** Manage a provider's availability, calendars, feed and single-host event types. */
  | { on: 'provider'; action: 'manage'; providerId: string }
  /** `id` is needed for a guest, whose manage token opens one booking by id (without it a guest sees nothing). */
  | { on: 'booking'; action: BookingAction; id?: string; clientId: string | null; hostIds: readonly string[] }
  /** Change or delete an event type: an admin, or its only host. */
  | { on: 'eventType'; action: 'manage'; hostIds: readonly string[] }
  /** Closures: an admin for any providers; a provider only for exactly itself. */
  | { on: 'closure'; action: 'manage'; providerIds: readonly string[] | null }
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
export type BookingRelation = 'admin' | 'client' | 'host' | 'guest' | null;

export function bookingRelation(
  caller: Principal,
  booking: { id?: string; clientId: string | null; hostIds: readonly string[] },
): BookingRelation {
  if (caller.role === 'guest') return caller.bookingId !== undefined && caller.bookingId === booking.id ? 'guest' : null;
  if (caller.role === 'admin') return 'admin';
  if (booking.hostIds.includes(caller.userId)) return 'host';
  if (booking.clientId !== null && caller.userId === booking.clientId) return 'client';
  return null;
}

const BOOKING_RULES: Record<BookingAction, readonly Exclude<BookingRelation, null>[]> = {
  read: ['admin', 'client', 'host', 'guest'],
  confirm: ['admin', 'client', 'guest'],
  cancel: ['admin', 'client', 'host', 'guest'],
  reschedule: ['admin', 'client', 'host', 'guest'],
  decide: ['admin', 'host'],
  seeSyncError: ['admin', 'host'],
};

const WHY_NOT: Partial<Record<BookingAction, string>> = {
  confirm: 'Only the booking\'s client confirms it.',
  decide: 'Only a host of the booking (or an administrator) accepts or declines it.',
  seeSyncError: 'Only hosts see calendar errors.',
};

/** The side a relation changes a booking as (cancellation notice, cancelledBy): a guest is the booking's client. */
export function actorOf(relation: Exclude<BookingRelation, null>): 'admin' | 'client' | 'host' {
  return relation === 'guest' ? 'client' : relation;
}

type Verdict = 'allowed' | 'hidden' | 'forbidden';

function judge(caller: Principal, p: Permission): Verdict {
  // A manage token opens its one booking and nothing else (not even reading another resource).
  if (caller.role === 'guest' && p.on !== 'booking') return 'hidden';
  if (caller.role === 'admin') return 'allowed';
  switch (p.on) {
    case 'provider':
      return caller.userId === p.providerId ? 'allowed' : 'forbidden';
    case 'booking': {
      const relation = bookingRelation(caller, p);
      if (relation === null) return 'hidden';
      return BOOKING_RULES[p.action].includes(relation) ? 'allowed' : 'forbidden';
    }
    case 'eventType':
      return p.hostIds.length === 1 && p.hostIds[0] === caller.userId ? 'allowed' : 'forbidden';
    case 'closure':
      if (caller.role !== 'provider') return 'forbidden';
      return p.providerIds !== null && p.providerIds.length === 1 && p.providerIds[0] === caller.userId ? 'allowed' : 'forbidden';
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
      return 'Only the provider itself or an administrator may do this.';
    case 'booking':
      return WHY_NOT[p.action] ?? 'Not allowed for this booking.';
    case 'eventType':
      return 'Only an administrator, or the only host of a single-host event type, may change it.';
    case 'closure':
      return 'A provider may only close its own dates (providerIds: [itself]); other closures are for administrators.';
    case 'mailOutbox':
      return 'Only an administrator sees the mail outbox.';
    default:
      return 'Not allowed.';
  }
}
